"""The arm64 test machine: QEMU's virt board set up the way Firecracker sets
up an aarch64 guest, and the two things its VMM does on a restore.

QEMU 10's virt machine has no VM generation ID device, so this module plays
that part of the VMM:

- the device tree is the machine's own (``-machine dumpdtb``), with the
  node from guest/arm64-vmgenid.dtsi added by dtc: 16 bytes of RAM outside
  the memory node and an edge-triggered SPI;
- the kernel, device tree and initramfs are loaded by QEMU's generic loader
  and entered through guest/arm64-boot.S, because QEMU's -kernel path
  rewrites the memory node to cover all of RAM;
- a new ID is written into guest RAM, and the SPI raised, through QEMU's
  gdbstub in its physical-memory mode: the ID with a memory write, the
  interrupt with a write to the GIC distributor's set-pending register, so
  it reaches the guest through the GIC as an edge SPI, the way a device's
  edge would.  Both happen with the vCPUs stopped.

Runs inside the toolchain root filesystem.
"""

import os
import socket
import subprocess
import threading

import snapshot

RAM_BASE = 0x40000000
RAM_MB = 512
STUB_ADDR = RAM_BASE + 0x100000  # guest/arm64-boot.S, after the copy of
                             # QEMU's own device tree at the start of RAM
IMAGE_ADDR = 0x40200000      # 2 MiB aligned, as booting.rst asks
DTB_ADDR = 0x48000000
INITRD_ADDR = 0x48200000
ID_ADDR = 0x5FE00000         # the vmgenid node's reg, guest/arm64-vmgenid.dtsi
ID_SPI = 12                  # its interrupts = <GIC_SPI 12 ...>
GICD_BASE = 0x08000000       # the virt machine's GICv3 distributor
GICD_ISPENDR = 0x200

MACHINE = [
    "qemu-system-aarch64", "-M", "virt,gic-version=3", "-cpu", "max,pauth-impdef=on",
    "-accel", "tcg", "-m", str(RAM_MB), "-smp", "2", "-display", "none",
    "-monitor", "none", "-net", "none", "-no-reboot",
]
HERE = os.path.dirname(os.path.abspath(__file__))
GUEST = os.path.join(os.path.dirname(HERE), "guest")


def build_boot_files(work, initrd, append):
    """Assembles the entry code and builds the device tree for `initrd` and
    the kernel command line `append`; returns (stub, dtb) paths."""
    stub_o = os.path.join(work, "boot.o")
    stub = os.path.join(work, "boot.bin")
    subprocess.run(["clang", "--target=aarch64-linux-gnu", "-c", "-o", stub_o,
                    f"-DDTB_ADDR={DTB_ADDR:#x}", f"-DIMAGE_ADDR={IMAGE_ADDR:#x}",
                    os.path.join(GUEST, "arm64-boot.S")], check=True)
    subprocess.run(["llvm-objcopy", "-O", "binary", "-j", ".text", stub_o, stub], check=True)

    machine_dtb = os.path.join(work, "virt.dtb")
    subprocess.run(MACHINE + ["-machine", f"dumpdtb={machine_dtb}"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    machine_dts = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", machine_dtb],
                                 check=True, capture_output=True, text=True).stdout
    if f"intc@{GICD_BASE:x} " not in machine_dts:
        raise RuntimeError(f"the virt machine's GIC distributor is not at {GICD_BASE:#x}")
    with open(os.path.join(GUEST, "arm64-vmgenid.dtsi"), encoding="utf-8") as f:
        node = f.read()
    end = INITRD_ADDR + os.path.getsize(initrd)
    chosen = (f'/ {{\n\tchosen {{\n\t\tbootargs = "{append}";\n'
              f"\t\tlinux,initrd-start = <0x0 {INITRD_ADDR:#x}>;\n"
              f"\t\tlinux,initrd-end = <0x0 {end:#x}>;\n\t}};\n}};\n")
    dts = os.path.join(work, "guest.dts")
    with open(dts, "w", encoding="utf-8") as f:
        f.write(machine_dts + node + chosen)
    dtb = os.path.join(work, "guest.dtb")
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", dtb, dts], check=True)
    return stub, dtb


class Gdb:
    """A gdb remote-protocol client for QEMU's gdbstub, in physical-memory
    mode.  Connecting stops the vCPUs; they stay stopped when it closes."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.buf = b""
        self.request("Qqemu.PhyMemMode:1")

    def request(self, packet):
        check = sum(packet.encode()) & 0xFF
        self.sock.sendall(f"${packet}#{check:02x}".encode())
        while True:
            self.buf = self.buf.lstrip(b"+")
            if b"#" in self.buf and len(self.buf) >= self.buf.index(b"#") + 3:
                break
            data = self.sock.recv(4096)
            if not data:
                raise RuntimeError("gdbstub closed the connection")
            self.buf += data
        start, end = self.buf.index(b"$"), self.buf.index(b"#")
        reply = self.buf[start + 1:end].decode()
        self.buf = self.buf[end + 3:]
        self.sock.sendall(b"+")
        if reply != "OK":
            raise RuntimeError(f"gdbstub: {packet[:24]}: {reply!r}")
        return reply

    def write(self, addr, data):
        self.request(f"M{addr:x},{len(data):x}:{data.hex()}")

    def close(self):
        self.sock.close()


class Arm64Vmm(snapshot.Vmm):
    """One QEMU process running the arm64 guest, with its console on a
    socket (so the host can type a request) logged to a file, its QMP
    socket, and a gdbstub socket for the VMM's writes."""

    def __init__(self, name, work, image, initrd, disk, boot, extra=()):
        stub, dtb = boot
        self.gdb_path = os.path.join(work, f"gdb-{name}.sock")
        self.con_path = os.path.join(work, f"con-{name}.sock")
        for path in (self.gdb_path, self.con_path):
            if os.path.exists(path):
                os.unlink(path)
        console = os.path.join(work, f"console-{name}.log")
        args = [
            "-device", f"loader,file={image},addr={IMAGE_ADDR:#x},force-raw=on",
            "-device", f"loader,file={dtb},addr={DTB_ADDR:#x},force-raw=on",
            "-device", f"loader,file={initrd},addr={INITRD_ADDR:#x},force-raw=on",
            "-device", f"loader,file={stub},addr={STUB_ADDR:#x},force-raw=on",
            "-device", f"loader,addr={STUB_ADDR:#x},cpu-num=0",
            "-chardev", f"socket,id=con,path={self.con_path},server=on,wait=off,"
                        f"logfile={console},logappend=off",
            "-serial", "chardev:con",
            "-chardev", f"socket,id=gdb,path={self.gdb_path},server=on,wait=off",
            "-gdb", "chardev:gdb",
            *extra,
        ]
        super().__init__(name, work, None, None, disk, args, qemu=MACHINE)
        self.con = self._connect_console()

    def _connect_console(self):
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(self.con_path)
        # The log file has everything; the socket is only drained.
        threading.Thread(target=lambda: all(iter(lambda: sock.recv(4096), b"")),
                         daemon=True).start()
        return sock

    def type_line(self, line):
        """Types a line on the guest's console."""
        self.con.sendall(line.encode() + b"\n")

    def vmm_write_id(self, guid, notify=True):
        """What the VMM does on a restore: with the vCPUs stopped, writes the
        16-byte ID, then (if `notify`) raises the SPI; then lets them run."""
        self.command("stop")
        gdb = Gdb(self.gdb_path)
        try:
            gdb.write(ID_ADDR, guid)
            if notify:
                intid = 32 + ID_SPI
                reg = GICD_BASE + GICD_ISPENDR + 4 * (intid // 32)
                gdb.write(reg, (1 << (intid % 32)).to_bytes(4, "little"))
        finally:
            gdb.close()
        self.command("cont")

    def close(self):
        super().close()
        self.con.close()
