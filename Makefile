# SysGenId / VmGenId patch series: build, test and regenerate.
#
# Everything that needs the kernel toolchain runs inside a Debian trixie root
# filesystem kept in $(CACHE), in private mount and PID namespaces
# (scripts/in-rootfs.sh).  Targets are safe to rerun: each step reuses what
# the cache already holds and rebuilds incrementally.

CACHE          ?= /var/cache/sysgenid
KERNEL_VERSION := 7.3.4
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

KUNIT_CONFIGS := kunit/sysgenid.kunitconfig kconfig-fragments/sysgenid.config
KUNIT_SOURCES := drivers/misc/sysgenid.rs drivers/virt/vmgenid.rs

.PHONY: help demo check toolchain tree patches patches-check apply kunit \
	work-tree clean clean-cache

help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## demo           build what is missing and run the SysGenId KUnit suite, narrated
demo: toolchain tree
	@echo "== SysGenId: the generation counter, tested under User-Mode Linux"
	@echo "== kernel $(KERNEL_VERSION), series from patches/, cache in $(CACHE)"
	@$(MAKE) --no-print-directory kunit

## check          everything CI runs: patches-check, then KUnit
check: patches-check kunit

## toolchain      create (or reuse) the trixie root filesystem in $(CACHE)
toolchain:
	@sh scripts/toolchain.sh $(CACHE) $(LOCK)

## tree           unpack the pinned linux-source tarball into $(CACHE)/linux
tree: toolchain
	@$(RUN) sh /src/scripts/tree.sh $(KERNEL_VERSION) $(C_PRISTINE)

## patches        regenerate patches/ from the sources
patches: tree
	@$(RUN) sh /src/scripts/mkseries.sh $(C_PRISTINE) $(KERNEL_VERSION) /src $(C_GEN) /src/patches
	@echo "patches: $$(wc -l < patches/series) patches + cover letter in patches/"

## patches-check  fail if patches/ is stale or does not `git am` onto the pinned tree
patches-check: tree
	@$(RUN) sh -c 'sh /src/scripts/mkseries.sh $(C_PRISTINE) $(KERNEL_VERSION) /src $(C_GEN) /tmp/patches \
		&& if ! diff -r -q /tmp/patches /src/patches; then \
			echo "patches-check: patches/ is stale; run make patches" >&2; exit 1; fi \
		&& sh /src/scripts/amseries.sh $(C_PRISTINE) $(KERNEL_VERSION) /src/patches $(C_AM) series-gen'

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
			$(addprefix /src/,$(KUNIT_SOURCES))'

## clean-cache    remove everything in $(CACHE) (toolchain, trees, builds)
clean-cache:
	rm -rf $(CACHE)
