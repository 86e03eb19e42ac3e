/* machine.c: ending the whole machine. */
#include "console.h"
#include "machine.h"
#include "memlayout.h"
#include "riscv.h"
#include "sbi.h"
#include "trace.h"

/* QEMU's sifive_test device: FAIL | (status << 16) ends QEMU with status. */
#define SIFIVE_TEST_FAIL 0x3333

static void machine_halt(void) __attribute__((noreturn));
static void machine_halt(void)
{
	for (;;)
		wfi();
}

void machine_poweroff(void)
{
	struct sbiret r = sbi_system_reset(SBI_SRST_TYPE_SHUTDOWN, SBI_SRST_REASON_NONE);
	printf("hyp: firmware refused to power off (error %ld)\n", r.error);
	machine_fail();
}

void machine_fail(void)
{
	/*
	 * Any hart may fail, even two at once: amoadd.w, so that exactly one
	 * goes on to the store, and a second caller, or the first after the
	 * store faulted, halts here.
	 */
	static int failing;
	if (__atomic_fetch_add(&failing, 1, __ATOMIC_RELAXED))
		machine_halt(); /* someone is failing the machine already */
	trace_dump(); /* with make labN TRACE=1: what every hart did up to here */
	/*
	 * SBI SRST has no way to say "exit with an error", so write QEMU's test
	 * device directly. On a machine without it this store faults or is
	 * ignored; either way we then halt instead of running on.
	 */
	*(volatile uint32_t *)SIFIVE_TEST_BASE = (1 << 16) | SIFIVE_TEST_FAIL;
	machine_halt();
}
