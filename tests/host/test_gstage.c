/*
 * test_gstage.c: the Sv39x4 G-stage table builder (labs/01-boot/gstage.c).
 *
 * On the host the tables are ordinary aligned memory, and an entry holds the
 * host address of the next table where the board would have a physical
 * address. The tests read the tables themselves (table_walk, table_scan)
 * rather than trust gstage_translate alone: that is how they see which page
 * sizes gstage_map chose and every bit it wrote.
 */
#include <stdlib.h>

#include "check.h"
#include "gstage.h"
#include "lib.h" /* ARRAY_SIZE */
#include "riscv.h"

#define KIB (1UL << 10)
#define MIB (1UL << 20)
#define GIB (1UL << 30)
#define GPA_LIMIT (1UL << GSTAGE_GPA_BITS) /* 2 TiB: the first unmappable gpa */

#define PTE_RWX (PTE_R | PTE_W | PTE_X)
#define PTE_LEAF_FLAGS (PTE_V | PTE_U | PTE_A | PTE_D)
#define PTE_LOW_BITS 0x3ffUL /* bits 9:0: the flags and the two RSW bits */

#define POOL_MAX 4096 /* the most pool tables a test may give table_new */

/* Bytes mapped by a leaf at level 2, 1 or 0. */
static uint64_t page_size(int level)
{
	return level == 2   ? GIB
	       : level == 1 ? 2 * MIB
			    : 4 * KIB;
}

/* The address in an entry: PPN (bits 53:10) times 4 KiB. */
static uint64_t pte_address(uint64_t pte)
{
	return ((pte >> 10) & ((1UL << 44) - 1)) << 12;
}

/*
 * A table with room for pool_size lower-level tables. The root is zero, as
 * it would be in the hypervisor's .bss. The pool is filled with garbage:
 * gstage_map must clear each table it takes.
 */
static struct gstage table_new(int pool_size)
{
	struct gstage g = { 0 };
	size_t root_bytes = GSTAGE_ROOT_ENTRIES * sizeof(uint64_t);

	if (pool_size > POOL_MAX)
		abort();
	g.root = aligned_alloc(16 * KIB, root_bytes);
	memset(g.root, 0, root_bytes);
	if (pool_size > 0) {
		g.pool = aligned_alloc(4 * KIB, pool_size * sizeof(*g.pool));
		memset(g.pool, 0xa5, pool_size * sizeof(*g.pool));
	}
	g.pool_size = pool_size;
	return g;
}

static void table_free(struct gstage *g)
{
	free(g->root);
	free(g->pool);
}

/*
 * Walks g as the hardware does. Returns the level of the leaf that maps gpa
 * (2: 1 GiB page, 1: 2 MiB, 0: 4 KiB) and the leaf itself in *leaf, or -1
 * if gpa is not mapped. gpa must be below GPA_LIMIT.
 */
static int table_walk(const struct gstage *g, uint64_t gpa, uint64_t *leaf)
{
	const uint64_t *table = g->root;

	for (int level = 2; level >= 0; level--) {
		/* VPN[2] is 11 bits wide (gpa bits 40:30), VPN[1] and VPN[0] 9. */
		uint64_t mask = level == 2 ? GSTAGE_ROOT_ENTRIES - 1 : GSTAGE_TABLE_ENTRIES - 1;
		uint64_t pte = table[(gpa >> (12 + 9 * level)) & mask];
		if (!(pte & PTE_V))
			return -1;
		if (pte & PTE_RWX) {
			*leaf = pte;
			return level;
		}
		table = (const uint64_t *)(uintptr_t)pte_address(pte);
	}
	return -1;
}

/* The number of valid entries in the root table. */
static int root_used(const struct gstage *g)
{
	int n = 0;
	for (int i = 0; i < GSTAGE_ROOT_ENTRIES; i++)
		if (g->root[i] & PTE_V)
			n++;
	return n;
}

/* What table_scan found. */
struct scan {
	char seen[POOL_MAX]; /* seen[k]: some entry points to pool table k */
	int tables; /* pool tables reached from the root */
	int leaves[3]; /* leaves found at each level */
	char problem[200]; /* the first bad entry, or "" if there is none */
};

/* Returns k if address is pool table k, one gstage_map handed out, or -1. */
static int pool_index(const struct gstage *g, uint64_t address)
{
	uint64_t first = (uint64_t)(uintptr_t)g->pool;
	if (g->pool == NULL || address < first || (address - first) % (4 * KIB) != 0)
		return -1;
	uint64_t k = (address - first) / (4 * KIB);
	return k < (uint64_t)g->pool_used ? (int)k : -1;
}

/* Scans one table and those below it; returns 0 at the first bad entry. */
static int table_scan_one(const struct gstage *g, const uint64_t *table, int level,
			  struct scan *s)
{
	int entries = level == 2 ? GSTAGE_ROOT_ENTRIES : GSTAGE_TABLE_ENTRIES;

	for (int i = 0; i < entries; i++) {
		uint64_t pte = table[i];
		const char *why = NULL;

		if (!(pte & PTE_V)) {
			if (pte != 0)
				why = "an invalid entry is not zero";
		} else if (pte >> 54 != 0) {
			why = "reserved bits 63:54 are set";
		} else if (pte & PTE_RWX) {
			if ((pte & PTE_LOW_BITS & ~PTE_RWX) != PTE_LEAF_FLAGS)
				why = "a leaf's flags besides R/W/X are not exactly V, U, A, D";
			else if (pte_address(pte) % page_size(level) != 0)
				why = "a large page's address is not aligned to its size";
			else
				s->leaves[level]++;
		} else {
			int k = pool_index(g, pte_address(pte));
			if ((pte & PTE_LOW_BITS) != PTE_V)
				why = "a pointer to a table has flags besides V";
			else if (level == 0)
				why = "a level-0 entry points to a table";
			else if (k < 0)
				why = "a pointer leads outside the pool tables handed out";
			else if (s->seen[k])
				why = "two pointers lead to the same pool table";
			else {
				s->seen[k] = 1;
				s->tables++;
				const uint64_t *next = g->pool[k];
				if (!table_scan_one(g, next, level - 1, s))
					return 0;
			}
		}
		if (why != NULL) {
			snprintf(s->problem, sizeof(s->problem),
				 "level %d entry %d = 0x%" PRIx64 ": %s", level, i, pte, why);
			return 0;
		}
	}
	return 1;
}

/*
 * Reads every entry reachable from the root. A leaf has V, U, A, D, some of
 * R/W/X and nothing else; a large page is aligned to its size. A pointer
 * has V alone and leads to a pool table handed out, each reached once, and
 * every table handed out is reached. Invalid entries are zero.
 */
static struct scan table_scan(const struct gstage *g)
{
	struct scan s;

	memset(&s, 0, sizeof(s));
	if (table_scan_one(g, g->root, 2, &s) && s.tables != g->pool_used)
		snprintf(s.problem, sizeof(s.problem),
			 "%d pool tables handed out, %d reached from the root", g->pool_used,
			 s.tables);
	return s;
}

#define CHECK_TABLE_OK(g)                          \
	do {                                       \
		struct scan scan_ = table_scan(g); \
		CHECK_STR(scan_.problem, "");      \
	} while (0)

/*
 * Checks that gpa translates to want_hpa with want_perm, by gstage_translate
 * and by our own walk, through a leaf at want_level that is exactly V, U, A,
 * D, want_perm and the page's address.
 */
static int check_mapped_at(const char *file, int line, const struct gstage *g, uint64_t gpa,
			   uint64_t want_hpa, uint64_t want_perm, int want_level)
{
	char what[96];
	uint64_t hpa = 0, perm = 0, leaf = 0;

	snprintf(what, sizeof(what), "gstage_translate(0x%" PRIx64 ")", gpa);
	int ok = check_eq_u64_at(gstage_translate(g, gpa, &hpa, &perm), 0, what, "0", file, line);
	if (ok)
		ok = check_eq_u64_at(hpa, want_hpa, what, "hpa", file, line) &&
		     check_eq_u64_at(perm, want_perm, what, "perm", file, line);

	snprintf(what, sizeof(what), "level of the leaf for 0x%" PRIx64, gpa);
	if (ok)
		ok = check_eq_u64_at(table_walk(g, gpa, &leaf), want_level, what, "level", file,
				     line);
	if (ok) {
		uint64_t page = want_hpa - (gpa & (page_size(want_level) - 1));
		uint64_t want_leaf = ((page >> 12) << 10) | PTE_LEAF_FLAGS | want_perm;
		snprintf(what, sizeof(what), "leaf for 0x%" PRIx64, gpa);
		ok = check_eq_u64_at(leaf, want_leaf, what, "V|U|A|D|perm + hpa", file, line);
	}
	return ok;
}
#define CHECK_MAPPED(g, gpa, hpa, perm, level) \
	check_mapped_at(__FILE__, __LINE__, (g), (gpa), (hpa), (perm), (level))

/* Checks that gpa is not mapped, by gstage_translate and by our own walk. */
static int check_unmapped_at(const char *file, int line, const struct gstage *g, uint64_t gpa)
{
	char what[96];
	uint64_t hpa = 0, perm = 0, leaf = 0;

	snprintf(what, sizeof(what), "gstage_translate(0x%" PRIx64 ")", gpa);
	int ok = check_eq_u64_at(gstage_translate(g, gpa, &hpa, &perm), -1, what, "-1", file, line);
	/* Our walk knows nothing of addresses past 2^41: it would wrap. */
	if (ok && gpa < GPA_LIMIT) {
		snprintf(what, sizeof(what), "table_walk(0x%" PRIx64 ")", gpa);
		ok = check_eq_u64_at(table_walk(g, gpa, &leaf), -1, what, "-1", file, line);
	}
	return ok;
}
#define CHECK_UNMAPPED(g, gpa) check_unmapped_at(__FILE__, __LINE__, (g), (gpa))

static void test_gstage_empty(void)
{
	struct gstage g = table_new(4);

	CHECK(((uintptr_t)g.root & (16 * KIB - 1)) == 0);
	CHECK_UNMAPPED(&g, 0);
	CHECK_UNMAPPED(&g, 0x80000000);
	CHECK_UNMAPPED(&g, GPA_LIMIT - 1);
	CHECK_UNMAPPED(&g, GPA_LIMIT);
	/* Mapping nothing is not an error and changes nothing. */
	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 0x90000000, 0, PTE_RWX), GSTAGE_OK);
	CHECK_EQ_U64(g.pool_used, 0);
	CHECK_EQ_U64(root_used(&g), 0);
	table_free(&g);
}

/* The lab's guest RAM: 128 MiB at 0x80000000, 2 MiB aligned on both sides. */
static void test_gstage_guest_ram(void)
{
	struct gstage g = table_new(8);

	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 0x90000000, 128 * MIB, PTE_RWX), GSTAGE_OK);
	/* 64 leaves of 2 MiB in one level-1 table; no level-0 table at all. */
	CHECK_EQ_U64(g.pool_used, 1);
	for (uint64_t off = 0; off < 128 * MIB; off += 2 * MIB)
		if (!CHECK_MAPPED(&g, 0x80000000 + off, 0x90000000 + off, PTE_RWX, 1))
			break;
	CHECK_MAPPED(&g, 0x80000000, 0x90000000, PTE_RWX, 1); /* the first byte */
	CHECK_MAPPED(&g, 0x84000123, 0x94000123, PTE_RWX, 1); /* the middle */
	CHECK_MAPPED(&g, 0x87ffffff, 0x97ffffff, PTE_RWX, 1); /* the last byte */
	CHECK_UNMAPPED(&g, 0x88000000); /* one past the end */
	CHECK_UNMAPPED(&g, 0x7fffffff); /* one before */
	CHECK_TABLE_OK(&g);
	table_free(&g);
}

static void test_gstage_1g_leaves(void)
{
	/* No pool at all: 1 GiB pages live in the root. */
	struct gstage g = table_new(0);

	CHECK_EQ_U64(gstage_map(&g, 0x40000000, 0xc0000000, GIB, PTE_R | PTE_W), GSTAGE_OK);
	CHECK_EQ_U64(g.pool_used, 0);
	CHECK_EQ_U64(root_used(&g), 1);
	CHECK_MAPPED(&g, 0x40000000, 0xc0000000, PTE_R | PTE_W, 2);
	CHECK_MAPPED(&g, 0x6abcdef0, 0xeabcdef0, PTE_R | PTE_W, 2);
	CHECK_MAPPED(&g, 0x7fffffff, 0xffffffff, PTE_R | PTE_W, 2);
	CHECK_UNMAPPED(&g, 0x3fffffff);
	CHECK_UNMAPPED(&g, 0x80000000);

	/* 2 GiB: two root leaves. */
	CHECK_EQ_U64(gstage_map(&g, 4 * GIB, 8 * GIB, 2 * GIB, PTE_R), GSTAGE_OK);
	CHECK_EQ_U64(root_used(&g), 3);
	CHECK_MAPPED(&g, 4 * GIB, 8 * GIB, PTE_R, 2);
	CHECK_MAPPED(&g, 6 * GIB - 1, 10 * GIB - 1, PTE_R, 2);
	CHECK_UNMAPPED(&g, 6 * GIB);
	CHECK_EQ_U64(g.pool_used, 0);
	CHECK_TABLE_OK(&g);
	table_free(&g);
}

static void test_gstage_4k_leaves(void)
{
	struct gstage g = table_new(8);

	/* 4 KiB aligned only: 16 pages of 4 KiB, under one level-1 table. */
	CHECK_EQ_U64(gstage_map(&g, 0x80001000, 0x90001000, 64 * KIB, PTE_R | PTE_X), GSTAGE_OK);
	CHECK_EQ_U64(g.pool_used, 2);
	for (uint64_t off = 0; off < 64 * KIB; off += 4 * KIB)
		if (!CHECK_MAPPED(&g, 0x80001000 + off, 0x90001000 + off, PTE_R | PTE_X, 0))
			break;
	CHECK_MAPPED(&g, 0x80010fff, 0x90010fff, PTE_R | PTE_X, 0);
	CHECK_UNMAPPED(&g, 0x80000fff);
	CHECK_UNMAPPED(&g, 0x80011000);
	CHECK_TABLE_OK(&g);
	table_free(&g);
}

/* The page size follows the alignment of gpa AND hpa, and what is left. */
static void test_gstage_page_size_choice(void)
{
	struct gstage g = table_new(16);

	/* gpa 2 MiB aligned, hpa only 4 KiB: 4 MiB in 1024 pages of 4 KiB. */
	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 0x90001000, 4 * MIB, PTE_RWX), GSTAGE_OK);
	CHECK_EQ_U64(g.pool_used, 3); /* a level-1 table and two level-0 ones */
	for (uint64_t off = 0; off < 4 * MIB; off += 4 * KIB)
		if (!CHECK_MAPPED(&g, 0x80000000 + off, 0x90001000 + off, PTE_RWX, 0))
			break;
	CHECK_UNMAPPED(&g, 0x80400000);

	/* gpa 1 GiB aligned, hpa only 2 MiB: 512 pages of 2 MiB. */
	CHECK_EQ_U64(gstage_map(&g, GIB, 0x90200000, GIB, PTE_R), GSTAGE_OK);
	CHECK_EQ_U64(g.pool_used, 4);
	for (uint64_t off = 0; off < GIB; off += 2 * MIB)
		if (!CHECK_MAPPED(&g, GIB + off, 0x90200000 + off, PTE_R, 1))
			break;

	/* 2 MiB aligned but 2 MiB + 4 KiB long: one 2 MiB page, one 4 KiB. */
	CHECK_EQ_U64(gstage_map(&g, 3 * GIB, 0xa0000000, 2 * MIB + 4 * KIB, PTE_R), GSTAGE_OK);
	CHECK_EQ_U64(g.pool_used, 6);
	CHECK_MAPPED(&g, 3 * GIB, 0xa0000000, PTE_R, 1);
	CHECK_MAPPED(&g, 3 * GIB + 2 * MIB - 1, 0xa0000000 + 2 * MIB - 1, PTE_R, 1);
	CHECK_MAPPED(&g, 3 * GIB + 2 * MIB, 0xa0000000 + 2 * MIB, PTE_R, 0);
	CHECK_UNMAPPED(&g, 3 * GIB + 2 * MIB + 4 * KIB);
	CHECK_TABLE_OK(&g);
	table_free(&g);
}

/* A range that starts 4 KiB aligned and crosses larger boundaries. */
static void test_gstage_mixed(void)
{
	struct gstage g = table_new(8);

	/* 2 pages of 4 KiB, 2 of 2 MiB, 3 of 4 KiB. */
	uint64_t gpa = 0x801fe000, hpa = 0x901fe000;
	uint64_t size = 2 * 4 * KIB + 2 * 2 * MIB + 3 * 4 * KIB;
	CHECK_EQ_U64(gstage_map(&g, gpa, hpa, size, PTE_RWX), GSTAGE_OK);
	for (uint64_t off = 0; off < size; off += 4 * KIB) {
		uint64_t a = gpa + off;
		int level = a >= 0x80200000 && a < 0x80600000 ? 1 : 0;
		if (!CHECK_MAPPED(&g, a, hpa + off, PTE_RWX, level))
			break;
	}
	CHECK_UNMAPPED(&g, gpa - 1);
	CHECK_UNMAPPED(&g, gpa + size);
	CHECK_EQ_U64(g.pool_used, 3); /* one level-1 table, two level-0 ones */
	CHECK_TABLE_OK(&g);
	table_free(&g);

	/* 2 MiB, then 1 GiB, then 2 MiB, across two 1 GiB boundaries. */
	g = table_new(8);
	gpa = GIB - 2 * MIB;
	hpa = 5 * GIB - 2 * MIB;
	CHECK_EQ_U64(gstage_map(&g, gpa, hpa, GIB + 4 * MIB, PTE_R | PTE_W), GSTAGE_OK);
	CHECK_MAPPED(&g, gpa, hpa, PTE_R | PTE_W, 1);
	CHECK_MAPPED(&g, GIB - 1, 5 * GIB - 1, PTE_R | PTE_W, 1);
	CHECK_MAPPED(&g, GIB, 5 * GIB, PTE_R | PTE_W, 2);
	CHECK_MAPPED(&g, 2 * GIB - 1, 6 * GIB - 1, PTE_R | PTE_W, 2);
	CHECK_MAPPED(&g, 2 * GIB, 6 * GIB, PTE_R | PTE_W, 1);
	CHECK_MAPPED(&g, 2 * GIB + 2 * MIB - 1, 6 * GIB + 2 * MIB - 1, PTE_R | PTE_W, 1);
	CHECK_UNMAPPED(&g, gpa - 1);
	CHECK_UNMAPPED(&g, 2 * GIB + 2 * MIB);
	CHECK_EQ_U64(g.pool_used, 2); /* one level-1 table on each side */
	CHECK_TABLE_OK(&g);
	table_free(&g);
}

static void test_gstage_align_errors(void)
{
	struct gstage g = table_new(4);

	CHECK_EQ_U64(gstage_map(&g, 0x80000800, 0x90000000, 4 * KIB, PTE_R), GSTAGE_ERR_ALIGN);
	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 0x90000001, 4 * KIB, PTE_R), GSTAGE_ERR_ALIGN);
	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 0x90000000, 6 * KIB, PTE_R), GSTAGE_ERR_ALIGN);
	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 0x90000000, 1, PTE_R), GSTAGE_ERR_ALIGN);
	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 0x90000000, 2 * MIB - 1, PTE_R),
		     GSTAGE_ERR_ALIGN);
	/* A rejected range leaves no trace. */
	CHECK_EQ_U64(g.pool_used, 0);
	CHECK_EQ_U64(root_used(&g), 0);
	table_free(&g);
}

static void test_gstage_range_errors(void)
{
	struct gstage g = table_new(4);

	CHECK_EQ_U64(gstage_map(&g, GPA_LIMIT, 0x90000000, 4 * KIB, PTE_R), GSTAGE_ERR_RANGE);
	CHECK_EQ_U64(gstage_map(&g, GPA_LIMIT - 4 * KIB, 0x90000000, 8 * KIB, PTE_R),
		     GSTAGE_ERR_RANGE);
	CHECK_EQ_U64(gstage_map(&g, 0, 0, GPA_LIMIT + 4 * KIB, PTE_R), GSTAGE_ERR_RANGE);
	/* gpa + size wraps past 2^64, to 0x1000 and to 0. */
	CHECK_EQ_U64(gstage_map(&g, 0xfffffffffffff000, 0x90000000, 8 * KIB, PTE_R),
		     GSTAGE_ERR_RANGE);
	CHECK_EQ_U64(gstage_map(&g, 4 * KIB, 0x90000000, 0xfffffffffffff000, PTE_R),
		     GSTAGE_ERR_RANGE);
	CHECK_EQ_U64(g.pool_used, 0);
	CHECK_EQ_U64(root_used(&g), 0);

	/* The very last page is fine. */
	CHECK_EQ_U64(gstage_map(&g, GPA_LIMIT - 4 * KIB, 0x90000000, 4 * KIB, PTE_R), GSTAGE_OK);
	CHECK_MAPPED(&g, GPA_LIMIT - 4 * KIB, 0x90000000, PTE_R, 0);
	CHECK_MAPPED(&g, GPA_LIMIT - 1, 0x90000fff, PTE_R, 0);
	CHECK_UNMAPPED(&g, GPA_LIMIT);
	CHECK_TABLE_OK(&g);
	table_free(&g);
}

/* All of the 2 TiB in 2048 root leaves, and nothing past it. */
static void test_gstage_whole_space(void)
{
	struct gstage g = table_new(0);

	CHECK_EQ_U64(gstage_map(&g, 0, 0, GPA_LIMIT, PTE_RWX), GSTAGE_OK);
	CHECK_EQ_U64(root_used(&g), GSTAGE_ROOT_ENTRIES);
	CHECK_MAPPED(&g, 0, 0, PTE_RWX, 2);
	CHECK_MAPPED(&g, GPA_LIMIT - 1, GPA_LIMIT - 1, PTE_RWX, 2);
	/* Bits above 40 would select root entry 0 again if nothing checked them. */
	CHECK_UNMAPPED(&g, GPA_LIMIT);
	CHECK_UNMAPPED(&g, GPA_LIMIT + 0x1234);
	CHECK_UNMAPPED(&g, UINT64_MAX);
	CHECK_TABLE_OK(&g);
	table_free(&g);
}

static void test_gstage_overlap(void)
{
	struct gstage g = table_new(8);

	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 0x90000000, 2 * MIB, PTE_RWX), GSTAGE_OK);
	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 0xa0000000, 2 * MIB, PTE_R), GSTAGE_ERR_MAPPED);
	/* A 4 KiB page inside the 2 MiB one: the walk meets a leaf. */
	CHECK_EQ_U64(gstage_map(&g, 0x80100000, 0xa0000000, 4 * KIB, PTE_R), GSTAGE_ERR_MAPPED);
	CHECK_EQ_U64(gstage_map(&g, 0x801ff000, 0xa0000000, 4 * KIB, PTE_R), GSTAGE_ERR_MAPPED);
	/* A 1 GiB page over it: the root entry is a pointer. */
	CHECK_EQ_U64(gstage_map(&g, 2 * GIB, 4 * GIB, GIB, PTE_R), GSTAGE_ERR_MAPPED);
	/* Right after it is free. */
	CHECK_EQ_U64(gstage_map(&g, 0x80200000, 0xa0000000, 4 * KIB, PTE_R), GSTAGE_OK);

	/* A 2 MiB page over a 4 KiB one: the level-1 entry is a pointer. */
	CHECK_EQ_U64(gstage_map(&g, 0x90000000, 0xb0000000, 4 * KIB, PTE_R), GSTAGE_OK);
	CHECK_EQ_U64(gstage_map(&g, 0x90000000, 0xc0000000, 2 * MIB, PTE_R), GSTAGE_ERR_MAPPED);
	/* Its neighbour shares its level-0 table. */
	int used = g.pool_used;
	CHECK_EQ_U64(gstage_map(&g, 0x90001000, 0xb0001000, 4 * KIB, PTE_R), GSTAGE_OK);
	CHECK_EQ_U64(g.pool_used, used);
	CHECK_EQ_U64(gstage_map(&g, 0x90001000, 0xb0001000, 4 * KIB, PTE_R), GSTAGE_ERR_MAPPED);

	/* The refused mappings changed nothing. */
	CHECK_MAPPED(&g, 0x80000000, 0x90000000, PTE_RWX, 1);
	CHECK_MAPPED(&g, 0x80100000, 0x90100000, PTE_RWX, 1);
	CHECK_MAPPED(&g, 0x80200000, 0xa0000000, PTE_R, 0);
	CHECK_MAPPED(&g, 0x90000000, 0xb0000000, PTE_R, 0);
	CHECK_MAPPED(&g, 0x90001000, 0xb0001000, PTE_R, 0);
	CHECK_UNMAPPED(&g, 0x90002000);
	CHECK_TABLE_OK(&g);
	table_free(&g);
}

static void test_gstage_nomem(void)
{
	/* A 4 KiB page needs two tables: a level-1 and a level-0 one. */
	struct gstage g = table_new(1);
	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 0x90000000, 4 * KIB, PTE_R), GSTAGE_ERR_NOMEM);
	CHECK_EQ_U64(g.pool_used, 1);
	CHECK_UNMAPPED(&g, 0x80000000);
	table_free(&g);

	g = table_new(2);
	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 0x90000000, 4 * KIB, PTE_R), GSTAGE_OK);
	/* Another 2 MiB region needs a third table. */
	CHECK_EQ_U64(gstage_map(&g, 0x80200000, 0x90200000, 4 * KIB, PTE_R), GSTAGE_ERR_NOMEM);
	CHECK_EQ_U64(g.pool_used, 2);
	/* A 2 MiB page in the level-1 table we have needs none. */
	CHECK_EQ_U64(gstage_map(&g, 0x80400000, 0x90400000, 2 * MIB, PTE_R), GSTAGE_OK);
	CHECK_MAPPED(&g, 0x80000000, 0x90000000, PTE_R, 0);
	CHECK_MAPPED(&g, 0x80400000, 0x90400000, PTE_R, 1);
	CHECK_UNMAPPED(&g, 0x80200000);
	table_free(&g);

	/* No pool: 1 GiB pages only. */
	g = table_new(0);
	CHECK_EQ_U64(gstage_map(&g, 0, 0, GIB, PTE_R), GSTAGE_OK);
	CHECK_EQ_U64(gstage_map(&g, GIB, GIB, 2 * MIB, PTE_R), GSTAGE_ERR_NOMEM);
	CHECK_EQ_U64(g.pool_used, 0);
	table_free(&g);
}

static void test_gstage_pte_bits(void)
{
	static const uint64_t perms[] = {
		PTE_R, PTE_R | PTE_W, PTE_X, PTE_R | PTE_X, PTE_R | PTE_W | PTE_X
	};
	struct gstage g = table_new(16);

	/* Each permission on a 4 KiB, a 2 MiB and a 1 GiB page. */
	for (size_t i = 0; i < ARRAY_SIZE(perms); i++) {
		uint64_t gpa_4k = 0x80000000 + i * 2 * MIB;
		uint64_t gpa_2m = 0xc0000000 + i * 2 * MIB;
		uint64_t gpa_1g = (8 + i) * GIB;
		CHECK_EQ_U64(gstage_map(&g, gpa_4k, gpa_4k + GIB, 4 * KIB, perms[i]), GSTAGE_OK);
		CHECK_EQ_U64(gstage_map(&g, gpa_2m, gpa_2m + GIB, 2 * MIB, perms[i]), GSTAGE_OK);
		CHECK_EQ_U64(gstage_map(&g, gpa_1g, gpa_1g + GIB, GIB, perms[i]), GSTAGE_OK);
		CHECK_MAPPED(&g, gpa_4k, gpa_4k + GIB, perms[i], 0);
		CHECK_MAPPED(&g, gpa_2m, gpa_2m + GIB, perms[i], 1);
		CHECK_MAPPED(&g, gpa_1g, gpa_1g + GIB, perms[i], 2);
	}

	/* Bits besides R/W/X in perm do not reach the entry, nor the address. */
	uint64_t junk = PTE_V | PTE_U | PTE_A | PTE_D | (1UL << 5) | (3UL << 8) | (1UL << 20) |
			(1UL << 63);
	CHECK_EQ_U64(gstage_map(&g, 0x100000000, 0x100000000, 4 * KIB, PTE_R | junk), GSTAGE_OK);
	CHECK_MAPPED(&g, 0x100000000, 0x100000000, PTE_R, 0);

	/* Pointers: V and the next table's address, nothing else. */
	CHECK_EQ_U64(g.root[2], (((uint64_t)(uintptr_t)g.pool[0] >> 12) << 10) | PTE_V);
	CHECK_EQ_U64(g.pool[0][0], (((uint64_t)(uintptr_t)g.pool[1] >> 12) << 10) | PTE_V);
	CHECK_TABLE_OK(&g);
	table_free(&g);
}

static void test_gstage_hgatp(void)
{
	static const uint64_t vmids[] = { 0, 1, 0x155, 0x2aaa, 0x3fff };
	struct gstage g = table_new(0);
	uint64_t root = (uint64_t)(uintptr_t)g.root;

	for (size_t i = 0; i < ARRAY_SIZE(vmids); i++) {
		uint64_t h = gstage_hgatp(&g, vmids[i]);
		CHECK_EQ_U64(h >> 60, 8); /* MODE: Sv39x4 */
		CHECK_EQ_U64((h >> 58) & 3, 0); /* bits 59:58: zero */
		CHECK_EQ_U64((h >> 44) & 0x3fff, vmids[i]); /* VMID */
		CHECK_EQ_U64(h & ((1UL << 44) - 1), root >> 12); /* PPN of the root */
	}
	table_free(&g);
}

/* A leaf needs R or X; W alone is reserved; hpa must fit a PTE's 44-bit PPN. */
static void test_gstage_perm_and_hpa_errors(void)
{
	struct gstage g = table_new(4);

	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 0x90000000, 4 * KIB, 0), GSTAGE_ERR_PERM);
	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 0x90000000, 4 * KIB, PTE_W), GSTAGE_ERR_PERM);
	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 0x90000000, 4 * KIB, PTE_W | PTE_X),
		     GSTAGE_ERR_PERM);
	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 1UL << 56, 4 * KIB, PTE_R), GSTAGE_ERR_RANGE);
	CHECK_EQ_U64(gstage_map(&g, 0x80000000, (1UL << 56) - 4 * KIB, 8 * KIB, PTE_R),
		     GSTAGE_ERR_RANGE);
	CHECK_EQ_U64(g.pool_used, 0);
	CHECK_EQ_U64(root_used(&g), 0);
	/* Execute-only is a valid leaf. */
	CHECK_EQ_U64(gstage_map(&g, 0x80000000, 0x90000000, 4 * KIB, PTE_X), GSTAGE_OK);
	CHECK_MAPPED(&g, 0x80000000, 0x90000000, PTE_X, 0);
	/* A VMID wider than 14 bits never reaches the MODE field. */
	CHECK_EQ_U64(gstage_hgatp(&g, 0xffff) >> 60, 8);
	table_free(&g);
}

/* ---- random mappings against a plain list ---- */

/* xorshift64: the same numbers on every machine and every run. */
static uint64_t rng_state = 0x2545f4914f6cdd1d;

static uint64_t rng_below(uint64_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state % n;
}

struct ref_map {
	uint64_t gpa, hpa, size, perm;
};

/* The mapping in maps[0..n) that holds gpa, or NULL. */
static const struct ref_map *ref_find(const struct ref_map *maps, int n, uint64_t gpa)
{
	for (int i = 0; i < n; i++)
		if (gpa >= maps[i].gpa && gpa - maps[i].gpa < maps[i].size)
			return &maps[i];
	return NULL;
}

static int ref_overlaps(const struct ref_map *maps, int n, uint64_t gpa, uint64_t size)
{
	for (int i = 0; i < n; i++)
		if (gpa < maps[i].gpa + maps[i].size && maps[i].gpa < gpa + size)
			return 1;
	return 0;
}

#define RANDOM_MAPS 300
#define RANDOM_POOL 2048 /* at most about 5 tables a mapping */
#define RANDOM_PROBES 5000

static void test_gstage_random(void)
{
	static const uint64_t perms[] = {
		PTE_R, PTE_R | PTE_W, PTE_X, PTE_R | PTE_X, PTE_R | PTE_W | PTE_X
	};
	static struct ref_map maps[RANDOM_MAPS];
	struct gstage g = table_new(RANDOM_POOL);
	int n = 0;

	while (n < RANDOM_MAPS) {
		uint64_t gpa, size;
		switch (rng_below(3)) {
		case 0: /* 4 KiB aligned, up to 600 pages: may hold 2 MiB pages */
			gpa = rng_below(GPA_LIMIT / (4 * KIB)) * 4 * KIB;
			size = (1 + rng_below(600)) * 4 * KIB;
			break;
		case 1: /* 2 MiB aligned, some 2 MiB pages, maybe a few 4 KiB */
			gpa = rng_below(GPA_LIMIT / (2 * MIB)) * 2 * MIB;
			size = (1 + rng_below(8)) * 2 * MIB + rng_below(4) * 4 * KIB;
			break;
		default: /* 1 GiB aligned, 1 or 2 GiB, maybe a few 2 MiB */
			gpa = rng_below(GPA_LIMIT / GIB) * GIB;
			size = (1 + rng_below(2)) * GIB + rng_below(3) * 2 * MIB;
			break;
		}
		/*
		 * Mostly as aligned as gpa, so large pages are possible. Now and
		 * then only 4 KiB aligned, if the range is small: 4 KiB pages
		 * all through, and a 2 GiB range would empty the pool.
		 */
		uint64_t hpa = rng_below(1UL << 18) * GIB + gpa % GIB;
		if (size <= 4 * MIB && rng_below(4) == 0)
			hpa = rng_below(1UL << 36) * 4 * KIB;
		uint64_t perm = perms[rng_below(ARRAY_SIZE(perms))];
		if (gpa + size > GPA_LIMIT || ref_overlaps(maps, n, gpa, size))
			continue;
		if (!CHECK_EQ_U64(gstage_map(&g, gpa, hpa, size, perm), GSTAGE_OK)) {
			printf("    mapping 0x%" PRIx64 " bytes at gpa 0x%" PRIx64 " hpa 0x%" PRIx64 "\n",
			       size, gpa, hpa);
			break;
		}
		maps[n++] = (struct ref_map){ gpa, hpa, size, perm };
	}
	if (!CHECK_EQ_U64(n, RANDOM_MAPS) && n == 0) {
		table_free(&g);
		return;
	}

	for (int i = 0; i < RANDOM_PROBES; i++) {
		const struct ref_map *m = &maps[rng_below(n)];
		uint64_t gpa;
		switch (i % 5) {
		case 0: gpa = rng_below(GPA_LIMIT); break; /* anywhere */
		case 1: gpa = m->gpa + rng_below(m->size); break; /* inside */
		case 2: gpa = m->gpa - 1; break; /* just before */
		case 3: gpa = m->gpa + m->size - 1; break; /* the last byte */
		default: gpa = m->gpa + m->size; break; /* just after */
		}

		const struct ref_map *want = ref_find(maps, n, gpa);
		uint64_t hpa = 0, perm = 0;
		int rc = gstage_translate(&g, gpa, &hpa, &perm);
		int ok;
		if (want == NULL)
			ok = CHECK_EQ_U64(rc, -1);
		else
			ok = CHECK_EQ_U64(rc, 0) && CHECK_EQ_U64(hpa, want->hpa + (gpa - want->gpa)) &&
			     CHECK_EQ_U64(perm, want->perm);
		if (!ok) {
			printf("    at gpa 0x%" PRIx64 "\n", gpa);
			break;
		}
	}

	/* The mappings were varied enough to use every page size. */
	struct scan s = table_scan(&g);
	CHECK_STR(s.problem, "");
	CHECK(s.leaves[0] > 0);
	CHECK(s.leaves[1] > 0);
	CHECK(s.leaves[2] > 0);
	table_free(&g);
}

const struct check_test check_tests[] = {
	{ "gstage_empty", test_gstage_empty },
	{ "gstage_guest_ram", test_gstage_guest_ram },
	{ "gstage_1g_leaves", test_gstage_1g_leaves },
	{ "gstage_4k_leaves", test_gstage_4k_leaves },
	{ "gstage_page_size_choice", test_gstage_page_size_choice },
	{ "gstage_mixed", test_gstage_mixed },
	{ "gstage_align_errors", test_gstage_align_errors },
	{ "gstage_range_errors", test_gstage_range_errors },
	{ "gstage_whole_space", test_gstage_whole_space },
	{ "gstage_overlap", test_gstage_overlap },
	{ "gstage_nomem", test_gstage_nomem },
	{ "gstage_pte_bits", test_gstage_pte_bits },
	{ "gstage_hgatp", test_gstage_hgatp },
	{ "gstage_perm_and_hpa_errors", test_gstage_perm_and_hpa_errors },
	{ "gstage_random", test_gstage_random },
	{ NULL, NULL },
};
