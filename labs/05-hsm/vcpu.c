/*
 * vcpu.c: running a guest hart, and deciding what each guest trap means.
 * Reference: RISC-V Privileged Architecture, Hypervisor Extension: "Trap
 * Entry", "Transformed Instruction or Pseudoinstruction for mtinst or
 * htinst", and the hstatus/hedeleg/hideleg register descriptions.
 */
#include "console.h"
#include "hart.h"
#include "lib.h"
#include "machine.h"
#include "riscv.h"
#include "sbi.h"
#include "trace.h"
#include "trap.h"
#include "vcpu.h"
#include "vsbi.h"

/*
 * Exceptions the guest handles itself, without a trip through us (hedeleg):
 * every one a real hart would give its kernel, misaligned loads, stores and
 * AMOs included (Linux takes those in its own trap handler). Guest page
 * faults, ecalls from VS-mode and virtual instructions are ours. Access
 * faults stay ours too: in guest RAM only our own memory protection can
 * cause one.
 */
#define HEDELEG_GUEST                                                  \
	((1UL << EXC_INST_MISALIGNED) | (1UL << EXC_ILLEGAL_INST) |    \
	 (1UL << EXC_BREAKPOINT) | (1UL << EXC_LOAD_MISALIGNED) |      \
	 (1UL << EXC_STORE_MISALIGNED) | (1UL << EXC_ECALL_U) |        \
	 (1UL << EXC_INST_PAGE_FAULT) | (1UL << EXC_LOAD_PAGE_FAULT) | \
	 (1UL << EXC_STORE_PAGE_FAULT))

/* VS-level interrupts go straight to the guest (hideleg). */
#define HIDELEG_GUEST ((1UL << IRQ_VS_SOFT) | (1UL << IRQ_VS_TIMER) | (1UL << IRQ_VS_EXT))

static void vcpu_timer_fired(void);

/*
 * 1 if guests have Sstc: set by the boot hart in vcpu_timer_init, before any
 * vCPU runs, and read-only after (the rendezvous publishes it).
 */
static int vcpu_sstc;

void vcpu_init(struct vcpu *v, uint64_t id, uint64_t hartid, struct vm *vm,
	       const struct gstage *g)
{
	memset(v, 0, sizeof(*v));
	v->lock = (struct spinlock)SPINLOCK_INIT("vcpu");
	v->state = VCPU_POWERED_OFF;
	v->id = id;
	v->hartid = hartid;
	v->vm = vm;
	v->gstage = g;
}

enum vcpu_state vcpu_power_on(struct vcpu *v, uint64_t pc, uint64_t arg)
{
	spin_lock(&v->lock);
	enum vcpu_state found = v->state;
	if (found != VCPU_POWERED_OFF) {
		spin_unlock(&v->lock);
		return found;
	}
	/* A fresh start: no registers, no interrupt from before (vcpu_load resets the CSRs). */
	memset(&v->ctx.guest, 0, sizeof(v->ctx.guest));
	v->pc = pc;
	v->ctx.guest[REG_A0] = v->id;
	v->ctx.guest[REG_A1] = arg;
	__atomic_store_n(&v->ipi_pending, 0, __ATOMIC_RELAXED);
	v->state = VCPU_RUNNABLE;
	trace(TRACE_VCPU_START, v->id, v->hartid);
	spin_unlock(&v->lock);
	return found;
}

enum vcpu_state vcpu_change_state(struct vcpu *v, enum vcpu_state from, enum vcpu_state to)
{
	spin_lock(&v->lock);
	enum vcpu_state found = v->state;
	if (found == from)
		v->state = to;
	spin_unlock(&v->lock);
	return found;
}

static const char *vcpu_state_name(enum vcpu_state s)
{
	static const char *const names[] = { "PoweredOff", "Runnable", "Running", "Suspended",
					     "Stopping" };
	return s < ARRAY_SIZE(names) ? names[s] : "unknown";
}

void vcpu_own_change(struct vcpu *v, enum vcpu_state from, enum vcpu_state to)
{
	enum vcpu_state found = vcpu_change_state(v, from, to);
	if (found != from)
		panic("vcpu_own_change: vCPU %lu is %s, not %s\n", v->id, vcpu_state_name(found),
		      vcpu_state_name(from));
}

/*
 * Interrupts the hart that runs v, so that it carries out v's requests: an
 * IPI, or on this hart its own supervisor software interrupt, which traps
 * as soon as the guest runs again (V=1 takes every HS interrupt) and which
 * a hart waiting in wfi sees as well.
 */
static void vcpu_kick(struct vcpu *v)
{
	trace(TRACE_IPI_SEND, v->hartid, 0);
	if (v->hartid != hart_self()->hartid)
		sbi_send_ipi(1, v->hartid);
	else
		csr_set(sip, 1UL << IRQ_S_SOFT);
}

void vcpu_request_ipi(struct vcpu *v)
{
	/* Pairs with the amoswap.w.aq in vcpu_handle_requests(). */
	__atomic_store_n(&v->ipi_pending, 1, __ATOMIC_RELEASE);
	vcpu_kick(v);
}

uint64_t vcpu_request_fence(struct vcpu *v)
{
	/* fence iorw,ow; amoadd.d.aq: the asker's earlier stores (new page tables) come first. */
	uint64_t ticket = __atomic_add_fetch(&v->fences_asked, 1, __ATOMIC_ACQ_REL);
	vcpu_kick(v);
	return ticket;
}

void vcpu_fence_wait(struct vcpu *v, uint64_t ticket, struct vcpu *self)
{
	/* Pairs with the store-release of fences_done in vcpu_handle_requests(). */
	while (__atomic_load_n(&v->fences_done, __ATOMIC_ACQUIRE) < ticket)
		vcpu_handle_requests(self); /* v's hart may be waiting for us, too */
}

void vcpu_handle_requests(struct vcpu *v)
{
	/* amoswap.w.aq: take the IPI request, seeing what was written before it. */
	if (__atomic_exchange_n(&v->ipi_pending, 0, __ATOMIC_ACQUIRE))
		csr_set(hvip, 1UL << IRQ_VS_SOFT); /* the guest clears it through sip */

	/*
	 * Every fence asked for up to `asked` is covered by fences done after
	 * this load. One fence.i and one full hfence.vvma serve all of them:
	 * flushing more than asked is always allowed.
	 */
	uint64_t asked = __atomic_load_n(&v->fences_asked, __ATOMIC_ACQUIRE);
	if (asked != v->fences_done) {
		fence_i();
		hfence_vvma_all();
		/* Pairs with the load-acquire in vcpu_fence_wait(). */
		__atomic_store_n(&v->fences_done, asked, __ATOMIC_RELEASE);
	}
}

int vcpu_timer_init(int platform_sstc)
{
	if (platform_sstc) {
		/* henvcfg.STCE is read-only 0 unless the firmware set menvcfg.STCE. */
		csr_set(henvcfg, HENVCFG_STCE);
		vcpu_sstc = (csr_read(henvcfg) & HENVCFG_STCE) != 0;
		csr_clear(henvcfg, HENVCFG_STCE);
	}
	return vcpu_sstc;
}

void vcpu_set_timer(uint64_t stime_value)
{
	/* BEGIN SOLUTION (lab 5): set the guest's deadline, taking back a pending one */
	if (vcpu_sstc) {
		/* The hart compares vstimecmp with time itself: VSTIP follows. */
		csr_write(vstimecmp, stime_value);
		return;
	}
	/* Our own timer stands in: a pending VSTIP is ours to take back. */
	csr_clear(hvip, 1UL << IRQ_VS_TIMER);
	sbi_set_timer(stime_value);
	/* END SOLUTION (lab 5), handout: (void)stime_value; */
}

/* Without Sstc, the guest's deadline passed: give it its timer interrupt. */
static void vcpu_timer_fired(void)
{
	/* Silence our own timer (STIP) until the guest sets a new deadline. */
	sbi_set_timer(UINT64_MAX);
	/* The guest sees VSTIP as its sip.STIP; its next set_timer clears it. */
	csr_set(hvip, 1UL << IRQ_VS_TIMER);
}

void vcpu_wait_interrupt(struct vcpu *v)
{
	const uint64_t vs_irqs = (1UL << IRQ_VS_SOFT) | (1UL << IRQ_VS_TIMER) | (1UL << IRQ_VS_EXT);
	for (;;) {
		/* Clear first: an IPI after this line stays pending and ends the wfi. */
		csr_clear(sip, 1UL << IRQ_S_SOFT);
		vcpu_handle_requests(v);
		/* Our own timer stands in for the guest's only without Sstc. */
		if (!vcpu_sstc && (csr_read(sip) & (1UL << IRQ_S_TIMER)))
			vcpu_timer_fired();
		/*
		 * hip & hie: pending for the guest, and enabled by it (its sie).
		 * With Sstc, hip.VSTIP is also on while vstimecmp <= time.
		 */
		if (csr_read(hip) & csr_read(hie) & vs_irqs)
			return;
		wfi();
	}
}

enum vcpu_state vcpu_get_state(struct vcpu *v)
{
	spin_lock(&v->lock);
	enum vcpu_state s = v->state;
	spin_unlock(&v->lock);
	return s;
}

/*
 * Turns on G-stage translation of g on this hart: the one place that writes
 * hgatp, on whichever hart runs a vCPU.
 */
static void vcpu_set_gstage(const struct gstage *g)
{
	csr_write(hgatp, gstage_hgatp(g, 0));
	/* hgatp.MODE is WARL: a hart without Sv39x4 reads back another mode. */
	if ((csr_read(hgatp) & HGATP_MODE_MASK) != HGATP_MODE_SV39X4)
		panic("hart %lu does not support Sv39x4 G-stage translation\n", hart_self()->hartid);
	/* Drop any G-stage translations cached before the table existed. */
	hfence_gvma_all();
}

/* Puts this vCPU's VS-level state and our delegation settings in the hart. */
static void vcpu_load(struct vcpu *v)
{
	/* The VM's memory, on whichever hart this vCPU runs. */
	vcpu_set_gstage(v->gstage);
	hfence_vvma_all(); /* a new start: nothing of an earlier guest run */
	/* Other harts kick this one with IPIs: they must bring us out of the guest. */
	csr_set(sie, 1UL << IRQ_S_SOFT);
	/*
	 * No deadline until the guest sets one. With Sstc it is the guest's own
	 * stimecmp (vstimecmp; htimedelta 0: the guest sees our time), and our
	 * own timer stays silent: its STIP may be pending from reset, when
	 * stimecmp is 0, and the firmware lets us write stimecmp (menvcfg.STCE,
	 * as vcpu_timer_init saw). Else it is this hart's timer (vsbi_time),
	 * set through the firmware, which must bring us out too.
	 */
	if (vcpu_sstc) {
		csr_write(stimecmp, UINT64_MAX);
		csr_set(henvcfg, HENVCFG_STCE);
		csr_write(htimedelta, 0);
		csr_write(vstimecmp, UINT64_MAX);
	} else {
		sbi_set_timer(UINT64_MAX);
		csr_set(sie, 1UL << IRQ_S_TIMER);
	}
	csr_write(hedeleg, HEDELEG_GUEST);
	csr_write(hideleg, HIDELEG_GUEST);
	csr_write(hcounteren, HCOUNTEREN_CY | HCOUNTEREN_TM | HCOUNTEREN_IR);
	csr_write(hvip, 0);
	/* All VS CSRs start at 0: vsatp = 0 (no paging), vsstatus.SIE = 0. */
	csr_write(vsstatus, 0);
	csr_write(vsie, 0);
	csr_write(vstvec, 0);
	csr_write(vsscratch, 0);
	csr_write(vsepc, 0);
	csr_write(vscause, 0);
	csr_write(vstval, 0);
	csr_write(vsatp, 0);
	/*
	 * Let the guest use the FPU: a guest FP instruction needs both
	 * sstatus.FS and vsstatus.FS on. The hypervisor never touches FP
	 * registers itself, so they belong to the guest.
	 */
	csr_set(sstatus, SSTATUS_FS_INITIAL);
	/* sret goes to sepc, in V=1 (hstatus.SPV), in VS-mode (sstatus.SPP). */
	csr_write(sepc, v->pc);
	csr_set(hstatus, HSTATUS_SPV);
	csr_set(sstatus, SSTATUS_SPP);
}

/*
 * Delivers an exception to the guest as if the hart had taken it in VS-mode:
 * what the hardware would have done had hedeleg sent it there. The guest's
 * pc and mode at the trap are still in sepc and sstatus.SPP.
 */
static void vcpu_inject_exception(uint64_t cause, uint64_t tval)
{
	uint64_t vsstatus = csr_read(vsstatus);

	vsstatus &= ~(SSTATUS_SPP | SSTATUS_SPIE);
	vsstatus |= csr_read(sstatus) & SSTATUS_SPP;
	if (vsstatus & SSTATUS_SIE)
		vsstatus |= SSTATUS_SPIE;
	vsstatus &= ~SSTATUS_SIE;
	csr_write(vsstatus, vsstatus);
	csr_write(vscause, cause);
	csr_write(vstval, tval);
	csr_write(vsepc, csr_read(sepc));
	/* Resume at the guest's trap handler, in VS-mode. */
	csr_write(sepc, csr_read(vstvec) & ~3UL);
	csr_set(sstatus, SSTATUS_SPP);
}

/* The guest touched guest-physical memory that is not its own: stop. */
static void vcpu_report_guest_fault(uint64_t scause)
{
	const char *kind = scause == EXC_INST_GUEST_PAGE_FAULT   ? "fetch"
			   : scause == EXC_LOAD_GUEST_PAGE_FAULT ? "load"
								 : "store";
	uint64_t stval = csr_read(stval);
	/* htval holds the guest-physical address shifted right by 2. */
	uint64_t gpa = (csr_read(htval) << 2) | (stval & 3);

	printf("hyp: guest fault: %s at guest-physical 0x%lx, guest pc 0x%lx: not guest RAM\n",
	       kind, gpa, csr_read(sepc));
	printf("hyp:   guest virtual address 0x%lx, htinst 0x%lx\n", stval, csr_read(htinst));
	printf("hyp: stopping the machine\n");
	machine_fail();
}

static void vcpu_dump(struct vcpu *v, uint64_t scause)
{
	printf("hyp: unexpected guest trap: %s\n", trap_cause_name(scause));
	printf("hyp:   scause 0x%lx sepc 0x%lx stval 0x%lx\n", scause, csr_read(sepc),
	       csr_read(stval));
	printf("hyp:   htval 0x%lx htinst 0x%lx\n", csr_read(htval), csr_read(htinst));
	printf("hyp:   guest ra 0x%lx sp 0x%lx a0 0x%lx a7 0x%lx\n", v->ctx.guest[REG_RA],
	       v->ctx.guest[REG_SP], v->ctx.guest[REG_A0], v->ctx.guest[REG_A7]);
}

/*
 * Every exit but an SBI call. scause, stval, htval and htinst still hold
 * why the guest trapped: nothing in the hypervisor traps in between.
 */
static void vcpu_handle_trap(struct vcpu *v, uint64_t scause)
{
	switch (scause) {
	case EXC_INST_GUEST_PAGE_FAULT:
	case EXC_LOAD_GUEST_PAGE_FAULT:
	case EXC_STORE_GUEST_PAGE_FAULT:
		vcpu_count_exit(v, EXIT_GUEST_PAGE_FAULT);
		vcpu_report_guest_fault(scause);
		break;
	case EXC_VIRTUAL_INST:
		/*
		 * A VS-mode instruction we could emulate but do not (a hypervisor
		 * CSR, hfence): to the guest it is just illegal. stval holds the
		 * instruction bits, which is what the guest's stval expects.
		 */
		vcpu_count_exit(v, EXIT_VIRTUAL_INST);
		vcpu_inject_exception(EXC_ILLEGAL_INST, csr_read(stval));
		break;
	case SCAUSE_INTR | IRQ_S_SOFT:
		/* Another hart (or this one) left a request and kicked us. */
		vcpu_count_exit(v, EXIT_KICK);
		csr_clear(sip, 1UL << IRQ_S_SOFT);
		vcpu_handle_requests(v);
		break;
	case SCAUSE_INTR | IRQ_S_TIMER:
		vcpu_count_exit(v, EXIT_TIMER);
		vcpu_timer_fired();
		break;
	default:
		vcpu_count_exit(v, EXIT_OTHER);
		vcpu_dump(v, scause);
		machine_fail();
	}
}

void vcpu_exit(struct vcpu *v)
{
	/* The common exit first: an SBI call. */
	if (csr_read(scause) == EXC_ECALL_VS)
		vsbi_handle(v);
	else
		vcpu_handle_trap(v, csr_read(scause));
	trace(TRACE_RESUME, v->id, 0);
}

void vcpu_run(struct vcpu *v)
{
	/* START_PENDING -> STARTED: we are about to enter the guest. */
	vcpu_own_change(v, VCPU_RUNNABLE, VCPU_RUNNING);

	vcpu_load(v);
	trace(TRACE_GUEST_ENTER, v->id, 0);
	/* Runs the guest until hart_stop (vcpu_leave); every other exit goes back in. */
	vcpu_enter(&v->ctx);

	/* Leave nothing behind: no deadline, no pending guest interrupt, no kick. */
	if (vcpu_sstc) {
		csr_write(vstimecmp, UINT64_MAX);
	} else {
		sbi_set_timer(UINT64_MAX);
		csr_clear(sie, 1UL << IRQ_S_TIMER);
	}
	csr_write(hvip, 0);
	/* STOP_PENDING -> STOPPED: only now may hart_start restart it. */
	vcpu_own_change(v, VCPU_STOPPING, VCPU_POWERED_OFF);
}

/* One row of the exit table: a count per vCPU, and their sum if there are several. */
static void vcpu_print_exit_row(const char *name, const uint64_t *counts, int n, uint64_t sum)
{
	printf("hyp:   %-20s", name);
	for (int i = 0; i < n; i++)
		printf("%9lu", counts[i]);
	if (n > 1)
		printf("%9lu", sum);
	printf("\n");
}

void vcpu_print_exits(struct vcpu *const *vcpus, int n)
{
	uint64_t row[n], all[n]; /* one cause's counts; every cause's, per vCPU */
	uint64_t total = 0;

	memset(all, 0, sizeof(all));
	printf("%-27s", "hyp: exits by cause");
	for (int i = 0; i < n; i++)
		printf("%8s%d", "vcpu", i);
	printf(n > 1 ? "    total\n" : "\n");
	for (int c = 0; c < EXIT_CAUSES; c++) {
		uint64_t sum = 0;
		for (int i = 0; i < n; i++) {
			/* Pairs with the volatile store in vcpu_count_exit(): read once. */
			row[i] = *(volatile const uint64_t *)&vcpus[i]->exits[c];
			sum += row[i];
			all[i] += row[i];
		}
		total += sum;
		if (sum != 0)
			vcpu_print_exit_row(vcpu_exit_name(c), row, n, sum);
	}
	vcpu_print_exit_row("all", all, n, total);
}
