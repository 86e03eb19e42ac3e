/*
 * trap.c: traps taken by the hypervisor itself, in HS-mode.
 * In this lab none is expected, except during trap_probe_h(): any other
 * prints the CSRs that explain it and stops the machine.
 */
#include "console.h"
#include "lib.h"
#include "machine.h"
#include "riscv.h"
#include "trap.h"

extern void trap_vector(void);

/* Set while trap_probe_h() reads hstatus; cleared by the trap if it faults. */
static volatile int probing, probe_faulted;

void trap_init(void)
{
	/* Direct mode: every trap goes to trap_vector (4-byte aligned). */
	csr_write(stvec, (uint64_t)trap_vector);
}

int trap_probe_h(void)
{
	probing = 1;
	probe_faulted = 0;
	/* Without the H extension this csrr is an illegal instruction. */
	uint64_t v = csr_read(hstatus);
	(void)v;
	probing = 0;
	return !probe_faulted;
}

const char *trap_cause_name(uint64_t scause)
{
	static const char *const names[] = {
		[EXC_INST_MISALIGNED] = "instruction address misaligned",
		[EXC_INST_ACCESS] = "instruction access fault",
		[EXC_ILLEGAL_INST] = "illegal instruction",
		[EXC_BREAKPOINT] = "breakpoint",
		[EXC_LOAD_MISALIGNED] = "load address misaligned",
		[EXC_LOAD_ACCESS] = "load access fault",
		[EXC_STORE_MISALIGNED] = "store/AMO address misaligned",
		[EXC_STORE_ACCESS] = "store/AMO access fault",
		[EXC_ECALL_U] = "ecall from U/VU-mode",
		[EXC_ECALL_S] = "ecall from HS-mode",
		[EXC_ECALL_VS] = "ecall from VS-mode",
		[EXC_INST_PAGE_FAULT] = "instruction page fault",
		[EXC_LOAD_PAGE_FAULT] = "load page fault",
		[EXC_STORE_PAGE_FAULT] = "store/AMO page fault",
		[EXC_INST_GUEST_PAGE_FAULT] = "instruction guest-page fault",
		[EXC_LOAD_GUEST_PAGE_FAULT] = "load guest-page fault",
		[EXC_VIRTUAL_INST] = "virtual instruction",
		[EXC_STORE_GUEST_PAGE_FAULT] = "store/AMO guest-page fault",
	};
	if (scause & SCAUSE_INTR)
		return "interrupt";
	if (scause < ARRAY_SIZE(names) && names[scause] != 0)
		return names[scause];
	return "unknown";
}

/* Called by trap.S with the registers it saved (regs[n] is xn). */
void trap_hyp(uint64_t *regs)
{
	uint64_t scause = csr_read(scause);

	/* Without H: illegal instruction; inside a guest (V=1): virtual. */
	if (probing && (scause == EXC_ILLEGAL_INST || scause == EXC_VIRTUAL_INST)) {
		probe_faulted = 1;
		csr_write(sepc, csr_read(sepc) + 4); /* skip the 4-byte csrr */
		return;
	}

	printf("hyp: unexpected trap in the hypervisor: %s\n", trap_cause_name(scause));
	printf("hyp:   scause 0x%lx sepc 0x%lx stval 0x%lx\n", scause,
	       csr_read(sepc), csr_read(stval));
	/* htval and htinst exist only with the H extension. */
	if (!probe_faulted)
		printf("hyp:   htval 0x%lx htinst 0x%lx\n", csr_read(htval),
		       csr_read(htinst));
	printf("hyp:   ra 0x%lx sp 0x%lx\n", regs[1], regs[2]);
	machine_fail();
}
