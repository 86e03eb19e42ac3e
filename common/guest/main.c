/*
 * The test guest: an ordinary S-mode payload that every lab boots.
 *
 * It talks to its SBI implementation (the hypervisor, or OpenSBI when run
 * natively), reads the device tree it was given, checks that SBI errors come
 * back as the specification says, tests its memory, starts its other harts
 * and tests HSM, IPIs, timers and fences when HSM is offered (smp.c), and
 * powers off. Each finding is one console line that
 * begins with "guest: "; the grader reads them.
 */
#include <stdarg.h>

#include "guest.h"
#include "lib.h"
#include "riscv.h"
#include "sbi.h"

extern char image_start[], image_end[];

struct guest_dt dt;
static int failures;
static int print_lock;

/* Prints one whole line at a time, even when several harts print. */
void guest_printf(const char *fmt, ...)
{
	char buf[256];
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

void guest_check(const char *name, int ok, long got)
{
	if (ok) {
		guest_printf("guest: check %s: ok\n", name);
	} else {
		guest_printf("guest: check %s: FAIL (got %ld)\n", name, got);
		__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
	}
}

void guest_poweroff(void)
{
	uint64_t reason = failures ? SBI_SRST_REASON_FAILURE : SBI_SRST_REASON_NONE;
	sbi_system_reset(SBI_SRST_TYPE_SHUTDOWN, reason);
	guest_printf("guest: SRST shutdown returned; spinning\n");
	for (;;)
		wfi();
}

void guest_trap(void)
{
	guest_printf("guest: unexpected trap: scause 0x%lx sepc 0x%lx stval 0x%lx\n",
		     csr_read(scause), csr_read(sepc), csr_read(stval));
	__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
	guest_poweroff();
}

void guest_exc_vector(void); /* entry.S: records one exception, steps past it */
volatile uint64_t guest_exc[2]; /* its scause and stval */

/*
 * An exception the guest causes in its own RAM is the guest's: it must
 * reach this guest's trap handler, whatever runs below it. A misaligned AMO
 * is a store/AMO address-misaligned exception, a misaligned LR a load one
 * (privileged spec, "Machine Cause Register"); stval is the address. QEMU
 * 7.2 and 10 without MTTCG (-accel tcg,thread=single) do an AMO as a load
 * then a store, and report a misaligned one as a load: either cause is
 * taken, as long as it is this guest that takes it.
 */
static void guest_check_misaligned(void)
{
	static uint32_t words[2];
	uint64_t addr = (uint64_t)&words[0] + 2, old = csr_read(stvec), v;

	csr_write(stvec, (uint64_t)guest_exc_vector);
	guest_exc[0] = guest_exc[1] = 0;
	asm volatile("amoadd.w zero, %1, (%0)"
		     :
		     : "r"(addr), "r"(1L)
		     : "memory");
	uint64_t amo_cause = guest_exc[0], amo_tval = guest_exc[1];
	guest_exc[0] = guest_exc[1] = 0;
	asm volatile("lr.w %0, (%1)"
		     : "=r"(v)
		     : "r"(addr)
		     : "memory");
	uint64_t lr_cause = guest_exc[0], lr_tval = guest_exc[1];
	csr_write(stvec, old);
	guest_check("misaligned-amo",
		    (amo_cause == EXC_STORE_MISALIGNED || amo_cause == EXC_LOAD_MISALIGNED) &&
			    amo_tval == addr,
		    (long)amo_cause);
	guest_check("misaligned-lr", lr_cause == EXC_LOAD_MISALIGNED && lr_tval == addr,
		    (long)lr_cause);
}

/* ---- a minimal device tree reader (the hypervisor's own is in lab 02) ---- */

#define FDT_MAGIC 0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9

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

/*
 * Walks the structure block once. It keeps the name of the node at each of
 * the first three depths, which is all this guest needs: /cpus/cpu@N,
 * /memory@..., /chosen. Returns 0, or -1 if the blob is not a device tree.
 */
static int dt_scan(const uint8_t *fdt)
{
	if (be32(fdt) != FDT_MAGIC)
		return -1;
	const uint8_t *p = fdt + be32(fdt + 8);
	const char *strings = (const char *)fdt + be32(fdt + 12);
	const char *path[4] = { 0 };
	int depth = 0, cpu_cells = 1, is_cpu = 0, disabled = 0;
	uint64_t reg = 0;

	for (;;) {
		uint32_t token = be32(p);
		p += 4;
		if (token == FDT_BEGIN_NODE) {
			const char *name = (const char *)p;
			p += (strlen(name) + 4) & ~3UL;
			if (depth < 4)
				path[depth] = name;
			depth++;
			if (depth == 3)
				is_cpu = disabled = 0;
		} else if (token == FDT_END_NODE) {
			/* Leaving /cpus/cpu@N: count it if it is a usable cpu. */
			if (depth == 3 && is_cpu && !disabled && dt.ncpus < MAX_HARTS &&
			    strcmp(path[1], "cpus") == 0)
				dt.hartids[dt.ncpus++] = reg;
			depth--;
		} else if (token == FDT_PROP) {
			uint32_t len = be32(p);
			const char *pname = strings + be32(p + 4);
			const uint8_t *val = p + 8;
			p += 8 + ((len + 3) & ~3U);
			int in_cpus = depth >= 2 && strcmp(path[1], "cpus") == 0;
			if (depth == 2 && in_cpus && strcmp(pname, "#address-cells") == 0)
				cpu_cells = (int)be32(val);
			if (in_cpus && strcmp(pname, "timebase-frequency") == 0)
				dt.timebase = be32(val);
			if (depth == 3 && in_cpus && strcmp(pname, "riscv,isa") == 0 && dt.isa == NULL)
				dt.isa = (const char *)val;
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
		} else if (token == FDT_END) {
			return 0;
		} else if (token != FDT_NOP) {
			return -1;
		}
	}
}

/* ---- checks ---- */

static void guest_check_sbi(void)
{
	struct sbiret r;

	r = sbi_ecall(0x0A000000, 0, 0, 0, 0, 0, 0, 0);
	guest_check("unknown-extension", r.error == SBI_ERR_NOT_SUPPORTED, r.error);
	r = sbi_ecall(SBI_EXT_BASE, 99, 0, 0, 0, 0, 0, 0);
	guest_check("unknown-base-function", r.error == SBI_ERR_NOT_SUPPORTED, r.error);
	r = sbi_probe_extension(0x0A000000);
	guest_check("probe-absent", r.error == 0 && r.value == 0, r.value);
	r = sbi_probe_extension(SBI_EXT_BASE);
	guest_check("probe-base", r.error == 0 && r.value != 0, r.value);
	r = sbi_system_reset(0x10, SBI_SRST_REASON_NONE);
	guest_check("srst-reserved-type", r.error == SBI_ERR_INVALID_PARAM, r.error);

	if (sbi_probe_extension(SBI_EXT_DBCN).value != 0) {
		static const char msg[] = "guest: dbcn: written through DBCN\n";
		r = sbi_ecall(SBI_EXT_DBCN, SBI_DBCN_WRITE, sizeof(msg) - 1,
			      (uint64_t)msg, 0, 0, 0, 0);
		guest_check("dbcn-write", r.error == 0 && r.value == sizeof(msg) - 1,
			    r.error ? r.error : r.value);
		/*
		 * 0x2000000 is QEMU virt's CLINT: not guest RAM under a
		 * hypervisor, and M-mode only under OpenSBI, so refused on
		 * both. (Not 0x1000: QEMU's boot ROM, which S-mode may read.)
		 */
		r = sbi_ecall(SBI_EXT_DBCN, SBI_DBCN_WRITE, 8, 0x2000000, 0, 0, 0, 0);
		guest_check("dbcn-bad-address", r.error == SBI_ERR_INVALID_PARAM, r.error);
		/*
		 * No bytes: the range is empty, so it satisfies every rule of
		 * memory (SBI v2.0, "Shared Memory Physical Address Range
		 * Parameter"): success and 0 written, at an aligned address and
		 * an odd one alike, where nothing is guest RAM.
		 */
		r = sbi_ecall(SBI_EXT_DBCN, SBI_DBCN_WRITE, 0, 0x2000000, 0, 0, 0, 0);
		struct sbiret odd = sbi_ecall(SBI_EXT_DBCN, SBI_DBCN_WRITE, 0, 0x2000001, 0, 0, 0, 0);
		guest_check("dbcn-zero-bytes", r.error == 0 && r.value == 0 && odd.error == 0 && odd.value == 0,
			    r.error ? r.error : odd.error);
	}
}

/*
 * Writes then reads back one word in every page of [start, end). Returns
 * the number of pages; counts the words that did not read back in *bad.
 */
static uint64_t guest_test_range(uint64_t start, uint64_t end, uint64_t *bad)
{
	uint64_t pages = 0;
	start = (start + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	for (uint64_t a = start; a + 8 <= end; a += PAGE_SIZE, pages++)
		*(volatile uint64_t *)a = a ^ 0x5a5a5a5a5a5a5a5aUL;
	for (uint64_t a = start; a + 8 <= end; a += PAGE_SIZE)
		if (*(volatile uint64_t *)a != (a ^ 0x5a5a5a5a5a5a5a5aUL))
			(*bad)++;
	return pages;
}

static void guest_check_memory(uint64_t fdt)
{
	uint64_t mem_end = dt.mem_base + dt.mem_size;
	uint64_t fdt_end = fdt + be32((void *)(fdt + 4));
	uint64_t pages = 0, bad = 0;

	/* Everything above this image but the device tree itself. */
	if (fdt > (uint64_t)image_end && fdt < mem_end) {
		pages += guest_test_range((uint64_t)image_end, fdt, &bad);
		pages += guest_test_range(fdt_end, mem_end, &bad);
	} else {
		pages += guest_test_range((uint64_t)image_end, mem_end, &bad);
	}
	guest_check("memory-pattern", bad == 0, (long)bad);
	guest_printf("guest: memory test: %lu pages written and read back\n", pages);
}

#ifdef GUEST_TEST_OOB
/* Reads the first byte past the end of RAM: the hypervisor must stop us. */
static void guest_touch_outside(void)
{
	uint64_t addr = dt.mem_base + dt.mem_size;
	guest_printf("guest: reading outside my RAM at 0x%lx\n", addr);
	uint8_t v = *(volatile uint8_t *)addr;
	guest_check("isolation", 0, v);
}
#endif

void guest_main(uint64_t hartid, uint64_t fdt)
{
	guest_printf("guest: hello from hart %lu, device tree at 0x%lx\n", hartid, fdt);

	long spec = sbi_ecall(SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION, 0, 0, 0, 0, 0, 0).value;
	long impl = sbi_ecall(SBI_EXT_BASE, SBI_BASE_GET_IMPL_ID, 0, 0, 0, 0, 0, 0).value;
	long ver = sbi_ecall(SBI_EXT_BASE, SBI_BASE_GET_IMPL_VERSION, 0, 0, 0, 0, 0, 0).value;
	guest_printf("guest: SBI spec %ld.%ld, implementation 0x%lx version 0x%lx\n",
		     (spec >> 24) & 0x7f, spec & 0xffffff, impl, ver);

	static const struct {
		const char *name;
		uint64_t id;
	} exts[] = {
		/* clang-format off */
		{ "base", SBI_EXT_BASE },	{ "time", SBI_EXT_TIME },
		{ "ipi", SBI_EXT_IPI },		{ "rfence", SBI_EXT_RFENCE },
		{ "hsm", SBI_EXT_HSM },		{ "srst", SBI_EXT_SRST },
		{ "dbcn", SBI_EXT_DBCN },	{ "legacy-putchar", SBI_EXT_LEGACY_PUTCHAR },
		/* clang-format on */
	};
	char line[200] = "guest: extensions:";
	for (unsigned i = 0; i < ARRAY_SIZE(exts); i++)
		if (sbi_probe_extension(exts[i].id).value != 0)
			fmt_snprintf(line + strlen(line), sizeof(line) - strlen(line),
				     " %s", exts[i].name);
	guest_printf("%s\n", line);

	if (dt_scan((const uint8_t *)fdt) != 0) {
		guest_check("device-tree", 0, 0);
		guest_poweroff();
	}
	guest_printf("guest: device tree: %d cpus, memory 0x%lx-0x%lx\n", dt.ncpus,
		     dt.mem_base, dt.mem_base + dt.mem_size);
	if (dt.bootargs != NULL)
		guest_printf("guest: bootargs: %s\n", dt.bootargs);

#ifdef GUEST_TEST_OOB
	guest_touch_outside();
#endif
	guest_check_sbi();
	guest_check_misaligned();
	guest_check_memory(fdt);
	guest_smp_tests(hartid);

	if (failures == 0)
		guest_printf("guest: all checks passed\n");
	else
		guest_printf("guest: %d checks failed\n", failures);
	guest_poweroff();
}
