/*
 * torture.c: many harts, one counter. Every hart adds 1 to a shared counter
 * under a lock, over and over for TORTURE_MS, and counts its own additions
 * privately. Afterwards the shared counter must equal the sum of the private
 * counts. Without a working lock, two harts read the same value and both
 * write value + 1: an addition is lost and the counter comes out short. It
 * shows under real parallelism (QEMU runs each hart in its own host thread
 * by default: -accel tcg,thread=multi).
 *
 * A fixed time, not a fixed count: with more harts than host cores, a lock
 * holder's host thread may be descheduled while others spin, and a fixed
 * count could take minutes. The private counts also show fairness: a ticket
 * lock serves harts in turn, test-and-set lets the lucky ones win.
 */
#include "console.h"
#include "hart.h"
#include "param.h"
#include "riscv.h"
#include "spinlock.h"
#include "torture.h"

static struct spinlock spin = SPINLOCK_INIT("torture spinlock");
static struct ticketlock ticket = TICKETLOCK_INIT("torture ticket lock");
static struct barrier barrier;
static uint64_t counter; /* the shared one */
static uint64_t counts[HYP_MAX_HARTS]; /* each hart's own additions */

/* Read, pause, write: a wide window for a lost update if the lock fails. */
static void counter_bump(void)
{
	uint64_t v = *(volatile uint64_t *)&counter;
	for (volatile int i = 0; i < 4; i++)
		;
	*(volatile uint64_t *)&counter = v + 1;
}

static void torture_one(int index, int nharts, int use_ticket, const char *name)
{
	if (index == 0)
		counter = 0;
	/* The barrier publishes the reset counter (it releases and acquires). */
	barrier_wait(&barrier, (uint32_t)nharts);

	/* Each hart's own TORTURE_MS from when it leaves the barrier. */
	uint64_t deadline = csr_read(time) + TORTURE_MS * hart_ticks_per_ms();
	uint64_t mine = 0;
	while (csr_read(time) < deadline) {
		if (use_ticket)
			ticket_lock(&ticket);
		else
			spin_lock(&spin);
		counter_bump();
		if (use_ticket)
			ticket_unlock(&ticket);
		else
			spin_unlock(&spin);
		mine++;
	}
	counts[index] = mine;
	/* All harts print at once: the console lock keeps each line whole. */
	printf("hyp: hart %lu: %lu additions under the %s\n", hart_self()->hartid, mine, name);
	/* Every hart's last addition and count happen before the check. */
	barrier_wait(&barrier, (uint32_t)nharts);
	if (index != 0)
		return;

	uint64_t sum = 0, fewest = UINT64_MAX, most = 0;
	for (int i = 0; i < nharts; i++) {
		sum += counts[i];
		fewest = counts[i] < fewest ? counts[i] : fewest;
		most = counts[i] > most ? counts[i] : most;
	}
	printf("hyp: lock torture, %s: %d harts for %d ms: counter %lu, sum of the harts' "
	       "counts %lu (fewest %lu, most %lu)\n",
	       name, nharts, TORTURE_MS, counter, sum, fewest, most);
	if (counter != sum)
		panic("lock torture: %s let two harts in at once\n", name);
}

void torture_run(int index, int nharts)
{
	torture_one(index, nharts, 0, "test-and-set lock");
	torture_one(index, nharts, 1, "ticket lock");
}
