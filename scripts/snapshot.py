#!/usr/bin/env python3
"""Snapshot restore by two VMM processes, the reason SysGenId exists.

usage: snapshot.py KERNEL INITRD WORKDIR [--narrate] [--stage NAME] [--append ARGS] [--slow N]
                   [--unbind]

VMM process A boots the guest, whose /init starts guest/sysgenid-watchers
(a blocking reader, an epoll poller, an mmap checker and an orchestrator),
and saves a snapshot with `savevm` onto a qcow2 disk.  As a control, A then
restores that snapshot itself: same process, same VM generation ID, so
nothing may happen.  VMM processes B and C each restore the snapshot from a
copy of the disk (`-loadvm`); `guid=auto` gives each its own ID, which QEMU
writes into the guest and announces with an ACPI notification.  In each
clone the generation must be exactly one higher, every watcher must wake
and acknowledge, and the orchestrator's wait must return 0; the 32 bytes
the reader draws from getrandom() right after waking must differ between B
and C, which they can only do if the kernel RNG was reseeded before the
bump reached userspace.

With --unbind the guest unbinds the VmGenId driver and binds it again
before starting the watchers: the rebind must succeed, and the restores
then run on what the second probe installed (the notify handler of a
driver that does not remove it on unbind dereferences freed state).

Runs inside the toolchain root filesystem.  Every wait is bounded, and every
QEMU process is killed on the way out, whatever happened.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

QEMU = [
    "qemu-system-x86_64", "-M", "q35", "-accel", "tcg", "-m", "256",
    "-smp", "2", "-display", "none", "-monitor", "none", "-net", "none",
    "-no-reboot", "-device", "vmgenid,guid=auto",
]
BOOT_TIMEOUT = 90
RESTORE_TIMEOUT = 60
QUIET_PERIOD = 5
# Kernel reports that fail a clone; warnings reach the console with loglevel=5.
REPORT = re.compile(r"WARNING: |BUG: |KASAN: |UBSAN: |Oops|INFO: task .* blocked|"
                    r"suspicious RCU usage|possible (circular|recursive) locking")
APPEND = ["console=ttyS0", "panic=-1", "quiet", "loglevel=5"]


class Vmm:
    """One QEMU process with its serial console in a file and a QMP socket."""

    def __init__(self, name, work, kernel, initrd, disk, extra=(), qemu=None):
        """Starts QEMU; `qemu` replaces the x86_64 machine, and without a
        `kernel` the boot and the console are left to `extra`."""
        self.name = name
        self.console = os.path.join(work, f"console-{name}.log")
        qmp_path = os.path.join(work, f"qmp-{name}.sock")
        for path in (self.console, qmp_path):
            if os.path.exists(path):
                os.unlink(path)
        boot = ["-kernel", kernel, "-initrd", initrd, "-append", " ".join(APPEND),
                "-serial", f"file:{self.console}"] if kernel else []
        args = (qemu or QEMU) + boot + [
            "-drive", f"if=none,id=state,format=qcow2,file={disk}",
            "-qmp", f"unix:{qmp_path},server=on,wait=off",
            *extra,
        ]
        self.log = open(os.path.join(work, f"qemu-{name}.log"), "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.sock = self._connect(qmp_path)
        self.reader = self.sock.makefile("r")
        self._read_reply()  # the greeting
        self.command("qmp_capabilities")

    def _connect(self, path):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"QEMU {self.name} exited: {self.proc.returncode}")
            try:
                sock = socket.socket(socket.AF_UNIX)
                sock.settimeout(120)
                sock.connect(path)
                return sock
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"QEMU {self.name}: no QMP socket")

    def _read_reply(self):
        while True:
            line = self.reader.readline()
            if not line:
                raise RuntimeError(f"QEMU {self.name}: QMP closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def command(self, execute, **arguments):
        msg = {"execute": execute}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        reply = self._read_reply()
        if "error" in reply:
            raise RuntimeError(f"QEMU {self.name}: {execute}: {reply['error']}")
        return reply.get("return")

    def hmp(self, line):
        out = self.command("human-monitor-command", **{"command-line": line})
        if out.strip():
            raise RuntimeError(f"QEMU {self.name}: {line}: {out.strip()}")

    def guid(self):
        return self.command("query-vm-generation-id")["guid"]

    def lines(self):
        with open(self.console, encoding="utf-8", errors="replace") as f:
            return [l.rstrip("\r\n") for l in f]

    def wait_for(self, patterns, timeout, since=0, seen=None, every=0.2):
        """Waits until every regex in `patterns` matches a console line after
        line `since`; returns the matches, or None on timeout.  With a dict
        `seen`, records in it, for each pattern, the time.monotonic() at
        which it was first found, polling `every` seconds."""
        deadline = time.monotonic() + timeout
        compiled = [re.compile(p) for p in patterns]
        while True:
            lines = self.lines()[since:]
            now = time.monotonic()
            found = []
            for pattern in compiled:
                match = next((m for m in map(pattern.search, lines) if m), None)
                if match and seen is not None:
                    seen.setdefault(pattern.pattern, now)
                found.append(match)
            if all(found):
                return found
            if now > deadline or self.proc.poll() is not None:
                return None
            time.sleep(every)

    def close(self):
        try:
            self.command("quit")
        except (OSError, RuntimeError, ValueError):
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.sock.close()
        self.log.close()


class Checks:
    def __init__(self, narrate, stage="snapshot"):
        self.narrate = narrate
        self.stage = stage
        self.passed = self.failed = 0

    def say(self, text):
        if self.narrate:
            print(f"== {text}", flush=True)

    def check(self, name, ok, detail=""):
        self.passed += bool(ok)
        self.failed += not ok
        print(f"  {'ok  ' if ok else 'FAIL'} {self.stage}.{name}{': ' + detail if detail else ''}",
              flush=True)
        return ok


WATCHERS = [
    r"watchers: reader woke gen=(\d+) random=([0-9a-f]+) reseeds=(-?\d+)",
    r"watchers: poller woke gen=(\d+)",
    r"watchers: mapper saw gen=(\d+)",
    r"watchers: orchestrator gen=(\d+) wait=(-?\d+) errno=(\d+) outdated=(\d+)",
]


def watchers_woke(vmm, checks, name, began, timeout, resumed=None, since=0):
    """Waits for the four watchers of guest/sysgenid-watchers.c to report a
    new generation in a clone (on console lines after `since`); checks and
    narrates that they did.  With `resumed`, the time.monotonic() at which
    the VMM let the vCPUs run, prints the window: how long each of read(),
    poll() and the page took to show the new generation.  Returns the
    matches (reader, poller, mapper, orchestrator), or None."""
    seen = {}
    found = vmm.wait_for(WATCHERS, timeout, since, seen, every=0.02)
    elapsed = time.monotonic() - began
    if not checks.check(f"{name}.watchers_woke", found is not None,
                        f"{elapsed:.1f} s from QEMU start" if found else "timed out"):
        print("\n".join(vmm.lines()[-30:]))
        return None
    for m in found:
        checks.say(f"  guest: {m.group(0)[len('watchers: '):]}")
    if resumed is not None:
        read, poll, page = (seen[p] - resumed for p in WATCHERS[:3])
        # An upper bound: the time until the host saw the watcher's console line.
        print(f"  {checks.stage}.{name}.window: read {read * 1000:.0f} ms, "
              f"poll {poll * 1000:.0f} ms, page {page * 1000:.0f} ms "
              "from the vCPUs resuming to the new generation on the guest's console",
              flush=True)
    return found


def restore(name, args, checks, gen0):
    """Restores the snapshot in a new VMM process; returns the reader's random bytes."""
    work, kernel, initrd, disk = args
    clone_disk = os.path.join(work, f"disk-{name}.qcow2")
    shutil.copyfile(disk, clone_disk)
    start = time.monotonic()
    # -S: the vCPUs run only on `cont`, from which the window is measured.
    vmm = Vmm(name, work, kernel, initrd, clone_disk, ["-loadvm", "snap", "-S"])
    try:
        checks.say(f"VMM {name.upper()}: a new QEMU process restores the snapshot, "
                   f"VM generation ID {vmm.guid()}, and lets the vCPUs run")
        want = gen0 + 1
        vmm.command("cont")
        resumed = time.monotonic()
        found = watchers_woke(vmm, checks, name, start, RESTORE_TIMEOUT, resumed)
        if found is None:
            return None
        reader, poller, mapper, orch = found
        checks.check(f"{name}.generation_one_higher",
                     all(int(m.group(1)) == want for m in found),
                     f"{gen0} -> {[int(m.group(1)) for m in found]}")
        checks.check(f"{name}.rng_reseeded_before_watchers_woke", reader.group(3) == "1",
                     f"{reader.group(3)} vmfork reseed(s) logged when the reader woke")
        checks.check(f"{name}.orchestrator_wait_returned_0",
                     orch.group(2) == "0" and orch.group(4) == "0",
                     f"wait={orch.group(2)} errno={orch.group(3)} outdated={orch.group(4)}")
        time.sleep(QUIET_PERIOD)
        reports = [l for l in vmm.lines() if REPORT.search(l)]
        checks.check(f"{name}.no_kernel_report", not reports, "; ".join(reports[:3]))
        if reports:
            print("\n".join(vmm.lines()[-60:]))
        return reader.group(2)
    finally:
        vmm.close()


def main():
    kernel, initrd, work = sys.argv[1:4]
    opts = sys.argv[4:]
    stage = opts[opts.index("--stage") + 1] if "--stage" in opts else "snapshot"
    if "--slow" in opts:
        global BOOT_TIMEOUT, RESTORE_TIMEOUT
        BOOT_TIMEOUT *= int(opts[opts.index("--slow") + 1])
        RESTORE_TIMEOUT *= int(opts[opts.index("--slow") + 1])
    if "--append" in opts:
        APPEND.extend(opts[opts.index("--append") + 1].split())
    unbind = "--unbind" in opts
    if unbind:
        APPEND.append("UNBIND=1")
    checks = Checks("--narrate" in opts, stage)
    os.makedirs(work, exist_ok=True)
    disk = os.path.join(work, "disk.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "64M"], check=True)
    started = time.monotonic()

    checks.say("VMM A: boot the guest; four watchers wait on /dev/sysgenid")
    a = Vmm("a", work, kernel, initrd, disk)
    try:
        found = a.wait_for([r"watchers: ready gen=(\d+)"], BOOT_TIMEOUT)
        if not checks.check("a.booted", found is not None):
            print("\n".join(a.lines()[-30:]))
            return 1
        gen0 = int(found[0].group(1))
        if unbind:
            line = next((l for l in a.lines() if l.startswith("guest: unbind ")), "")
            checks.check("a.unbind_then_bind_again",
                         line == "guest: unbind driver= rebind driver=vmgenid error=",
                         line[len("guest: "):] or "no report from the guest")
        guid_a = a.guid()
        print(f"  boot: watchers ready {time.monotonic() - started:.1f} s after QEMU A started",
              flush=True)
        checks.say(f"  guest: generation {gen0}, VM generation ID {guid_a}")
        time.sleep(1)
        checks.say("VMM A: savevm (the snapshot every clone starts from)")
        a.hmp("savevm snap")
        mark = len(a.lines())
        checks.say("VMM A: loadvm in the same process: same ID, so nothing may happen")
        a.hmp("loadvm snap")
        time.sleep(QUIET_PERIOD)
        woke = [l for l in a.lines()[mark:] if re.search(r"watchers: (reader|poller|mapper|orch)", l)]
        checks.check("a.same_process_restore_changes_nothing", not woke and a.guid() == guid_a,
                     "; ".join(woke))
    finally:
        a.close()

    randoms = {}
    for name in ("b", "c"):
        randoms[name] = restore(name, (work, kernel, initrd, disk), checks, gen0)
    if randoms["b"] and randoms["c"]:
        checks.say(f"  getrandom right after restore: B {randoms['b'][:16]}..., "
                   f"C {randoms['c'][:16]}...")
    checks.check("clones_draw_different_random_bytes",
                 randoms["b"] is not None and randoms["b"] != randoms["c"])
    checks.say(f"scenario took {time.monotonic() - started:.1f} s")
    print(f"{checks.stage}: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
