/*
 * vsbi.c: the SBI calls of a guest, answered by the hypervisor.
 *
 * The guest's ecall from VS-mode traps to us (HS-mode), never to OpenSBI:
 * we are its SBI implementation. We offer Base, the legacy console, DBCN
 * and SRST; every other extension answers SBI_ERR_NOT_SUPPORTED, and Base's
 * probe_extension says so too.
 */
#include "console.h"
#include "lib.h"
#include "machine.h"
#include "riscv.h"
#include "sbi.h"
#include "trace.h"
#include "vsbi.h"

/* A DBCN call moves at most this much; the guest calls again for the rest. */
#define DBCN_CHUNK 4096

/*
 * Checks that [gpa, gpa + len) is guest RAM with the permission `need`
 * (PTE_R or PTE_W), one page at a time through the G-stage table. An empty
 * range is always fine, wherever it starts: it holds no byte to check.
 */
static int vsbi_guest_check(const struct vcpu *v, uint64_t gpa, uint64_t len,
			    uint64_t need)
{
	if (len == 0)
		return 0;
	if (gpa + len < gpa)
		return -1;
	for (uint64_t a = gpa & ~(PAGE_SIZE - 1); a < gpa + len; a += PAGE_SIZE) {
		uint64_t hpa, perm;
		if (gstage_translate(v->gstage, a, &hpa, &perm) != 0 || !(perm & need))
			return -1;
	}
	return 0;
}

/* Copies between us and guest memory that vsbi_guest_check() accepted. */
static void vsbi_guest_copy(const struct vcpu *v, uint64_t gpa, uint8_t *buf,
			    uint64_t len, int to_guest)
{
	for (uint64_t i = 0; i < len; i++) {
		uint64_t hpa, perm;
		gstage_translate(v->gstage, gpa + i, &hpa, &perm);
		if (to_guest)
			*(volatile uint8_t *)hpa = buf[i];
		else
			buf[i] = *(volatile uint8_t *)hpa;
	}
}

static struct sbiret vsbi_base(struct vcpu *v, uint64_t fid, const uint64_t *a);
static struct sbiret vsbi_legacy_putchar(struct vcpu *v, uint64_t fid, const uint64_t *a);
static struct sbiret vsbi_legacy_getchar(struct vcpu *v, uint64_t fid, const uint64_t *a);
static struct sbiret vsbi_dbcn(struct vcpu *v, uint64_t fid, const uint64_t *a);
static struct sbiret vsbi_srst(struct vcpu *v, uint64_t fid, const uint64_t *a);

/*
 * Every extension we implement. probe_extension answers from this table;
 * vsbi_find searches it in order, so Base, which every guest calls first,
 * comes first.
 */
struct vsbi_extension {
	uint64_t eid;
	struct sbiret (*handler)(struct vcpu *v, uint64_t fid, const uint64_t *args);
	enum vcpu_exit_cause exit; /* where vcpu_print_exits counts its calls */
};
static const struct vsbi_extension vsbi_extensions[] = {
	{ SBI_EXT_BASE, vsbi_base, EXIT_SBI_BASE },
	{ SBI_EXT_DBCN, vsbi_dbcn, EXIT_SBI_DBCN },
	{ SBI_EXT_SRST, vsbi_srst, EXIT_SBI_SRST },
	{ SBI_EXT_LEGACY_PUTCHAR, vsbi_legacy_putchar, EXIT_SBI_LEGACY },
	{ SBI_EXT_LEGACY_GETCHAR, vsbi_legacy_getchar, EXIT_SBI_LEGACY },
};

/* The extension eid in vsbi_extensions, or NULL if we do not offer it. */
static const struct vsbi_extension *vsbi_find(uint64_t eid)
{
	for (unsigned i = 0; i < ARRAY_SIZE(vsbi_extensions); i++)
		if (vsbi_extensions[i].eid == eid)
			return &vsbi_extensions[i];
	return NULL;
}

static struct sbiret vsbi_base(struct vcpu *v, uint64_t fid, const uint64_t *a)
{
	(void)v;
	/* BEGIN SOLUTION (lab 1): answer the Base extension's functions (SBI chapter 4) */
	switch (fid) {
	case SBI_BASE_GET_SPEC_VERSION:
		return (struct sbiret){ SBI_SUCCESS, SBI_SPEC_VERSION(2, 0) };
	case SBI_BASE_GET_IMPL_ID:
		return (struct sbiret){ SBI_SUCCESS, VSBI_IMPL_ID };
	case SBI_BASE_GET_IMPL_VERSION:
		return (struct sbiret){ SBI_SUCCESS, LAB_NUMBER };
	case SBI_BASE_PROBE_EXT:
		return (struct sbiret){ SBI_SUCCESS, vsbi_find(a[0]) != NULL };
	case SBI_BASE_GET_MVENDORID:
	case SBI_BASE_GET_MARCHID:
	case SBI_BASE_GET_MIMPID:
		/* Machine-mode facts: ask the firmware, which can read them. */
		return sbi_ecall(SBI_EXT_BASE, fid, 0, 0, 0, 0, 0, 0);
	default:
		return (struct sbiret){ SBI_ERR_NOT_SUPPORTED, 0 };
	}
	/* END SOLUTION (lab 1), handout: (void)fid; (void)a;
	   return (struct sbiret){ SBI_ERR_NOT_SUPPORTED, 0 }; */
}

/* Legacy extensions return their result in a0 alone. */
static struct sbiret vsbi_legacy_putchar(struct vcpu *v, uint64_t fid, const uint64_t *a)
{
	(void)v;
	(void)fid;
	console_write_byte((uint8_t)a[0]);
	return (struct sbiret){ 0, 0 };
}

static struct sbiret vsbi_legacy_getchar(struct vcpu *v, uint64_t fid, const uint64_t *a)
{
	(void)v;
	(void)fid;
	(void)a;
	return (struct sbiret){ sbi_console_getchar(), 0 };
}

/* Debug console: a0 = num_bytes, a1 = address low bits, a2 = high bits. */
static struct sbiret vsbi_dbcn(struct vcpu *v, uint64_t fid, const uint64_t *a)
{
	uint8_t buf[DBCN_CHUNK];
	uint64_t len = a[0] < DBCN_CHUNK ? a[0] : DBCN_CHUNK;

	/*
	 * The whole range the guest names must be its RAM (SBI v2.0, DBCN:
	 * INVALID_PARAM otherwise), although one call moves at most
	 * DBCN_CHUNK bytes of it.
	 */

	switch (fid) {
	case SBI_DBCN_WRITE:
		/* On RV64 a non-zero high half is an address past 2^64. */
		if (a[2] != 0 || vsbi_guest_check(v, a[1], a[0], PTE_R) != 0)
			return (struct sbiret){ SBI_ERR_INVALID_PARAM, 0 };
		vsbi_guest_copy(v, a[1], buf, len, 0);
		/* Under our console lock: never inside a line of ours. */
		console_write(buf, len);
		return (struct sbiret){ SBI_SUCCESS, (long)len };
	case SBI_DBCN_READ: {
		if (a[2] != 0 || vsbi_guest_check(v, a[1], a[0], PTE_W) != 0)
			return (struct sbiret){ SBI_ERR_INVALID_PARAM, 0 };
		uint64_t n = 0;
		int c;
		/* Never blocks: take what has arrived, up to len bytes. */
		while (n < len && (c = sbi_console_getchar()) >= 0)
			buf[n++] = (uint8_t)c;
		vsbi_guest_copy(v, a[1], buf, n, 1);
		return (struct sbiret){ SBI_SUCCESS, (long)n };
	}
	case SBI_DBCN_WRITE_BYTE:
		console_write_byte((uint8_t)a[0]);
		return (struct sbiret){ SBI_SUCCESS, 0 };
	default:
		return (struct sbiret){ SBI_ERR_NOT_SUPPORTED, 0 };
	}
}

/* System reset: a0 = reset_type, a1 = reset_reason, 32-bit: the upper halves are ignored. */
static struct sbiret vsbi_srst(struct vcpu *v, uint64_t fid, const uint64_t *a)
{
	if (fid != SBI_SRST_RESET)
		return (struct sbiret){ SBI_ERR_NOT_SUPPORTED, 0 };
	uint32_t type = (uint32_t)a[0], reason = (uint32_t)a[1];
	if (type > SBI_SRST_TYPE_WARM_REBOOT || reason > SBI_SRST_REASON_FAILURE)
		return (struct sbiret){ SBI_ERR_INVALID_PARAM, 0 };

	if (type == SBI_SRST_TYPE_SHUTDOWN && reason == SBI_SRST_REASON_NONE) {
		printf("hyp: guest powered off\n");
		vcpu_print_exits(&v, 1);
		trace(TRACE_POWEROFF, 0, 0);
		trace_dump();
		machine_poweroff();
	}
	if (type == SBI_SRST_TYPE_SHUTDOWN) {
		printf("hyp: guest powered off reporting a system failure\n");
		vcpu_print_exits(&v, 1);
		trace(TRACE_POWEROFF, 0, 0);
		machine_fail();
	}
	/* A reboot of the only VM is a reboot of the machine: QEMU reloads it. */
	printf("hyp: guest asked for a %s reboot\n",
	       type == SBI_SRST_TYPE_COLD_REBOOT ? "cold" : "warm");
	vcpu_print_exits(&v, 1);
	return sbi_system_reset(type, reason);
}

void vsbi_handle(struct vcpu *v)
{
	uint64_t *regs = v->ctx.guest;
	uint64_t eid = regs[REG_A7], fid = regs[REG_A6];
	const struct vsbi_extension *ext = vsbi_find(eid);
	struct sbiret ret = { SBI_ERR_NOT_SUPPORTED, 0 };

	vcpu_count_exit(v, ext != NULL ? ext->exit : EXIT_SBI_OTHER);
	if (ext != NULL)
		ret = ext->handler(v, fid, &regs[REG_A0]);
	regs[REG_A0] = (uint64_t)ret.error;
	/* Legacy extensions (0x00-0x0f) leave every register but a0 alone. */
	if (eid > SBI_EXT_LEGACY_LAST)
		regs[REG_A1] = (uint64_t)ret.value;
	/* The guest goes on after its ecall: sepc still holds the guest's pc. */
	csr_write(sepc, csr_read(sepc) + 4);
}
