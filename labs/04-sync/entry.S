/*
 * entry.S: the first instructions of the hypervisor.
 * OpenSBI enters _start in HS-mode on one hart, chosen by lottery or by QEMU:
 *   a0 = that hart's id, a1 = address of the firmware's device tree.
 * Every other hart enters secondary_entry, when the boot hart starts it
 * with SBI HSM hart_start: a0 = its hart id, a1 = its struct hart.
 */
#include "hart.h"
#include "param.h"

	.section .text.entry
	.globl _start
_start:
	/*
	 * 0. Only the first hart here may boot. Under a loaded host, OpenSBI
	 *    1.1 can send a hart we started with hart_start here, with a1 = the
	 *    device tree, instead of to secondary_entry (seen in CI: the hart
	 *    was still setting itself up). Such a hart must not zero .bss under
	 *    our feet: it finds its struct hart by its id (a0) and goes on as a
	 *    secondary. boot_claimed is in .data, which nobody zeroes.
	 */
	la	t0, boot_claimed
	li	t1, 1
	amoswap.w t1, t1, (t0)
	bnez	t1, 5f
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

	.globl secondary_entry
secondary_entry:
	/* 1. The stack the boot hart gave this hart; tp = its struct hart. */
	ld	sp, HART_STACK_TOP(a1)
	mv	tp, a1
	/* 2. Traps from here on are the hypervisor's own. */
	csrw	sscratch, zero
	/* 3. C: hyp_secondary_main(struct hart *), in main.c. */
	mv	a0, a1
	call	hyp_secondary_main
4:	wfi
	j	4b

	/* A started hart that came in at _start: a1 = &harts[i] with harts[i].hartid == a0. */
5:	la	a1, harts
	li	t0, HYP_MAX_HARTS
6:	ld	t1, HART_HARTID(a1)
	beq	t1, a0, secondary_entry
	addi	a1, a1, HART_SIZE
	addi	t0, t0, -1
	bnez	t0, 6b
7:	wfi	/* not a hart we started: stay out of the way */
	j	7b

	.section .data
	.balign 4
boot_claimed:
	.word	0

	.section .bss
	.balign 16
	.space	16384
boot_stack_top:
