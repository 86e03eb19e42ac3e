/*
 * gstage.h: the G-stage (guest-physical -> host-physical) page table.
 * Reference: RISC-V Privileged Architecture, Hypervisor Extension,
 * "Two-Stage Address Translation" and "Guest Physical Address Translation":
 * Sv39x4 is Sv39 with two more bits of guest-physical address (41 in all),
 * so its root table has 2048 entries (16 KiB) and must be 16 KiB aligned.
 */
#ifndef GSTAGE_H
#define GSTAGE_H

#include <stdint.h>

#define GSTAGE_ROOT_ENTRIES 2048
#define GSTAGE_TABLE_ENTRIES 512
#define GSTAGE_GPA_BITS 41
#define GSTAGE_HPA_BITS 56 /* a PTE's PPN holds 44 bits */

/* A page table and the pool its lower-level tables come from. */
struct gstage {
	uint64_t *root; /* 16 KiB, 16 KiB aligned */
	uint64_t (*pool)[GSTAGE_TABLE_ENTRIES]; /* 4 KiB tables */
	int pool_size;
	int pool_used;
};

#define GSTAGE_OK 0
#define GSTAGE_ERR_ALIGN (-1) /* an address or size is not page aligned */
#define GSTAGE_ERR_RANGE (-2) /* the guest-physical range passes 2^41 */
#define GSTAGE_ERR_NOMEM (-3) /* the table pool is empty */
#define GSTAGE_ERR_MAPPED (-4) /* part of the range is mapped already */
#define GSTAGE_ERR_PERM (-5) /* no R/W/X at all, or W without R */

/*
 * Maps [gpa, gpa + size) to [hpa, hpa + size) with the given PTE_R/W/X.
 * On an error, what was mapped before it stays mapped: callers treat any
 * error as fatal.
 */
int gstage_map(struct gstage *g, uint64_t gpa, uint64_t hpa, uint64_t size,
	       uint64_t perm);

/*
 * Walks the table in software as the hardware would. Returns 0 and the host
 * address and permissions, or -1 if gpa is not mapped.
 */
int gstage_translate(const struct gstage *g, uint64_t gpa, uint64_t *hpa,
		     uint64_t *perm);

/* The hgatp value that selects this table (Sv39x4) for a VMID (14 bits). */
uint64_t gstage_hgatp(const struct gstage *g, uint64_t vmid);

#endif
