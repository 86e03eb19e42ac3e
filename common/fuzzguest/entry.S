/*
 * entry.S: the misbehaving guest's first instructions, as in the test guest
 * (common/guest/entry.S): any SBI implementation enters here in S-mode
 * (VS-mode under the hypervisor) with a0 = hart id, a1 = the device tree.
 * Secondary harts enter at fuzz_secondary_entry with a0 = hart id and
 * a1 = the opaque value of hart_start, which this guest uses as the
 * generation number of that start. Every hart keeps its hart id in tp,
 * which the trap vector uses to find the hart's record.
 */
#include "fuzzguest.h"

	.section .text.entry
	.globl _start
_start:
	/* 1. The boot hart's stack, and its id in tp. */
	la	sp, boot_stack_top
	mv	tp, a0
	/* 2. Zero .bss: nobody else does. */
	la	t0, bss_start
	la	t1, bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
	/* 3. Every trap goes to the recording vector below. */
2:	la	t0, fuzz_exc_vector
	csrw	stvec, t0
	call	fuzz_main
3:	wfi
	j	3b

	/*
	 * A secondary: its stack is fuzz_stacks[hart id], so the id must be
	 * below FUZZ_MAX_HARTS (on QEMU virt hart ids are 0..n-1).
	 */
	.globl fuzz_secondary_entry
fuzz_secondary_entry:
	li	t0, FUZZ_MAX_HARTS
4:	bgeu	a0, t0, 4b
	mv	tp, a0
	la	sp, fuzz_stacks
	addi	t0, a0, 1
	li	t1, FUZZ_STACK_SIZE
	mul	t0, t0, t1
	add	sp, sp, t0
	la	t0, fuzz_exc_vector
	csrw	stvec, t0
	call	fuzz_secondary
5:	wfi
	j	5b

	/*
	 * fuzz_ecall(uint64_t frame[64]): loads every register but zero and sp
	 * from frame[1..31], runs ecall, and stores every register after it in
	 * frame[33..63] (sp too, in frame[34]; frame[2] gets sp before). The
	 * caller compares: an SBI call may change a0 and a1 only.
	 */
	.text
	.globl fuzz_ecall
fuzz_ecall:
	addi	sp, sp, -128
	sd	ra, 0(sp)
	sd	gp, 8(sp)
	sd	tp, 16(sp)
	sd	s0, 24(sp)
	sd	s1, 32(sp)
	sd	s2, 40(sp)
	sd	s3, 48(sp)
	sd	s4, 56(sp)
	sd	s5, 64(sp)
	sd	s6, 72(sp)
	sd	s7, 80(sp)
	sd	s8, 88(sp)
	sd	s9, 96(sp)
	sd	s10, 104(sp)
	sd	s11, 112(sp)
	sd	a0, 120(sp)
	sd	sp, 16(a0)
	ld	x1, 8(a0)
	ld	x3, 24(a0)
	ld	x4, 32(a0)
	ld	x5, 40(a0)
	ld	x6, 48(a0)
	ld	x7, 56(a0)
	ld	x8, 64(a0)
	ld	x9, 72(a0)
	ld	x11, 88(a0)
	ld	x12, 96(a0)
	ld	x13, 104(a0)
	ld	x14, 112(a0)
	ld	x15, 120(a0)
	ld	x16, 128(a0)
	ld	x17, 136(a0)
	ld	x18, 144(a0)
	ld	x19, 152(a0)
	ld	x20, 160(a0)
	ld	x21, 168(a0)
	ld	x22, 176(a0)
	ld	x23, 184(a0)
	ld	x24, 192(a0)
	ld	x25, 200(a0)
	ld	x26, 208(a0)
	ld	x27, 216(a0)
	ld	x28, 224(a0)
	ld	x29, 232(a0)
	ld	x30, 240(a0)
	ld	x31, 248(a0)
	ld	x10, 80(a0)
	ecall
	/* t6 onto the stack, the frame into t6: sp must be what it was. */
	addi	sp, sp, -8
	sd	t6, 0(sp)
	ld	t6, 128(sp)
	sd	x1, 264(t6)
	sd	x3, 280(t6)
	sd	x4, 288(t6)
	sd	x5, 296(t6)
	sd	x6, 304(t6)
	sd	x7, 312(t6)
	sd	x8, 320(t6)
	sd	x9, 328(t6)
	sd	x10, 336(t6)
	sd	x11, 344(t6)
	sd	x12, 352(t6)
	sd	x13, 360(t6)
	sd	x14, 368(t6)
	sd	x15, 376(t6)
	sd	x16, 384(t6)
	sd	x17, 392(t6)
	sd	x18, 400(t6)
	sd	x19, 408(t6)
	sd	x20, 416(t6)
	sd	x21, 424(t6)
	sd	x22, 432(t6)
	sd	x23, 440(t6)
	sd	x24, 448(t6)
	sd	x25, 456(t6)
	sd	x26, 464(t6)
	sd	x27, 472(t6)
	sd	x28, 480(t6)
	sd	x29, 488(t6)
	sd	x30, 496(t6)
	addi	t5, sp, 8
	sd	t5, 272(t6)
	ld	t5, 0(sp)
	sd	t5, 504(t6)
	addi	sp, sp, 8
	ld	ra, 0(sp)
	ld	gp, 8(sp)
	ld	tp, 16(sp)
	ld	s0, 24(sp)
	ld	s1, 32(sp)
	ld	s2, 40(sp)
	ld	s3, 48(sp)
	ld	s4, 56(sp)
	ld	s5, 64(sp)
	ld	s6, 72(sp)
	ld	s7, 80(sp)
	ld	s8, 88(sp)
	ld	s9, 96(sp)
	ld	s10, 104(sp)
	ld	s11, 112(sp)
	addi	sp, sp, 128
	ret

	/*
	 * Every trap. If this hart armed its record (fuzz_exc[tp].armed), the
	 * trap is one it provoked: record scause, stval and sepc, count it,
	 * and return past the instruction (2 or 4 bytes, by its low bits:
	 * this guest runs without paging, so sepc is readable). Otherwise it
	 * is fatal: fuzz_trap_fatal prints it and powers off.
	 */
	.balign 4
	.globl fuzz_exc_vector
fuzz_exc_vector:
	addi	sp, sp, -32
	sd	t0, 0(sp)
	sd	t1, 8(sp)
	sd	t2, 16(sp)
	la	t1, fuzz_exc
	slli	t0, tp, 5
	add	t1, t1, t0
	ld	t0, 24(t1)
	beqz	t0, 7f
	csrr	t0, scause
	sd	t0, 0(t1)
	csrr	t0, stval
	sd	t0, 8(t1)
	csrr	t0, sepc
	sd	t0, 16(t1)
	ld	t2, 24(t1)
	addi	t2, t2, 1
	sd	t2, 24(t1)
	lhu	t2, 0(t0)
	andi	t2, t2, 3
	addi	t2, t2, -3
	addi	t0, t0, 2
	bnez	t2, 6f
	addi	t0, t0, 2
6:	csrw	sepc, t0
	ld	t0, 0(sp)
	ld	t1, 8(sp)
	ld	t2, 16(sp)
	addi	sp, sp, 32
	sret
7:	la	sp, trap_stack_top
	call	fuzz_trap_fatal

	.section .bss
	.balign 16
	.space	16384
boot_stack_top:
	.space	4096
trap_stack_top:
