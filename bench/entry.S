/*
 * entry.S: the bench guest's first instructions. Like the test guest it is
 * entered in S-mode (VS-mode under the hypervisor) with a0 = hart id and
 * a1 = the device tree, and it is started on a second hart with SBI HSM
 * hart_start at bench_secondary_entry.
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
	/* 3. No trap is expected: report any and power off. */
2:	la	t0, bench_trap_entry
	csrw	stvec, t0
	call	bench_main
3:	wfi
	j	3b

	/*
	 * hart_start's target. The latency being measured ends at its first
	 * instruction, so that instruction reads the counter; a1 is the opaque
	 * value, the starter's instret just before its ecall.
	 */
	.globl bench_secondary_entry
bench_secondary_entry:
	csrr	a2, instret
	csrr	a3, time
	la	sp, secondary_stack_top
	la	t0, bench_trap_entry
	csrw	stvec, t0
	call	bench_secondary	/* (hartid, opaque, instret, time): never returns */
4:	wfi
	j	4b

	.balign 4
bench_trap_entry:
	la	sp, trap_stack_top
	call	bench_trap

	.section .bss
	.balign 16
	.space	8192
boot_stack_top:
	.space	4096
secondary_stack_top:
	.space	4096
trap_stack_top:
