/*
 * entry.S: the test guest's first instructions. Any SBI implementation
 * enters here in S-mode (VS-mode under the hypervisor) with
 *   a0 = this hart's id, a1 = guest-physical address of the device tree.
 * Secondary harts started with SBI HSM hart_start enter at
 * guest_secondary_entry with a0 = hart id and a1 = the opaque value, which
 * this guest sets to the top of that hart's stack.
 */
	.section .text.entry
	.globl _start
_start:
	/* 1. One stack for the boot hart. */
	la	sp, boot_stack_top
	/* 2. Zero .bss: nobody else does. */
	la	t0, bss_start
	la	t1, bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
	/* 3. Any trap is a bug in this guest or its SBI: report it. */
2:	la	t0, guest_trap_entry
	csrw	stvec, t0
	call	guest_main
3:	wfi
	j	3b

	.globl guest_secondary_entry
guest_secondary_entry:
	mv	sp, a1
	la	t0, guest_trap_entry
	csrw	stvec, t0
	call	guest_secondary
4:	wfi
	j	4b

	/*
	 * For the interrupt tests (smp.c): takes one interrupt, records its
	 * scause in guest_irq_cause, masks every interrupt in sie so that it
	 * does not come again, and returns to where it struck.
	 */
	.balign 4
	.globl guest_irq_vector
guest_irq_vector:
	addi	sp, sp, -16
	sd	t0, 0(sp)
	sd	t1, 8(sp)
	csrr	t0, scause
	la	t1, guest_irq_cause
	sd	t0, 0(t1)
	csrw	sie, zero
	ld	t0, 0(sp)
	ld	t1, 8(sp)
	addi	sp, sp, 16
	sret

	/*
	 * For the exception tests (main.c): records the scause and stval of
	 * one exception in guest_exc[0] and [1], and returns past the 4-byte
	 * instruction that took it.
	 */
	.balign 4
	.globl guest_exc_vector
guest_exc_vector:
	addi	sp, sp, -16
	sd	t0, 0(sp)
	sd	t1, 8(sp)
	la	t1, guest_exc
	csrr	t0, scause
	sd	t0, 0(t1)
	csrr	t0, stval
	sd	t0, 8(t1)
	csrr	t0, sepc
	addi	t0, t0, 4
	csrw	sepc, t0
	ld	t0, 0(sp)
	ld	t1, 8(sp)
	addi	sp, sp, 16
	sret

	/* Any other trap is fatal: the guest prints and powers off. */
	.balign 4
guest_trap_entry:
	la	sp, trap_stack_top
	call	guest_trap

	.section .bss
	.balign 16
	.space	16384
boot_stack_top:
	.space	4096
trap_stack_top:
