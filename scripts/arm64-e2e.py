#!/usr/bin/env python3
"""The arm64 guest, described by device tree the way Firecracker describes
its aarch64 guests, booted, saved and restored (scripts/arm64vmm.py).

usage: arm64-e2e.py rust IMAGE INITRD WORKDIR [--narrate] [--slow N] [--stage NAME]
       arm64-e2e.py modules IMAGE INITRD WORKDIR [--narrate] [--slow N] [--stage NAME]

rust: the Rust VmGenId driver.  VMM A boots the guest, whose /init
(guest/arm64-init.sh) loads vmgenid.ko, reports how it bound the node, runs the
selftests, unbinds and binds the driver, then starts the watchers; A saves a
snapshot.  As a control, A restores it itself and does what a VMM does on a
restore with the same ID: nothing may happen.  VMM processes B and C each
restore the snapshot, write their own ID and raise the SPI before the vCPUs
run, then tell the guest's agent (the watchers' orchestrator) that the
machine was restored: the watchers must wake with the generation one higher
after a logged reseed, the clones' random bytes must differ, and each prints
how long read(), poll() and the page took to show the new generation after
the vCPUs resumed.  In B the ID then changes again and the agent is told
before the SPI comes, as when the notification is late: the agent must wait
for the new generation before it waits for the watchers, and so answer only
after the SPI, for the generation it brought.

modules: the same kernel (guest/arm64-modules-init.sh loads mainline's C driver,
the C driver as the series fixes it, and the Rust driver, one after the
other): one notification each, one bump each, and only mainline's driver
may report sleeping in atomic context.

Runs inside the toolchain root filesystem; every wait is bounded and every
QEMU process is killed on the way out.
"""

import base64
import io
import os
import re
import subprocess
import sys
import tarfile
import time
import uuid

import arm64vmm
import snapshot
from snapshot import Checks

BOOT_TIMEOUT = 300
RESTORE_TIMEOUT = 90
QUIET_PERIOD = 5
# How long a late notification keeps the agent waiting.
LATE_BY = 3
APPEND = "console=ttyAMA0 panic=-1 quiet loglevel=5"
ATOMIC_SLEEP = "BUG: sleeping function called from invalid context"
# The drivers the modules run loads, with their module names.
# Mainline's last: its report turns lockdep off.
DRIVERS = (("fixed", "vmgenid_fixed"), ("rust", "vmgenid"), ("mainline", "vmgenid_mainline"))


def start(name, args, guid, extra=(), notify=False):
    """Starts a VMM process and writes `guid` before the vCPUs run: at boot
    without an interrupt, on a restore (`notify`) followed by the SPI."""
    work, image, initrd, disk, boot = args
    vmm = arm64vmm.Arm64Vmm(name, work, image, initrd, disk, boot, ["-S", *extra])
    vmm.vmm_write_id(guid, notify=notify)
    return vmm


def ask(vmm, request, answer, timeout=30):
    """Types a request on the guest's console; returns the match of its answer."""
    mark = len(vmm.lines())
    vmm.type_line(request)
    found = vmm.wait_for([answer], timeout, mark)
    return found[0] if found else None


def reports(vmm, checks, name):
    found = [l for l in vmm.lines() if snapshot.REPORT.search(l)]
    checks.check(f"{name}.no_kernel_report", not found, "; ".join(found[:3]))
    if found:
        print("\n".join(vmm.lines()[-60:]))


def dt_node(vmm, work):
    """The node as the guest received it, through `dtc -I fs`."""
    lines = vmm.lines()
    try:
        first = lines.index("guest: node-tar-begin") + 1
        last = lines.index("guest: node-tar-end")
    except ValueError:
        return ""
    data = base64.b64decode("".join(lines[first:last]))
    root = os.path.join(work, "dt-fs")
    subprocess.run(["rm", "-rf", root], check=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(root, filter="data")
    return subprocess.run(["dtc", "-q", "-I", "fs", "-O", "dts", root],
                          capture_output=True, text=True, check=True).stdout


def boot_checks(a, checks, work, source):
    found = a.wait_for([r"watchers: ready gen=(\d+) reseeds=(\d+)"], BOOT_TIMEOUT)
    if not checks.check("a.booted", found is not None):
        print("\n".join(a.lines()[-40:]))
        return None
    lines = a.lines()

    def line(prefix):
        return next((l for l in lines if l.startswith(prefix)), "")

    checks.say("  guest: " + line("guest: node=")[7:])
    checks.check("a.device_node_mode", line("guest: sysgenid=") == "guest: sysgenid=crw-rw-rw-",
                 line("guest: sysgenid="))
    checks.check("a.rust_driver_bound_the_node",
                 line("guest: node=") == "guest: node=vmgenid@5fe00000 "
                 "device=5fe00000.vmgenid driver=vmgenid"
                 and line("guest: of_node=").endswith("/vmgenid@5fe00000")
                 and line("guest: compatible=") == "guest: compatible=microsoft,vmgenid",
                 line("guest: node="))
    checks.check("a.edge_spi_through_the_gic",
                 re.search(r"GICv3 44 Edge vmgenid$", line("guest: interrupt=")) is not None,
                 line("guest: interrupt="))
    checks.check("a.threaded_irq_handler",
                 re.search(r"irq/\d+-vmgenid", line("guest: irq-thread=")) is not None,
                 line("guest: irq-thread="))
    dts = dt_node(a, work)
    checks.check("a.node_as_received",
                 'compatible = "microsoft,vmgenid";' in dts
                 and "reg = <0x00 0x5fe00000 0x00 0x10>;" in dts
                 and "interrupts = <0x00 0x0c 0x01>;" in dts,
                 "dtc -I fs output in " + os.path.join(work, "node.dts"))
    with open(os.path.join(work, "node.dts"), "w", encoding="utf-8") as f:
        f.write(dts)
    checks.say("  the node, as dtc -I fs reads it from the guest:\n" + dts.rstrip())
    tap = subprocess.run([sys.executable, os.path.join(arm64vmm.HERE, "tap-results.py"),
                          f"{checks.stage}.kselftest", a.console, source],
                         capture_output=True, text=True)
    checks.check("a.kselftest", tap.returncode == 0 and line("guest: kselftest exit=0") != "",
                 tap.stdout.strip().splitlines()[-1] if tap.stdout.strip() else tap.stderr)
    checks.check("a.unbind_rebind",
                 line("guest: bound region=") == "guest: bound region=1"
                 and line("guest: unbound driver=") == "guest: unbound driver= held: region=0 irq=0"
                 and line("guest: rebound driver=") == "guest: rebound driver=vmgenid region=1"
                 and line("guest: kernel reports=") == "guest: kernel reports=0",
                 f"{line('guest: bound region')[7:]}; {line('guest: unbound')[7:]}; "
                 f"{line('guest: rebound')[7:]}; "
                 f"{line('guest: kernel reports=')[7:]}")
    return int(found[0].group(1)), int(found[0].group(2))


def restore(name, args, checks, gen0, reseeds0, late):
    work, image, initrd, disk, boot = args
    clone_disk = os.path.join(work, f"disk-{name}.qcow2")
    subprocess.run(["cp", disk, clone_disk], check=True)
    guid = uuid.uuid4().bytes
    began = time.monotonic()
    checks.say(f"VMM {name.upper()}: a new QEMU process restores the snapshot, writes "
               f"ID {guid.hex()} and raises SPI {arm64vmm.ID_SPI}, then lets the vCPUs run")
    vmm = start(name, (work, image, initrd, clone_disk, boot), guid, ["-loadvm", "snap"],
                notify=True)
    resumed = time.monotonic()
    try:
        # The control plane's message to its agent in the clone.
        vmm.type_line("restored")
        found = snapshot.watchers_woke(vmm, checks, name, began, RESTORE_TIMEOUT, resumed)
        if found is None:
            return None
        reader, _, _, orch = found
        checks.check(f"{name}.generation_one_higher",
                     all(int(m.group(1)) == gen0 + 1 for m in found),
                     f"{gen0} -> {[int(m.group(1)) for m in found]}")
        checks.check(f"{name}.rng_reseeded_before_watchers_woke",
                     int(reader.group(3)) == reseeds0 + 1,
                     f"{int(reader.group(3)) - reseeds0} vmfork reseed(s) logged since the "
                     "snapshot when the reader woke")
        checks.check(f"{name}.orchestrator_wait_returned_0",
                     orch.group(2) == "0" and orch.group(4) == "0",
                     f"wait={orch.group(2)} errno={orch.group(3)} outdated={orch.group(4)}")
        if late:
            late_notification(vmm, checks, name, gen0 + 2)
        time.sleep(QUIET_PERIOD)
        reports(vmm, checks, name)
        return reader.group(2)
    finally:
        vmm.close()


def late_notification(vmm, checks, name, want):
    """A restore whose notification comes after the agent was told: the
    agent must not answer before the SPI, then answer for generation `want`."""
    guid = uuid.uuid4().bytes
    checks.say(f"VMM {name.upper()}: a new ID with no interrupt yet; the agent is told "
               f"the machine was restored; the SPI {LATE_BY} s later")
    mark = len(vmm.lines())
    vmm.vmm_write_id(guid, notify=False)
    vmm.type_line("restored")
    early = vmm.wait_for([snapshot.WATCHERS[3]], LATE_BY, mark)
    checks.check(f"{name}.agent_waits_for_the_new_generation", early is None,
                 f"answered before the notification: {early[0].group(0)[10:]}" if early
                 else f"no answer in the {LATE_BY} s before the SPI")
    vmm.vmm_write_id(guid, notify=True)
    found = snapshot.watchers_woke(vmm, checks, f"{name}.late", time.monotonic(),
                                   RESTORE_TIMEOUT, since=mark)
    if found is None:
        return
    orch = found[3]
    checks.check(f"{name}.late.agent_waited_for_the_watchers_of_the_new_generation",
                 all(int(m.group(1)) == want for m in found)
                 and orch.group(2) == "0" and orch.group(4) == "0",
                 f"want {want}: {[int(m.group(1)) for m in found]}, "
                 f"wait={orch.group(2)} outdated={orch.group(4)}")


def rust(image, initrd, work, checks):
    disk = os.path.join(work, "disk.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "64M"], check=True)
    boot = arm64vmm.build_boot_files(work, initrd, APPEND)
    args = (work, image, initrd, disk, boot)
    source = os.path.join(os.path.dirname(arm64vmm.HERE),
                          "tools/testing/selftests/sysgenid/sysgenid_test.c")
    began = time.monotonic()
    checks.say("VMM A: boot the arm64 guest from its device tree; the VMM writes the first ID")
    guid_a = uuid.uuid4().bytes
    a = start("a", args, guid_a)
    try:
        state = boot_checks(a, checks, work, source)
        if state is None:
            return
        gen0, reseeds0 = state
        print(f"  boot: watchers ready {time.monotonic() - began:.1f} s after QEMU A started",
              flush=True)
        irqs = ask(a, "irqs", r"guest: irqs=(\d+)")
        checks.say(f"VMM A: savevm at generation {gen0}")
        a.hmp("savevm snap")
        mark = len(a.lines())
        checks.say("VMM A: loadvm in the same process, same ID written, SPI raised: "
                   "nothing may happen")
        a.command("stop")
        a.hmp("loadvm snap")
        a.vmm_write_id(guid_a)
        time.sleep(QUIET_PERIOD)
        woke = [l for l in a.lines()[mark:] if l.startswith("watchers: ")]
        after = ask(a, "irqs", r"guest: irqs=(\d+)")
        checks.check("a.same_id_interrupt_changes_nothing",
                     irqs and after and int(after.group(1)) == int(irqs.group(1)) + 1 and not woke,
                     f"vmgenid interrupts {irqs and irqs.group(1)} -> {after and after.group(1)}"
                     + (": " + "; ".join(woke) if woke else ", no watcher woke"))
        reports(a, checks, "a")
    finally:
        a.close()
    randoms = {name: restore(name, args, checks, gen0, reseeds0, name == "b")
               for name in ("b", "c")}
    checks.check("clones_draw_different_random_bytes",
                 None not in randoms.values() and randoms["b"] != randoms["c"],
                 f"B {str(randoms['b'])[:16]}..., C {str(randoms['c'])[:16]}...")
    checks.say(f"scenario took {time.monotonic() - began:.1f} s")


def modules(image, initrd, work, checks):
    disk = os.path.join(work, "disk.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "64M"], check=True)
    boot = arm64vmm.build_boot_files(work, initrd, APPEND)
    vmm = start("m", (work, image, initrd, disk, boot), uuid.uuid4().bytes)
    try:
        gens, atomic, marks = [], {}, {}
        for driver, module in DRIVERS:
            ready = vmm.wait_for([rf"guest: ready driver={driver} bound=vmgenid "
                                  rf"module={module}$"], BOOT_TIMEOUT)
            if not checks.check(f"{driver}.loaded_and_bound", ready is not None, module):
                print("\n".join(vmm.lines()[-40:]))
                return
            mark = marks[driver] = len(vmm.lines())
            checks.say(f"VMM: new ID and SPI {arm64vmm.ID_SPI} for the {driver} driver")
            vmm.vmm_write_id(uuid.uuid4().bytes)
            done = vmm.wait_for([rf"guest: notified driver={driver} gen=(\d+) "
                                 rf"atomic-sleep-reports=(\d+) lockdep-on=(\d)",
                                 rf"guest: unloaded driver={driver} module=0$"],
                                RESTORE_TIMEOUT, mark)
            gens.append(int(done[0].group(1)) if done else -1)
            checks.check(f"{driver}.generation_moved_and_unloaded", done is not None,
                         done[0].group(0)[7:] if done else "timed out")
            if driver != "mainline":
                checks.check(f"{driver}.lockdep_still_on", done and done[0].group(3) == "1")
            atomic[driver] = [l for l in vmm.lines()[mark:] if ATOMIC_SLEEP in l]
        checks.check("one_bump_per_notification", gens == list(range(gens[0], gens[0] + 3)),
                     f"generations {gens}")
        checks.check("mainline.reports_sleeping_in_atomic", len(atomic["mainline"]) > 0,
                     (atomic["mainline"] or ["no report"])[0])
        for driver in ("fixed", "rust"):
            checks.check(f"{driver}.no_sleeping_in_atomic", not atomic[driver],
                         "; ".join(atomic[driver]))
        lines = vmm.lines()
        first = next((i for i, l in enumerate(lines) if ATOMIC_SLEEP in l), None)
        if first is not None:
            report = os.path.join(work, "mainline-report.txt")
            with open(report, "w", encoding="utf-8") as f:
                f.write("\n".join(lines[first:first + 40]) + "\n")
            checks.say(f"mainline's report, from the console ({report}):\n"
                       + "\n".join(lines[first:first + 14]))
        # Before mainline's driver, which reports twice (the atomic-sleep check, then
        # lockdep), nothing may.
        found = [l for l in lines[:marks["mainline"]] if snapshot.REPORT.search(l)]
        checks.check("no_report_before_mainline", not found, "; ".join(found[:3]))
    finally:
        vmm.close()


def main():
    mode, image, initrd, work = sys.argv[1:5]
    opts = sys.argv[5:]
    global BOOT_TIMEOUT, RESTORE_TIMEOUT
    if "--slow" in opts:
        BOOT_TIMEOUT *= int(opts[opts.index("--slow") + 1])
        RESTORE_TIMEOUT *= int(opts[opts.index("--slow") + 1])
    stage = "arm64" if mode == "rust" else "arm64-modules"
    if "--stage" in opts:
        stage = opts[opts.index("--stage") + 1]
    checks = Checks("--narrate" in opts, stage)
    os.makedirs(work, exist_ok=True)
    {"rust": rust, "modules": modules}[mode](image, initrd, work, checks)
    print(f"{checks.stage}: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed or not checks.passed else 0


if __name__ == "__main__":
    sys.exit(main())
