#!/usr/bin/env python3
"""Restore storm: one snapshot, saved while the workload runs, restored many times.

usage: storm.py KERNEL INITRD WORKDIR [--restores N] [--stage NAME] [--slow N]
                [--append ARGS] [--mem MB] [--kcsan]

VMM process A boots the guest (guest/storm-init.sh: the watchers of
guest/sysgenid-watchers.c and `sysgenid-stress --storm`), lets the workload
run, and saves a snapshot with `savevm` in the middle of it.  Then N new QEMU
processes, one after the other, each restore that snapshot from a copy of the
disk; `guid=auto` gives each its own VM generation ID, which QEMU writes into
the guest and announces with an ACPI notification.  In every clone:

- the watchers (blocked read, epoll, mmap, WAIT_WATCHERS) wake at exactly
  one generation above the saved one, after one logged vmfork reseed;
- the workload sees the generation move exactly once, by one, keeps its
  invariants while the VM generation ID driver is unbound and bound in a
  loop, and every worker returns;
- kmemleak finds nothing, and the kernel logs no report (lockdep, KASAN,
  KCSAN, UBSAN, list debugging, BUG, WARNING).

--kcsan (a KCSAN kernel) excuses the KCSAN reports in which neither driver
appears, stack traces included, and counts them; a report that names
sysgenid or vmgenid anywhere fails.  rustc does not instrument Rust code for
KCSAN, so a race involving the series shows through the C it calls.  Runs
inside the toolchain root filesystem; every QEMU process is killed on the way
out.
"""

import os
import re
import shutil
import subprocess
import sys
import time

import snapshot
from snapshot import APPEND, REPORT, Checks, Vmm, watchers_woke

BOOT_TIMEOUT = 180
# From QEMU start to "clone done": the restore, the run after it, the scans.
CLONE_TIMEOUT = 240
WORKLOAD_WARMUP = 3


def qemu(mem):
    """The snapshot scenario's machine with MEM megabytes."""
    base = list(snapshot.QEMU)
    base[base.index("-m") + 1] = str(mem)
    return base


def first(lines, pattern):
    regex = re.compile(pattern)
    return next((m for m in map(regex.search, lines) if m), None)


OURS = re.compile(r"sysgenid|vmgenid")


def reports(lines, kcsan):
    """Splits the kernel's reports in `lines` into (failing, excused) header
    lines.  With `kcsan`, a KCSAN report is excused when no line of it, up
    to the closing row of '=', names either driver."""
    failing, excused = [], []
    i = 0
    while i < len(lines):
        line = lines[i]
        if kcsan and "BUG: KCSAN:" in line:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("====")),
                       len(lines))
            (failing if any(OURS.search(l) for l in lines[i:end + 1]) else excused).append(line)
            i = end + 1
            continue
        if REPORT.search(line):
            failing.append(line)
        i += 1
    return failing, excused


def clone(i, args, checks, gen0, kcsan, saved_excused, totals):
    """Restores the snapshot in new QEMU process number I and checks it."""
    work, kernel, initrd, disk, mem = args
    name = f"r{i:02d}"
    clone_disk = os.path.join(work, f"disk-{name}.qcow2")
    shutil.copyfile(disk, clone_disk)
    start = time.monotonic()
    vmm = Vmm(name, work, kernel, initrd, clone_disk, ["-loadvm", "snap"], qemu=qemu(mem))
    try:
        guid = vmm.guid()
        found = watchers_woke(vmm, checks, name, start, CLONE_TIMEOUT)
        done = vmm.wait_for([r"guest: clone done"], CLONE_TIMEOUT)
        lines = vmm.lines()
        elapsed = time.monotonic() - start
        if found:
            gens = [int(m.group(1)) for m in found]
            checks.check(f"{name}.watchers_one_higher", all(g == gen0 + 1 for g in gens),
                         f"{gen0} -> {gens}")
            checks.check(f"{name}.reseeded_once_before_wake", found[0].group(3) == "1",
                         f"{found[0].group(3)} vmfork reseed(s) logged when the reader woke")
            checks.check(f"{name}.orchestrator_returned_0",
                         found[3].group(2) == "0" and found[3].group(4) == "0",
                         f"wait={found[3].group(2)} errno={found[3].group(3)} "
                         f"outdated={found[3].group(4)}")
        if not checks.check(f"{name}.clone_done", done is not None,
                            f"{elapsed:.1f} s, ID {guid}" if done else "timed out"):
            print("\n".join(lines[-40:]))
            return
        moved = first(lines, r"storm: clone gen=(\d+)->(\d+) changes=(\d+)")
        checks.check(f"{name}.one_bump_per_id",
                     moved is not None and int(moved.group(1)) == gen0
                     and int(moved.group(2)) == gen0 + 1 and moved.group(3) == "1",
                     moved.group(0) if moved else "no storm summary")
        summary = first(lines, r"storm: (\d+) operations, (\d+) unbind/bind cycles, "
                               r"(\d+) interrupted waits, (\d+) violations")
        ok = first(lines, r"guest: storm exit=0") is not None
        checks.check(f"{name}.workload_invariants", ok and summary is not None,
                     summary.group(0)[len("storm: "):] if summary else "no summary")
        violations = [l for l in lines if "VIOLATION" in l]
        if violations:
            print("\n".join(violations[:10]))
        leaks = first(lines, r"guest: kmemleak leaks=(\S+)")
        checks.check(f"{name}.kmemleak_clean", leaks is not None and leaks.group(1) == "0",
                     leaks.group(0) if leaks else "no kmemleak result")
        failing, excused = reports(lines, kcsan)
        # The guest counts its whole log, which holds what was reported before the snapshot.
        counted = first(lines, r"guest: kernel reports=(\d+)")
        checks.check(f"{name}.no_kernel_report",
                     not failing and counted is not None
                     and int(counted.group(1)) <= len(excused) + saved_excused,
                     "; ".join(failing[:3]) or (counted.group(0) if counted else ""))
        if failing:
            print("\n".join(lines[-80:]))
        if summary:
            totals["ops"] += int(summary.group(1))
            totals["cycles"] += int(summary.group(2))
        totals["excused"] += len(excused)
        totals["kcsan"].update(re.sub(r"^.*BUG: ", "", l) for l in excused)
        totals["seconds"].append(elapsed)
    finally:
        vmm.close()
        os.unlink(clone_disk)


def main():
    kernel, initrd, work = sys.argv[1:4]
    opts = sys.argv[4:]

    def opt(name, default):
        return opts[opts.index(name) + 1] if name in opts else default

    global BOOT_TIMEOUT, CLONE_TIMEOUT
    slow = int(opt("--slow", "1"))
    BOOT_TIMEOUT *= slow
    CLONE_TIMEOUT *= slow
    restores = int(opt("--restores", "30"))
    mem = int(opt("--mem", "512"))
    kcsan = "--kcsan" in opts
    if "--append" in opts:
        APPEND.extend(opt("--append", "").split())
    checks = Checks(False, opt("--stage", "storm"))
    os.makedirs(work, exist_ok=True)
    disk = os.path.join(work, "disk.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "64M"], check=True)
    started = time.monotonic()

    a = Vmm("a", work, kernel, initrd, disk, qemu=qemu(mem))
    try:
        found = a.wait_for([r"storm: ready gen=(\d+) seed=(\d+) workers=(\d+)",
                            r"watchers: ready gen=(\d+)"], BOOT_TIMEOUT)
        if not checks.check("a.workload_running", found is not None):
            print("\n".join(a.lines()[-40:]))
            return 1
        gen0 = int(found[0].group(1))
        seed = found[0].group(2)
        # Save in the middle of the workload, not at its start.
        time.sleep(WORKLOAD_WARMUP)
        before = time.monotonic()
        a.hmp("savevm snap")
        print(f"  save: workload seed {seed}, generation {gen0}, savevm took "
              f"{time.monotonic() - before:.1f} s", flush=True)
        failing, saved = reports(a.lines(), kcsan)
        checks.check("a.no_kernel_report", not failing, "; ".join(failing[:3]))
    finally:
        a.close()

    totals = {"ops": 0, "cycles": 0, "excused": 0, "seconds": [], "kcsan": set()}
    for i in range(1, restores + 1):
        clone(i, (work, kernel, initrd, disk, mem), checks, gen0, kcsan, len(saved), totals)
    os.unlink(disk)
    secs = totals["seconds"]
    print(f"  storm: {len(secs)} restores of one snapshot, one new ID each; "
          f"{totals['ops']} workload operations, {totals['cycles']} unbind/bind cycles"
          + (f", {totals['excused'] + len(saved)} KCSAN reports not naming either driver "
             f"(before the snapshot: {len(saved)})" if kcsan else "")
          + (f"; {min(secs):.1f}-{max(secs):.1f} s per clone" if secs else "")
          + f"; {time.monotonic() - started:.0f} s in all", flush=True)
    totals["kcsan"].update(re.sub(r"^.*BUG: ", "", l) for l in saved)
    for report in sorted(totals["kcsan"]):
        print(f"  excused: {report}")
    print(f"{checks.stage}: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
