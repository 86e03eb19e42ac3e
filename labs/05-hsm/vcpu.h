/*
 * vcpu.h: a virtual hart. Its registers live here while the guest is out;
 * trap.S moves them in and out of the real registers.
 */
#ifndef VCPU_H
#define VCPU_H

/* Offsets for trap.S; checked against the C struct below. */
#define VCPU_GUEST_REG(n) (8 * (n)) /* guest x0..x31 */
#define VCPU_HOST_REG(n) (256 + 8 * (n)) /* hypervisor ra, sp, gp, tp, s0..s11 */

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

#include "gstage.h"
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
	uint64_t guest[32]; /* x0..x31 of the guest; x0 is never loaded */
	uint64_t host[16]; /* the hypervisor's ra, sp, gp, tp, s0..s11 */
};
_Static_assert(offsetof(struct vcpu_context, guest) == VCPU_GUEST_REG(0), "trap.S");
_Static_assert(offsetof(struct vcpu_context, host) == VCPU_HOST_REG(0), "trap.S");

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
	 * Atomics: requests from other harts, carried out by the owner the
	 * next time it traps or wakes (vcpu_handle_requests). Each access
	 * names the one it pairs with.
	 */
	uint32_t ipi_pending; /* raise the guest's supervisor software interrupt */
	uint64_t fences_asked; /* fence requests made (amoadd by the askers) */
	uint64_t fences_done; /* the last fences_asked carried out (stored by the owner) */

	/*
	 * The owner's, while the vCPU is not PoweredOff. While it is, the hart
	 * that starts it writes ctx.guest, pc, guest_spp and the VS CSRs under
	 * lock (vcpu_power_on); the owner takes lock before it runs the vCPU
	 * (vcpu_run's change to Running), and so sees them.
	 */
	uint64_t pc; /* where the guest resumes */
	uint64_t guest_spp; /* sstatus.SPP: 1 = the guest was in VS, 0 = VU */
	/*
	 * Set by an SBI call that moved or stopped the vCPU (hart_stop, a
	 * non-retentive suspend): vsbi_handle then writes no a0/a1 and does
	 * not step past the ecall (OpenSBI's skip_regs_update).
	 */
	int sbi_no_return;
	/* Why the guest last stopped (read from the CSRs at exit). */
	uint64_t scause, stval, htval, htinst;
	/* Its VS-level CSRs, loaded into the hart before the first entry. */
	uint64_t vsstatus, vsie, vstvec, vsscratch, vsepc, vscause, vstval, vsatp;
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

/* Runs a Runnable vCPU on this hart until the guest stops it (hart_stop). */
void vcpu_run(struct vcpu *v);

/* Enters the guest; returns when it traps (trap.S). */
void vcpu_enter(struct vcpu_context *ctx);

#endif
#endif
