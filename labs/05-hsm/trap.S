/*
 * trap.S: the world switch and the trap vector.
 *
 * sscratch tells the vector where a trap came from:
 *   0                 -> the hypervisor itself trapped (HS-mode)
 *   &vcpu->ctx        -> the guest trapped (VS- or VU-mode)
 * vcpu_enter and the way back into the guest set it just before sret; the
 * vector clears it.
 *
 * vcpu_enter() starts the guest: it loads every guest register and does
 * sret. From then on each guest trap (an exit) is a call into C: the vector
 * saves the guest registers a C call may change, calls vcpu_exit() on the
 * stack vcpu_enter left, and when that returns puts them back and does
 * sret. The guest's s0..s11 and gp stay in the registers all along: C saves
 * and restores any s register it uses (the calling convention), and the
 * hypervisor never uses gp. Fewer saves, a cheaper exit (README, "What an
 * exit costs").
 *
 * A vCPU that stops (SBI hart_stop) leaves the guest for good: vcpu_leave()
 * reloads the registers vcpu_enter saved and returns from vcpu_enter() into
 * its caller, as if the guest had been a function call.
 */
#include "vcpu.h"

#define G(n) VCPU_GUEST_REG(n)

	.section .text
	.globl vcpu_enter
/* void vcpu_enter(struct vcpu_context *ctx); caller has set sepc, sstatus, hstatus */
vcpu_enter:
	/* 1. Remember the stack and tp we are on: every exit runs C on them. */
	sd	sp, VCPU_HOST_SP(a0)
	sd	tp, VCPU_HOST_TP(a0)
	/* ...and what C expects to survive a call, for vcpu_leave. */
	sd	ra, VCPU_HOST_RA(a0)
	sd	s0, VCPU_HOST_S(0)(a0)
	sd	s1, VCPU_HOST_S(1)(a0)
	sd	s2, VCPU_HOST_S(2)(a0)
	sd	s3, VCPU_HOST_S(3)(a0)
	sd	s4, VCPU_HOST_S(4)(a0)
	sd	s5, VCPU_HOST_S(5)(a0)
	sd	s6, VCPU_HOST_S(6)(a0)
	sd	s7, VCPU_HOST_S(7)(a0)
	sd	s8, VCPU_HOST_S(8)(a0)
	sd	s9, VCPU_HOST_S(9)(a0)
	sd	s10, VCPU_HOST_S(10)(a0)
	sd	s11, VCPU_HOST_S(11)(a0)
	/* 2. Load the guest's s0..s11 and gp, which no exit touches. */
	ld	gp, G(3)(a0)
	ld	s0, G(8)(a0)
	ld	s1, G(9)(a0)
	ld	s2, G(18)(a0)
	ld	s3, G(19)(a0)
	ld	s4, G(20)(a0)
	ld	s5, G(21)(a0)
	ld	s6, G(22)(a0)
	ld	s7, G(23)(a0)
	ld	s8, G(24)(a0)
	ld	s9, G(25)(a0)
	ld	s10, G(26)(a0)
	ld	s11, G(27)(a0)
	/* 3. The rest, and sret, as after every exit. */
	j	vcpu_resume

	.balign 4
	.globl trap_vector
trap_vector:
	/* a0 <-> sscratch: a0 = ctx if the guest trapped, 0 if we did. */
	csrrw	a0, sscratch, a0
	beqz	a0, trap_from_hyp

	/* From the guest: save what a C call may change (its a0 is in sscratch now). */
	sd	ra, G(1)(a0)
	sd	sp, G(2)(a0)
	sd	tp, G(4)(a0)
	sd	t0, G(5)(a0)
	sd	t1, G(6)(a0)
	sd	t2, G(7)(a0)
	sd	a1, G(11)(a0)
	sd	a2, G(12)(a0)
	sd	a3, G(13)(a0)
	sd	a4, G(14)(a0)
	sd	a5, G(15)(a0)
	sd	a6, G(16)(a0)
	sd	a7, G(17)(a0)
	sd	t3, G(28)(a0)
	sd	t4, G(29)(a0)
	sd	t5, G(30)(a0)
	sd	t6, G(31)(a0)
	csrr	t0, sscratch
	sd	t0, G(10)(a0)
	/* Back in the hypervisor: a trap from here on is our own. */
	csrw	sscratch, zero
	/* The hypervisor's stack and tp, ctx kept on it, then C: a0 = the vCPU. */
	ld	sp, VCPU_HOST_SP(a0)
	ld	tp, VCPU_HOST_TP(a0)
	addi	sp, sp, -16
	sd	a0, 0(sp)
	call	vcpu_exit
	ld	a0, 0(sp)
	addi	sp, sp, 16
	/* Back into the guest: the registers saved, then sret. */
vcpu_resume:
	csrw	sscratch, a0
	ld	ra, G(1)(a0)
	ld	sp, G(2)(a0)
	ld	tp, G(4)(a0)
	ld	t0, G(5)(a0)
	ld	t1, G(6)(a0)
	ld	t2, G(7)(a0)
	ld	a1, G(11)(a0)
	ld	a2, G(12)(a0)
	ld	a3, G(13)(a0)
	ld	a4, G(14)(a0)
	ld	a5, G(15)(a0)
	ld	a6, G(16)(a0)
	ld	a7, G(17)(a0)
	ld	t3, G(28)(a0)
	ld	t4, G(29)(a0)
	ld	t5, G(30)(a0)
	ld	t6, G(31)(a0)
	ld	a0, G(10)(a0)
	/* hstatus.SPV = 1 and sstatus.SPP = 1 (or 0), as the guest's trap left them. */
	sret

	.globl vcpu_leave
/* void vcpu_leave(struct vcpu_context *ctx); called from C, on the exit's stack */
vcpu_leave:
	ld	sp, VCPU_HOST_SP(a0)
	ld	tp, VCPU_HOST_TP(a0)
	ld	ra, VCPU_HOST_RA(a0)
	ld	s0, VCPU_HOST_S(0)(a0)
	ld	s1, VCPU_HOST_S(1)(a0)
	ld	s2, VCPU_HOST_S(2)(a0)
	ld	s3, VCPU_HOST_S(3)(a0)
	ld	s4, VCPU_HOST_S(4)(a0)
	ld	s5, VCPU_HOST_S(5)(a0)
	ld	s6, VCPU_HOST_S(6)(a0)
	ld	s7, VCPU_HOST_S(7)(a0)
	ld	s8, VCPU_HOST_S(8)(a0)
	ld	s9, VCPU_HOST_S(9)(a0)
	ld	s10, VCPU_HOST_S(10)(a0)
	ld	s11, VCPU_HOST_S(11)(a0)
	ret				/* from vcpu_enter */

trap_from_hyp:
	/* Restore a0 and leave sscratch 0; save everything on our stack. */
	csrrw	a0, sscratch, a0
	addi	sp, sp, -256
	sd	ra, 8(sp)
	sd	gp, 24(sp)
	sd	tp, 32(sp)
	sd	t0, 40(sp)
	addi	t0, sp, 256		/* sp as it was before the trap */
	sd	t0, 16(sp)
	sd	t1, 48(sp)
	sd	t2, 56(sp)
	sd	s0, 64(sp)
	sd	s1, 72(sp)
	sd	a0, 80(sp)
	sd	a1, 88(sp)
	sd	a2, 96(sp)
	sd	a3, 104(sp)
	sd	a4, 112(sp)
	sd	a5, 120(sp)
	sd	a6, 128(sp)
	sd	a7, 136(sp)
	sd	t3, 224(sp)
	sd	t4, 232(sp)
	sd	t5, 240(sp)
	sd	t6, 248(sp)
	/* s2..s11 are callee-saved: trap_hyp() keeps them for us. */
	mv	a0, sp
	call	trap_hyp
	ld	ra, 8(sp)
	ld	gp, 24(sp)
	ld	tp, 32(sp)
	ld	t0, 40(sp)
	ld	t1, 48(sp)
	ld	t2, 56(sp)
	ld	s0, 64(sp)
	ld	s1, 72(sp)
	ld	a0, 80(sp)
	ld	a1, 88(sp)
	ld	a2, 96(sp)
	ld	a3, 104(sp)
	ld	a4, 112(sp)
	ld	a5, 120(sp)
	ld	a6, 128(sp)
	ld	a7, 136(sp)
	ld	t3, 224(sp)
	ld	t4, 232(sp)
	ld	t5, 240(sp)
	ld	t6, 248(sp)
	addi	sp, sp, 256
	sret
