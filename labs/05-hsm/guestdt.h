/*
 * guestdt.h: the device tree the hypervisor gives its guest, built at boot
 * from what platform.c learned, with exactly the vCPUs the guest gets.
 * (Lab 01 compiled a fixed one with dtc; the seed edited linux.dts by hand.)
 */
#ifndef GUESTDT_H
#define GUESTDT_H

#include <stddef.h>
#include <stdint.h>

struct guestdt_config {
	int nvcpus; /* cpu@0 .. cpu@(nvcpus-1) */
	const char *isa; /* each vCPU's ISA, as guestdt_isa writes it */
	const char *mmu_type; /* e.g. "riscv,sv48" */
	uint32_t timebase; /* Hz, copied from the host */
	uint64_t mem_base, mem_size;
	const char *bootargs; /* /chosen/bootargs */
	uint64_t initrd_start, initrd_end; /* guest-physical; both 0 for none */
};

/*
 * Writes the tree into buf. Each cpu gets c->isa as riscv,isa, and the same
 * as riscv,isa-base and riscv,isa-extensions. Returns the tree's size in
 * bytes, or -1 if it does not fit or c->isa does not begin with "rv64i" or
 * "rv32i".
 */
int guestdt_build(void *buf, uint32_t size, const struct guestdt_config *c);

/*
 * The ISA a guest may be told about, from its hart's (a riscv,isa string, as
 * platform.c keeps it): only what works in VS-mode with nothing from this
 * hypervisor. That is the single letters i, m, a, f, d, q and c (no 'h': no
 * nested virtualization), and the unprivileged multi-letter extensions on
 * guestdt.c's list, which says why the others are left out: QEMU's
 * "rv64imafdch_zicsr_zicboz_sstc" gives "rv64imafdc_zicsr". Returns 0, or -1
 * if host_isa does not begin with "rv64" or "rv32" or the result does not fit
 * in size bytes: never a string cut short.
 */
int guestdt_isa(const char *host_isa, char *out, size_t size);

#endif
