/*
 * vsbi.c: the SBI calls of a guest, answered by the hypervisor.
 *
 * The guest's ecall from VS-mode traps to us (HS-mode), never to OpenSBI:
 * we are its SBI implementation. We offer Base, the legacy console, DBCN,
 * SRST, and for an SMP guest HSM, IPI, TIME and RFENCE; every other
 * extension answers SBI_ERR_NOT_SUPPORTED, and Base's probe_extension says
 * so too.
 */
#include "console.h"
#include "lib.h"
#include "machine.h"
#include "riscv.h"
#include "sbi.h"
#include "trace.h"
#include "vm.h"
#include "vsbi.h"

/* Suspend types (SBI HSM hart_suspend): the two defaults; the rest we refuse. */
#define SUSPEND_RETENTIVE 0x00000000UL
#define SUSPEND_NON_RETENTIVE 0x80000000UL

_Static_assert(HYP_MAX_HARTS <= 64, "a vCPU set fits one 64-bit mask");

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
static struct sbiret vsbi_time(struct vcpu *v, uint64_t fid, const uint64_t *a);
static struct sbiret vsbi_ipi(struct vcpu *v, uint64_t fid, const uint64_t *a);
static struct sbiret vsbi_rfence(struct vcpu *v, uint64_t fid, const uint64_t *a);
static struct sbiret vsbi_hsm(struct vcpu *v, uint64_t fid, const uint64_t *a);

/*
 * Every extension we implement. probe_extension answers from this table;
 * vsbi_find searches it in order, so Base, which every guest calls first,
 * comes first, then what an SMP Linux calls most.
 */
struct vsbi_extension {
	uint64_t eid;
	struct sbiret (*handler)(struct vcpu *v, uint64_t fid, const uint64_t *args);
	enum vcpu_exit_cause exit; /* where vcpu_print_exits counts its calls */
};
static const struct vsbi_extension vsbi_extensions[] = {
	{ SBI_EXT_BASE, vsbi_base, EXIT_SBI_BASE },
	{ SBI_EXT_TIME, vsbi_time, EXIT_SBI_TIME },
	{ SBI_EXT_IPI, vsbi_ipi, EXIT_SBI_IPI },
	{ SBI_EXT_RFENCE, vsbi_rfence, EXIT_SBI_RFENCE },
	{ SBI_EXT_HSM, vsbi_hsm, EXIT_SBI_HSM },
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
	struct vm *vm = v->vm;
	if (fid != SBI_SRST_RESET)
		return (struct sbiret){ SBI_ERR_NOT_SUPPORTED, 0 };
	uint32_t type = (uint32_t)a[0], reason = (uint32_t)a[1];
	if (type > SBI_SRST_TYPE_WARM_REBOOT || reason > SBI_SRST_REASON_FAILURE)
		return (struct sbiret){ SBI_ERR_INVALID_PARAM, 0 };

	if (type == SBI_SRST_TYPE_SHUTDOWN && reason == SBI_SRST_REASON_NONE) {
		printf("hyp: guest powered off\n");
		vcpu_print_exits(vm->vcpus, vm->nvcpus);
		trace(TRACE_POWEROFF, 0, 0);
		trace_dump();
		machine_poweroff();
	}
	if (type == SBI_SRST_TYPE_SHUTDOWN) {
		printf("hyp: guest powered off reporting a system failure\n");
		vcpu_print_exits(vm->vcpus, vm->nvcpus);
		trace(TRACE_POWEROFF, 0, 0);
		machine_fail();
	}
	/* A reboot of the only VM is a reboot of the machine: QEMU reloads it. */
	printf("hyp: guest asked for a %s reboot\n",
	       type == SBI_SRST_TYPE_COLD_REBOOT ? "cold" : "warm");
	vcpu_print_exits(vm->vcpus, vm->nvcpus);
	return sbi_system_reset(type, reason);
}

/*
 * TIME: set_timer(stime_value). With Sstc the deadline goes to the guest's
 * own vstimecmp, which a guest that knows Sstc writes without us. Without
 * it, it becomes this hart's own (HS) timer deadline, set through the
 * firmware; when it fires, vcpu.c turns it into the guest's timer interrupt
 * (hvip.VSTIP). Either way a new deadline takes a pending one back, as the
 * specification says (vcpu_set_timer).
 */
static struct sbiret vsbi_time(struct vcpu *v, uint64_t fid, const uint64_t *a)
{
	(void)v;
	if (fid != SBI_TIME_SET_TIMER)
		return (struct sbiret){ SBI_ERR_NOT_SUPPORTED, 0 };
	vcpu_set_timer(a[0]);
	return (struct sbiret){ SBI_SUCCESS, 0 };
}

/*
 * The vCPUs that hart_mask and hart_mask_base name (bit i is vCPU base + i;
 * base = -1 is every vCPU), as a mask of vCPU ids. -1 if any is not a vCPU.
 */
static int vsbi_hart_set(const struct vm *vm, uint64_t mask, uint64_t base, uint64_t *set)
{
	int n = vm->nvcpus;

	*set = 0;
	if (base == -1UL) {
		*set = (n == 64) ? ~0UL : (1UL << n) - 1;
		return 0;
	}
	for (int i = 0; i < 64; i++) {
		if (!(mask & (1UL << i)))
			continue;
		if (base + i < base || base + i >= (uint64_t)n)
			return -1;
		*set |= 1UL << (base + i);
	}
	return 0;
}

/* IPI: send_ipi(hart_mask, hart_mask_base), as the guest's software interrupt. */
static struct sbiret vsbi_ipi(struct vcpu *v, uint64_t fid, const uint64_t *a)
{
	uint64_t set;
	if (fid != SBI_IPI_SEND)
		return (struct sbiret){ SBI_ERR_NOT_SUPPORTED, 0 };
	if (vsbi_hart_set(v->vm, a[0], a[1], &set) != 0)
		return (struct sbiret){ SBI_ERR_INVALID_PARAM, 0 };
	/* BEGIN SOLUTION (lab 5): ask each vCPU of the set for a software interrupt */
	for (int id = 0; id < 64; id++)
		if (set & (1UL << id))
			vcpu_request_ipi(v->vm->vcpus[id]);
	/* END SOLUTION (lab 5) */
	return (struct sbiret){ SBI_SUCCESS, 0 };
}

/*
 * RFENCE: remote fence.i (0), sfence.vma (1) and sfence.vma with an ASID (2),
 * all carried out by each target vCPU's hart before we return. The fences
 * for a guest that is itself a hypervisor (3-6) are not offered: no vCPU has H.
 */
static struct sbiret vsbi_rfence(struct vcpu *v, uint64_t fid, const uint64_t *a)
{
	uint64_t set, tickets[HYP_MAX_HARTS];
	struct vm *vm = v->vm;

	if (fid > SBI_RFENCE_SFENCE_VMA_ASID)
		return (struct sbiret){ SBI_ERR_NOT_SUPPORTED, 0 };
	if (vsbi_hart_set(v->vm, a[0], a[1], &set) != 0)
		return (struct sbiret){ SBI_ERR_INVALID_PARAM, 0 };
	/* Ask every target first, then wait: the fences run in parallel. */
	for (int id = 0; id < vm->nvcpus; id++)
		if (set & (1UL << id))
			tickets[id] = vcpu_request_fence(vm->vcpus[id]);
	for (int id = 0; id < vm->nvcpus; id++)
		if (set & (1UL << id))
			vcpu_fence_wait(vm->vcpus[id], tickets[id], v);
	return (struct sbiret){ SBI_SUCCESS, 0 };
}

/*
 * Checks that the guest may run code at gpa: an instruction address (even:
 * with the C extension, which the guest's ISA has, 2-byte aligned; no hart
 * can run at an odd one) in guest RAM that is executable, as
 * vsbi_guest_check() checks data. Returns 0 if so, else -1.
 */
static int vsbi_guest_code(const struct vcpu *v, uint64_t gpa)
{
	uint64_t hpa, perm;
	if ((gpa & 1) != 0)
		return -1;
	if (gstage_translate(v->gstage, gpa, &hpa, &perm) != 0 || !(perm & PTE_X))
		return -1;
	return 0;
}

static long vsbi_hsm_state(enum vcpu_state s)
{
	switch (s) {
	case VCPU_POWERED_OFF:
		return SBI_HSM_STATE_STOPPED;
	case VCPU_RUNNABLE:
		return SBI_HSM_STATE_START_PENDING;
	case VCPU_RUNNING:
		return SBI_HSM_STATE_STARTED;
	case VCPU_SUSPENDED:
		return SBI_HSM_STATE_SUSPENDED;
	case VCPU_STOPPING:
		return SBI_HSM_STATE_STOP_PENDING;
	}
	return SBI_HSM_STATE_STOPPED;
}

/* HSM hart_suspend(type, resume_addr, opaque), on the calling vCPU; type is 32-bit: a0's upper half is ignored. */
static struct sbiret vsbi_hsm_suspend(struct vcpu *v, const uint64_t *a)
{
	uint64_t type = (uint32_t)a[0], resume = a[1], opaque = a[2];

	if (type != SUSPEND_RETENTIVE && type != SUSPEND_NON_RETENTIVE)
		return (struct sbiret){ SBI_ERR_INVALID_PARAM, 0 };
	if (type == SUSPEND_NON_RETENTIVE && vsbi_guest_code(v, resume) != 0)
		return (struct sbiret){ SBI_ERR_INVALID_ADDRESS, 0 };

	vcpu_own_change(v, VCPU_RUNNING, VCPU_SUSPENDED);
	trace(TRACE_SUSPEND, v->id, 0);
	vcpu_wait_interrupt(v); /* the physical hart sleeps in wfi meanwhile */
	trace(TRACE_SUSPEND_END, v->id, 0);
	vcpu_own_change(v, VCPU_SUSPENDED, VCPU_RUNNING);
	if (type == SUSPEND_RETENTIVE)
		return (struct sbiret){ SBI_SUCCESS, 0 };

	/* Non-retentive: as from hart_start, at resume_addr with a1 = opaque, in VS-mode. */
	csr_write(sepc, resume);
	csr_set(sstatus, SSTATUS_SPP);
	v->ctx.guest[REG_A0] = v->id;
	v->ctx.guest[REG_A1] = opaque;
	csr_write(vsatp, 0);
	csr_clear(vsstatus, SSTATUS_SIE);
	v->sbi_no_return = 1;
	return (struct sbiret){ SBI_SUCCESS, 0 };
}

/* HSM: the guest starts, stops, suspends and watches its own vCPUs. */
static struct sbiret vsbi_hsm(struct vcpu *v, uint64_t fid, const uint64_t *a)
{
	struct vm *vm = v->vm;
	uint64_t id = a[0];

	switch (fid) {
	case SBI_HSM_HART_START: {
		/* BEGIN SOLUTION (lab 5): check the hart and address, power the vCPU on, wake its hart */
		if (id >= (uint64_t)vm->nvcpus)
			return (struct sbiret){ SBI_ERR_INVALID_PARAM, 0 };
		if (vsbi_guest_code(v, a[1]) != 0)
			return (struct sbiret){ SBI_ERR_INVALID_ADDRESS, 0 };
		struct vcpu *target = vm->vcpus[id];
		/* STOPPED -> START_PENDING, under the target's lock. */
		enum vcpu_state found = vcpu_power_on(target, a[1], a[2]);
		/*
		 * Not STOPPED: the SBI specification (v2.0, "HSM Hart Start
		 * Errors") names one case, a STARTED hart: ALREADY_AVAILABLE. A
		 * hart on its way in or out (START_PENDING, STOP_PENDING) or
		 * SUSPENDED cannot be started now either: INVALID_PARAM, as
		 * OpenSBI answers for its own harts (sbi_hsm_hart_start, 1.1-1.5.1).
		 */
		if (found == VCPU_RUNNING)
			return (struct sbiret){ SBI_ERR_ALREADY_AVAILABLE, 0 };
		if (found != VCPU_POWERED_OFF)
			return (struct sbiret){ SBI_ERR_INVALID_PARAM, 0 };
		/* Its hart sleeps in wfi until this IPI; then it runs it (STARTED). */
		sbi_send_ipi(1, target->hartid);
		return (struct sbiret){ SBI_SUCCESS, 0 };
		/* END SOLUTION (lab 5), handout: return (struct sbiret){ SBI_ERR_NOT_SUPPORTED, 0 }; */
	}
	case SBI_HSM_HART_STOP:
		/*
		 * STARTED -> STOP_PENDING; vcpu_run() makes it STOPPED on its
		 * way out. A successful hart_stop does not return to the guest.
		 */
		vcpu_own_change(v, VCPU_RUNNING, VCPU_STOPPING);
		trace(TRACE_HART_STOP, v->id, 0);
		vcpu_leave(&v->ctx); /* return from vcpu_enter, in vcpu_run */
	case SBI_HSM_HART_GET_STATUS:
		if (id >= (uint64_t)vm->nvcpus)
			return (struct sbiret){ SBI_ERR_INVALID_PARAM, 0 };
		return (struct sbiret){ SBI_SUCCESS, vsbi_hsm_state(vcpu_get_state(vm->vcpus[id])) };
	case SBI_HSM_HART_SUSPEND:
		return vsbi_hsm_suspend(v, a);
	default:
		return (struct sbiret){ SBI_ERR_NOT_SUPPORTED, 0 };
	}
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
	if (v->sbi_no_return) {
		v->sbi_no_return = 0; /* the call put a new pc in sepc and new a0, a1 */
		return;
	}
	regs[REG_A0] = (uint64_t)ret.error;
	/* Legacy extensions (0x00-0x0f) leave every register but a0 alone. */
	if (eid > SBI_EXT_LEGACY_LAST)
		regs[REG_A1] = (uint64_t)ret.value;
	/* The guest goes on after its ecall: sepc still holds the guest's pc. */
	csr_write(sepc, csr_read(sepc) + 4);
}
