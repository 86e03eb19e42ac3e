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
	v->ctx.guest[REG_A0] = id;
	v->ctx.guest[REG_A1] = arg;
}

/* Puts the vCPU's starting state and our delegation settings in the hart. */
static void vcpu_load(struct vcpu *v)
{
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
}

void vcpu_run(struct vcpu *v)
{
	vcpu_load(v);
	vcpu_enter(&v->ctx);
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
