/*
 * entry.S: the first instructions of the hypervisor.
 * OpenSBI enters here in HS-mode on one hart, chosen by lottery or by QEMU:
 *   a0 = that hart's id, a1 = address of the firmware's device tree.
 */
	.section .text.entry
	.globl _start
_start:
	/* 1. A stack for this hart; nothing else runs yet. */
	la	sp, boot_stack_top
	/* 2. sscratch = 0 means "trapped from the hypervisor" (see trap.S). */
	csrw	sscratch, zero
	/* 3. Zero .bss (stack included) so C may assume it. */
	la	t0, bss_start
	la	t1, bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
	/* 4. C, with a0 and a1 untouched. */
2:	call	hyp_main
3:	wfi
	j	3b

	.section .bss
	.balign 16
	.space	16384
boot_stack_top:
