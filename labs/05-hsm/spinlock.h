/*
 * spinlock.h: two mutual-exclusion locks and a barrier, for harts that
 * share memory. Reference: RISC-V Unprivileged ISA, "A" extension (AMOs
 * with .aq/.rl bits) and "RVWMO Memory Consistency Model".
 *
 * While a hart holds either lock its interrupts are off (sstatus.SIE = 0),
 * so no trap handler on the same hart can try to take the lock again.
 */
#ifndef SPINLOCK_H
#define SPINLOCK_H

#include <stdint.h>

/* Test-and-set: one word, 0 = free, 1 = held. Simple, but not fair. */
struct spinlock {
	uint32_t locked;
	const char *name; /* for messages */
	int64_t holder; /* hart id of the holder, -1 when free */
};

/* Ticket lock: take a number, wait until it is served. First come, first served. */
struct ticketlock {
	uint32_t next; /* the next ticket to hand out */
	uint32_t owner; /* the ticket being served */
	const char *name;
	int64_t holder;
};

/* clang-format off */
#define SPINLOCK_INIT(n) { 0, (n), -1 }
#define TICKETLOCK_INIT(n) { 0, 0, (n), -1 }
/* clang-format on */

void spin_lock(struct spinlock *lk);
void spin_unlock(struct spinlock *lk);
void ticket_lock(struct ticketlock *lk);
void ticket_unlock(struct ticketlock *lk);

/* Interrupts off, nestable (xv6's push_off/pop_off), counted per hart. */
void intr_push_off(void);
void intr_pop_off(void);

/*
 * A barrier for n harts: each hart calls barrier_wait(b, n) and none
 * returns until all n have called it. Reusable: it counts rounds.
 */
struct barrier {
	uint32_t arrived;
	uint32_t round;
};
void barrier_wait(struct barrier *b, uint32_t n);

#endif
