/*
 * hello.S: a second S-mode payload, written without the test guest's code,
 * to show that GUEST= boots any flat binary with the same contract
 * (entry at 0x80200000, a0 = hart id, a1 = device tree). It prints one line
 * through the legacy console, checks that a1 points at a device tree, and
 * powers off with SBI SRST.
 */
	.section .text.entry
	.globl _start
_start:
	mv	s0, a0			/* hart id */
	mv	s1, a1			/* device tree */
	la	a0, msg
	call	puts
	/* The device tree's first word is 0xd00dfeed, stored big-endian. */
	lwu	t0, 0(s1)
	li	t1, 0xedfe0dd0
	la	a0, dtb_ok
	beq	t0, t1, 1f
	la	a0, dtb_bad
1:	call	puts
	li	a7, 0x53525354		/* SRST */
	li	a6, 0			/* system_reset */
	li	a0, 0			/* shutdown */
	li	a1, 0			/* no reason */
	ecall
2:	wfi
	j	2b

/* puts(a0): legacy console putchar (EID 0x01), one byte at a time. */
puts:
	mv	t2, a0
3:	lbu	a0, 0(t2)
	beqz	a0, 4f
	li	a7, 0x01
	ecall
	addi	t2, t2, 1
	j	3b
4:	ret

	.section .rodata
msg:	.string "hello: a payload that is not the test guest\n"
dtb_ok:	.string "hello: a1 points at a device tree\n"
dtb_bad: .string "hello: a1 does not point at a device tree\n"
