/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry code for the arm64 test guest, what a VMM that boots Linux without
 * firmware (Firecracker on aarch64) runs on the boot CPU: x0 holds the
 * device tree's physical address, x1 to x3 are zero, and the CPU branches
 * to the first byte of the Image (Documentation/arch/arm64/booting.rst).
 *
 * QEMU's -kernel path does the same, but it also rewrites the device tree's
 * memory node to cover all of RAM; the VM generation ID region has to stay
 * outside that node, so the test loads the pieces itself.  DTB_ADDR and
 * IMAGE_ADDR come from the command line (scripts/arm64vmm.py).
 */
	.text
	.globl	_start
_start:
	ldr	x0, dtb
	mov	x1, xzr
	mov	x2, xzr
	mov	x3, xzr
	ldr	x4, image
	br	x4

	.balign	8
dtb:	.quad	DTB_ADDR
image:	.quad	IMAGE_ADDR
