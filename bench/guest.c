/*
 * The bench guest: an S-mode payload that times its SBI implementation
 * (the lab 05 hypervisor, or OpenSBI alone) and prints what it measured as
 * machine-readable lines, "bench: NAME key=value ...", for bench/bench.py.
 *
 * Two figures, each measured many times (min and median are printed):
 *  - sbi-roundtrip: one Base get_spec_version call, bracketed by two reads
 *    of instret with nothing between them but the ecall;
 *  - hart-start: from the starter's read of instret (and time) right
 *    before its hart_start ecall to the target's first instruction, which
 *    reads them again. The starter sleeps in wfi as soon as the call
 *    returns, so that a QEMU that runs one hart at a time (-icount) can
 *    run the target.
 * Counts of instructions mean something only under QEMU's -icount shift=0,
 * where instret counts the instructions of the whole machine, one per
 * nanosecond of virtual time; time ticks mean something in any run.
 */
#include <stdarg.h>

#include "lib.h"
#include "riscv.h"
#include "sbi.h"

#define ROUNDTRIP_CALLS 1001 /* odd, so the median is one of the values */
#define START_TRIALS 21
#define TIMEBASE_HZ 10000000 /* QEMU virt's time CSR */

void bench_secondary_entry(void); /* entry.S: the hart_start target */

static int print_lock;
static int failures;
static uint64_t boot_hartid;
static uint64_t roundtrips[ROUNDTRIP_CALLS];

/* What the started hart found, for the starter (published by `arrived`). */
static uint64_t start_time; /* time just before the starter's ecall */
static uint64_t target_instret; /* instret(target's 1st instruction) - opaque */
static uint64_t target_ticks; /* time(target's 2nd instruction) - start_time */
static int arrived;

static void bench_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints one whole line at a time, even when both harts print. */
static void bench_printf(const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* amoswap.w.aq; pairs with the store-release below. */
	while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE) != 0)
		;
	for (const char *p = buf; *p != '\0'; p++)
		sbi_console_putchar(*p);
	__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

static void bench_poweroff(void) __attribute__((noreturn));

static void bench_poweroff(void)
{
	sbi_system_reset(SBI_SRST_TYPE_SHUTDOWN,
			 failures ? SBI_SRST_REASON_FAILURE : SBI_SRST_REASON_NONE);
	for (;;)
		wfi();
}

void bench_trap(void)
{
	bench_printf("bench: error unexpected trap scause=0x%lx sepc=0x%lx stval=0x%lx\n",
		     csr_read(scause), csr_read(sepc), csr_read(stval));
	failures++;
	bench_poweroff();
}

/*
 * Sorts v[0..n) in place and returns the median. Shell sort: without
 * -icount the values are noise, and insertion sort's n * n / 4 moves of
 * them would swamp an instruction trace.
 */
static uint64_t bench_median(uint64_t *v, int n)
{
	for (int gap = n / 2; gap > 0; gap /= 2) {
		for (int i = gap; i < n; i++) {
			uint64_t x = v[i];
			int j = i;
			for (; j >= gap && v[j - gap] > x; j -= gap)
				v[j] = v[j - gap];
			v[j] = x;
		}
	}
	return v[n / 2];
}

/*
 * Sleeps for about ms milliseconds of the machine's time, in wfi, so that
 * under -icount the other harts run meanwhile. The timer interrupt wakes
 * the wfi but is never taken: sstatus.SIE stays 0.
 */
static void bench_sleep_ms(uint64_t ms)
{
	uint64_t deadline = csr_read(time) + ms * (TIMEBASE_HZ / 1000);
	sbi_set_timer(deadline);
	csr_set(sie, 1UL << IRQ_S_TIMER);
	while (csr_read(time) < deadline)
		wfi();
	sbi_set_timer(UINT64_MAX); /* takes the pending timer interrupt back */
	csr_clear(sie, 1UL << IRQ_S_TIMER);
}

/* What two back-to-back reads of instret differ by: the bracket's own cost. */
static uint64_t bench_empty_bracket(void)
{
	uint64_t before, after;
	asm volatile("csrr %0, instret\n\tcsrr %1, instret"
		     : "=&r"(before), "=r"(after));
	return after - before;
}

/* instret across one Base get_spec_version ecall; *version gets its value. */
static uint64_t bench_one_call(long *version)
{
	register uint64_t a0 asm("a0") = 0;
	register uint64_t a1 asm("a1") = 0;
	register uint64_t a6 asm("a6") = SBI_BASE_GET_SPEC_VERSION;
	register uint64_t a7 asm("a7") = SBI_EXT_BASE;
	uint64_t before, after;
	/* The SBI preserves every register but a0 and a1. */
	asm volatile("csrr %[before], instret\n\t"
		     "ecall\n\t"
		     "csrr %[after], instret"
		     : [before] "=&r"(before), [after] "=r"(after), "+r"(a0), "+r"(a1)
		     : "r"(a6), "r"(a7)
		     : "memory");
	*version = (long)a1;
	return after - before;
}

static void bench_roundtrip(uint64_t bracket)
{
	long version = 0;
	for (int i = 0; i < ROUNDTRIP_CALLS; i++)
		roundtrips[i] = bench_one_call(&version) - bracket;
	uint64_t median = bench_median(roundtrips, ROUNDTRIP_CALLS);
	bench_printf("bench: sbi-roundtrip min=%lu median=%lu max=%lu n=%d spec=0x%lx\n",
		     roundtrips[0], median, roundtrips[ROUNDTRIP_CALLS - 1], ROUNDTRIP_CALLS,
		     version);
}

/*
 * The target: records how long its start took and goes back to STOPPED.
 * opaque is the starter's instret right before its ecall; instret and now
 * were read by the first two instructions at bench_secondary_entry.
 */
void bench_secondary(uint64_t hartid, uint64_t opaque, uint64_t instret, uint64_t now)
{
	(void)hartid;
	target_instret = instret - opaque;
	target_ticks = now - __atomic_load_n(&start_time, __ATOMIC_ACQUIRE);
	/* Pairs with the starter's load-acquire of `arrived`. */
	__atomic_store_n(&arrived, 1, __ATOMIC_RELEASE);
	sbi_send_ipi(1, boot_hartid);
	sbi_ecall(SBI_EXT_HSM, SBI_HSM_HART_STOP, 0, 0, 0, 0, 0, 0);
	bench_printf("bench: error hart_stop returned\n");
	for (;;)
		wfi();
}

/*
 * One hart_start of `target`, and the starter's wfi right after it. Returns
 * the SBI error; *caller gets the instret the call cost the starter (read
 * to read, as bench_one_call measures it).
 */
static long bench_start_one(uint64_t target, uint64_t *caller)
{
	register uint64_t a0 asm("a0") = target;
	register uint64_t a1 asm("a1") = (uint64_t)bench_secondary_entry;
	register uint64_t a2 asm("a2");
	register uint64_t a6 asm("a6") = SBI_HSM_HART_START;
	register uint64_t a7 asm("a7") = SBI_EXT_HSM;
	uint64_t after;

	/* Pairs with the target's load-acquire: it subtracts this. */
	__atomic_store_n(&start_time, csr_read(time), __ATOMIC_RELEASE);
	/* opaque (a2) = instret, read right before the ecall. */
	asm volatile("csrr a2, instret\n\t"
		     "ecall\n\t"
		     "csrr %[after], instret\n\t"
		     "wfi"
		     : [after] "=r"(after), "+r"(a0), "+r"(a1), "=r"(a2)
		     : "r"(a6), "r"(a7)
		     : "memory");
	*caller = after - a2;
	return (long)a0;
}

static void bench_hart_start(uint64_t bracket)
{
	uint64_t target = boot_hartid ^ 1; /* the other hart of an SMP=2 machine */
	uint64_t total[START_TRIALS], caller[START_TRIALS], ticks[START_TRIALS];

	if (sbi_probe_extension(SBI_EXT_HSM).value == 0 || sbi_hart_get_status(target).error != 0) {
		bench_printf("bench: hart-start skipped: no hart %lu to start\n", target);
		return;
	}
	/* The target's IPI must end the starter's wfi (sstatus.SIE stays 0). */
	csr_set(sie, 1UL << IRQ_S_SOFT);
	for (int i = 0; i < START_TRIALS; i++) {
		/* Until the last trial's target has stopped, and sleeps in its SBI. */
		while (sbi_hart_get_status(target).value != SBI_HSM_STATE_STOPPED)
			bench_sleep_ms(1);
		__atomic_store_n(&arrived, 0, __ATOMIC_RELAXED);
		long err = bench_start_one(target, &caller[i]);
		if (err != 0) {
			bench_printf("bench: error hart_start(%lu) returned %ld\n", target, err);
			failures++;
			return;
		}
		while (!__atomic_load_n(&arrived, __ATOMIC_ACQUIRE))
			wfi();
		csr_clear(sip, 1UL << IRQ_S_SOFT);
		total[i] = target_instret - bracket;
		caller[i] -= bracket;
		ticks[i] = target_ticks;
	}
	uint64_t m;
	m = bench_median(total, START_TRIALS);
	bench_printf("bench: hart-start-instret min=%lu median=%lu max=%lu n=%d target=%lu\n",
		     total[0], m, total[START_TRIALS - 1], START_TRIALS, target);
	m = bench_median(caller, START_TRIALS);
	bench_printf("bench: hart-start-caller-instret min=%lu median=%lu max=%lu n=%d\n",
		     caller[0], m, caller[START_TRIALS - 1], START_TRIALS);
	m = bench_median(ticks, START_TRIALS);
	bench_printf("bench: hart-start-ticks min=%lu median=%lu max=%lu n=%d\n", ticks[0], m,
		     ticks[START_TRIALS - 1], START_TRIALS);
}

void bench_main(uint64_t hartid, uint64_t fdt)
{
	(void)fdt;
	boot_hartid = hartid;
	bench_printf("bench: hello from hart %lu\n", hartid);
	/*
	 * 100 ms for the other harts to finish their firmware's start-up (under
	 * -icount QEMU runs them only while this one sleeps), and for bench.py
	 * to switch on QEMU's instruction trace when it wants one. Not longer:
	 * natively, under -icount, a stopped hart spins through OpenSBI's wfi
	 * loop meanwhile, one instruction per nanosecond.
	 */
	bench_sleep_ms(100);
	uint64_t bracket = bench_empty_bracket();
	bench_printf("bench: bracket instret=%lu\n", bracket);
	bench_roundtrip(bracket);
	bench_hart_start(bracket);
	bench_printf("bench: done failures=%d\n", failures);
	bench_poweroff();
}
