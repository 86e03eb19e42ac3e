/*
 * gstage.c: builds the Sv39x4 G-stage page table. Pure logic: no CSRs, so
 * the host unit tests run it too.
 *
 * A guest-physical address splits like this:
 *   40        30 29      21 20      12 11        0
 *   | VPN[2]:11 | VPN[1]:9 | VPN[0]:9 | offset:12 |
 * VPN[2] has 11 bits (not 9): the "x4" of Sv39x4. A leaf at level 2 maps
 * 1 GiB, at level 1 2 MiB, at level 0 4 KiB.
 */
#include "gstage.h"
#include "riscv.h"

#define PTE_PPN_SHIFT 10 /* a PTE holds the physical page number from bit 10 */
#define PAGE_SHIFT 12 /* bits of the offset in a 4 KiB page */
#define VPN_BITS 9 /* bits of VPN[1] and VPN[0]: one 512-entry table */
#define PTE_PERM (PTE_R | PTE_W | PTE_X)

static uint64_t level_size(int level)
{
	return PAGE_SIZE << (VPN_BITS * level);
}

static int vpn(uint64_t gpa, int level)
{
	uint64_t mask = level == 2 ? GSTAGE_ROOT_ENTRIES - 1 : GSTAGE_TABLE_ENTRIES - 1;
	return (int)((gpa >> (PAGE_SHIFT + VPN_BITS * level)) & mask);
}

static uint64_t *pte_table(uint64_t pte)
{
	return (uint64_t *)(uintptr_t)((pte >> PTE_PPN_SHIFT) << PAGE_SHIFT);
}

static uint64_t pte_make(uint64_t pa, uint64_t flags)
{
	return ((pa >> PAGE_SHIFT) << PTE_PPN_SHIFT) | flags;
}

static int pte_is_leaf(uint64_t pte)
{
	return (pte & PTE_PERM) != 0;
}

/* Installs one leaf of the given level, creating tables on the way down. */
static int gstage_map_one(struct gstage *g, uint64_t gpa, uint64_t hpa,
			  int leaf_level, uint64_t perm)
{
	uint64_t *table = g->root;

	for (int level = 2; level > leaf_level; level--) {
		uint64_t *pte = &table[vpn(gpa, level)];
		if (!(*pte & PTE_V)) {
			if (g->pool_used == g->pool_size)
				return GSTAGE_ERR_NOMEM;
			uint64_t *next = g->pool[g->pool_used++];
			for (int i = 0; i < GSTAGE_TABLE_ENTRIES; i++)
				next[i] = 0;
			/* A pointer to the next level: V only, no R/W/X. */
			*pte = pte_make((uint64_t)(uintptr_t)next, PTE_V);
		} else if (pte_is_leaf(*pte)) {
			return GSTAGE_ERR_MAPPED;
		}
		table = pte_table(*pte);
	}

	uint64_t *pte = &table[vpn(gpa, leaf_level)];
	if (*pte & PTE_V)
		return GSTAGE_ERR_MAPPED;
	/*
	 * Every G-stage access counts as a user access, so a leaf needs U.
	 * A and D are set up front: this hypervisor does not track them, and
	 * hardware may fault instead of setting them itself.
	 */
	*pte = pte_make(hpa, PTE_V | PTE_U | PTE_A | PTE_D | perm);
	return GSTAGE_OK;
}

int gstage_map(struct gstage *g, uint64_t gpa, uint64_t hpa, uint64_t size,
	       uint64_t perm)
{
	if ((gpa | hpa | size) & (PAGE_SIZE - 1))
		return GSTAGE_ERR_ALIGN;
	if (gpa + size < gpa || gpa + size > (1UL << GSTAGE_GPA_BITS) ||
	    hpa + size < hpa || hpa + size > (1UL << GSTAGE_HPA_BITS))
		return GSTAGE_ERR_RANGE;
	/* A leaf needs R or X; W without R is reserved (and no perms = pointer). */
	if ((perm & PTE_PERM) == 0 || (perm & (PTE_R | PTE_W)) == PTE_W)
		return GSTAGE_ERR_PERM;

	while (size > 0) {
		/* The largest page that fits both alignment and what is left. */
		int level = 2;
		while (level > 0 && (((gpa | hpa) & (level_size(level) - 1)) != 0 ||
				     size < level_size(level)))
			level--;
		int err = gstage_map_one(g, gpa, hpa, level, perm & PTE_PERM);
		if (err != GSTAGE_OK)
			return err;
		gpa += level_size(level);
		hpa += level_size(level);
		size -= level_size(level);
	}
	return GSTAGE_OK;
}

int gstage_translate(const struct gstage *g, uint64_t gpa, uint64_t *hpa,
		     uint64_t *perm)
{
	if (gpa >= (1UL << GSTAGE_GPA_BITS))
		return -1;
	const uint64_t *table = g->root;
	for (int level = 2; level >= 0; level--) {
		uint64_t pte = table[vpn(gpa, level)];
		if (!(pte & PTE_V))
			return -1;
		if (pte_is_leaf(pte)) {
			uint64_t offset = gpa & (level_size(level) - 1);
			*hpa = ((pte >> PTE_PPN_SHIFT) << PAGE_SHIFT) + offset;
			*perm = pte & PTE_PERM;
			return 0;
		}
		table = pte_table(pte);
	}
	return -1;
}

uint64_t gstage_hgatp(const struct gstage *g, uint64_t vmid)
{
	return HGATP_MODE_SV39X4 | ((vmid & HGATP_VMID_MASK) << HGATP_VMID_SHIFT) |
	       ((uint64_t)(uintptr_t)g->root >> PAGE_SHIFT);
}
