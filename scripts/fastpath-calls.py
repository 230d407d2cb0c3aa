#!/usr/bin/env python3
"""List the calls that a driver's file operations make, from its object file.

usage: fastpath-calls.py OBJDUMP OBJECT PATTERN...

Disassembles OBJECT (with relocations, so that a call names its target
even in an object that is not linked yet) and, for each function whose
demangled name matches one of the PATTERNs (regular expressions), prints
every call and tail call it makes.  A target defined in the same object
is followed in turn, once, indented; a target outside it (a C function,
a helper, the kernel crate) ends the line.  The listing is static: it
has every call on every path of those functions, the slow ones too.
"""
import re
import subprocess
import sys

FUNC = re.compile(r"^[0-9a-f]+ <(.+)>:$")
CALL = re.compile(r"\s(call|callq|jmp|jmpq|bl|b)\s")
RELOC = re.compile(r"R_(?:X86_64_PLT32|X86_64_PC32|AARCH64_CALL26|AARCH64_JUMP26)\s+(.+?)(?:[-+]0x[0-9a-f]+)?$")
DIRECT = re.compile(r"<(.+)>$")


def functions(objdump, obj):
    out = subprocess.run([objdump, "-dr", "--no-show-raw-insn", "-C", obj],
                         check=True, capture_output=True, text=True).stdout
    funcs, name, pending = {}, None, None
    for line in out.splitlines():
        m = FUNC.match(line)
        if m:
            name = m.group(1)
            funcs[name] = []
            pending = None
            continue
        if name is None:
            continue
        r = RELOC.search(line)
        if pending is not None:
            kind, direct = pending
            pending = None
            if r:
                funcs[name].append((kind, r.group(1)))
                continue
            # No relocation: a call inside the object, already resolved.
            if direct and not direct.startswith(name + "+"):
                funcs[name].append((kind, direct.split("+0x")[0]))
        c = CALL.search(line)
        if c:
            d = DIRECT.search(line.strip())
            pending = (c.group(1), d.group(1) if d else None)
    return funcs


def show(funcs, name, depth, seen):
    for kind, target in funcs.get(name, []):
        local = target in funcs and target != name
        tail = " (tail call)" if kind.startswith("j") or kind == "b" else ""
        print("  " * depth + f"- {target}{tail}")
        if local and target not in seen:
            seen.add(target)
            show(funcs, target, depth + 1, seen)


def main():
    objdump, obj, patterns = sys.argv[1], sys.argv[2], sys.argv[3:]
    funcs = functions(objdump, obj)
    for name in funcs:
        if any(re.search(p, name) for p in patterns):
            print(f"{name}:")
            show(funcs, name, 1, {name})


if __name__ == "__main__":
    main()
