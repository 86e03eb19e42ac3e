/*
 * stop-all.S: a guest that stops its only running hart. It says so through
 * the legacy console, then calls SBI HSM hart_stop (EID 0x48534D, FID 1).
 * With every other hart never started, no hart is left that could start
 * one again: the hypervisor must end the machine rather than idle.
 */
	.section .text.entry
	.globl _start
_start:
	la	t2, msg
1:	lbu	a0, 0(t2)
	beqz	a0, 2f
	li	a7, 0x01		/* legacy console putchar */
	ecall
	addi	t2, t2, 1
	j	1b
2:	li	a7, 0x48534D		/* HSM */
	li	a6, 1			/* hart_stop: does not return */
	ecall
3:	wfi
	j	3b

	.section .rodata
msg:	.string "stop-all: hart_stop on the only running hart\n"
