/*
 * vcpu.c: running a guest hart, and deciding what each guest trap means.
 * Reference: RISC-V Privileged Architecture, Hypervisor Extension: "Trap
 * Entry", "Transformed Instruction or Pseudoinstruction for mtinst or
 * htinst", and the hstatus/hedeleg/hideleg register descriptions.
 */
#include "console.h"
#include "lib.h"
#include "machine.h"
#include "riscv.h"
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

void vcpu_init(struct vcpu *v, uint64_t id, const struct gstage *g, uint64_t pc,
	       uint64_t arg)
{
	memset(v, 0, sizeof(*v));
	v->id = id;
	v->gstage = g;
	v->pc = pc;
	v->guest_spp = 1; /* start in VS-mode, the guest's supervisor mode */
	v->ctx.guest[REG_A0] = id;
	v->ctx.guest[REG_A1] = arg;
	/* All VS CSRs start at 0: vsatp = 0 (no paging), vsstatus.SIE = 0. */
}

/* Puts this vCPU's VS-level state and our delegation settings in the hart. */
static void vcpu_load(struct vcpu *v)
{
	csr_write(hedeleg, HEDELEG_GUEST);
	csr_write(hideleg, HIDELEG_GUEST);
	csr_write(hcounteren, HCOUNTEREN_CY | HCOUNTEREN_TM | HCOUNTEREN_IR);
	csr_write(hvip, 0);
	csr_write(vsstatus, v->vsstatus);
	csr_write(vsie, v->vsie);
	csr_write(vstvec, v->vstvec);
	csr_write(vsscratch, v->vsscratch);
	csr_write(vsepc, v->vsepc);
	csr_write(vscause, v->vscause);
	csr_write(vstval, v->vstval);
	csr_write(vsatp, v->vsatp);
	/*
	 * Let the guest use the FPU: a guest FP instruction needs both
	 * sstatus.FS and vsstatus.FS on. The hypervisor never touches FP
	 * registers itself, so they belong to the guest.
	 */
	csr_set(sstatus, SSTATUS_FS_INITIAL);
}

/*
 * Delivers an exception to the guest as if the hart had taken it in VS-mode:
 * what the hardware would have done had hedeleg sent it there.
 */
static void vcpu_inject_exception(struct vcpu *v, uint64_t cause, uint64_t tval)
{
	uint64_t vsstatus = csr_read(vsstatus);

	vsstatus &= ~(SSTATUS_SPP | SSTATUS_SPIE);
	if (v->guest_spp)
		vsstatus |= SSTATUS_SPP;
	if (vsstatus & SSTATUS_SIE)
		vsstatus |= SSTATUS_SPIE;
	vsstatus &= ~SSTATUS_SIE;
	csr_write(vsstatus, vsstatus);
	csr_write(vscause, cause);
	csr_write(vstval, tval);
	csr_write(vsepc, v->pc);
	v->pc = csr_read(vstvec) & ~3UL;
	v->guest_spp = 1;
}

/* The guest touched guest-physical memory that is not its own: stop. */
static void vcpu_report_guest_fault(struct vcpu *v)
{
	const char *kind = v->scause == EXC_INST_GUEST_PAGE_FAULT   ? "fetch"
			   : v->scause == EXC_LOAD_GUEST_PAGE_FAULT ? "load"
								    : "store";
	/* htval holds the guest-physical address shifted right by 2. */
	uint64_t gpa = (v->htval << 2) | (v->stval & 3);

	printf("hyp: guest fault: %s at guest-physical 0x%lx, guest pc 0x%lx: not guest RAM\n",
	       kind, gpa, v->pc);
	printf("hyp:   guest virtual address 0x%lx, htinst 0x%lx\n", v->stval, v->htinst);
	printf("hyp: stopping the machine\n");
	machine_fail();
}

static void vcpu_dump(struct vcpu *v)
{
	printf("hyp: unexpected guest trap: %s\n", trap_cause_name(v->scause));
	printf("hyp:   scause 0x%lx sepc 0x%lx stval 0x%lx\n", v->scause, v->pc, v->stval);
	printf("hyp:   htval 0x%lx htinst 0x%lx\n", v->htval, v->htinst);
	printf("hyp:   guest ra 0x%lx sp 0x%lx a0 0x%lx a7 0x%lx\n", v->ctx.guest[REG_RA],
	       v->ctx.guest[REG_SP], v->ctx.guest[REG_A0], v->ctx.guest[REG_A7]);
}

static void vcpu_handle_exit(struct vcpu *v)
{
	switch (v->scause) {
	case EXC_ECALL_VS:
		vsbi_handle(v);
		v->pc += 4; /* resume after the ecall instruction */
		break;
	case EXC_INST_GUEST_PAGE_FAULT:
	case EXC_LOAD_GUEST_PAGE_FAULT:
	case EXC_STORE_GUEST_PAGE_FAULT:
		vcpu_report_guest_fault(v);
		break;
	case EXC_VIRTUAL_INST:
		/*
		 * A VS-mode instruction we could emulate but do not (a hypervisor
		 * CSR, hfence): to the guest it is just illegal. stval holds the
		 * instruction bits, which is what the guest's stval expects.
		 */
		vcpu_inject_exception(v, EXC_ILLEGAL_INST, v->stval);
		break;
	default:
		vcpu_dump(v);
		machine_fail();
	}
}

void vcpu_run(struct vcpu *v)
{
	vcpu_load(v);
	for (;;) {
		/* sret goes to sepc, in V=1 (hstatus.SPV), VS or VU (sstatus.SPP). */
		csr_write(sepc, v->pc);
		csr_set(hstatus, HSTATUS_SPV);
		if (v->guest_spp)
			csr_set(sstatus, SSTATUS_SPP);
		else
			csr_clear(sstatus, SSTATUS_SPP);

		vcpu_enter(&v->ctx);

		v->pc = csr_read(sepc);
		v->guest_spp = (csr_read(sstatus) & SSTATUS_SPP) != 0;
		v->scause = csr_read(scause);
		v->stval = csr_read(stval);
		v->htval = csr_read(htval);
		v->htinst = csr_read(htinst);
		vcpu_handle_exit(v);
	}
}
