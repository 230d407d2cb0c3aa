# SysGenId / VmGenId patch series: build, test and regenerate.
#
# Everything that needs the kernel toolchain runs inside a Debian trixie root
# filesystem kept in $(CACHE), in private mount and PID namespaces
# (scripts/in-rootfs.sh).  Targets are safe to rerun: each step reuses what
# the cache already holds and rebuilds incrementally.

# One target at a time: the targets share the cache's trees, branches and apt
# state; each kernel build is parallel inside (nproc jobs).
.NOTPARALLEL:

CACHE          ?= /var/cache/sysgenid
# The release the series is generated against; a newer 7.3.y from the mirror
# is used as it comes (scripts/tree.sh, scripts/patches-check.sh).
KERNEL_BASE    := 7.3.4
JOBS           ?= $(shell nproc)
KDIR           ?=

SRC       := $(CURDIR)
LOCK      := toolchain/packages.lock
# Paths as seen inside the root filesystem.
C_PRISTINE := /cache/linux
C_GEN      := /cache/trees/gen
C_AM       := /cache/trees/am
C_WORK     := /cache/trees/work
C_BUILD    := /cache/build

RUN := $(SRC)/scripts/in-rootfs.sh $(CACHE)/rootfs $(SRC) $(CACHE)
# The distribution toolchain (toolchain/distro.lock): builds only.
DISTRO_RUN := $(SRC)/scripts/in-rootfs.sh $(CACHE)/rootfs-distro $(SRC) $(CACHE)
# $(call distro_build,ARCH,TARGETS): Debian's ARCH configuration in $(C_BUILD)/distro-ARCH.
distro_build = $(DISTRO_RUN) sh -c 'cd $(C_WORK) && sh /src/scripts/distro-build.sh \
	$(C_BUILD)/distro-$(1) $(1) "$(2)" /src/kconfig-fragments/distro.config'

GUEST_BUILD   := $(C_BUILD)/x86_64-guest
GUEST_BZIMAGE := $(GUEST_BUILD)/arch/x86/boot/bzImage
BENCH_BUILD   := $(C_BUILD)/x86_64-bench
DEBUG_BUILD   := $(C_BUILD)/x86_64-debug
KCSAN_BUILD   := $(C_BUILD)/x86_64-kcsan
STRESS_SECONDS ?= 60
STORM_RESTORES ?= 30
STORM_KCSAN_RESTORES ?= 8
STORM_SECONDS  ?= 8
STORM_ARM64_SECONDS ?= 60
STORM_ARM64_INTERVAL ?= 0.25
STORM_SEED_ARG = $(if $(STORM_SEED),$(comma)-s$(comma)$(STORM_SEED))
comma := ,

KUNIT_CONFIGS := kunit/sysgenid.kunitconfig kconfig-fragments/sysgenid.config
GUEST_CONFIGS := kconfig-fragments/x86_64-guest.config kconfig-fragments/sysgenid.config
NORUST_CONFIGS := $(GUEST_CONFIGS) kconfig-fragments/x86_64-no-rust.config
BENCH_CONFIGS := $(GUEST_CONFIGS) kconfig-fragments/x86_64-bench.config
DEBUG_CONFIGS := $(GUEST_CONFIGS) kconfig-fragments/x86_64-debug.config
KCSAN_CONFIGS := $(DEBUG_CONFIGS) kconfig-fragments/x86_64-kcsan.config
NO_SYSGENID_CONFIGS := $(GUEST_CONFIGS) kconfig-fragments/no-sysgenid.config
C_VMGENID_CONFIGS := $(GUEST_CONFIGS) kconfig-fragments/c-vmgenid.config
C_VMGENID_BZIMAGE := $(C_BUILD)/x86_64-c-vmgenid/arch/x86/boot/bzImage
ARM64_CONFIGS := kconfig-fragments/arm64-guest.config kconfig-fragments/sysgenid.config \
		 kconfig-fragments/sysgenid-module.config kconfig-fragments/vmgenid-module.config
ARM64_BUILD   := $(C_BUILD)/arm64-guest
ARM64_IMAGE   := $(ARM64_BUILD)/arch/arm64/boot/Image
ARM64_C_MODULES := $(C_BUILD)/arm64-c-modules
ARM64_PROGS   := $(C_BUILD)/arm64-progs
ARM64_BUSYBOX := /opt/foreign/arm64/usr/bin/busybox
KUNIT_SOURCES := drivers/misc/sysgenid_kunit.rs drivers/virt/vmgenid_kunit.rs
# The kernel crate files whose doctests the series adds or extends; UML has no
# ACPI, so the ACPI examples are only compiled in the x86_64 builds.
KUNIT_DOCTESTS := random.rs io/memremap.rs capability.rs page.rs sync/atomic.rs \
	mm/virt.rs fs/file.rs fs/kiocb.rs miscdevice.rs

.PHONY: help demo check toolchain toolchain-distro distro distro-kernel distro-objects distro-arm64-kernel bench-distro fastpath-calls resolver-test tree-policy-test tree patches patches-check apply kunit \
	work-tree bisect-check guest-kernel norust-kernel \
	no-sysgenid-kernel c-vmgenid-kernel build-matrix guest-probe guest-progs kselftest \
	arm64-kernel arm64-progs arm64-e2e \
	snapshot snapshot-c-vmgenid snapshot-debug \
	e2e lint docs bench-kernel bench bench-smoke debug-kernel stress stress-smoke \
	storm storm-debug storm-kcsan storm-arm64 storm-smoke storm-arm64-smoke kcsan-kernel \
	clean-cache

help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## demo           build what is missing, then tell the snapshot story: one VM saved, two clones restored
##                (ARCH=arm64: the same on the arm64 device-tree guest, then the C driver's fix)
ifeq ($(origin ARCH)$(ARCH),command linearm64)
demo: arm64-kernel arm64-progs
	@echo "== SysGenId demo on arm64: the series on the mirror's Linux 7.3 (base $(KERNEL_BASE)), cache in $(CACHE)"
	@$(MAKE) --no-print-directory arm64-e2e ARM64_FLAGS=--narrate
else
demo: guest-progs
	@echo "== SysGenId demo: the series from patches/ on the mirror's Linux 7.3 (base $(KERNEL_BASE)), cache in $(CACHE)"
	@$(MAKE) --no-print-directory snapshot SNAPSHOT_FLAGS=--narrate
endif

## check          everything CI runs: resolver-test, patches-check, KUnit, bisect-check, the Kconfig matrix, the guest checks, lint, docs
check: resolver-test patches-check tree-policy-test kunit bisect-check build-matrix distro-objects \
	e2e lint docs

## toolchain      resolve toolchain/packages.lock against the mirror, then create (or reuse) the
##                trixie root filesystem of those versions in $(CACHE)
toolchain:
	@sh scripts/toolchain.sh $(CACHE) $(LOCK) rootfs

## toolchain-distro  the same for toolchain/distro.lock: the distribution toolchain (GCC 14,
##                trixie's rustc 1.85 and bindgen, pahole), in $(CACHE)/rootfs-distro
toolchain-distro:
	@sh scripts/toolchain.sh $(CACHE) toolchain/distro.lock rootfs-distro

## resolver-test  the lock resolver on recorded mirror listings (toolchain/tests/), no network
resolver-test:
	@sh scripts/test-resolver.sh

## tree           unpack the resolved linux-source tarball (7.3.y, y >= 4) into $(CACHE)/linux
tree: toolchain
	@$(RUN) sh /src/scripts/tree.sh $(KERNEL_BASE) $(C_PRISTINE)

## patches        regenerate patches/ from the sources
patches: tree
	@$(RUN) sh /src/scripts/mkseries.sh $(C_PRISTINE) tree /src $(C_GEN) /src/patches
	@echo "patches: $$(wc -l < patches/series) patches + cover letter in patches/"

## patches-check  fail if patches/ is stale or does not `git am` onto the tree (exactly on
##                the base release, modulo index lines and hunk positions on a newer 7.3.y)
patches-check: tree
	@$(RUN) sh /src/scripts/patches-check.sh $(C_PRISTINE) tree $(KERNEL_BASE) /src /src/patches \
		$(C_GEN) $(C_AM)

## tree-policy-test  a simulated newer 7.3.y: the series must apply with a note, or fail clearly
tree-policy-test: tree
	@$(RUN) sh /src/scripts/test-tree-policy.sh $(C_PRISTINE) $(KERNEL_BASE) /src

## apply          git am the series onto a kernel tree: make apply KDIR=/path/to/linux
apply:
	@test -n "$(KDIR)" || { echo "usage: make apply KDIR=/path/to/linux" >&2; exit 2; }
	git -C "$(KDIR)" am $(addprefix $(SRC)/patches/,$(shell cat patches/series))

# The build tree: the applied series checked out over the previous one, so
# only files the series changed get new timestamps.
work-tree: patches-check
	@$(RUN) sh /src/scripts/worktree.sh $(C_PRISTINE) $(C_WORK) series-applied

## kunit          run the KUnit suites under UML (LLVM=1), fail on any failed or missing test
kunit: work-tree
	@$(RUN) sh -c 'mkdir -p $(C_BUILD) && cd $(C_WORK) && rm -f $(C_BUILD)/kunit.json && \
		./tools/testing/kunit/kunit.py run --arch um --make_options LLVM=1 \
			--jobs $(JOBS) --build_dir $(C_BUILD)/kunit-um \
			$(addprefix --kunitconfig /src/,$(KUNIT_CONFIGS)) \
			--json=$(C_BUILD)/kunit.json; \
		python3 /src/scripts/kunit-results.py $(C_BUILD)/kunit.json \
			$(addprefix /src/,$(KUNIT_SOURCES)) \
			--doctests $(addprefix $(C_WORK)/rust/kernel/,$(KUNIT_DOCTESTS)) \
			--log $(C_BUILD)/kunit-um/test.log'

## bisect-check   build every prefix of the series (x86_64, LLVM=1, the guest fragments), incrementally
bisect-check: work-tree
	@$(RUN) sh /src/scripts/bisect.sh $(C_PRISTINE) $(C_WORK) tree series-applied \
		$(GUEST_BUILD) x86_64 "vmlinux modules" $(addprefix /src/,$(GUEST_CONFIGS))

## guest-kernel   the x86_64 QEMU guest: ACPI+OF, lockdep, the Rust drivers (both VmGenId paths)
guest-kernel: work-tree
	@$(RUN) sh -c 'cd $(C_WORK) && \
		sh /src/scripts/kbuild.sh $(GUEST_BUILD) x86_64 "bzImage modules" \
			$(addprefix /src/,$(GUEST_CONFIGS)) && \
		grep -q rustc $(GUEST_BUILD)/drivers/virt/.vmgenid.o.cmd && \
		grep -q rustc $(GUEST_BUILD)/drivers/misc/.sysgenid.o.cmd && \
		echo "guest-kernel: 1 passed, 0 failed (RUST=y SYSGENID=y VMGENID=y: both drivers built in, from Rust)"'

# The other Kconfig variants, told apart by their System.map: vmgenid_notify
# is the C driver's.  Each starts from a copy of the guest build, so only
# what its options touch is compiled again; the Rust ones are built with
# clippy, so clippy sees the series in each configuration.

## norust-kernel  x86_64 with RUST=n VMGENID=y: the C vmgenid driver
norust-kernel: guest-kernel
	@$(RUN) sh -c 'cd $(C_WORK) && b=$(C_BUILD)/x86_64-no-rust && \
		sh /src/scripts/variant.sh $(GUEST_BUILD) $$b x86_64 "bzImage modules" \
			$(addprefix /src/,$(NORUST_CONFIGS)) && \
		grep -q " vmgenid_notify$$" $$b/System.map && ! grep -q sysgenid $$b/System.map && \
		echo "norust-kernel: 1 passed, 0 failed (RUST=n VMGENID=y: the C driver, no SysGenId)"'

## no-sysgenid-kernel  RUST=y SYSGENID=n VMGENID=y VMGENID_RUST=y, with clippy: the Rust driver alone
no-sysgenid-kernel: guest-kernel
	@$(RUN) sh -c 'cd $(C_WORK) && b=$(C_BUILD)/x86_64-no-sysgenid && \
		sh /src/scripts/variant.sh $(GUEST_BUILD) $$b x86_64 "bzImage modules" \
			$(addprefix /src/,$(NO_SYSGENID_CONFIGS)) && \
		grep -q rustc $$b/drivers/virt/.vmgenid.o.cmd && \
		! grep -q " vmgenid_notify$$" $$b/System.map && \
		! grep -q "CONFIG_SYSGENID=y" $$b/.config && \
		echo "no-sysgenid-kernel: 1 passed, 0 failed (RUST=y SYSGENID=n VMGENID_RUST=y: the Rust driver alone)"'

## c-vmgenid-kernel  RUST=y SYSGENID=y VMGENID=y VMGENID_RUST=n: the C driver feeding Rust SysGenId
c-vmgenid-kernel: guest-kernel
	@$(RUN) sh -c 'cd $(C_WORK) && b=$(C_BUILD)/x86_64-c-vmgenid && \
		sh /src/scripts/variant.sh $(GUEST_BUILD) $$b x86_64 "bzImage modules" \
			$(addprefix /src/,$(C_VMGENID_CONFIGS)) && \
		grep -q " vmgenid_notify$$" $$b/System.map && \
		grep -q rustc $$b/drivers/misc/.sysgenid.o.cmd && \
		echo "c-vmgenid-kernel: 1 passed, 0 failed (RUST=y SYSGENID=y VMGENID_RUST=n: the C driver, Rust SysGenId)"'

## arm64-kernel   arm64 (LLVM=1, clippy): device tree only, GICv3, SysGenId as sysgenid.ko and the
##                Rust VmGenId as vmgenid.ko (VMGENID=m: a modular vmgenid is what uses random.c's
##                export, and the module is what storm-arm64 unloads under fire); the C driver,
##                mainline's (vmgenid_mainline.ko) and the series' (vmgenid_fixed.ko: patch 1's
##                threaded IRQ), built against it as two external modules
arm64-kernel: work-tree
	@$(RUN) sh -c 'set -e; cd $(C_WORK); b=$(ARM64_BUILD); \
		sh /src/scripts/kbuild.sh --clippy $$b arm64 "Image modules" \
			$(addprefix /src/,$(ARM64_CONFIGS)); \
		grep -q rustc $$b/drivers/virt/.vmgenid.o.cmd; test -s $$b/drivers/virt/vmgenid.ko; \
		grep -q rustc $$b/drivers/misc/.sysgenid.o.cmd; test -s $$b/drivers/misc/sysgenid.ko; \
		! grep -q "CONFIG_ACPI=y" $$b/.config; \
		for v in mainline fixed; do \
			m=$(ARM64_C_MODULES)/$$v; mkdir -p $$m; \
			if [ $$v = mainline ]; then \
				git -C $(C_PRISTINE) show tree:drivers/virt/vmgenid.c; \
			else cat drivers/virt/vmgenid_c.c; fi > $$m/new.c; \
			cmp -s $$m/new.c $$m/vmgenid_$$v.c || mv $$m/new.c $$m/vmgenid_$$v.c; \
			rm -f $$m/new.c; echo "obj-m := vmgenid_$$v.o" > $$m/Kbuild; \
			make -s ARCH=arm64 LLVM=1 O=$$b M=$$m modules > $$m/build.log 2>&1 || \
				{ cat $$m/build.log; exit 1; }; \
			if grep -q "warning:" $$m/build.log; then cat $$m/build.log; exit 1; fi; \
		done; \
		echo "arm64-kernel: 1 passed, 0 failed (arm64 RUST=y SYSGENID=m VMGENID=m OF=y ACPI=n:" \
			"sysgenid.ko, Rust vmgenid.ko; the C driver, mainline'"'"'s and fixed, as external" \
			"modules)"'

## build-matrix   the five Kconfig variants (x86_64 and arm64), each without a warning from this series
build-matrix: guest-kernel norust-kernel no-sysgenid-kernel c-vmgenid-kernel arm64-kernel

## guest-probe    boot the x86_64 guest with QEMU's vmgenid device: the Rust driver must bind it
guest-probe: guest-kernel
	@$(RUN) sh -c 'sh /src/scripts/guest-run.sh $(GUEST_BZIMAGE) \
			/src/guest/probe-init.sh /tmp > /tmp/console 2>&1; \
		grep "^guest:" /tmp/console; \
		grep -q "guest: device=QEMUVGID:00 driver=vmgenid$$" /tmp/console && \
		grep -q "^guest: sysgenid=crw-rw-rw-$$" /tmp/console && \
		grep -q "^guest: unbound driver=$$" /tmp/console && \
		grep -q "^guest: rebound driver=vmgenid$$" /tmp/console && \
		grep -q "^guest: kernel warnings=0$$" /tmp/console && \
		echo "guest-probe: 1 passed, 0 failed" || \
		{ tail -n 30 /tmp/console; echo "guest-probe: 0 passed, 1 failed"; exit 1; }'

# Statically linked guest programs, against the series' installed uapi headers.
guest-progs: work-tree
	@$(RUN) sh -c 'set -e; cd $(C_WORK); \
		make -s ARCH=x86_64 O=$(C_BUILD)/headers headers_install \
			INSTALL_HDR_PATH=$(C_BUILD)/headers/usr; \
		mkdir -p $(C_BUILD)/guest-progs; \
		make -s -C tools/testing/selftests/sysgenid OUTPUT=$(C_BUILD)/guest-progs \
			KHDR_INCLUDES="-isystem $(C_BUILD)/headers/usr/include" LDFLAGS=-static; \
		gcc -static -O2 -Wall -Werror -pthread -isystem $(C_BUILD)/headers/usr/include \
			-o $(C_BUILD)/guest-progs/sysgenid-watchers /src/guest/sysgenid-watchers.c; \
		gcc -static -O2 -Wall -Werror -pthread -isystem $(C_BUILD)/headers/usr/include \
			-o $(C_BUILD)/guest-progs/sysgenid-bench /src/guest/sysgenid-bench.c; \
		gcc -static -O2 -Wall -Werror -pthread -isystem $(C_BUILD)/headers/usr/include \
			-o $(C_BUILD)/guest-progs/sysgenid-stress /src/guest/sysgenid-stress.c'

# The arm64 guest's programs: the selftest, the watchers and the stress workload, cross-built.
arm64-progs: work-tree
	@$(RUN) sh -c 'set -e; cd $(C_WORK); \
		make -s ARCH=arm64 O=$(C_BUILD)/headers-arm64 headers_install \
			INSTALL_HDR_PATH=$(C_BUILD)/headers-arm64/usr; \
		mkdir -p $(ARM64_PROGS); \
		make -s -C tools/testing/selftests/sysgenid OUTPUT=$(ARM64_PROGS) ARCH=arm64 \
			CC=aarch64-linux-gnu-gcc KHDR_INCLUDES="-isystem $(C_BUILD)/headers-arm64/usr/include" \
			LDFLAGS=-static; \
		for prog in sysgenid-watchers sysgenid-stress; do \
			aarch64-linux-gnu-gcc -static -O2 -Wall -Werror -pthread \
				-isystem $(C_BUILD)/headers-arm64/usr/include \
				-o $(ARM64_PROGS)/$$prog /src/guest/$$prog.c; \
		done'

## arm64-e2e      the arm64 guest (device tree, GICv3): probe, kselftest, unbind/rebind, a snapshot
##                restored by two VMMs that write the ID and raise the SPI, a late notification,
##                and the C driver's device-tree path before and after the series' fix
arm64-e2e: arm64-kernel arm64-progs
	@$(RUN) sh -c 'set -e; rm -rf /tmp/a64-e2e; mkdir -p /tmp/a64-e2e; \
		cp -r $(ARM64_PROGS)/. $(ARM64_BUILD)/drivers/virt/vmgenid.ko \
			$(ARM64_BUILD)/drivers/misc/sysgenid.ko /tmp/a64-e2e/; \
		BUSYBOX=$(ARM64_BUSYBOX) sh /src/scripts/guest-initramfs.sh /tmp/arm64.cpio \
			/src/guest/arm64-init.sh /tmp/a64-e2e; \
		python3 /src/scripts/arm64-e2e.py rust $(ARM64_IMAGE) /tmp/arm64.cpio \
			$(C_BUILD)/arm64-e2e $(ARM64_FLAGS); \
		mkdir -p /tmp/c-mods; \
		cp $(ARM64_C_MODULES)/*/vmgenid_*.ko $(ARM64_BUILD)/drivers/virt/vmgenid.ko \
			$(ARM64_BUILD)/drivers/misc/sysgenid.ko /tmp/c-mods/; \
		BUSYBOX=$(ARM64_BUSYBOX) sh /src/scripts/guest-initramfs.sh /tmp/arm64-m.cpio \
			/src/guest/arm64-modules-init.sh /tmp/c-mods; \
		python3 /src/scripts/arm64-e2e.py modules $(ARM64_IMAGE) \
			/tmp/arm64-m.cpio $(C_BUILD)/arm64-e2e-modules $(ARM64_FLAGS)'

## kselftest      run the SysGenId selftests as root in the x86_64 guest
kselftest: guest-kernel guest-progs
	@$(RUN) sh -c 'sh /src/scripts/guest-run.sh $(GUEST_BZIMAGE) \
			/src/guest/kselftest-init.sh /tmp $(C_BUILD)/guest-progs > /tmp/console 2>&1 || true; \
		grep -E "^# (PASSED|FAILED|Totals)|^guest:|RIP|BUG|WARNING" /tmp/console || true; \
		python3 /src/scripts/tap-results.py kselftest /tmp/console \
			/src/tools/testing/selftests/sysgenid/sysgenid_test.c || \
			{ grep -E "^#|^(not )?ok" /tmp/console | grep -v "^# *$$" | tail -n 60; exit 1; }'

## snapshot       one snapshot, restored by two QEMU processes: watchers wake, RNG reseeded
snapshot: guest-kernel guest-progs
	@$(RUN) sh -c 'sh /src/scripts/guest-initramfs.sh /tmp/snapshot.cpio \
			/src/guest/snapshot-init.sh $(C_BUILD)/guest-progs && \
		python3 /src/scripts/snapshot.py $(GUEST_BZIMAGE) \
			/tmp/snapshot.cpio /tmp/snapshot $(SNAPSHOT_FLAGS)'

## snapshot-c-vmgenid  the same story on the C VmGenId driver: SysGenId follows the vmfork chain;
##                the guest first unbinds the driver and binds it again (patch 2's fix)
snapshot-c-vmgenid: c-vmgenid-kernel guest-progs
	@$(RUN) sh -c 'sh /src/scripts/guest-initramfs.sh /tmp/snapshot.cpio \
			/src/guest/snapshot-init.sh $(C_BUILD)/guest-progs && \
		python3 /src/scripts/snapshot.py $(C_VMGENID_BZIMAGE) \
			/tmp/snapshot.cpio /tmp/snapshot --stage snapshot-c-vmgenid --unbind'

## snapshot-debug the same story in the debug guest (lockdep, KASAN; WireGuard on the vmfork chain), the
##                Rust driver unbound and bound again first: no report
snapshot-debug: debug-kernel guest-progs
	@$(RUN) sh -c 'sh /src/scripts/guest-initramfs.sh /tmp/snapshot.cpio \
			/src/guest/snapshot-init.sh $(C_BUILD)/guest-progs && \
		python3 /src/scripts/snapshot.py $(DEBUG_BUILD)/arch/x86/boot/bzImage \
			/tmp/snapshot.cpio /tmp/snapshot --stage snapshot-debug --slow 3 --unbind'

## lint           checkpatch --strict on every patch, rustfmt, the uapi header in C and C++, clippy
lint: guest-progs no-sysgenid-kernel arm64-kernel
	@$(RUN) sh /src/scripts/lint.sh $(C_PRISTINE) /src/patches $(C_BUILD)/headers/usr/include \
		$(C_BUILD)/x86_64-no-sysgenid $(ARM64_BUILD)

## docs           htmldocs for the touched directories and rustdoc, no warning from our files
docs: guest-kernel
	@$(RUN) sh -c 'cd $(C_WORK) && \
		make O=$(C_BUILD)/docs SPHINXDIRS="misc-devices virt" htmldocs > /tmp/htmldocs.log 2>&1; \
		s1=$$?; \
		make LLVM=1 ARCH=x86_64 O=$(GUEST_BUILD) rustdoc > /tmp/rustdoc.log 2>&1; \
		s2=$$?; \
		ours="sysgenid|vmgenid|acpi/(device|notify)|memremap|io/resource|random\.rs|capability"; \
		w1=$$(grep -E "WARNING|ERROR|warning|error" /tmp/htmldocs.log | grep -c -E "$$ours"); \
		w2=$$(grep -E -A4 "^(warning|error)" /tmp/rustdoc.log | grep -c -E "$$ours"); \
		grep -E -B2 -A6 "$$ours" /tmp/htmldocs.log | grep -E -A6 "WARNING|ERROR" | head -n 40; \
		grep -E -A6 "^(warning|error)" /tmp/rustdoc.log | head -n 40; \
		out=$(C_BUILD)/docs/Documentation/output; \
		test -s $$out/misc-devices/sysgenid.html && test -s $$out/virt/vmgenid.html && \
		test -s $(GUEST_BUILD)/Documentation/output/rust/rustdoc/kernel/acpi/struct.NotifyRegistration.html; \
		s3=$$?; \
		echo "docs: htmldocs exit $$s1, $$w1 warnings from our files; rustdoc exit $$s2, $$w2 warnings"; \
		test $$s1 -eq 0 -a $$s2 -eq 0 -a $$s3 -eq 0 -a $$w1 -eq 0 -a $$w2 -eq 0 && \
			echo "docs: 1 passed, 0 failed" || { echo "docs: 0 passed, 1 failed"; exit 1; }'

## e2e            the QEMU checks: probe, kselftest, three snapshots, short stress and storm runs, a benchmark
##                smoke run, and the arm64 guest
e2e: guest-probe kselftest snapshot snapshot-c-vmgenid snapshot-debug stress-smoke storm-smoke \
	bench-smoke arm64-e2e storm-arm64-smoke

## distro-kernel  Debian's amd64 configuration + SYSGENID=y VMGENID_RUST=y, olddefconfig, built with
##                the distribution toolchain (GCC 14, rustc 1.85, BTF): vmlinux and bzImage
distro-kernel: toolchain-distro work-tree
	@$(call distro_build,amd64,bzImage)

## distro-objects the short proof in make check: in Debian's amd64 configuration, with the
##                distribution toolchain and clippy, the kernel crate and both drivers build clean
distro-objects: toolchain-distro work-tree
	@$(call distro_build,amd64,rust/kernel.o drivers/misc/sysgenid.o drivers/virt/vmgenid.o)
	@echo "distro-objects: 1 passed, 0 failed (GCC 14, rustc 1.85, Debian's amd64 configuration)"

## distro-arm64-kernel  the same from Debian's arm64 configuration, cross-built: vmlinux and Image
distro-arm64-kernel: toolchain-distro work-tree
	@$(call distro_build,arm64,Image)

## distro         Debian's amd64 and arm64 kernels (distro-kernel, distro-arm64-kernel) booted and
##                tested: the selftests and the snapshot story in q35 with -device vmgenid, the
##                arm64 device-tree guest; prints each kernel's compiler and rustc (long the first time)
distro: distro-kernel distro-arm64-kernel guest-progs arm64-progs
	@$(RUN) sh /src/scripts/distro-run.sh $(C_BUILD)/distro-amd64 $(C_BUILD)/distro-arm64 \
		$(C_BUILD)/guest-progs $(ARM64_PROGS) $(ARM64_BUSYBOX) $(C_BUILD)/distro-run

## debug-kernel   the hardening guest: lockdep, KASAN, UBSAN, DEBUG_LIST, kmemleak, fault injection
debug-kernel: work-tree
	@$(RUN) sh -c 'cd $(C_WORK) && sh /src/scripts/kbuild.sh $(DEBUG_BUILD) x86_64 bzImage \
		$(addprefix /src/,$(DEBUG_CONFIGS))'

## stress         random concurrent use with forced bumps in the debug guest, then allocation-failure
##                injection; no kernel report allowed (STRESS_SECONDS=60, STRESS_SEED= to replay)
stress: debug-kernel guest-progs
	@$(RUN) sh /src/scripts/stress.sh $(DEBUG_BUILD)/arch/x86/boot/bzImage $(C_BUILD)/guest-progs \
		$(C_BUILD)/stress stress -t $(STRESS_SECONDS) $(if $(STRESS_SEED),-s $(STRESS_SEED))

# The same, for 20 seconds, in make check.
stress-smoke: debug-kernel guest-progs
	@$(RUN) sh /src/scripts/stress.sh $(DEBUG_BUILD)/arch/x86/boot/bzImage $(C_BUILD)/guest-progs \
		$(C_BUILD)/stress-smoke stress-smoke -t 20

## storm          the restore storm in the debug guest (storm-debug), the same under KCSAN
##                (storm-kcsan), and teardown under fire on arm64 with the driver as a module
storm: storm-debug storm-kcsan storm-arm64

## storm-debug    one snapshot saved mid-workload, restored by STORM_RESTORES=30 new QEMU processes,
##                each with its own ID; in each clone the driver is unbound and bound in a loop
##                under the workload; then kmemleak (STORM_SEED= for another workload seed)
storm-debug: debug-kernel guest-progs
	@$(RUN) sh -c 'sh /src/scripts/guest-initramfs.sh /tmp/storm.cpio /src/guest/storm-init.sh \
			$(C_BUILD)/guest-progs && \
		python3 /src/scripts/storm.py $(DEBUG_BUILD)/arch/x86/boot/bzImage /tmp/storm.cpio \
			$(C_BUILD)/storm-debug --restores $(STORM_RESTORES) --slow 2 --stage storm-debug \
			--append "oops=panic STORM_ARGS=-t,$(STORM_SECONDS),-u,QEMUVGID:00$(STORM_SEED_ARG)"'

## kcsan-kernel   the data-race guest: the debug guest with KCSAN instead of KASAN
kcsan-kernel: work-tree
	@$(RUN) sh -c 'cd $(C_WORK) && sh /src/scripts/kbuild.sh $(KCSAN_BUILD) x86_64 bzImage \
		$(addprefix /src/,$(KCSAN_CONFIGS))'

## storm-kcsan    the storm's restores (STORM_KCSAN_RESTORES=8) and workload under KCSAN; a data race
##                report that names either driver anywhere fails, others are counted and listed
storm-kcsan: kcsan-kernel guest-progs
	@$(RUN) sh -c 'sh /src/scripts/guest-initramfs.sh /tmp/storm.cpio /src/guest/storm-init.sh \
			$(C_BUILD)/guest-progs && \
		python3 /src/scripts/storm.py $(KCSAN_BUILD)/arch/x86/boot/bzImage /tmp/storm.cpio \
			$(C_BUILD)/storm-kcsan --restores $(STORM_KCSAN_RESTORES) --slow 2 --stage storm-kcsan \
			--kcsan \
			--append "oops=panic STORM_ARGS=-t,$(STORM_SECONDS),-u,QEMUVGID:00$(STORM_SEED_ARG)"'

## storm-arm64    teardown under fire: VMGENID=m on arm64, the driver unloaded and loaded, unbound
##                and bound, under the workload, while the host writes a new ID and raises the
##                SPI every STORM_ARM64_INTERVAL=0.25 s for STORM_ARM64_SECONDS=60
storm-arm64: arm64-kernel arm64-progs
	@$(RUN) sh -c 'set -e; mkdir -p /tmp/a64; cp $(ARM64_PROGS)/sysgenid-* \
			$(ARM64_BUILD)/drivers/virt/vmgenid.ko \
			$(ARM64_BUILD)/drivers/misc/sysgenid.ko /tmp/a64/; \
		BUSYBOX=$(ARM64_BUSYBOX) sh /src/scripts/guest-initramfs.sh /tmp/arm64-storm.cpio \
			/src/guest/arm64-storm-init.sh /tmp/a64; \
		python3 /src/scripts/arm64-storm.py $(ARM64_IMAGE) \
			/tmp/arm64-storm.cpio $(C_BUILD)/storm-arm64 --seconds $(STORM_ARM64_SECONDS) \
			--interval $(STORM_ARM64_INTERVAL) $(ARM64_FLAGS)'

# The same for 15 seconds, in make check.
storm-arm64-smoke: arm64-kernel arm64-progs
	@$(RUN) sh -c 'set -e; mkdir -p /tmp/a64; cp $(ARM64_PROGS)/sysgenid-* \
			$(ARM64_BUILD)/drivers/virt/vmgenid.ko \
			$(ARM64_BUILD)/drivers/misc/sysgenid.ko /tmp/a64/; \
		BUSYBOX=$(ARM64_BUSYBOX) sh /src/scripts/guest-initramfs.sh /tmp/arm64-storm.cpio \
			/src/guest/arm64-storm-init.sh /tmp/a64; \
		python3 /src/scripts/arm64-storm.py $(ARM64_IMAGE) \
			/tmp/arm64-storm.cpio $(C_BUILD)/storm-arm64-smoke --seconds 15 \
			--stage storm-arm64-smoke $(ARM64_FLAGS)'

# The same with three restores, in make check.
storm-smoke: debug-kernel guest-progs
	@$(RUN) sh -c 'sh /src/scripts/guest-initramfs.sh /tmp/storm.cpio /src/guest/storm-init.sh \
			$(C_BUILD)/guest-progs && \
		python3 /src/scripts/storm.py $(DEBUG_BUILD)/arch/x86/boot/bzImage /tmp/storm.cpio \
			$(C_BUILD)/storm-smoke --restores 3 --slow 2 --stage storm-smoke \
			--append "oops=panic STORM_ARGS=-t,5,-u,QEMUVGID:00"'

## bench-kernel   the benchmark guest: the guest kernel without lock debugging, with the C helpers
##                inlined into Rust (Clang 22)
bench-kernel: work-tree
	@$(RUN) sh -c 'cd $(C_WORK) && KBUILD_LLVM=-22 sh /src/scripts/kbuild.sh $(BENCH_BUILD) x86_64 bzImage \
		$(addprefix /src/,$(BENCH_CONFIGS))'

## bench          the benchmarks in the guest: ratios against getppid, VFS floors, plain loads, eventfd
##                (BENCH_ARGS=-s: the syscall figures only)
bench: bench-kernel guest-progs
	@$(RUN) sh /src/scripts/bench.sh $(BENCH_BUILD)/arch/x86/boot/bzImage \
		$(C_BUILD)/guest-progs $(C_BUILD)/bench $(BENCH_ARGS)
	@echo "bench: results in $(CACHE)/build/bench/{table.md,summary.txt}"
	@$(BENCH_REPORT)

## bench-distro   the same benchmark on Debian's amd64 kernel (distro-kernel: GCC 14, rustc 1.85,
##                the C helpers called, not inlined), with the ACPI VmGenId bound; both tables side
##                by side in $(CACHE)/build/bench-report.md
bench-distro: distro-kernel guest-progs
	@$(RUN) env BENCH_LABEL=bench-distro sh /src/scripts/bench.sh \
		$(C_BUILD)/distro-amd64/arch/x86/boot/bzImage $(C_BUILD)/guest-progs \
		$(C_BUILD)/bench-distro $(BENCH_ARGS)
	@echo "bench-distro: results in $(CACHE)/build/bench-distro/{table.md,summary.txt}"
	@$(BENCH_REPORT)

## fastpath-calls  the calls of sysgenid's read_iter, ioctl and poll in the distribution and the
##                tuned benchmark kernels (those that are built), from their object files
FASTPATH := MiscdeviceVTable<sysgenid::SysGenIdFile>>::(read_iter|ioctl|poll)$$
fastpath-calls:
	@$(RUN) sh -c 'for b in distro-amd64 x86_64-bench; do \
		o=$(C_BUILD)/$$b/drivers/misc/sysgenid.o; [ -e $$o ] || continue; \
		echo "fastpath-calls: $$b"; \
		python3 /src/scripts/fastpath-calls.py objdump $$o "$(FASTPATH)"; done'

# Every report: the tuned and the distribution kernel's tables side by side.
BENCH_REPORT = $(RUN) python3 /src/scripts/bench-report.py $(C_BUILD)/bench-report.md \
	tuned=$(C_BUILD)/bench distro=$(C_BUILD)/bench-distro

# A quick pass of every benchmark (tiny N, few rounds) in the test guest.
bench-smoke: guest-kernel guest-progs
	@$(RUN) sh /src/scripts/bench.sh $(GUEST_BZIMAGE) $(C_BUILD)/guest-progs \
		$(C_BUILD)/bench-smoke -q

## clean-cache    remove everything in $(CACHE) (toolchain, trees, builds)
clean-cache:
	rm -rf $(CACHE)
