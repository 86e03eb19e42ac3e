/*
 * The misbehaving guest: an S-mode payload, like the test guest
 * (common/guest), that drives its SBI implementation (a lab's hypervisor, or
 * OpenSBI natively) with seeded random operations and checks every answer
 * against the SBI specification v2.0.
 *
 * The seed comes from the device tree's /chosen bootargs ("seed=N"; without
 * it, fuzz_builtin's, 1 unless grader/fuzz_guest.py wrote another there;
 * "rounds=N" changes the number of rounds). The boot hart runs the
 * rounds: SBI calls with random and boundary arguments, DBCN at the edges of
 * guest RAM, hart_start and hart_get_status of the other harts, and
 * exceptions of its own. Each hart it starts runs a few random calls of its
 * own (IPI, RFENCE, TIME, HSM status, exceptions), all at once with the
 * others, then stops itself; the boot hart starts it again later. Every ecall
 * loads all 31 registers with random values and compares them after: only a0
 * and a1 may change. At the end: one line
 *   fuzzguest: seed S: N operations, K failures
 * and SRST shutdown (reason "system failure" if any check failed). The first
 * failures are printed, one line each, beginning "fuzzguest: FAIL".
 */
#include <stdarg.h>

#include "fuzzguest.h"
#include "lib.h"
#include "riscv.h"
#include "sbi.h"

#define DEFAULT_ROUNDS 2000
#define PRINTED_FAILURES 8 /* the rest are only counted */
#define SECONDARY_OPS 32 /* a started hart runs up to this many operations */
#define SUSPEND_NON_RETENTIVE 0x80000000UL

void fuzz_secondary_entry(void); /* entry.S */
void fuzz_ecall(uint64_t frame[64]); /* entry.S */
extern char image_start[], image_end[];

struct fuzz_exc fuzz_exc[FUZZ_MAX_HARTS]; /* entry.S records traps here */
uint8_t fuzz_stacks[FUZZ_MAX_HARTS][FUZZ_STACK_SIZE] __attribute__((aligned(16)));

/*
 * The seed when the bootargs name none. grader/fuzz_guest.py writes copies
 * of this binary with another seed after the magic (make
 * build/fuzzguest/fuzzguest-seedN.bin), so that a seed needs no new
 * BOOTARGS, which under a lab means a new hypervisor build.
 */
const volatile struct {
	char magic[8];
	uint64_t seed;
} fuzz_builtin __attribute__((aligned(8))) = { "FUZZSEED", 1 };

/* What the device tree says. */
static struct {
	int ncpus;
	uint64_t hartids[FUZZ_MAX_HARTS];
	uint64_t mem_base, mem_size;
	const char *bootargs;
} dt;

/* What the SBI offers, and what this run does; written before any hart starts. */
static struct {
	uint64_t seed, rounds, boot;
	int native; /* OpenSBI, no hypervisor below: see the NATIVE notes */
	int time, ipi, rfence, hsm, dbcn; /* probe_extension said yes */
	uint64_t low_page, high_page; /* filled with '.', for DBCN; 0: none */
} cfg;

static uint64_t ops, failures; /* counted with relaxed atomics by every hart */
static int print_lock;
static int dots_pending; /* DBCN wrote dots: the next line starts anew */

/*
 * The boot hart's view of each other hart, by index in dt.hartids: the
 * generation of its latest successful start (0: never started), and
 * whether it is known STOPPED (only the boot hart starts harts, so a hart
 * seen STOPPED after its last start ended stays so until the next start).
 */
static uint64_t cur_gen[FUZZ_MAX_HARTS];
static int known_stopped[FUZZ_MAX_HARTS];
/*
 * Written by each secondary just before hart_stop, with release; read by the
 * boot hart with acquire after a hart_get_status that said STOPPED or
 * STOP_PENDING, through the hypervisor's (or OpenSBI's) lock on the state.
 */
static uint64_t done_gen[FUZZ_MAX_HARTS];

/* This hart's id: entry.S keeps it in tp. */
static uint64_t self_id(void)
{
	uint64_t id;
	asm("mv %0, tp"
	    : "=r"(id));
	return id;
}

/* ---- output ---- */

static void fuzz_vprintf(const char *fmt, va_list ap)
{
	char buf[256];
	fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	/* amoswap.w.aq; pairs with the store-release below. */
	while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE) != 0)
		;
	if (dots_pending) {
		sbi_console_putchar('\n');
		dots_pending = 0;
	}
	for (const char *p = buf; *p != '\0'; p++)
		sbi_console_putchar(*p);
	__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

static void fuzz_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fuzz_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fuzz_vprintf(fmt, ap);
	va_end(ap);
}

/* Counts a failure; prints the first few: "fuzzguest: FAIL hart H: ...". */
static void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fuzz_fail(const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED) < PRINTED_FAILURES)
		fuzz_printf("fuzzguest: FAIL hart %lu: %s\n", self_id(), buf);
}

static void fuzz_poweroff(void) __attribute__((noreturn));
static void fuzz_poweroff(void)
{
	uint64_t n = __atomic_load_n(&failures, __ATOMIC_RELAXED);
	fuzz_printf("fuzzguest: seed %lu: %lu operations, %lu failures\n", cfg.seed,
		    __atomic_load_n(&ops, __ATOMIC_RELAXED), n);
	sbi_system_reset(SBI_SRST_TYPE_SHUTDOWN, n ? SBI_SRST_REASON_FAILURE : SBI_SRST_REASON_NONE);
	fuzz_printf("fuzzguest: SRST shutdown returned; spinning\n");
	for (;;)
		wfi();
}

/* A trap nobody armed for (entry.S): a bug here or below. */
void fuzz_trap_fatal(void)
{
	__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
	fuzz_printf("fuzzguest: FAIL hart %lu: unexpected trap: scause 0x%lx sepc 0x%lx stval 0x%lx\n",
		    self_id(), csr_read(scause), csr_read(sepc),
		    csr_read(stval));
	fuzz_poweroff();
}

/* ---- randomness: xorshift64* (Marsaglia; Vigna's multiplier) ---- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DUL;
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return n ? rng_next(s) % n : 0;
}

/* A state that is never 0 (xorshift's one fixed point). */
static uint64_t rng_seed(uint64_t a, uint64_t b)
{
	uint64_t s = a * 0x9E3779B97F4A7C15UL ^ (b + 0x632BE59BD9B4E019UL);
	return s ? s : 1;
}

/* ---- the checked ecall ---- */

/*
 * One SBI call with every other register random: returns a0 and a1, and
 * counts a failure for any other register (sp included), sscratch or stvec
 * that is not what it was. SBI v2.0, "Binary Encoding": "All registers
 * except a0 & a1 must be preserved across an SBI call by the callee."
 */
static struct sbiret fuzz_call(uint64_t *rng, uint64_t ext, uint64_t fid, uint64_t a0, uint64_t a1,
			       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	uint64_t f[64];
	for (int i = 0; i < 32; i++)
		f[i] = rng_next(rng);
	f[10] = a0;
	f[11] = a1;
	f[12] = a2;
	f[13] = a3;
	f[14] = a4;
	f[15] = a5;
	f[16] = fid;
	f[17] = ext;
	uint64_t scratch = rng_next(rng), stvec = csr_read(stvec);
	csr_write(sscratch, scratch);
	fuzz_ecall(f);
	__atomic_fetch_add(&ops, 1, __ATOMIC_RELAXED);
	for (int i = 1; i < 32; i++)
		if (i != 10 && i != 11 && f[32 + i] != f[i])
			fuzz_fail("ext 0x%lx fid %lu changed x%d from 0x%lx to 0x%lx", ext, fid, i, f[i],
				  f[32 + i]);
	if (csr_read(sscratch) != scratch)
		fuzz_fail("ext 0x%lx fid %lu changed sscratch", ext, fid);
	if (csr_read(stvec) != stvec)
		fuzz_fail("ext 0x%lx fid %lu changed stvec", ext, fid);
	return (struct sbiret){ (long)f[42], (long)f[43] };
}

/* Counts a failure unless ok: the call, its arguments, and what came back. */
static void expect(int ok, const char *what, uint64_t x, uint64_t y, uint64_t z, struct sbiret r,
		   const char *want)
{
	if (!ok)
		fuzz_fail("%s(0x%lx, 0x%lx, 0x%lx): want %s, got error %ld value 0x%lx", what, x, y, z,
			  want, r.error, (uint64_t)r.value);
}

/* ---- hart ids and lists ---- */

static int hart_index(uint64_t id)
{
	for (int i = 0; i < dt.ncpus; i++)
		if (dt.hartids[i] == id)
			return i;
	return -1;
}

/* A hart id: a real one, one just past them, or anything. */
static uint64_t random_hartid(uint64_t *rng)
{
	switch (rng_below(rng, 4)) {
	case 0:
	case 1:
		return dt.hartids[rng_below(rng, (uint64_t)dt.ncpus)];
	case 2:
		return (uint64_t)dt.ncpus + rng_below(rng, 4);
	default:
		return rng_next(rng);
	}
}

/*
 * SBI v2.0, "Hart list parameter": bit i of hart_mask names hart
 * hart_mask_base + i; hart_mask_base = -1 names every hart. The list is
 * valid if every hart it names exists.
 */
static int hart_list_valid(uint64_t mask, uint64_t base)
{
	if (base == -1UL)
		return 1;
	for (int i = 0; i < 64; i++)
		if ((mask >> i) & 1)
			if (base + i < base || hart_index(base + i) < 0)
				return 0;
	return 1;
}

static void random_hart_list(uint64_t *rng, uint64_t *mask, uint64_t *base)
{
	static const uint64_t bases[] = { 0, 1, 2, 3, 7, 8, 63, 64, -1UL, -2UL };
	uint64_t n = (uint64_t)dt.ncpus;
	switch (rng_below(rng, 4)) {
	case 0:
		*base = bases[rng_below(rng, ARRAY_SIZE(bases))];
		break;
	case 1:
		*base = rng_below(rng, n + 2);
		break;
	case 2:
		*base = -1UL;
		break;
	default:
		*base = rng_next(rng);
	}
	switch (rng_below(rng, 5)) {
	case 0:
		*mask = 0;
		break;
	case 1:
		*mask = 1UL << rng_below(rng, 64);
		break;
	case 2:
		*mask = n >= 64 ? ~0UL : (1UL << n) - 1;
		break;
	case 3:
		*mask = 1;
		break;
	default:
		*mask = rng_next(rng);
	}
}

/*
 * The answer to a valid list is success; to one that names a hart that
 * does not exist, INVALID_PARAM. NATIVE: OpenSBI 1.1 and 1.5.1 check only
 * hart_mask_base and drop the mask's bits past the last hart, so there a
 * list with a valid base gets success either way.
 */
static int hart_list_answer_ok(uint64_t mask, uint64_t base, struct sbiret r)
{
	/*
	 * An empty list with a hart_mask_base that is no hart names no hart:
	 * the labs answer success, OpenSBI INVALID_PARAM; the specification
	 * says nothing of the base alone, so either is right.
	 */
	if (mask == 0 && base != -1UL && hart_index(base) < 0)
		return r.error == SBI_SUCCESS || r.error == SBI_ERR_INVALID_PARAM;
	if (hart_list_valid(mask, base))
		return r.error == SBI_SUCCESS;
	if (cfg.native && hart_index(base) >= 0)
		return r.error == SBI_SUCCESS || r.error == SBI_ERR_INVALID_PARAM;
	return r.error == SBI_ERR_INVALID_PARAM;
}

/* ---- the operations every hart runs ---- */

static void op_base(uint64_t *rng)
{
	uint64_t fid = rng_below(rng, 3) ? rng_below(rng, 10) : rng_next(rng);
	uint64_t arg = rng_next(rng);
	struct sbiret r = fuzz_call(rng, SBI_EXT_BASE, fid, arg, rng_next(rng), 0, 0, 0, 0);
	if (fid <= SBI_BASE_GET_MIMPID)
		expect(r.error == SBI_SUCCESS, "base", fid, arg, 0, r, "success");
	else
		expect(r.error == SBI_ERR_NOT_SUPPORTED, "base", fid, arg, 0, r, "NOT_SUPPORTED");
	if (fid == SBI_BASE_GET_SPEC_VERSION)
		expect(r.value >= (long)SBI_SPEC_VERSION(0, 2), "spec_version", 0, 0, 0, r, ">= 0.2");
}

/* An extension nobody offers: any call of it is NOT_SUPPORTED. */
static void op_unknown_ext(uint64_t *rng)
{
	/*
	 * 32-bit ids past the legacy range (0x00-0x0F: OpenSBI implements all of
	 * the v0.1 calls), and only ones that probe_extension says are absent.
	 */
	uint64_t ext = (uint32_t)rng_next(rng);
	if (ext <= SBI_EXT_LEGACY_LAST)
		ext += 0x0A000000;
	struct sbiret p = fuzz_call(rng, SBI_EXT_BASE, SBI_BASE_PROBE_EXT, ext, 0, 0, 0, 0, 0);
	expect(p.error == SBI_SUCCESS, "probe_extension", ext, 0, 0, p, "success");
	if (p.value != 0)
		return;
	uint64_t fid = rng_below(rng, 8);
	struct sbiret r = fuzz_call(rng, ext, fid, rng_next(rng), rng_next(rng), 0, 0, 0, 0);
	expect(r.error == SBI_ERR_NOT_SUPPORTED, "unknown extension", ext, fid, 0, r,
	       "NOT_SUPPORTED");
}

/* A call of an extension probe_extension said is absent. */
static void expect_absent(uint64_t *rng, uint64_t ext, const char *name)
{
	uint64_t fid = rng_below(rng, 8);
	struct sbiret r = fuzz_call(rng, ext, fid, rng_next(rng), rng_next(rng), 0, 0, 0, 0);
	expect(r.error == SBI_ERR_NOT_SUPPORTED, name, fid, 0, 0, r, "NOT_SUPPORTED (not offered)");
}

static void op_time(uint64_t *rng)
{
	if (!cfg.time) {
		expect_absent(rng, SBI_EXT_TIME, "time");
		return;
	}
	uint64_t now = csr_read(time), when;
	switch (rng_below(rng, 4)) {
	case 0:
		when = UINT64_MAX;
		break;
	case 1:
		when = 0;
		break;
	case 2:
		when = now + rng_below(rng, 100000);
		break;
	default:
		when = rng_next(rng);
	}
	uint64_t fid = rng_below(rng, 8) ? SBI_TIME_SET_TIMER : 1 + rng_below(rng, 100);
	struct sbiret r = fuzz_call(rng, SBI_EXT_TIME, fid, when, 0, 0, 0, 0, 0);
	if (fid == SBI_TIME_SET_TIMER)
		expect(r.error == SBI_SUCCESS, "set_timer", when, 0, 0, r, "success");
	else
		expect(r.error == SBI_ERR_NOT_SUPPORTED, "time", fid, when, 0, r, "NOT_SUPPORTED");
}

static void op_ipi(uint64_t *rng)
{
	if (!cfg.ipi) {
		expect_absent(rng, SBI_EXT_IPI, "ipi");
		return;
	}
	uint64_t mask, base;
	random_hart_list(rng, &mask, &base);
	uint64_t fid = rng_below(rng, 8) ? SBI_IPI_SEND : 1 + rng_below(rng, 100);
	struct sbiret r = fuzz_call(rng, SBI_EXT_IPI, fid, mask, base, 0, 0, 0, 0);
	if (fid == SBI_IPI_SEND)
		expect(hart_list_answer_ok(mask, base, r), "send_ipi", mask, base, 0, r,
		       hart_list_valid(mask, base) ? "success" : "INVALID_PARAM");
	else
		expect(r.error == SBI_ERR_NOT_SUPPORTED, "ipi", fid, mask, base, r, "NOT_SUPPORTED");
	/* The IPIs to this hart are never taken (sstatus.SIE = 0): drop them. */
	csr_clear(sip, 1UL << IRQ_S_SOFT);
}

static void op_rfence(uint64_t *rng)
{
	if (!cfg.rfence) {
		expect_absent(rng, SBI_EXT_RFENCE, "rfence");
		return;
	}
	uint64_t mask, base, start, size;
	random_hart_list(rng, &mask, &base);
	/*
	 * NATIVE: OpenSBI 1.1 waits forever for a remote fence on a hart that
	 * stops before it takes the request (seed 7 at SMP 2 hung so). Natively
	 * a list that OpenSBI would act on names only the caller.
	 */
	if (cfg.native && (base == -1UL || hart_index(base) >= 0)) {
		mask = 1;
		base = self_id();
	}
	switch (rng_below(rng, 3)) {
	case 0: /* the whole address space, both ways of saying it */
		start = 0;
		size = rng_below(rng, 2) ? 0 : -1UL;
		break;
	case 1: /* some pages of guest RAM */
		start = dt.mem_base + rng_below(rng, dt.mem_size);
		size = rng_below(rng, 1UL << 20);
		break;
	default:
		start = rng_next(rng);
		size = rng_next(rng);
	}
	/*
	 * FIDs 3-6 fence a guest that is itself a hypervisor: the labs' vCPUs
	 * have no H and answer NOT_SUPPORTED. NATIVE: OpenSBI on a hart with H
	 * offers them, so natively only 0-2 and 7 up are tried.
	 */
	uint64_t fid = rng_below(rng, 8);
	if (cfg.native && fid >= 3 && fid <= 6)
		fid = rng_below(rng, 3);
	struct sbiret r = fuzz_call(rng, SBI_EXT_RFENCE, fid, mask, base, start, size,
				    rng_below(rng, 1UL << 16), 0);
	if (fid <= SBI_RFENCE_SFENCE_VMA_ASID)
		expect(hart_list_answer_ok(mask, base, r), "rfence", fid, mask, base, r,
		       hart_list_valid(mask, base) ? "success" : "INVALID_PARAM");
	else
		expect(r.error == SBI_ERR_NOT_SUPPORTED, "rfence", fid, mask, base, r, "NOT_SUPPORTED");
	csr_clear(sip, 1UL << IRQ_S_SOFT);
}

/* The state of another hart, as any hart may see it at any time. */
static int state_possible(long s)
{
	return s == SBI_HSM_STATE_STARTED || s == SBI_HSM_STATE_STOPPED ||
	       s == SBI_HSM_STATE_START_PENDING || s == SBI_HSM_STATE_STOP_PENDING;
}

/* hart_get_status of any id; the boot hart checks more (boot_status). */
static void op_status_any(uint64_t *rng)
{
	uint64_t id = random_hartid(rng);
	struct sbiret r = fuzz_call(rng, SBI_EXT_HSM, SBI_HSM_HART_GET_STATUS, id, 0, 0, 0, 0, 0);
	if (hart_index(id) < 0)
		expect(r.error == SBI_ERR_INVALID_PARAM, "hart_get_status", id, 0, 0, r,
		       "INVALID_PARAM");
	else if (id == self_id())
		expect(r.error == 0 && r.value == SBI_HSM_STATE_STARTED, "hart_get_status(self)", id,
		       0, 0, r, "STARTED");
	else
		expect(r.error == 0 && state_possible(r.value), "hart_get_status", id, 0, 0, r,
		       "a state");
}

/* Calls of HSM that no state makes valid. */
static void op_hsm_errors(uint64_t *rng)
{
	uint64_t self = self_id();
	struct sbiret r;
	switch (rng_below(rng, 4)) {
	case 0: /* the caller itself is running */
		r = fuzz_call(rng, SBI_EXT_HSM, SBI_HSM_HART_START, self,
			      (uint64_t)fuzz_secondary_entry, 0, 0, 0, 0);
		expect(r.error == SBI_ERR_ALREADY_AVAILABLE, "hart_start(self)", self, 0, 0, r,
		       "ALREADY_AVAILABLE");
		break;
	case 1: { /* no such hart */
		uint64_t id = (uint64_t)dt.ncpus + rng_below(rng, 2) * rng_next(rng);
		if (hart_index(id) >= 0)
			break;
		r = fuzz_call(rng, SBI_EXT_HSM, SBI_HSM_HART_START, id,
			      (uint64_t)fuzz_secondary_entry, 0, 0, 0, 0);
		expect(r.error == SBI_ERR_INVALID_PARAM, "hart_start", id, 0, 0, r, "INVALID_PARAM");
		break;
	}
	case 2: { /* a reserved suspend type, with or without junk above bit 31 */
		uint64_t type = rng_below(rng, 2) ? 1 + rng_below(rng, 0x0FFFFFFF)
						  : SUSPEND_NON_RETENTIVE + 1 + rng_below(rng, 0x0FFFFFFF);
		type |= rng_below(rng, 2) ? rng_next(rng) << 32 : 0;
		r = fuzz_call(rng, SBI_EXT_HSM, SBI_HSM_HART_SUSPEND, type,
			      (uint64_t)fuzz_secondary_entry, 0, 0, 0, 0);
		expect(r.error == SBI_ERR_INVALID_PARAM, "hart_suspend", type, 0, 0, r,
		       "INVALID_PARAM");
		break;
	}
	default: { /* a function HSM does not have */
		uint64_t fid = 4 + rng_below(rng, 2) * rng_next(rng) % 1000;
		r = fuzz_call(rng, SBI_EXT_HSM, fid, 0, 0, 0, 0, 0, 0);
		expect(r.error == SBI_ERR_NOT_SUPPORTED, "hsm", fid, 0, 0, r, "NOT_SUPPORTED");
	}
	}
}

/* ---- exceptions of the guest's own ---- */

static uint32_t misaligned_words[FUZZ_MAX_HARTS][4];

/*
 * Runs one instruction that traps (or, natively, may not), with this
 * hart's trap record armed. The asm leaves the instruction's address in pc.
 */
#define PROVOKE(insn, pc)                        \
	asm volatile("lla %0, 1f\n1: " insn "\n" \
		     : "=&r"(pc)                 \
		     :                           \
		     : "a0", "memory")

/*
 * Each must reach this guest's own trap handler (hedeleg under a
 * hypervisor; OpenSBI delegates them natively) with the right scause, and
 * stval as the privileged spec says it may be: the address for a
 * misaligned access; for a breakpoint, the pc or 0; for an illegal
 * instruction, its bits or 0. Hypervisor CSRs and hfence.gvma from
 * VS-mode are virtual-instruction exceptions, which the labs hand to the
 * guest as illegal instructions with the bits in stval (vcpu.c,
 * EXC_VIRTUAL_INST). NATIVE: the payload runs in HS-mode on a hart with H,
 * where they are legal: no trap.
 */
static void op_exception(uint64_t *rng)
{
	uint64_t self = self_id();
	struct fuzz_exc *e = &fuzz_exc[self];
	/* Byte 1 or 3 of a word: misaligned for a word AMO and LR alike. */
	uint64_t pc = 0, addr = (uint64_t)&misaligned_words[self][0] + 1 + 2 * rng_below(rng, 2);
	uint64_t bits = 0, kind = rng_below(rng, 9);
	int hyp_only = 0;
	const char *name = "";

	e->cause = e->tval = e->epc = 0;
	e->armed = 1;
	switch (kind) {
	case 0:
		name = "misaligned amoadd.w";
		asm volatile("lla %0, 1f\n1: amoadd.w zero, %2, (%1)"
			     : "=&r"(pc)
			     : "r"(addr), "r"(1L)
			     : "memory");
		break;
	case 1:
		name = "misaligned lr.w";
		asm volatile("lla %0, 1f\n1: lr.w a0, (%1)"
			     : "=&r"(pc)
			     : "r"(addr)
			     : "a0", "memory");
		break;
	case 2:
		name = "illegal 0x0000";
		bits = 0;
		PROVOKE(".half 0", pc);
		break;
	case 3:
		name = "unimp";
		bits = 0xc0001073; /* csrrw zero, cycle, zero: cycle is read-only */
		PROVOKE(".4byte 0xc0001073", pc);
		break;
	case 4:
		name = "ebreak";
		PROVOKE(".4byte 0x00100073", pc);
		break;
	case 5:
		name = "c.ebreak";
		PROVOKE(".half 0x9002", pc);
		break;
	case 6:
		name = "csrr a0, hstatus";
		bits = 0x60002573;
		hyp_only = 1;
		PROVOKE(".4byte 0x60002573", pc);
		break;
	case 7:
		name = "csrr a0, vsstatus";
		bits = 0x20002573;
		hyp_only = 1;
		PROVOKE(".4byte 0x20002573", pc);
		break;
	default:
		name = "hfence.gvma";
		bits = 0x62000073;
		hyp_only = 1;
		PROVOKE(".4byte 0x62000073", pc);
	}
	uint64_t taken = e->armed - 1, cause = e->cause, tval = e->tval, epc = e->epc;
	e->armed = 0;
	__atomic_fetch_add(&ops, 1, __ATOMIC_RELAXED);

	if (hyp_only && cfg.native) {
		if (taken != 0)
			fuzz_fail("%s in HS-mode trapped: scause %lu stval 0x%lx", name, cause, tval);
		return;
	}
	int ok = taken == 1 && epc == pc;
	if (kind == 0)
		/* QEMU without MTTCG reports an AMO as a load (test guest, main.c). */
		ok = ok && (cause == EXC_STORE_MISALIGNED || cause == EXC_LOAD_MISALIGNED) && tval == addr;
	else if (kind == 1)
		ok = ok && cause == EXC_LOAD_MISALIGNED && tval == addr;
	else if (kind == 4 || kind == 5)
		ok = ok && cause == EXC_BREAKPOINT && (tval == pc || tval == 0);
	else if (hyp_only)
		ok = ok && cause == EXC_ILLEGAL_INST && tval == bits;
	else
		ok = ok && cause == EXC_ILLEGAL_INST && (tval == bits || tval == 0);
	if (!ok)
		fuzz_fail("%s at 0x%lx: %lu traps, scause %lu stval 0x%lx sepc 0x%lx", name, pc, taken,
			  cause, tval, epc);
}

/* The guest's own supervisor CSRs keep what it writes (VS CSRs under a hypervisor). */
static void op_own_csrs(uint64_t *rng)
{
	uint64_t v = rng_next(rng), pc = (uint64_t)image_start + 2 * rng_below(rng, 1UL << 20);
	csr_write(sscratch, v);
	csr_write(sepc, pc);
	uint64_t got = csr_read(sscratch), got_pc = csr_read(sepc);
	__atomic_fetch_add(&ops, 1, __ATOMIC_RELAXED);
	if (got != v || got_pc != pc)
		fuzz_fail("sscratch 0x%lx read back 0x%lx, sepc 0x%lx read back 0x%lx", v, got, pc,
			  got_pc);
}

/* One random operation that any hart may run at any time. */
static void op_any(uint64_t *rng)
{
	switch (rng_below(rng, 9)) {
	case 0:
		op_base(rng);
		break;
	case 1:
		op_unknown_ext(rng);
		break;
	case 2:
		op_time(rng);
		break;
	case 3:
		op_ipi(rng);
		break;
	case 4:
		op_rfence(rng);
		break;
	case 5:
		if (cfg.hsm)
			op_status_any(rng);
		else
			expect_absent(rng, SBI_EXT_HSM, "hsm");
		break;
	case 6:
		if (cfg.hsm)
			op_hsm_errors(rng);
		break;
	case 7:
		op_exception(rng);
		break;
	default:
		op_own_csrs(rng);
	}
}

/* ---- the boot hart's own operations ---- */

/*
 * DBCN write and read at the edges of guest RAM. SBI v2.0, "Shared Memory
 * Physical Address Range Parameter" and "Debug Console Extension": a range
 * that is not all in memory the caller may access is INVALID_PARAM; an
 * empty one is fine anywhere; a write may write fewer bytes than asked.
 * Only the pages that cfg says were filled with '.' are ever written out,
 * so the console gets dots, not bytes of this guest. NATIVE: below the
 * payload is OpenSBI's own memory, and past the end of RAM OpenSBI does
 * not check, so natively only the top page of RAM is tried from inside.
 */
static void op_dbcn(uint64_t *rng)
{
	if (!cfg.dbcn) {
		expect_absent(rng, SBI_EXT_DBCN, "dbcn");
		return;
	}
	uint64_t mem_end = dt.mem_base + dt.mem_size;
	uint64_t fid = rng_below(rng, 8) ? rng_below(rng, 3) : 3 + rng_below(rng, 1000);
	uint64_t edge = (!cfg.native && rng_below(rng, 2)) ? dt.mem_base : mem_end;
	uint64_t page = edge == mem_end ? cfg.high_page : cfg.low_page;
	if (page == 0)
		return;
	uint64_t addr = edge - 64 + rng_below(rng, 129), len, hi = 0;
	switch (rng_below(rng, 5)) {
	case 0:
		len = 0;
		break;
	case 1:
		len = 1;
		break;
	case 2:
		len = rng_next(rng) | (1UL << 63);
		break;
	default:
		len = rng_below(rng, 129);
	}
	if (rng_below(rng, 8) == 0)
		hi = 1 + rng_below(rng, 2) * rng_next(rng);
	int inside = addr >= dt.mem_base && addr + len >= addr && addr + len <= mem_end && hi == 0;
	if (cfg.native && !inside && len != 0 && hi == 0)
		return; /* NATIVE: see above */

	if (fid == SBI_DBCN_WRITE_BYTE) {
		struct sbiret r = fuzz_call(rng, SBI_EXT_DBCN, fid, '.', 0, 0, 0, 0, 0);
		dots_pending = 1;
		expect(r.error == SBI_SUCCESS, "dbcn write_byte", '.', 0, 0, r, "success");
		return;
	}
	struct sbiret r = fuzz_call(rng, SBI_EXT_DBCN, fid, len, addr, hi, 0, 0, 0);
	if (fid > SBI_DBCN_WRITE_BYTE) {
		expect(r.error == SBI_ERR_NOT_SUPPORTED, "dbcn", fid, len, addr, r, "NOT_SUPPORTED");
		return;
	}
	const char *what = fid == SBI_DBCN_WRITE ? "dbcn write" : "dbcn read";
	if (len == 0 && hi == 0) {
		expect(r.error == SBI_SUCCESS && r.value == 0, what, len, addr, hi, r, "success, 0");
	} else if (inside) {
		if (fid == SBI_DBCN_WRITE && r.value > 0)
			dots_pending = 1;
		/* A read takes what has arrived: nothing, here. */
		long least = fid == SBI_DBCN_WRITE ? 1 : 0;
		expect(r.error == SBI_SUCCESS && r.value >= least && (uint64_t)r.value <= len, what,
		       len, addr, hi, r, "success, bytes <= len");
	} else if (hi != 0 && cfg.native) {
		/* NATIVE: OpenSBI answers a high half it cannot reach with FAILED. */
		expect(r.error == SBI_ERR_INVALID_PARAM || r.error == SBI_ERR_FAILED, what, len, addr,
		       hi, r, "INVALID_PARAM (or FAILED)");
	} else {
		expect(r.error == SBI_ERR_INVALID_PARAM, what, len, addr, hi, r, "INVALID_PARAM");
	}
	/* A read that wrote into the page: put the dots back. */
	if (fid == SBI_DBCN_READ && inside)
		memset((void *)page, '.', page == cfg.low_page ? 2 * PAGE_SIZE : PAGE_SIZE);
}

/*
 * hart_get_status of another hart, checked against what the boot hart
 * did. Never started, or seen STOPPED since its last start ended, it is
 * STOPPED. Started, it writes done_gen just before its hart_stop: done
 * before the call, it is past START_PENDING (STARTED, STOP_PENDING or
 * STOPPED); not done after it, it has not called hart_stop (START_PENDING
 * or STARTED, never STOPPED); done only in between, any of the four.
 */
static long boot_status(uint64_t *rng, int i)
{
	uint64_t id = dt.hartids[i];
	/* Both pair with the secondary's store-release of done_gen. */
	int before = __atomic_load_n(&done_gen[i], __ATOMIC_ACQUIRE) == cur_gen[i];
	struct sbiret r = fuzz_call(rng, SBI_EXT_HSM, SBI_HSM_HART_GET_STATUS, id, 0, 0, 0, 0, 0);
	int after = __atomic_load_n(&done_gen[i], __ATOMIC_ACQUIRE) == cur_gen[i];
	long s = r.value;
	int ok = 0;
	const char *want;
	if (known_stopped[i]) {
		want = "STOPPED";
		ok = s == SBI_HSM_STATE_STOPPED;
	} else if (before) {
		want = "STARTED, STOP_PENDING or STOPPED";
		ok = s == SBI_HSM_STATE_STARTED || s == SBI_HSM_STATE_STOP_PENDING ||
		     s == SBI_HSM_STATE_STOPPED;
	} else if (!after) {
		want = "START_PENDING or STARTED (it has not stopped itself)";
		ok = s == SBI_HSM_STATE_START_PENDING || s == SBI_HSM_STATE_STARTED;
	} else {
		want = "a state";
		ok = state_possible(s);
	}
	expect(r.error == SBI_SUCCESS && ok, "hart_get_status", id, cur_gen[i],
	       (uint64_t)(before * 2 + after), r, want);
	if (r.error == SBI_SUCCESS && s == SBI_HSM_STATE_STOPPED && after)
		known_stopped[i] = 1;
	return r.error ? r.error : s;
}

/*
 * hart_start of another hart, with opaque = the next generation. A hart
 * known STOPPED must start; a hart not known STOPPED may start only if it
 * had stopped itself; otherwise the answer is INVALID_PARAM (START_PENDING
 * or STOP_PENDING) or ALREADY_AVAILABLE (STARTED: then it cannot be
 * START_PENDING afterwards, as nobody else starts it).
 */
static void boot_start(uint64_t *rng, int i)
{
	uint64_t id = dt.hartids[i], gen = cur_gen[i] + 1;
	int was_stopped = known_stopped[i];

	/* Under a hypervisor, addresses no instruction can be at (README section 2). */
	if (!cfg.native && was_stopped && rng_below(rng, 4) == 0) {
		uint64_t bad = rng_below(rng, 2) ? (uint64_t)fuzz_secondary_entry + 1
						 : dt.mem_base + dt.mem_size + rng_below(rng, 1UL << 30);
		struct sbiret r = fuzz_call(rng, SBI_EXT_HSM, SBI_HSM_HART_START, id, bad, gen, 0, 0, 0);
		expect(r.error == SBI_ERR_INVALID_ADDRESS, "hart_start", id, bad, gen, r,
		       "INVALID_ADDRESS");
		return;
	}
	struct sbiret r = fuzz_call(rng, SBI_EXT_HSM, SBI_HSM_HART_START, id,
				    (uint64_t)fuzz_secondary_entry, gen, 0, 0, 0);
	if (r.error == SBI_SUCCESS) {
		/* It was STOPPED, so its last generation had finished. */
		uint64_t d = __atomic_load_n(&done_gen[i], __ATOMIC_ACQUIRE);
		expect(d == cur_gen[i] || d == gen, "hart_start of a hart that had not stopped", id,
		       cur_gen[i], d, r, "an error");
		cur_gen[i] = gen;
		known_stopped[i] = 0;
		return;
	}
	expect(!was_stopped && (r.error == SBI_ERR_INVALID_PARAM || r.error == SBI_ERR_ALREADY_AVAILABLE),
	       "hart_start", id, gen, was_stopped, r,
	       was_stopped ? "success (it was STOPPED)" : "INVALID_PARAM or ALREADY_AVAILABLE");
	if (r.error == SBI_ERR_ALREADY_AVAILABLE) {
		struct sbiret s = fuzz_call(rng, SBI_EXT_HSM, SBI_HSM_HART_GET_STATUS, id, 0, 0, 0, 0, 0);
		expect(s.value != SBI_HSM_STATE_START_PENDING,
		       "hart_get_status after ALREADY_AVAILABLE", id, 0, 0, s, "not START_PENDING");
	}
}

/* Waits for every started hart to be STOPPED; a hart that never gets there fails. */
static void boot_wait_all_stopped(uint64_t *rng)
{
	for (int i = 0; i < dt.ncpus; i++) {
		if (dt.hartids[i] == cfg.boot)
			continue;
		uint64_t t0 = csr_read(time);
		/* Two seconds of QEMU virt's 10 MHz time. */
		while (!known_stopped[i] && csr_read(time) - t0 < 10000000UL * 2)
			boot_status(rng, i);
		if (!known_stopped[i])
			fuzz_fail("hart %lu never stopped (generation %lu)", dt.hartids[i], cur_gen[i]);
	}
}

/* ---- the secondaries ---- */

void fuzz_secondary(uint64_t hartid, uint64_t gen)
{
	uint64_t rng = rng_seed(cfg.seed, hartid << 32 | gen);
	uint64_t n = rng_below(&rng, SECONDARY_OPS + 1);
	int i = hart_index(hartid);

	for (uint64_t k = 0; k < n; k++)
		op_any(&rng);
	/* Pairs with the boot hart's load-acquire in boot_status(). */
	if (i >= 0)
		__atomic_store_n(&done_gen[i], gen, __ATOMIC_RELEASE);
	sbi_ecall(SBI_EXT_HSM, SBI_HSM_HART_STOP, 0, 0, 0, 0, 0, 0);
	fuzz_fail("hart_stop returned");
	for (;;)
		wfi();
}

/* ---- the device tree: /cpus, /memory and /chosen, as in common/guest ---- */

static uint32_t be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint64_t be_cells(const uint8_t *p, int cells)
{
	uint64_t v = 0;
	for (int i = 0; i < cells; i++)
		v = v << 32 | be32(p + 4 * i);
	return v;
}

/* Walks the structure block once; 0, or -1 if the blob is not a device tree. */
static int dt_scan(const uint8_t *fdt)
{
	if (be32(fdt) != 0xd00dfeed)
		return -1;
	const uint8_t *p = fdt + be32(fdt + 8);
	const char *strings = (const char *)fdt + be32(fdt + 12);
	const char *path[4] = { 0 };
	int depth = 0, cpu_cells = 1, is_cpu = 0, disabled = 0;
	uint64_t reg = 0;

	for (;;) {
		uint32_t token = be32(p);
		p += 4;
		if (token == 1) { /* FDT_BEGIN_NODE */
			const char *name = (const char *)p;
			p += (strlen(name) + 4) & ~3UL;
			if (depth < 4)
				path[depth] = name;
			depth++;
			if (depth == 3)
				is_cpu = disabled = 0;
		} else if (token == 2) { /* FDT_END_NODE */
			if (depth == 3 && is_cpu && !disabled && dt.ncpus < FUZZ_MAX_HARTS &&
			    strcmp(path[1], "cpus") == 0)
				dt.hartids[dt.ncpus++] = reg;
			depth--;
		} else if (token == 3) { /* FDT_PROP */
			uint32_t len = be32(p);
			const char *pname = strings + be32(p + 4);
			const uint8_t *val = p + 8;
			p += 8 + ((len + 3) & ~3U);
			int in_cpus = depth >= 2 && strcmp(path[1], "cpus") == 0;
			if (depth == 2 && in_cpus && strcmp(pname, "#address-cells") == 0)
				cpu_cells = (int)be32(val);
			if (depth == 3 && in_cpus && strcmp(pname, "device_type") == 0)
				is_cpu = strcmp((const char *)val, "cpu") == 0;
			if (depth == 3 && in_cpus && strcmp(pname, "status") == 0)
				disabled = strcmp((const char *)val, "okay") != 0;
			if (depth == 3 && in_cpus && strcmp(pname, "reg") == 0)
				reg = be_cells(val, cpu_cells);
			if (depth == 2 && strncmp(path[1], "memory", 6) == 0 &&
			    strcmp(pname, "reg") == 0 && dt.mem_size == 0) {
				dt.mem_base = be_cells(val, 2);
				dt.mem_size = be_cells(val + 8, 2);
			}
			if (depth == 2 && strcmp(path[1], "chosen") == 0 &&
			    strcmp(pname, "bootargs") == 0)
				dt.bootargs = (const char *)val;
		} else if (token == 9) { /* FDT_END */
			return 0;
		} else if (token != 4) { /* not FDT_NOP */
			return -1;
		}
	}
}

/* The number after "name=" in the bootargs, or def. */
static uint64_t bootarg(const char *name, uint64_t def)
{
	size_t n = strlen(name);
	for (const char *p = dt.bootargs; p != NULL && *p != '\0'; p++) {
		if ((p != dt.bootargs && p[-1] != ' ') || strncmp(p, name, n) != 0 || p[n] != '=')
			continue;
		uint64_t v = 0;
		for (p += n + 1; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (uint64_t)(*p - '0');
		return v;
	}
	return def;
}

/* ---- main ---- */

static int probe(uint64_t ext)
{
	return sbi_probe_extension(ext).value != 0;
}

/* A page of '.' at [page, page + 4096) if it is free guest RAM; else 0. */
static uint64_t dot_page(uint64_t page, uint64_t fdt, uint64_t fdt_end)
{
	uint64_t end = page + PAGE_SIZE;
	if (page < dt.mem_base || end > dt.mem_base + dt.mem_size ||
	    (page < (uint64_t)image_end && end > (uint64_t)image_start) || (page < fdt_end && end > fdt))
		return 0;
	memset((void *)page, '.', PAGE_SIZE);
	return page;
}

void fuzz_main(uint64_t hartid, uint64_t fdt)
{
	if (dt_scan((const uint8_t *)fdt) != 0 || hart_index(hartid) < 0 || dt.mem_size == 0) {
		fuzz_printf("fuzzguest: FAIL: no usable device tree at 0x%lx\n", fdt);
		__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
		fuzz_poweroff();
	}
	cfg.seed = bootarg("seed", fuzz_builtin.seed);
	cfg.rounds = bootarg("rounds", DEFAULT_ROUNDS);
	cfg.boot = hartid;
	cfg.native = sbi_ecall(SBI_EXT_BASE, SBI_BASE_GET_IMPL_ID, 0, 0, 0, 0, 0, 0).value ==
		     SBI_IMPL_OPENSBI;
	cfg.time = probe(SBI_EXT_TIME);
	cfg.ipi = probe(SBI_EXT_IPI);
	cfg.rfence = probe(SBI_EXT_RFENCE);
	cfg.hsm = probe(SBI_EXT_HSM);
	cfg.dbcn = probe(SBI_EXT_DBCN);
	uint64_t fdt_end = fdt + be32((const void *)(fdt + 4));
	/*
	 * Two pages at the bottom, as a lab's DBCN call reads up to 4096 bytes
	 * from a start up to 64 past it. NATIVE: the bottom of RAM is
	 * OpenSBI's (op_dbcn).
	 */
	if (!cfg.native)
		cfg.low_page = dot_page(dt.mem_base, fdt, fdt_end) &&
					       dot_page(dt.mem_base + PAGE_SIZE, fdt, fdt_end)
				       ? dt.mem_base
				       : 0;
	cfg.high_page = dot_page(dt.mem_base + dt.mem_size - PAGE_SIZE, fdt, fdt_end);
	for (int i = 0; i < dt.ncpus; i++)
		known_stopped[i] = dt.hartids[i] != hartid;

	fuzz_printf("fuzzguest: seed %lu, %lu rounds, %d cpus, %s, offers%s%s%s%s%s\n", cfg.seed,
		    cfg.rounds, dt.ncpus, cfg.native ? "OpenSBI" : "a hypervisor",
		    cfg.time ? " time" : "", cfg.ipi ? " ipi" : "", cfg.rfence ? " rfence" : "",
		    cfg.hsm ? " hsm" : "", cfg.dbcn ? " dbcn" : "");

	uint64_t rng = rng_seed(cfg.seed, 0);
	for (uint64_t round = 0; round < cfg.rounds; round++) {
		int other = (int)rng_below(&rng, (uint64_t)dt.ncpus);
		int has_other = cfg.hsm && dt.hartids[other] != hartid;
		switch (rng_below(&rng, 8)) {
		case 0:
		case 1:
			if (has_other) {
				boot_start(&rng, other);
				break;
			}
			op_any(&rng);
			break;
		case 2:
			if (has_other) {
				boot_status(&rng, other);
				break;
			}
			op_any(&rng);
			break;
		case 3:
			op_dbcn(&rng);
			break;
		default:
			op_any(&rng);
		}
	}
	if (cfg.hsm)
		boot_wait_all_stopped(&rng);
	if (cfg.time)
		sbi_set_timer(UINT64_MAX);
	fuzz_poweroff();
}
