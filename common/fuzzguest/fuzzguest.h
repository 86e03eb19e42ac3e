/* fuzzguest.h: the misbehaving guest's limits, shared by entry.S and C. */
#ifndef FUZZGUEST_H
#define FUZZGUEST_H

#define FUZZ_MAX_HARTS 16 /* the grader boots at most 8; stacks are static */
#define FUZZ_STACK_SIZE 8192 /* one per secondary hart */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* One hart's trap record (entry.S, fuzz_exc_vector): 32 bytes, by hart id. */
struct fuzz_exc {
	uint64_t cause, tval, epc;
	uint64_t armed; /* 0: any trap is fatal; 1 + the number of traps taken */
};
_Static_assert(sizeof(struct fuzz_exc) == 32, "entry.S indexes fuzz_exc by tp << 5");
#endif

#endif
