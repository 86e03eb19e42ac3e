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
#define VCPU_HOST_RA 272 /* and where vcpu_leave returns to, with s0..s11 */
#define VCPU_HOST_S(n) (280 + 8 * (n))

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

#include "gstage.h"
#include "trace.h"
#include "spinlock.h"

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
	uint64_t host_ra, host_s[12]; /* vcpu_enter's return, for vcpu_leave */
};
_Static_assert(offsetof(struct vcpu_context, guest) == VCPU_GUEST_REG(0), "trap.S");
_Static_assert(offsetof(struct vcpu_context, host_sp) == VCPU_HOST_SP, "trap.S");
_Static_assert(offsetof(struct vcpu_context, host_tp) == VCPU_HOST_TP, "trap.S");
_Static_assert(offsetof(struct vcpu_context, host_ra) == VCPU_HOST_RA, "trap.S");
_Static_assert(offsetof(struct vcpu_context, host_s) == VCPU_HOST_S(0), "trap.S");

/*
 * Why the guest exited (trapped into us), for the table the hypervisor
 * prints when the guest powers off. An SBI call counts under its extension.
 */
enum vcpu_exit_cause {
	EXIT_SBI_BASE,
	EXIT_SBI_LEGACY,
	EXIT_SBI_DBCN,
	EXIT_SBI_SRST,
	EXIT_SBI_TIME,
	EXIT_SBI_IPI,
	EXIT_SBI_RFENCE,
	EXIT_SBI_HSM,
	EXIT_SBI_OTHER, /* an extension we do not offer */
	EXIT_TIMER, /* our timer, standing in for the guest's (no Sstc) */
	EXIT_KICK, /* another hart (or this one) left a request */
	EXIT_GUEST_PAGE_FAULT,
	EXIT_VIRTUAL_INST,
	EXIT_OTHER,
	EXIT_CAUSES
};

/*
 * A vCPU's run state (the seed's PoweredOff, Runnable, Running, plus
 * Suspended and Stopping). A vCPU is created PoweredOff: it has no entry
 * point until the guest gives it one with SBI HSM hart_start. To the guest
 * these are the HSM states STOPPED, START_PENDING, STARTED, SUSPENDED and
 * STOP_PENDING (hart_stop called, its hart not yet out of the guest).
 */
enum vcpu_state {
	VCPU_POWERED_OFF,
	VCPU_RUNNABLE,
	VCPU_RUNNING,
	VCPU_SUSPENDED,
	VCPU_STOPPING,
};

struct vm;

/*
 * A virtual hart. Each group of fields says who may touch it, as xv6's
 * struct proc does; "the owner" is the physical hart that runs the vCPU
 * (hartid).
 */
struct vcpu {
	/*
	 * First: sscratch points here in the guest. Follows the rule of the
	 * last group (the owner's, or the starter's under lock).
	 */
	struct vcpu_context ctx;

	/* Set by vcpu_init before vm_add_vcpu publishes the vCPU; read-only after. */
	uint64_t id; /* the guest's hart id, given in a0 */
	uint64_t hartid; /* the physical hart that runs it: the owner */
	struct vm *vm; /* the VM it belongs to (vsbi.c reaches the others through it) */
	const struct gstage *gstage; /* the VM's memory: vm->gstage, so vcpu.c needs no vm.h */

	/* lock guards state: every read and every change is made under it. */
	struct spinlock lock;
	enum vcpu_state state;

	/*
	 * Atomics: requests from other harts, carried out by the owner when the
	 * kick that comes with each one interrupts it (vcpu_handle_requests).
	 * Each access names the one it pairs with.
	 */
	uint32_t ipi_pending; /* raise the guest's supervisor software interrupt */
	uint64_t fences_asked; /* fence requests made (amoadd by the askers) */
	uint64_t fences_done; /* the last fences_asked carried out (stored by the owner) */

	/*
	 * The owner's, while the vCPU is not PoweredOff. While it is, the hart
	 * that starts it writes pc and ctx.guest under lock (vcpu_power_on);
	 * the owner takes lock before it runs the vCPU (vcpu_run's change to
	 * Running), and so sees them. Once it runs, its pc, its mode and its
	 * VS-level CSRs live in the owner's CSRs (sepc, sstatus.SPP, vsstatus,
	 * ...), which nothing else uses: one vCPU per hart.
	 */
	uint64_t pc; /* where the guest starts */
	/*
	 * Set by an SBI call that moved the vCPU (a non-retentive suspend):
	 * vsbi_handle then writes no a0/a1 and does not step past the ecall
	 * (OpenSBI's skip_regs_update).
	 */
	int sbi_no_return;
	/*
	 * Exits by cause (enum vcpu_exit_cause), counted by the owner
	 * (vcpu_count_exit), read by the hart that prints them.
	 */
	uint64_t exits[EXIT_CAUSES];
};

/* Creates vCPU id of vm for physical hart hartid, PoweredOff: no entry point yet. */
void vcpu_init(struct vcpu *v, uint64_t id, uint64_t hartid, struct vm *vm,
	       const struct gstage *g);

/*
 * PoweredOff -> Runnable, the HSM start: it will enter the guest at pc with
 * a0 = id, a1 = arg, vsatp = 0 and vsstatus.SIE = 0. Returns the state it
 * found: VCPU_POWERED_OFF if it started the vCPU, else the state that kept
 * it from starting, unchanged. The caller then wakes the vCPU's hart.
 */
enum vcpu_state vcpu_power_on(struct vcpu *v, uint64_t pc, uint64_t arg);

/*
 * from -> to, under v's lock, if v is in state from. Returns the state it
 * found: from if the change was made (as OpenSBI's
 * __sbi_hsm_hart_change_state compares and swaps).
 */
enum vcpu_state vcpu_change_state(struct vcpu *v, enum vcpu_state from, enum vcpu_state to);

/*
 * from -> to on the vCPU's own hart, which alone moves it out of every state
 * but PoweredOff: finding another state is a hypervisor bug, and panics.
 */
void vcpu_own_change(struct vcpu *v, enum vcpu_state from, enum vcpu_state to);

/* Asks v's hart to raise the guest's software interrupt on v. */
void vcpu_request_ipi(struct vcpu *v);

/*
 * Asks v's hart for fence.i and hfence.vvma (the guest's sfence.vma), and
 * returns the ticket to wait for with vcpu_fence_wait().
 */
uint64_t vcpu_request_fence(struct vcpu *v);

/* Waits until v's hart has done fence ticket, serving self's requests meanwhile. */
void vcpu_fence_wait(struct vcpu *v, uint64_t ticket, struct vcpu *self);

/* Carries out the requests left for v; called on v's own hart. */
void vcpu_handle_requests(struct vcpu *v);

/* Sleeps (suspend) until the guest on v has an enabled interrupt pending. */
void vcpu_wait_interrupt(struct vcpu *v);

/* Its state, read under its lock. */
enum vcpu_state vcpu_get_state(struct vcpu *v);

/*
 * Decides, on the boot hart before any vCPU runs, how guests get their
 * timer, and returns 1 for Sstc: the guest writes its stimecmp (the hart's
 * vstimecmp) and no timer exit is taken. That takes the harts' Sstc (the
 * firmware's device tree lists it: platform_sstc) and a firmware that lets
 * us use it (menvcfg.STCE, which makes henvcfg.STCE writable). Else 0: the
 * guest calls SBI set_timer and our own timer stands in for its.
 */
int vcpu_timer_init(int platform_sstc);

/* Sets the guest's timer deadline (SBI set_timer), taking back a pending one. */
void vcpu_set_timer(uint64_t stime_value);

/* Runs a Runnable vCPU on this hart until the guest stops it (hart_stop). */
void vcpu_run(struct vcpu *v);

/* The cause's name, as the exit table prints it ("sbi base"). */
static inline const char *vcpu_exit_name(enum vcpu_exit_cause cause)
{
	static const char *const names[EXIT_CAUSES] = {
		[EXIT_SBI_BASE] = "sbi base",
		[EXIT_SBI_LEGACY] = "sbi legacy",
		[EXIT_SBI_DBCN] = "sbi dbcn",
		[EXIT_SBI_SRST] = "sbi srst",
		[EXIT_SBI_TIME] = "sbi time",
		[EXIT_SBI_IPI] = "sbi ipi",
		[EXIT_SBI_RFENCE] = "sbi rfence",
		[EXIT_SBI_HSM] = "sbi hsm",
		[EXIT_SBI_OTHER] = "sbi other",
		[EXIT_TIMER] = "timer interrupt",
		[EXIT_KICK] = "IPI (kick)",
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
	trace(TRACE_EXIT, vcpu_exit_name(cause), v->id);
}

/* Prints the exits of n vCPUs as a table: a column per vCPU, a row per cause seen. */
void vcpu_print_exits(struct vcpu *const *vcpus, int n);

/* Enters the guest at the start of a run (trap.S); every exit goes to vcpu_exit. */
void vcpu_enter(struct vcpu_context *ctx);

/*
 * Called by trap.S on every exit (v is the ctx: its first member), the
 * guest's registers saved in v->ctx (all but s0..s11 and gp, which C leaves
 * as it found them). When it returns, the guest resumes at sepc.
 */
void vcpu_exit(struct vcpu *v);

/* Leaves the guest for good: returns from vcpu_enter() (trap.S). */
void vcpu_leave(struct vcpu_context *ctx) __attribute__((noreturn));

#endif
#endif
