/* guest.h: what the test guest's two files share. */
#ifndef GUEST_H
#define GUEST_H

#include <stdint.h>

#define MAX_HARTS 64

/* What the device tree says. */
struct guest_dt {
	int ncpus;
	uint64_t hartids[MAX_HARTS];
	uint64_t mem_base, mem_size;
	uint32_t timebase; /* Hz */
	const char *isa; /* the first cpu's riscv,isa */
	const char *bootargs;
};
extern struct guest_dt dt;

void guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "guest: check NAME: ok", or FAIL with got, and counts the failure. */
void guest_check(const char *name, int ok, long got);

/* Powers off through SBI SRST, reporting failure if any check failed. */
void guest_poweroff(void) __attribute__((noreturn));

/* HSM, IPI, timer and fence tests (smp.c). */
void guest_smp_tests(uint64_t boot_hartid);

#endif
