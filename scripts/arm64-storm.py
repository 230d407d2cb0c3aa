#!/usr/bin/env python3
"""Teardown under fire on arm64: the VM generation ID driver unloaded and
loaded, unbound and bound, while /dev/sysgenid is in use and the ID keeps
changing.

usage: arm64-storm.py IMAGE INITRD WORKDIR [--seconds N] [--interval S] [--slow N]

The guest (guest/arm64-storm-init.sh, a VMGENID=m kernel) loops over rmmod,
insmod, unbind and bind of the Rust driver while the watchers and the stress
workload run.  Meanwhile the host plays a VMM that restores again and again:
every INTERVAL seconds it stops the vCPUs, writes a new ID and raises the
SPI (scripts/arm64vmm.py).  Whatever the driver was doing at that moment
(probing, being removed, absent), the kernel must not report anything, the
workload must keep its invariants and return, and once the loops stop, one
more ID must wake a blocked reader one generation higher.

Runs inside the toolchain root filesystem; every QEMU process is killed on
the way out.
"""

import os
import re
import subprocess
import sys
import time
import uuid

import arm64vmm
from snapshot import REPORT, Checks

BOOT_TIMEOUT = 300
APPEND = "console=ttyAMA0 panic=-1 oops=panic quiet loglevel=5"


def main():
    image, initrd, work = sys.argv[1:4]
    opts = sys.argv[4:]

    def opt(name, default):
        return opts[opts.index(name) + 1] if name in opts else default

    slow = int(opt("--slow", "1"))
    seconds = int(opt("--seconds", "30"))
    interval = float(opt("--interval", "0.25"))
    checks = Checks(False, opt("--stage", "storm-arm64"))
    os.makedirs(work, exist_ok=True)
    disk = os.path.join(work, "disk.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "64M"], check=True)
    boot = arm64vmm.build_boot_files(work, initrd, f"{APPEND} STORM_SECONDS={seconds}")
    started = time.monotonic()
    vmm = arm64vmm.Arm64Vmm("t", work, image, initrd, disk, boot, ["-S"])
    try:
        vmm.vmm_write_id(uuid.uuid4().bytes, notify=False)
        found = vmm.wait_for([r"guest: storm start dev=(\S+) seconds=(\d+)"],
                             BOOT_TIMEOUT * slow)
        if not checks.check("started", found is not None):
            print("\n".join(vmm.lines()[-40:]))
            return 1
        ids = 0
        deadline = time.monotonic() + seconds * slow + 60
        while time.monotonic() < deadline and vmm.proc.poll() is None:
            if vmm.wait_for([r"guest: storm stop"], 0):
                break
            vmm.vmm_write_id(uuid.uuid4().bytes)
            ids += 1
            time.sleep(interval)
        stop = vmm.wait_for([r"guest: stress exit=(\d+)",
                             r"guest: storm stop loads=(\d+) binds=(\d+) bound=(\S+)"],
                            120 * slow)
        if not checks.check("loops_ended", stop is not None, f"{ids} IDs written"):
            print("\n".join(vmm.lines()[-60:]))
            return 1
        # No more IDs: let the last one be handled before the reader opens its file.
        time.sleep(2)
        vmm.type_line("final")
        ready = vmm.wait_for([r"guest: final ready gen=(\d+)"], 60 * slow)
        if not checks.check("final_reader_ready", ready is not None):
            print("\n".join(vmm.lines()[-30:]))
            return 1
        failed = [l for l in vmm.lines() if re.search(r"guest: (rmmod|insmod|unbind|bind) failed", l)]
        checks.check("every_unload_load_unbind_bind_worked", not failed, "; ".join(failed[:3]))
        summary = vmm.wait_for([r"stress: (\d+) operations, (\d+) bumps"], 0)
        checks.check("workload_invariants", stop[0].group(1) == "0" and summary is not None,
                     summary[0].group(0) if summary else "no stress summary")
        checks.check("driver_bound_at_the_end", stop[1].group(3) == "vmgenid",
                     f"{stop[1].group(1)} unload/load and {stop[1].group(2)} unbind/bind "
                     f"cycles; {ids} IDs written, each with the SPI")
        gen = int(ready[0].group(1))
        time.sleep(1)
        early = vmm.wait_for([r"guest: final woke"], 0)
        checks.check("reader_waits_for_the_next_id", early is None,
                     early[0].group(0) if early else "")
        vmm.vmm_write_id(uuid.uuid4().bytes)
        woke = vmm.wait_for([r"guest: final woke gen=(\d+)", r"guest: kernel reports=(\d+)"],
                            60 * slow)
        checks.check("next_id_wakes_a_reader", woke is not None
                     and int(woke[0].group(1)) == gen + 1,
                     f"{gen} -> {woke[0].group(1)}" if woke else "timed out")
        reports = [l for l in vmm.lines() if REPORT.search(l)]
        checks.check("no_kernel_report", not reports and woke is not None
                     and woke[1].group(1) == "0", "; ".join(reports[:3]))
        if reports:
            print("\n".join(vmm.lines()[-80:]))
        print(f"  storm-arm64: {time.monotonic() - started:.0f} s", flush=True)
    finally:
        vmm.close()
    print(f"{checks.stage}: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
