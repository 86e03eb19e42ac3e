/*
 * vcpu.h: a virtual hart. Its registers live here while the guest is out;
 * trap.S moves them in and out of the real registers.
 */
#ifndef VCPU_H
#define VCPU_H

/* Offsets for trap.S; checked against the C struct below. */
#define VCPU_GUEST_REG(n) (8 * (n)) /* guest x0..x31 */
#define VCPU_HOST_SP 256 /* the hypervisor's sp and tp, for its exits */
#define VCPU_HOST_TP 264

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

#include "gstage.h"

/* Guest register numbers, for readable C. */
enum {
	REG_RA = 1,
	REG_SP = 2,
	REG_A0 = 10,
	REG_A1,
	REG_A2,
	REG_A3,
	REG_A4,
	REG_A5,
	REG_A6,
	REG_A7,
};

struct vcpu_context {
	/*
	 * x0..x31 of the guest; x0 is never loaded. While the guest is out,
	 * s0..s11 and gp are not here but still in the hart (trap.S).
	 */
	uint64_t guest[32];
	uint64_t host_sp, host_tp; /* what vcpu_enter ran on: every exit runs C on it */
};
_Static_assert(offsetof(struct vcpu_context, guest) == VCPU_GUEST_REG(0), "trap.S");
_Static_assert(offsetof(struct vcpu_context, host_sp) == VCPU_HOST_SP, "trap.S");
_Static_assert(offsetof(struct vcpu_context, host_tp) == VCPU_HOST_TP, "trap.S");

/*
 * Why the guest exited (trapped into us), for the table the hypervisor
 * prints when the guest powers off. An SBI call counts under its extension.
 */
enum vcpu_exit_cause {
	EXIT_SBI_BASE,
	EXIT_SBI_LEGACY,
	EXIT_SBI_DBCN,
	EXIT_SBI_SRST,
	EXIT_SBI_OTHER, /* an extension we do not offer */
	EXIT_GUEST_PAGE_FAULT,
	EXIT_VIRTUAL_INST,
	EXIT_OTHER,
	EXIT_CAUSES
};

struct vcpu {
	struct vcpu_context ctx; /* first: sscratch points here in the guest */
	uint64_t id; /* the guest's hart id, given in a0 */
	const struct gstage *gstage; /* the guest's memory */
	/*
	 * Where the guest starts. Once it runs, its pc, its mode and its
	 * VS-level CSRs live in the hart's CSRs (sepc, sstatus.SPP, vsstatus,
	 * ...), which nothing else uses: one vCPU per hart.
	 */
	uint64_t pc;
	/*
	 * Exits by cause (enum vcpu_exit_cause), counted on the vCPU's own hart
	 * (vcpu_count_exit), read by the hart that prints them.
	 */
	uint64_t exits[EXIT_CAUSES];
};

/* Resets the vCPU to enter the guest at pc with a0 = id, a1 = arg. */
void vcpu_init(struct vcpu *v, uint64_t id, const struct gstage *g, uint64_t pc,
	       uint64_t arg);

/* Runs the guest on this hart; returns only through a shutdown. */
void vcpu_run(struct vcpu *v) __attribute__((noreturn));

/* The cause's name, as the exit table prints it ("sbi base"). */
static inline const char *vcpu_exit_name(enum vcpu_exit_cause cause)
{
	static const char *const names[EXIT_CAUSES] = {
		[EXIT_SBI_BASE] = "sbi base",
		[EXIT_SBI_LEGACY] = "sbi legacy",
		[EXIT_SBI_DBCN] = "sbi dbcn",
		[EXIT_SBI_SRST] = "sbi srst",
		[EXIT_SBI_OTHER] = "sbi other",
		[EXIT_GUEST_PAGE_FAULT] = "guest page fault",
		[EXIT_VIRTUAL_INST] = "virtual instruction",
		[EXIT_OTHER] = "other",
	};
	return names[cause];
}

/*
 * One more exit of this cause, on v's own hart: no lock, no atomic
 * read-modify-write, just ld, addi, sd. The store is volatile (Linux's
 * WRITE_ONCE) because another hart may read the count: an aligned 64-bit
 * sd is single-copy atomic (RVWMO), so that reader sees the old count or
 * the new one. It pairs with the volatile load in vcpu_print_exits(). (GCC
 * 12 would make __atomic_store_n an amoswap.)
 */
static inline void vcpu_count_exit(struct vcpu *v, enum vcpu_exit_cause cause)
{
	*(volatile uint64_t *)&v->exits[cause] = v->exits[cause] + 1;
}

/* Prints the exits of n vCPUs as a table: a column per vCPU, a row per cause seen. */
void vcpu_print_exits(struct vcpu *const *vcpus, int n);

/* Enters the guest for the first time (trap.S); every exit goes to vcpu_exit. */
void vcpu_enter(struct vcpu_context *ctx) __attribute__((noreturn));

/*
 * Called by trap.S on every exit (v is the ctx: its first member), the
 * guest's registers saved in v->ctx (all but s0..s11 and gp, which C leaves
 * as it found them). When it returns, the guest resumes at sepc.
 */
void vcpu_exit(struct vcpu *v);

#endif
#endif
