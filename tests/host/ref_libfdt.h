/*
 * ref_libfdt.h: libfdt, the device-tree library of the dtc project, behind
 * names of our own: the reference that test_fdt.c compares labs/02-dtb
 * against.
 *
 * Why a separate file: no C file can include both libfdt.h and the lab's
 * fdt.h. libfdt.h includes libfdt's own <fdt.h>, which has the same name
 * and the same include guard (FDT_H) as the lab's, so whichever comes first
 * hides the other. And the FDT_ERR_... codes have other values (libfdt's
 * are positive and returned negated, the lab's negative), and libfdt.h
 * makes fdt_totalsize() a macro where the lab's header declares a function.
 * So test_fdt.c includes the lab's fdt.h, ref_libfdt.c includes libfdt.h,
 * and they talk through this header in plain C types. The errors these
 * functions return are libfdt's (negative); ref_strerror() names them.
 */
#ifndef REF_LIBFDT_H
#define REF_LIBFDT_H

#include <stddef.h>
#include <stdint.h>

#include "param.h" /* HYP_MAX_HARTS, PLATFORM_MAX_CPUS, HART_ISA_MAX */

/* fdt_check_full(): 0 if the whole blob is well formed. */
int ref_check_full(const void *fdt, size_t bufsize);
const char *ref_strerror(int err);

/* Nodes: fdt_first_subnode, fdt_next_subnode, fdt_get_name, fdt_subnode_offset. */
int ref_first_subnode(const void *fdt, int node);
int ref_next_subnode(const void *fdt, int node);
const char *ref_get_name(const void *fdt, int node);
int ref_subnode_offset(const void *fdt, int parent, const char *name);

/* Properties: fdt_getprop, and walking a node's properties one by one. */
const void *ref_getprop(const void *fdt, int node, const char *name, int *len);
int ref_first_property(const void *fdt, int node);
int ref_next_property(const void *fdt, int prop);
const void *ref_property_at(const void *fdt, int prop, const char **name, int *len);

/*
 * fdt.c accepts two things libfdt's fdt_check_full() rejects, on purpose
 * (see test_fdt.c, "the corruption invariant"): a root node with a name,
 * and NOP tokens between the root's END_NODE and FDT_END. If the blob has
 * either and fdt_check_full() accepts it once they are repaired (in a
 * copy), this returns which one; otherwise NULL.
 */
const char *ref_lenient_reason(const void *fdt, size_t size);

/*
 * What platform_read() should learn from a tree, worked out with libfdt
 * alone from the rules platform.h states, not from platform.c. When a tree
 * has several problems, the one reported is the first platform_read meets:
 * /cpus, then each cpu in tree order, then the timebase and the harts, then
 * /memory, then (from lab 05 on: LAB_NUMBER, given by the Makefile) /chosen's
 * initrd.
 */
struct ref_cpu {
	uint64_t hartid;
	char use; /* 'U' used, 'D' disabled, 'N' no H extension, 'O' over the limit */
	char isa[HART_ISA_MAX]; /* as one riscv,isa string, from either binding */
};

struct ref_platform {
	const char *error; /* NULL, or a phrase platform_read's *why must contain */
	int ncpus;
	struct ref_cpu cpus[PLATFORM_MAX_CPUS];
	int nharts;
	uint64_t hartids[HYP_MAX_HARTS];
	uint32_t timebase;
	const char *mmu_type; /* "" if no used cpu has one */
	uint64_t mem_base, mem_size;
#if LAB_NUMBER >= 5
	uint64_t initrd_start, initrd_end; /* 0 and 0 for none */
#endif
};

/*
 * Fills r for boot hart boot_hartid, from a blob fdt_check_full() accepts
 * (or refuses only for what ref_lenient_reason() allows).
 */
void ref_platform_read(const void *fdt, uint64_t boot_hartid, struct ref_platform *r);

/*
 * A copy of the blob fdt with the property name of every cpu node set to
 * value (len bytes), or deleted where there is one if value is NULL, in a
 * buffer malloc'ed to exactly its size (*size). NULL if libfdt cannot.
 */
uint8_t *ref_cpus_setprop(const void *fdt, const char *name, const void *value, int len,
			  size_t *size);

/* The same for the one node /chosen, made if the tree has none. */
uint8_t *ref_chosen_setprop(const void *fdt, const char *name, const void *value, int len,
			    size_t *size);

#endif
