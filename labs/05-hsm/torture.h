/* torture.h: a lock torture test that every online hart runs at boot. */
#ifndef TORTURE_H
#define TORTURE_H

/*
 * Every online hart calls it (index 0 is the boot hart): each adds 1 to a
 * shared counter under a lock for TORTURE_MS, first with the test-and-set
 * lock, then with the ticket lock; the boot hart checks the totals.
 */
void torture_run(int index, int nharts);

#endif
