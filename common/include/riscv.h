/*
 * riscv.h: CSR access and the bit fields the labs use.
 * References: RISC-V Privileged Architecture, chapters "Supervisor-Level ISA"
 * and "Hypervisor Extension" (hstatus, hgatp, hvip, ...).
 */
#ifndef RISCV_H
#define RISCV_H

#include <stdint.h>

/* A CSR by name (sstatus), or by a macro that names it. */
#define CSR_NAME(csr) #csr
/* clang-format off */
#define csr_read(csr)                                                  \
	({                                                             \
		uint64_t v_;                                           \
		asm volatile("csrr %0, " CSR_NAME(csr) : "=r"(v_));    \
		v_;                                                    \
	})
/* clang-format on */
#define csr_write(csr, val) asm volatile("csrw " CSR_NAME(csr) ", %0" ::"r"((uint64_t)(val)))
#define csr_set(csr, val) asm volatile("csrs " CSR_NAME(csr) ", %0" ::"r"((uint64_t)(val)))
#define csr_clear(csr, val) asm volatile("csrc " CSR_NAME(csr) ", %0" ::"r"((uint64_t)(val)))

/* sstatus (and vsstatus, which has the same layout) */
#define SSTATUS_SIE (1UL << 1)
#define SSTATUS_SPIE (1UL << 5)
#define SSTATUS_SPP (1UL << 8)
#define SSTATUS_FS_MASK (3UL << 13)
#define SSTATUS_FS_INITIAL (1UL << 13)

/* hstatus */
#define HSTATUS_GVA (1UL << 6) /* stval holds a guest virtual address */
#define HSTATUS_SPV (1UL << 7) /* sret returns to V=1 (the guest) */
#define HSTATUS_SPVP (1UL << 8) /* privilege the guest trapped from */
#define HSTATUS_VTW (1UL << 21) /* trap guest wfi */

/* scause: interrupts have bit 63 set */
#define SCAUSE_INTR (1UL << 63)
#define EXC_INST_MISALIGNED 0
#define EXC_INST_ACCESS 1
#define EXC_ILLEGAL_INST 2
#define EXC_BREAKPOINT 3
#define EXC_LOAD_MISALIGNED 4
#define EXC_LOAD_ACCESS 5
#define EXC_STORE_MISALIGNED 6
#define EXC_STORE_ACCESS 7
#define EXC_ECALL_U 8
#define EXC_ECALL_S 9
#define EXC_ECALL_VS 10
#define EXC_INST_PAGE_FAULT 12
#define EXC_LOAD_PAGE_FAULT 13
#define EXC_STORE_PAGE_FAULT 15
#define EXC_INST_GUEST_PAGE_FAULT 20
#define EXC_LOAD_GUEST_PAGE_FAULT 21
#define EXC_VIRTUAL_INST 22
#define EXC_STORE_GUEST_PAGE_FAULT 23

/* interrupt numbers (bits of sip/sie/hip/hie/hvip/hideleg) */
#define IRQ_S_SOFT 1
#define IRQ_VS_SOFT 2
#define IRQ_S_TIMER 5
#define IRQ_VS_TIMER 6
#define IRQ_S_EXT 9
#define IRQ_VS_EXT 10

/* hgatp: MODE[63:60] VMID[57:44] PPN[43:0] */
#define HGATP_MODE_SV39X4 (8UL << 60)
#define HGATP_MODE_MASK (0xfUL << 60)
#define HGATP_VMID_SHIFT 44
#define HGATP_VMID_MASK 0x3fffUL

/* hcounteren: let the guest read cycle, time and instret */
#define HCOUNTEREN_CY (1UL << 0)
#define HCOUNTEREN_TM (1UL << 1)
#define HCOUNTEREN_IR (1UL << 2)

/* henvcfg */
#define HENVCFG_STCE (1UL << 63) /* Sstc for the guest: its stimecmp is vstimecmp */

/* page table entries (VS-stage and G-stage share the format) */
#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_U (1UL << 4)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)

#define PAGE_SIZE 4096UL

/* clang-format off */
/*
 * Flushes every cached G-stage translation on this hart. GCC 12 rejects 'h'
 * in -march, so the instruction turns the H extension on for itself.
 */
static inline void hfence_gvma_all(void)
{
	asm volatile(".option push\n.option arch, +h\nhfence.gvma zero, zero\n.option pop"
		     ::: "memory");
}

/* Flushes the VS-stage (guest page table) translations cached on this hart. */
static inline void hfence_vvma_all(void)
{
	asm volatile(".option push\n.option arch, +h\nhfence.vvma zero, zero\n.option pop"
		     ::: "memory");
}

/* Makes this hart's instruction fetches see its earlier stores (Zifencei). */
static inline void fence_i(void)
{
	asm volatile("fence.i" ::: "memory");
}
/* clang-format on */

static inline void wfi(void)
{
	asm volatile("wfi");
}

#endif
