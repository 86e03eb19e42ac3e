/*
 * platform.h: what the firmware's device tree says about this machine:
 * its harts, their ISA, the timebase and the memory. Lab 01 hard-coded all
 * of this (the seed's `cpu_nums = 1`); from lab 02 on it is read at boot.
 */
#ifndef PLATFORM_H
#define PLATFORM_H

#include <stdint.h>

#include "param.h"

/* What became of one cpu node. */
enum platform_cpu_use {
	CPU_USED, /* we run on this hart */
	CPU_DISABLED, /* status is not "okay" */
	CPU_NO_H, /* its ISA has no 'h': it cannot run guests */
	CPU_OVER_LIMIT, /* more harts than HYP_MAX_HARTS */
};

struct platform_cpu {
	uint64_t hartid; /* from the node's reg */
	char isa[HART_ISA_MAX]; /* as riscv,isa spells it, e.g. "rv64imafdch_zicsr_..." */
	enum platform_cpu_use use;
};

struct platform {
	int ncpus; /* cpu nodes in the tree */
	struct platform_cpu cpus[PLATFORM_MAX_CPUS]; /* the first ones, in tree order */
	int nharts; /* harts we use, boot hart first */
	int over_limit; /* usable harts left out: HYP_MAX_HARTS */
	uint64_t hartids[HYP_MAX_HARTS];
	uint32_t timebase; /* Hz */
	char mmu_type[16]; /* the boot hart's, e.g. "riscv,sv48" */
	uint64_t boot_hartid;
	char boot_isa[HART_ISA_MAX]; /* the boot hart's ISA, as in cpus[] */
	uint64_t mem_base, mem_size; /* the first /memory range */
	uint64_t initrd_start, initrd_end; /* /chosen: QEMU's -initrd, or 0 */
};

/*
 * Fills p from the device tree at fdt (at most bufsize bytes). The boot hart
 * comes first in p->hartids, then the other usable harts in tree order, up to
 * HYP_MAX_HARTS. Each cpu's ISA is read from riscv,isa-base and
 * riscv,isa-extensions, or else from riscv,isa, and kept as one riscv,isa
 * string; one longer than HART_ISA_MAX - 1 is an error, not cut short.
 * Returns 0, or -1 with *why naming the problem (until the next call).
 */
int platform_read(const void *fdt, uint64_t bufsize, uint64_t boot_hartid,
		  struct platform *p, const char **why);

/*
 * 1 if the ISA string names the single-letter extension ext (e.g. 'h'). The
 * single letters follow "rv64" and end at the first '_' or at the first
 * multi-letter extension, which begins with 'z', 's' or 'x'.
 */
int platform_isa_has(const char *isa, char ext);

/*
 * 1 if the ISA string names the multi-letter extension ext (e.g. "sstc"):
 * one of its '_'-separated names, as QEMU writes riscv,isa and as
 * platform_read() spells riscv,isa-extensions.
 */
int platform_isa_has_ext(const char *isa, const char *ext);

/* The ISA of the boot hart or of a hart in the table ("" if neither). */
const char *platform_isa(const struct platform *p, uint64_t hartid);

/* A word for each enum platform_cpu_use, for the boot table. */
const char *platform_use_name(enum platform_cpu_use use);

#endif
