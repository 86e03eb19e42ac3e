/*
 * spinlock.c: locks built from RISC-V atomics.
 *
 * What GCC 12 makes of the __atomic builtins of the ticket lock and the
 * barrier (objdump -d build/lab4/hyp.elf shows them; each line of the
 * test-and-set lock names its own instruction):
 *   __atomic_fetch_add(p, 1, RELAXED)    amoadd.w     a4, a5, (a0)
 *   __atomic_load_n(p, ACQUIRE)          lw a5, 0(a3); fence   (fence = fence iorw,iorw)
 *   __atomic_store_n(p, v, RELEASE)      fence iorw,ow; amoswap.w zero, a5, (a4)
 * The ISA manual's recommended mapping (appendix "Mappings from Memory
 * Models") uses lighter fences (fence r,rw; fence rw,w; sw); GCC 12's are
 * stronger, and so also correct.
 * Acquire keeps the critical section's accesses after the lock is taken;
 * release keeps them before it is given back. Each acquire below pairs with
 * the release of the previous holder.
 */
#include "console.h"
#include "hart.h"
#include "riscv.h"
#include "spinlock.h"
#include "trace.h"

static int64_t lock_me(void)
{
	return (int64_t)hart_self()->hartid;
}

void intr_push_off(void)
{
	struct hart *h = hart_self();
	int was_on = (csr_read(sstatus) & SSTATUS_SIE) != 0;

	csr_clear(sstatus, SSTATUS_SIE);
	if (h->intr_depth++ == 0)
		h->intr_was_on = was_on;
}

void intr_pop_off(void)
{
	struct hart *h = hart_self();

	if (csr_read(sstatus) & SSTATUS_SIE)
		panic("intr_pop_off: interrupts are on\n");
	if (h->intr_depth < 1)
		panic("intr_pop_off: not pushed\n");
	if (--h->intr_depth == 0 && h->intr_was_on)
		csr_set(sstatus, SSTATUS_SIE);
}

void spin_lock(struct spinlock *lk)
{
	intr_push_off();
	/* Only the holder writes holder, so reading it without the lock is safe here. */
	if (__atomic_load_n(&lk->holder, __ATOMIC_RELAXED) == lock_me())
		panic("spin_lock: hart %ld already holds %s\n", lock_me(), lk->name);
	trace_lock(TRACE_LOCK_WAIT, lk->name, lk);
	/* BEGIN SOLUTION (lab 4): take the lock: swap in 1 until the old value was 0 */
	/* amoswap.w.aq a5, a5, (a0): pairs with the store-release in spin_unlock(). */
	while (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0)
		;
	/* END SOLUTION (lab 4) */
	trace_lock(TRACE_LOCK_ACQUIRED, lk->name, lk);
	__atomic_store_n(&lk->holder, lock_me(), __ATOMIC_RELAXED);
}

void spin_unlock(struct spinlock *lk)
{
	if (__atomic_load_n(&lk->holder, __ATOMIC_RELAXED) != lock_me())
		panic("spin_unlock: hart %ld does not hold %s\n", lock_me(), lk->name);
	__atomic_store_n(&lk->holder, -1, __ATOMIC_RELAXED);
	/* Before the release: whoever takes it next records its acquired later. */
	trace_lock(TRACE_LOCK_RELEASE, lk->name, lk);
	/* BEGIN SOLUTION (lab 4): release the lock, after every access made under it */
	/* fence iorw,ow; amoswap.w zero, zero, (a0): pairs with the amoswap.w.aq of the next holder. */
	__atomic_store_n(&lk->locked, 0, __ATOMIC_RELEASE);
	/* END SOLUTION (lab 4) */
	intr_pop_off();
}

void ticket_lock(struct ticketlock *lk)
{
	intr_push_off();
	if (__atomic_load_n(&lk->holder, __ATOMIC_RELAXED) == lock_me())
		panic("ticket_lock: hart %ld already holds %s\n", lock_me(), lk->name);
	trace_lock(TRACE_LOCK_WAIT, lk->name, lk);
	/* amoadd.w: my ticket. No ordering needed yet: nothing is protected. */
	uint32_t ticket = __atomic_fetch_add(&lk->next, 1, __ATOMIC_RELAXED);
	/* lw; fence: pairs with the store-release in ticket_unlock(). */
	while (__atomic_load_n(&lk->owner, __ATOMIC_ACQUIRE) != ticket)
		;
	trace_lock(TRACE_LOCK_ACQUIRED, lk->name, lk);
	__atomic_store_n(&lk->holder, lock_me(), __ATOMIC_RELAXED);
}

void ticket_unlock(struct ticketlock *lk)
{
	if (__atomic_load_n(&lk->holder, __ATOMIC_RELAXED) != lock_me())
		panic("ticket_unlock: hart %ld does not hold %s\n", lock_me(), lk->name);
	__atomic_store_n(&lk->holder, -1, __ATOMIC_RELAXED);
	trace_lock(TRACE_LOCK_RELEASE, lk->name, lk);
	/* Only the holder writes owner: a plain read, then a store-release that
	 * the next ticket's load-acquire pairs with. */
	__atomic_store_n(&lk->owner, lk->owner + 1, __ATOMIC_RELEASE);
	intr_pop_off();
}

void barrier_wait(struct barrier *b, uint32_t n)
{
	uint32_t round = __atomic_load_n(&b->round, __ATOMIC_ACQUIRE);
	trace(TRACE_BARRIER_ARRIVE, b, n);
	/* fence iorw,ow; amoadd.w.aq: the last to arrive sees n - 1 and opens the next round. */
	if (__atomic_fetch_add(&b->arrived, 1, __ATOMIC_ACQ_REL) == n - 1) {
		__atomic_store_n(&b->arrived, 0, __ATOMIC_RELAXED);
		/* Pairs with the load-acquire of round by the waiting harts. */
		__atomic_store_n(&b->round, round + 1, __ATOMIC_RELEASE);
		trace(TRACE_BARRIER_LEAVE, b, 0);
		return;
	}
	while (__atomic_load_n(&b->round, __ATOMIC_ACQUIRE) == round)
		;
	trace(TRACE_BARRIER_LEAVE, b, 0);
}
