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

struct vcpu {
	struct vcpu_context ctx; /* first: sscratch points here in the guest */
	uint64_t id; /* the guest's hart id, given in a0 */
	const struct gstage *gstage; /* the guest's memory */
	uint64_t pc; /* where the guest resumes */
	uint64_t guest_spp; /* sstatus.SPP: 1 = the guest was in VS, 0 = VU */

	/* Why the guest last stopped (read from the CSRs at exit). */
	uint64_t scause, stval, htval, htinst;

	/* Its VS-level CSRs, loaded into the hart before the first entry. */
	uint64_t vsstatus, vsie, vstvec, vsscratch, vsepc, vscause, vstval, vsatp;
};

/* Resets the vCPU to enter the guest at pc with a0 = id, a1 = arg. */
void vcpu_init(struct vcpu *v, uint64_t id, const struct gstage *g, uint64_t pc,
	       uint64_t arg);

/* Runs the guest on this hart; returns only through a shutdown. */
void vcpu_run(struct vcpu *v) __attribute__((noreturn));

/* Enters the guest; returns when it traps (trap.S). */
void vcpu_enter(struct vcpu_context *ctx);

#endif
#endif
