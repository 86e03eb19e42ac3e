/*
 * hart.h: each physical hart's own state. A hart finds its struct hart
 * through tp, which it sets once and nobody else touches (the guest's tp is
 * swapped out by trap.S).
 */
#ifndef HART_H
#define HART_H

/* For entry.S: where struct hart keeps the top of the hart's stack, its hart id, and its size. */
#define HART_STACK_TOP 0
#define HART_HARTID 8
#define HART_SIZE 56

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

#include "platform.h"

/* Each group of fields says who may touch it, as xv6's struct proc does. */
struct hart {
	/*
	 * Set by the boot hart before it starts the hart (index again before
	 * it releases the secondaries); read-only for the hart after that.
	 */
	uint64_t stack_top; /* first: entry.S loads sp from it */
	uint64_t hartid;
	int index; /* 0 is the boot hart; from lab 04 on, the vCPU id */

	/*
	 * Written by the hart itself, published with a store-release; other
	 * harts read them with a load-acquire (hart_is_online, hart_wait_for).
	 */
	int online; /* it came online; what it wrote before is visible */
	uint64_t wakeups; /* IPIs it saw in its park loop */

	/* The hart's own; others read entries only after a load-acquire of online. */
	int entries; /* times it came through secondary_entry */
	int intr_depth; /* intr_push_off() nesting */
	int intr_was_on; /* sstatus.SIE before the outermost push */
	struct vcpu *vcpu; /* the vCPU this hart runs */
};
_Static_assert(offsetof(struct hart, stack_top) == HART_STACK_TOP, "entry.S");
_Static_assert(offsetof(struct hart, hartid) == HART_HARTID, "entry.S");
_Static_assert(sizeof(struct hart) == HART_SIZE, "entry.S");

/* Every hart's state; entry.S searches it for a hart that came in at _start. */
extern struct hart harts[HYP_MAX_HARTS];

/* This hart's state (tp). */
static inline struct hart *hart_self(void)
{
	struct hart *h;
	asm("mv %0, tp"
	    : "=r"(h));
	return h;
}

/* On the boot hart, first thing: sets up its struct hart and tp. */
void hart_init_boot(uint64_t hartid);

/*
 * On the boot hart: starts every other usable hart through the firmware's
 * HSM and waits for each to come online. Returns how many harts are online.
 */
int hart_start_secondaries(const struct platform *p);

/* On the boot hart: wakes each parked hart with an IPI, then all at once. */
void hart_ipi_test(void);

/* Sends an IPI to every online secondary. */
void hart_ipi_all(void);

/* Sends an IPI to the boot hart. */
void hart_ipi_boot(void);

/*
 * Sleeps in wfi until done(arg) is true, woken by IPIs (each one counted in
 * wakeups). Whoever makes done() true must send this hart an IPI after.
 */
void hart_park_until(struct hart *h, int (*done)(void *arg), void *arg);

/* On the boot hart: lets the parked secondaries go on to the next step. */
void hart_release_secondaries(void);

/* Timer ticks (the time CSR) per millisecond, from the device tree. */
uint64_t hart_ticks_per_ms(void);

/* How many harts are in use: those online when the secondaries were released. */
int hart_count_online(void);

/*
 * On a started hart, its first steps in C: its own trap vector, one more
 * entry counted, and "online" published for the boot hart.
 */
void hart_online(struct hart *h);

/*
 * On a secondary: parks until the boot hart releases the secondaries. A
 * hart that came online too late to be counted stays parked for good.
 */
void hart_wait_released(struct hart *h);

#endif
#endif
