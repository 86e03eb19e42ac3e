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
	int nvcpus;           /* cpu@0 .. cpu@(nvcpus-1) */
	const char *isa;      /* each vCPU's riscv,isa (see guestdt_isa) */
	const char *mmu_type; /* e.g. "riscv,sv48" */
	uint32_t timebase;    /* Hz, copied from the host */
	uint64_t mem_base, mem_size;
	const char *bootargs; /* /chosen/bootargs */
};

/* Writes the tree into buf. Returns its size in bytes, or -1 if it does not fit. */
int guestdt_build(void *buf, uint32_t size, const struct guestdt_config *c);

/*
 * The ISA a guest may be told about, from its hart's riscv,isa: every
 * single-letter extension but 'h' (no nested virtualization), and the
 * unprivileged multi-letter ones ("_z..."); supervisor ("_s..."), hypervisor
 * ("_h...") and vendor ("_x...") extensions need the hypervisor's help, which
 * this lab does not give.
 */
void guestdt_isa(const char *host_isa, char *out, size_t size);

#endif
