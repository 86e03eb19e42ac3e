/*
 * test_fdt.c: the device-tree reader (labs/02-dtb/fdt.c) and what
 * platform_read (platform.c) learns with it, against libfdt. The Makefile
 * builds it once for each lab whose platform.c is not a copy of the lab
 * before's, with LAB_NUMBER: test_fdt for lab 02, test_fdt_lab05 for lab 05,
 * whose platform_read also reads /chosen's initrd.
 *
 * The inputs are the fixtures in tests/fixtures/ (each one's comment says
 * what it tests and what platform_read must answer) and the trees QEMU's
 * virt machine has with -smp 1 to 8: QEMU 7.2's, and QEMU 10's where it is
 * installed (they are skipped where it is not). The Makefile compiles the
 * fixtures and dumps QEMU's trees into build/host/fixtures/ before the tests
 * run.
 *
 *   fdt_walk            fdt.c and libfdt see the same tree: the same node
 *                       offsets and names, the same property values
 *   fdt_lookups         fdt_subnode's name matching, bad offsets, errors
 *   fdt_header          each rule about the header, broken alone
 *   fdt_malformed       hand-made structure blocks, each with one flaw
 *   platform_fixtures   platform_read against each fixture's comment and
 *                       against ref_platform_read (its rules redone with
 *                       libfdt, in ref_libfdt.c)
 *   platform_qemu       the same for QEMU's trees, with every boot hart,
 *                       and every hart's whole ISA
 *   platform_isa        finding the H extension in a riscv,isa string
 *   platform_bindings   QEMU 10's ISA read from riscv,isa alone and from
 *                       riscv,isa-base and riscv,isa-extensions alone: the same
 *   platform_isa_errors ISAs too long for HART_ISA_MAX, and malformed bases
 *                       and lists: refused, with what and where
 *   fdt_truncated       every prefix of every blob, and every shorter
 *                       structure or strings block
 *   fdt_header_flips    every header byte and bit flipped
 *   fdt_corrupted       thousands of random one-byte corruptions
 *
 * In lab 05's build, where the three above break only the trees with an
 * initrd (see BROKEN_FROM), also:
 *
 *   platform_initrd     /chosen's linux,initrd-start and -end: QEMU's, in
 *                       one cell and in two, and edited every way
 *                       platform_read takes or refuses
 *   platform_initrd_flips  every byte of both properties inverted, and
 *                       each of its bits flipped alone
 *
 * fdt.c must never read outside a blob: each one sits in a buffer malloc'ed
 * to exactly its size, where AddressSanitizer sees a read past the end.
 * TEST_VERBOSE=1 in the environment prints every failing corruption, not
 * only the first ones, and how the corruptions fared.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "blob.h"
#include "check.h"
#include "fdt.h"
#include "lib.h" /* ARRAY_SIZE */
#include "platform.h"
#include "ref_libfdt.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

#define QEMU_MAX_SMP 8 /* the Makefile dumps qemu-smp1.dtb .. qemu-smp8.dtb */
#define QEMU_MEM (640 * MIB) /* its -m 640M */
#define WALK_MAX_DEPTH 64 /* deeper nodes (only in corrupted blobs) are not visited */
#define DIFF_LOG_LINES 8 /* the differences a diff prints; it counts them all */
#define CASE_FAILURES_MAX 5 /* failing truncations shown per blob */
#define RANDOM_CORRUPTIONS 1000 /* per blob */

/* Every blob the tests read, in build/host/fixtures/. */
static const char *const blob_names[] = {
	/* clang-format off */
	"minimal.dtb", "holes.dtb", "disabled.dtb", "reg2.dtb", "no-cpus.dtb",
	"no-timebase.dtb", "timebase-cpu.dtb", "many-cpus.dtb", "no-reg.dtb", "no-isa.dtb",
	"no-h.dtb", "no-usable.dtb", "dup-hartid.dtb", "no-memory.dtb", "cpus-no-cells.dtb",
	"bad-status.dtb", "isa-extensions.dtb", "isa-no-base.dtb", "isa-unterminated.dtb",
	"qemu-smp1.dtb", "qemu-smp2.dtb", "qemu-smp3.dtb", "qemu-smp4.dtb",
	"qemu-smp5.dtb", "qemu-smp6.dtb", "qemu-smp7.dtb", "qemu-smp8.dtb",
	"qemu10-smp1.dtb", "qemu10-smp2.dtb", "qemu10-smp3.dtb", "qemu10-smp4.dtb",
	"qemu10-smp5.dtb", "qemu10-smp6.dtb", "qemu10-smp7.dtb", "qemu10-smp8.dtb",
#if LAB_NUMBER >= 5
	/* QEMU's trees with -initrd (see the Makefile): the last ones, for BROKEN_FROM. */
	"qemu-initrd.dtb", "qemu10-initrd.dtb",
#endif
	/* clang-format on */
};

/*
 * The blobs from this index on are the ones fdt_truncated, fdt_header_flips
 * and fdt_corrupted break, thousands of ways each: in lab 02's build every
 * blob, in lab 05's the trees with an initrd. Lab 05's fdt.c is lab 02's,
 * byte for byte, and its platform.c differs only where it reads /chosen's
 * initrd (common/tools/copies.py holds both so); so lab 02's run covers
 * the rest, and the make test budget pays for it once.
 */
#if LAB_NUMBER >= 5
#define BROKEN_FROM (ARRAY_SIZE(blob_names) - 2)
#else
#define BROKEN_FROM 0
#endif

/*
 * QEMU 10's trees are there only where QEMU 10 is (the Makefile says so when
 * it is not): one that is missing is skipped, not a failure.
 */
static int blob_skipped(const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/fixtures/%s", blob_dir(), name);
	return strncmp(name, "qemu10-", 7) == 0 && access(path, F_OK) != 0;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Header fields, by byte offset. */
#define H_TOTALSIZE 4
#define H_OFF_STRUCT 8
#define H_OFF_STRINGS 12
#define H_OFF_RSVMAP 16
#define H_VERSION 20
#define H_LAST_COMP 24
#define H_SIZE_STRINGS 32
#define H_SIZE_STRUCT 36

/*
 * Reads build/host/fixtures/name, in a buffer of exactly the tree's size.
 * QEMU writes out the whole 1 MiB buffer it built the tree in; the tree is
 * its first totalsize bytes, and the rest is cut off here.
 */
static uint8_t *blob_load(const char *name, size_t *size)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/fixtures/%s", blob_dir(), name);
	uint8_t *data = blob_read(path, size);
	if (data == NULL)
		return NULL;
	if (*size >= FDT_HEADER_SIZE && get_be32(data) == FDT_MAGIC &&
	    get_be32(data + H_TOTALSIZE) < *size) {
		size_t total = get_be32(data + H_TOTALSIZE);
		uint8_t *tree = malloc(total);
		memcpy(tree, data, total);
		free(data);
		data = tree;
		*size = total;
	}
	return data;
}

/* A copy of size bytes in a buffer of exactly that size. */
static uint8_t *blob_copy(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size > 0 ? size : 1);
	memcpy(copy, data, size);
	return copy;
}

/* ---- diffs: the differences found in one blob, described ---- */

struct diff {
	char label[96]; /* the blob, and what was done to it */
	int count; /* differences found */
	char log[DIFF_LOG_LINES * 160];
	size_t log_len;
};

static void diff_init(struct diff *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diff_init(struct diff *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->label, sizeof(d->label), fmt, ap);
	va_end(ap);
	d->count = 0;
	d->log[0] = '\0';
	d->log_len = 0;
}

static void diff_add(struct diff *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diff_add(struct diff *d, const char *fmt, ...)
{
	if (d->count++ >= DIFF_LOG_LINES)
		return;
	size_t room = sizeof(d->log) - d->log_len;
	int n = snprintf(d->log + d->log_len, room, "    %s: ", d->label);
	if (n > 0 && (size_t)n < room) {
		d->log_len += (size_t)n;
		room -= (size_t)n;
		va_list ap;
		va_start(ap, fmt);
		n = vsnprintf(d->log + d->log_len, room, fmt, ap);
		va_end(ap);
		if (n > 0)
			d->log_len += (size_t)n < room ? (size_t)n : room - 1;
	}
	if (d->log_len + 1 < sizeof(d->log)) {
		d->log[d->log_len++] = '\n';
		d->log[d->log_len] = '\0';
	}
}

/* One check: d found no difference. Prints them if it did. */
#define CHECK_NO_DIFF(d) check_no_diff_at((d), __FILE__, __LINE__)
static int check_no_diff_at(const struct diff *d, const char *file, int line)
{
	if (check_true_at(d->count == 0, "no difference", file, line))
		return 1;
	printf("%s", d->log);
	if (d->count > DIFF_LOG_LINES)
		printf("    %s: and %d more\n", d->label, d->count - DIFF_LOG_LINES);
	return 0;
}

/* ---- the walk: fdt.c and libfdt over the whole tree ---- */

struct walk {
	struct diff *d;
	int nodes, props;
	char path[512]; /* the node being visited, for the messages */
};

/*
 * The typed readers on one property whose value libfdt says is len bytes
 * at v: each agrees with what the bytes say.
 */
static void walk_typed(const uint8_t *fdt, struct walk *w, int node, const char *name,
		       const uint8_t *v, int len)
{
	uint32_t u32 = 0xdeadbeef;
	uint64_t u64 = 0;
	int cells = len / 4;

	/* Cell 0, the last whole cell, and one past it. */
	int err = fdt_prop_u32(fdt, node, name, 0, &u32);
	if (cells >= 1 ? err != 0 || u32 != get_be32(v) : err != FDT_ERR_BADVALUE)
		diff_add(w->d, "%s %s: fdt_prop_u32 index 0 gave %d, 0x%x", w->path, name, err, u32);
	if (cells >= 2) {
		err = fdt_prop_u32(fdt, node, name, cells - 1, &u32);
		if (err != 0 || u32 != get_be32(v + 4 * (cells - 1)))
			diff_add(w->d, "%s %s: fdt_prop_u32 of the last cell gave %d", w->path, name,
				 err);
	}
	err = fdt_prop_u32(fdt, node, name, cells, &u32);
	if (err != FDT_ERR_BADVALUE)
		diff_add(w->d, "%s %s: fdt_prop_u32 past the end gave %d", w->path, name, err);

	/* Two cells make one 64-bit number, big-endian. */
	err = fdt_prop_cells(fdt, node, name, 0, 2, &u64);
	if (cells >= 2 ? err != 0 || u64 != ((uint64_t)get_be32(v) << 32 | get_be32(v + 4))
		       : err != FDT_ERR_BADVALUE)
		diff_add(w->d, "%s %s: fdt_prop_cells(0, 2) gave %d", w->path, name, err);
	/* Only 1 or 2 cells, from an index that is not negative. */
	if (fdt_prop_cells(fdt, node, name, 0, 0, &u64) != FDT_ERR_BADVALUE ||
	    fdt_prop_cells(fdt, node, name, 0, 3, &u64) != FDT_ERR_BADVALUE ||
	    fdt_prop_cells(fdt, node, name, -1, 1, &u64) != FDT_ERR_BADVALUE)
		diff_add(w->d, "%s %s: fdt_prop_cells took a bad index or count", w->path, name);

	/* A string: at least one byte, and the last one is the NUL. */
	const char *s = fdt_prop_string(fdt, node, name);
	int is_string = len >= 1 && v[len - 1] == '\0';
	if (is_string ? s != (const char *)v : s != NULL)
		diff_add(w->d, "%s %s: fdt_prop_string gave %s", w->path, name,
			 s == NULL ? "NULL" : "a string");
}

/*
 * Each property libfdt lists for node: fdt_prop finds it by name, at the
 * same place in the blob with the same length, so the same bytes. (With two
 * properties of one name, both readers give the first.)
 */
static void walk_props(const uint8_t *fdt, struct walk *w, int node)
{
	for (int prop = ref_first_property(fdt, node); prop >= 0;
	     prop = ref_next_property(fdt, prop)) {
		const char *name;
		int len;
		if (ref_property_at(fdt, prop, &name, &len) == NULL) {
			diff_add(w->d, "%s: libfdt cannot read the property at %d", w->path, prop);
			return;
		}
		w->props++;

		int want_len, got_len;
		const uint8_t *want = ref_getprop(fdt, node, name, &want_len);
		const uint8_t *got = fdt_prop(fdt, node, name, &got_len);
		if (got != want || got_len != want_len) {
			diff_add(w->d, "%s %s: fdt_prop gives offset %td, length %d; fdt_getprop %td, %d",
				 w->path, name, got == NULL ? -1 : got - fdt, got_len,
				 want == NULL ? -1 : want - fdt, want_len);
			continue;
		}
		walk_typed(fdt, w, node, name, want, want_len);
	}

	int len;
	if (fdt_prop(fdt, node, "no-such-property", &len) != NULL || len != FDT_ERR_NOTFOUND)
		diff_add(w->d, "%s: found no-such-property (%d)", w->path, len);
}

/* fdt_subnode(parent, name) finds what fdt_subnode_offset finds. */
static void walk_lookup(const uint8_t *fdt, struct walk *w, int parent, const char *name)
{
	int got = fdt_subnode(fdt, parent, name);
	int want = ref_subnode_offset(fdt, parent, name);
	if (want < 0 ? got != FDT_ERR_NOTFOUND : got != want)
		diff_add(w->d, "%s: fdt_subnode(\"%s\") is %d, fdt_subnode_offset %d", w->path, name,
			 got, want);
}

static void walk_node(const uint8_t *fdt, struct walk *w, int node, int depth)
{
	size_t path_len = strlen(w->path);
	const char *name = fdt_name(fdt, node);
	const char *want = ref_get_name(fdt, node);

	w->nodes++;
	if (name == NULL || want == NULL || strcmp(name, want) != 0) {
		diff_add(w->d, "%s: node at %d is named \"%s\", libfdt \"%s\"", w->path, node,
			 name != NULL ? name : "(NULL)", want != NULL ? want : "(NULL)");
		return;
	}
	snprintf(w->path + path_len, sizeof(w->path) - path_len, "%s%s",
		 depth > 1 ? "/" : "", depth > 0 ? name : "/");
	walk_props(fdt, w, node);

	/* The children, in step: the same offsets, and both end together. */
	int child = fdt_subnode_first(fdt, node);
	int ref = ref_first_subnode(fdt, node);
	while (child >= 0 || ref >= 0) {
		if (child != ref) {
			diff_add(w->d, "%s: next child at %d, libfdt says %d", w->path, child, ref);
			break;
		}
		const char *child_name = ref_get_name(fdt, child);
		if (child_name != NULL) {
			/* By its whole name, by its name without the unit address, and a miss. */
			char base[256];
			walk_lookup(fdt, w, node, child_name);
			snprintf(base, sizeof(base), "%.*s", (int)strcspn(child_name, "@"), child_name);
			walk_lookup(fdt, w, node, base);
			snprintf(base, sizeof(base), "%.200s-not-a-node", child_name);
			walk_lookup(fdt, w, node, base);
		}
		if (depth < WALK_MAX_DEPTH)
			walk_node(fdt, w, child, depth + 1);
		child = fdt_subnode_next(fdt, child);
		ref = ref_next_subnode(fdt, ref);
	}
	if (child < 0 && ref < 0 && child != FDT_ERR_NOTFOUND)
		diff_add(w->d, "%s: the last child is followed by error %d", w->path, child);
	w->path[path_len] = '\0';
}

/* Walks the whole tree; the differences go to d. Returns the nodes seen. */
static int walk_tree(const uint8_t *fdt, struct diff *d, int *props)
{
	struct walk w = { .d = d };
	walk_node(fdt, &w, 0, 0);
	if (props != NULL)
		*props = w.props;
	return w.nodes;
}

/* ---- platform_read against ref_platform_read ---- */

static char use_letter(enum platform_cpu_use use)
{
	switch (use) {
	case CPU_USED:
		return 'U';
	case CPU_DISABLED:
		return 'D';
	case CPU_NO_H:
		return 'N';
	case CPU_OVER_LIMIT:
		return 'O';
	}
	return '?';
}

/* Each cpu's fate as a word: "UDUUD" (see struct fixture). */
static void uses_string(const struct platform *p, char *out, size_t size)
{
	size_t n = 0;
	for (int i = 0; i < p->ncpus && i < PLATFORM_MAX_CPUS && n + 1 < size; i++)
		out[n++] = use_letter(p->cpus[i].use);
	out[n] = '\0';
}

/* The string a field of max bytes holds once src is copied into it. */
static int same_truncated(const char *got, const char *src, size_t max)
{
	size_t n = strlen(src) < max - 1 ? strlen(src) : max - 1;
	return strlen(got) == n && strncmp(got, src, n) == 0;
}

/* What platform_read said (ret, why, p) against what ref_platform_read says (r). */
static void diff_platform(struct diff *d, int ret, const char *why, const struct platform *p,
			  const struct ref_platform *r)
{
	if (r->error != NULL) {
		if (ret != -1 || why == NULL || strstr(why, r->error) == NULL)
			diff_add(d, "platform_read gave %d \"%s\", want -1 and \"%s\"", ret,
				 ret != 0 && why != NULL ? why : "", r->error);
		return;
	}
	if (ret != 0) {
		diff_add(d, "platform_read failed: %s", why != NULL ? why : "(no why)");
		return;
	}
	if (p->ncpus != r->ncpus)
		diff_add(d, "%d cpus, want %d", p->ncpus, r->ncpus);
	for (int i = 0; i < p->ncpus && i < r->ncpus && i < PLATFORM_MAX_CPUS; i++) {
		const struct platform_cpu *c = &p->cpus[i];
		const struct ref_cpu *rc = &r->cpus[i];
		if (c->hartid != rc->hartid || use_letter(c->use) != rc->use ||
		    strcmp(c->isa, rc->isa) != 0)
			diff_add(d, "cpu %d: hart %#" PRIx64 " %c \"%s\", want hart %#" PRIx64 " %c \"%s\"",
				 i, c->hartid, use_letter(c->use), c->isa, rc->hartid, rc->use, rc->isa);
	}
	int same_harts = p->nharts == r->nharts;
	for (int i = 0; same_harts && i < p->nharts; i++)
		same_harts = p->hartids[i] == r->hartids[i];
	if (!same_harts) {
		char got[160] = "", want[160] = "";
		for (int i = 0; i < p->nharts && i < HYP_MAX_HARTS; i++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), " %" PRIu64, p->hartids[i]);
		for (int i = 0; i < r->nharts; i++)
			snprintf(want + strlen(want), sizeof(want) - strlen(want), " %" PRIu64,
				 r->hartids[i]);
		diff_add(d, "harts [%s ], want [%s ]", got, want);
	}
	if (p->timebase != r->timebase)
		diff_add(d, "timebase %u, want %u", p->timebase, r->timebase);
	if (!same_truncated(p->mmu_type, r->mmu_type, sizeof(p->mmu_type)))
		diff_add(d, "mmu-type \"%s\", want \"%s\"", p->mmu_type, r->mmu_type);
	if (p->mem_base != r->mem_base || p->mem_size != r->mem_size)
		diff_add(d, "memory %#" PRIx64 "+%#" PRIx64 ", want %#" PRIx64 "+%#" PRIx64,
			 p->mem_base, p->mem_size, r->mem_base, r->mem_size);
#if LAB_NUMBER >= 5
	if (p->initrd_start != r->initrd_start || p->initrd_end != r->initrd_end)
		diff_add(d, "initrd %#" PRIx64 "-%#" PRIx64 ", want %#" PRIx64 "-%#" PRIx64,
			 p->initrd_start, p->initrd_end, r->initrd_start, r->initrd_end);
#endif
}

/* platform_read and ref_platform_read on one blob; the differences go to d. */
static void compare_platform(const uint8_t *fdt, size_t size, uint64_t boot, struct diff *d)
{
	static struct platform p; /* 66 KiB: not on the stack */
	static struct ref_platform r;
	const char *why = NULL;

	int ret = platform_read(fdt, size, boot, &p, &why);
	ref_platform_read(fdt, boot, &r);
	diff_platform(d, ret, why, &p, &r);
}

/* ---- the tests ---- */

static void test_fdt_walk(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(blob_names); i++) {
		if (blob_skipped(blob_names[i]))
			continue;
		size_t size;
		uint8_t *fdt = blob_load(blob_names[i], &size);
		if (!CHECK(fdt != NULL))
			continue;
		CHECK_EQ_U64(fdt_check(fdt, size), 0);
		CHECK_EQ_U64(ref_check_full(fdt, size), 0);
		CHECK_EQ_U64(fdt_totalsize(fdt), size);

		struct diff d;
		int props;
		diff_init(&d, "%s", blob_names[i]);
		int nodes = walk_tree(fdt, &d, &props);
		CHECK_NO_DIFF(&d);
		/* The walk saw the whole tree: QEMU's has dozens of nodes. */
		CHECK(nodes >= 3 && props >= 5);
		if (strncmp(blob_names[i], "qemu", 4) == 0)
			CHECK(nodes >= 30 && props >= 100);
		free(fdt);
	}
}

static void test_fdt_lookups(void)
{
	size_t size;
	uint8_t *fdt = blob_load("reg2.dtb", &size);
	if (!CHECK(fdt != NULL))
		return;

	/* A name without '@' also matches name@unit; one with '@' only itself. */
	int cpus = fdt_subnode(fdt, 0, "cpus");
	CHECK(cpus > 0);
	CHECK_STR(fdt_name(fdt, cpus), "cpus");
	int mem = fdt_subnode(fdt, 0, "memory");
	CHECK_STR(fdt_name(fdt, mem), "memory@80000000"); /* the first, not memory-controller */
	CHECK_EQ_U64(fdt_subnode(fdt, 0, "memory@200000000"), ref_subnode_offset(fdt, 0, "memory@200000000"));
	CHECK_EQ_U64(fdt_subnode(fdt, 0, "memory@2"), FDT_ERR_NOTFOUND); /* part of a unit */
	CHECK_EQ_U64(fdt_subnode(fdt, 0, "mem"), FDT_ERR_NOTFOUND); /* part of a name */
	CHECK_EQ_U64(fdt_subnode(fdt, 0, "memory-"), FDT_ERR_NOTFOUND);
	CHECK_EQ_U64(fdt_subnode(fdt, 0, "cpus@0"), FDT_ERR_NOTFOUND);
	CHECK_EQ_U64(fdt_subnode(fdt, 0, ""), FDT_ERR_NOTFOUND);
	CHECK_STR(fdt_name(fdt, fdt_subnode(fdt, cpus, "cpu@100000000")), "cpu@100000000");
	CHECK_STR(fdt_name(fdt, fdt_subnode(fdt, cpus, "cpu")), "cpu@0");
	CHECK_STR(fdt_name(fdt, 0), "");

	/* A cpu with no child: no first child, and the last cpu has no next. */
	int cpu = fdt_subnode(fdt, cpus, "cpu@3");
	CHECK_EQ_U64(fdt_subnode_first(fdt, cpu), FDT_ERR_NOTFOUND);
	CHECK_EQ_U64(fdt_subnode_next(fdt, cpu), FDT_ERR_NOTFOUND);

	/*
	 * Offsets that are not a node's: errors, never a read out of the block.
	 * prop is the FDT_PROP token of /cpus's first property: its value comes
	 * 12 bytes after it.
	 */
	int len;
	const uint8_t *value = fdt_prop(fdt, cpus, "#address-cells", &len);
	int prop = (int)(value - (fdt + get_be32(fdt + H_OFF_STRUCT))) - 12;
	int size_struct = (int)get_be32(fdt + H_SIZE_STRUCT);
	int bad[] = { -4, -1, 1, 2, 3, 4, prop, size_struct - 4, size_struct,
		      size_struct + 4, 0x7ffffffc };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		len = 0;
		int ok = CHECK(fdt_subnode_first(fdt, bad[i]) < 0);
		ok &= CHECK(fdt_subnode_next(fdt, bad[i]) < 0);
		ok &= CHECK(fdt_name(fdt, bad[i]) == NULL);
		ok &= CHECK(fdt_prop(fdt, bad[i], "reg", &len) == NULL && len < 0);
		ok &= CHECK(fdt_subnode(fdt, bad[i], "cpus") < 0);
		ok &= CHECK(fdt_prop_string(fdt, bad[i], "reg") == NULL);
		if (!ok)
			printf("    reg2.dtb, offset %d (the structure block has %d bytes)\n", bad[i],
			       size_struct);
	}

	/* Every error has its own message. */
	int errs[] = { 0, FDT_ERR_NOTFOUND, FDT_ERR_BADMAGIC, FDT_ERR_BADVERSION,
		       FDT_ERR_BADHEADER, FDT_ERR_BADSTRUCT, FDT_ERR_BADVALUE };
	for (size_t i = 0; i < ARRAY_SIZE(errs); i++) {
		CHECK(strcmp(fdt_strerror(errs[i]), fdt_strerror(-100)) != 0);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(fdt_strerror(errs[i]), fdt_strerror(errs[j])) != 0);
	}
	free(fdt);
}

static void test_fdt_header(void)
{
	size_t size;
	uint8_t *fdt = blob_load("minimal.dtb", &size);
	if (!CHECK(fdt != NULL))
		return;

	/* A buffer larger than the tree is fine, as in memory at boot. */
	uint8_t *big = calloc(1, size + 4096);
	memcpy(big, fdt, size);
	CHECK_EQ_U64(fdt_check(big, size + 4096), 0);
	CHECK_EQ_U64(fdt_check(big, size), 0);
	CHECK_EQ_U64(fdt_check(big, size - 1), FDT_ERR_BADHEADER);
	free(big);

	/* Each header rule, broken alone. */
	struct {
		int offset;
		uint32_t value;
		int err;
	} cases[] = {
		{ 0, 0xedfe0dd0, FDT_ERR_BADMAGIC }, /* little-endian magic */
		{ H_VERSION, 16, FDT_ERR_BADVERSION },
		{ H_LAST_COMP, 18, FDT_ERR_BADVERSION },
		{ H_VERSION, 18, 0 }, /* newer, but compatible with 17 */
		{ H_TOTALSIZE, 39, FDT_ERR_BADHEADER },
		{ H_TOTALSIZE, 0xffffffff, FDT_ERR_BADHEADER },
		{ H_OFF_STRUCT, 0x3a, FDT_ERR_BADHEADER }, /* not 4-byte aligned */
		{ H_OFF_STRUCT, 0xffffffc0, FDT_ERR_BADHEADER }, /* offset + size wraps in 32 bits */
		{ H_SIZE_STRUCT, 0xfffffffc, FDT_ERR_BADHEADER },
		{ H_OFF_RSVMAP, 0x24, FDT_ERR_BADHEADER }, /* reservation map inside the header */
		{ H_OFF_RSVMAP, 0x2c, FDT_ERR_BADHEADER }, /* not 8-byte aligned */
		{ H_OFF_STRINGS, 0xfffffff0, FDT_ERR_BADHEADER }, /* strings block outside */
		{ H_SIZE_STRINGS, 0xffffffff, FDT_ERR_BADHEADER },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t *copy = blob_copy(fdt, size);
		put_be32(copy + cases[i].offset, cases[i].value);
		if (!CHECK_EQ_U64(fdt_check(copy, size), cases[i].err))
			printf("    header word at %d = %#x\n", cases[i].offset, cases[i].value);
		free(copy);
	}

	/* Too small for a header: nothing past bufsize is read. */
	for (size_t n = 0; n < FDT_HEADER_SIZE; n++) {
		uint8_t *copy = blob_copy(fdt, n);
		CHECK_EQ_U64(fdt_check(copy, n), FDT_ERR_BADHEADER);
		free(copy);
	}
	free(fdt);
}

/*
 * One row per fixture and boot hart: what its comment says platform_read
 * finds. The rows assume HYP_MAX_HARTS is TABLE_MAX_HARTS; with another
 * limit (exercise 7 of the lab's README), a row the limit changes is only
 * compared with ref_platform_read, which knows the limit.
 */
#define TABLE_MAX_HARTS 8

struct fixture {
	const char *file;
	uint64_t boot; /* the boot hart */
	const char *error; /* a phrase platform_read's *why must contain, or NULL */
	const char *uses; /* each cpu's fate, tree order: Used, Disabled, No H, Over the limit */
	int nharts;
	uint64_t hartids[TABLE_MAX_HARTS];
	uint32_t timebase;
	uint64_t mem_base, mem_size;
};

static const struct fixture fixtures[] = {
	/* clang-format off */
	{ "minimal.dtb", 0, NULL, "U", 1, { 0 }, 10000000, 0x80000000, 128 * MIB },
	{ "holes.dtb", 2, NULL, "UUU", 3, { 2, 0, 5 }, 1000000, 0x80000000, 256 * MIB },
	{ "holes.dtb", 5, NULL, "UUU", 3, { 5, 0, 2 }, 1000000, 0x80000000, 256 * MIB },
	{ "disabled.dtb", 0, NULL, "UDUUD", 3, { 0, 2, 3 }, 10000000, 0x80000000, GIB },
	{ "disabled.dtb", 3, NULL, "UDUUD", 3, { 3, 0, 2 }, 10000000, 0x80000000, GIB },
	{ "reg2.dtb", 0x100000000, NULL, "UUU", 3, { 0x100000000, 0, 3 }, 10000000,
	  0x80000000, 4 * GIB },
	{ "timebase-cpu.dtb", 1, NULL, "UUU", 3, { 1, 0, 2 }, 24000000, 0x80000000, 128 * MIB },
	{ "many-cpus.dtb", 10, NULL, "UUUUUUUOOOUO", 8, { 10, 0, 1, 2, 3, 4, 5, 6 }, 10000000,
	  0x80000000, 512 * MIB },
	{ "many-cpus.dtb", 0, NULL, "UUUUUUUUOOOO", 8, { 0, 1, 2, 3, 4, 5, 6, 7 }, 10000000,
	  0x80000000, 512 * MIB },
	{ "no-h.dtb", 0, NULL, "UNU", 2, { 0, 2 }, 10000000, 0x80000000, 128 * MIB },
	{ "bad-status.dtb", 0, NULL, "UDDU", 2, { 0, 3 }, 10000000, 0x80000000, 128 * MIB },
	{ "isa-extensions.dtb", 0, NULL, "UNUU", 3, { 0, 2, 3 }, 10000000, 0x80000000, 128 * MIB },
	{ .file = "no-h.dtb", .boot = 1, .error = "boot hart" },           /* no H extension */
	{ .file = "disabled.dtb", .boot = 1, .error = "boot hart" },       /* disabled */
	{ .file = "minimal.dtb", .boot = 1, .error = "boot hart" },        /* not in the tree */
	{ .file = "no-cpus.dtb", .boot = 0, .error = "no /cpus" },
	{ .file = "cpus-no-cells.dtb", .boot = 0, .error = "#address-cells" },
	{ .file = "no-timebase.dtb", .boot = 0, .error = "timebase" },
	{ .file = "no-reg.dtb", .boot = 0, .error = "valid reg" },
	{ .file = "no-isa.dtb", .boot = 0, .error = "riscv,isa" },
	{ .file = "dup-hartid.dtb", .boot = 0, .error = "same hart id" },
	{ .file = "no-usable.dtb", .boot = 0, .error = "no usable hart" },
	{ .file = "no-memory.dtb", .boot = 0, .error = "/memory" },
	{ .file = "isa-no-base.dtb", .boot = 0, .error = "cpu@1: riscv,isa-base or riscv,isa-extensions without the other" },
	{ .file = "isa-unterminated.dtb", .boot = 0, .error = "cpu@0: riscv,isa-extensions does not end with a NUL" },
	/* clang-format on */
};

static int row_depends_on_limit(const struct fixture *f)
{
	return HYP_MAX_HARTS != TABLE_MAX_HARTS &&
	       (strchr(f->uses, 'O') != NULL || f->nharts >= HYP_MAX_HARTS);
}

static void test_platform_fixtures(void)
{
	static struct platform p;
	static struct ref_platform r;

	for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
		const struct fixture *f = &fixtures[i];
		size_t size;
		uint8_t *fdt = blob_load(f->file, &size);
		if (!CHECK(fdt != NULL))
			continue;
		const char *why = NULL;
		int ret = platform_read(fdt, size, f->boot, &p, &why);
		ref_platform_read(fdt, f->boot, &r);

		/* The reference agrees with the fixture's comment... */
		if (!CHECK((r.error == NULL) == (f->error == NULL)))
			printf("    %s boot %" PRIu64 ": ref_platform_read says %s\n", f->file, f->boot,
			       r.error != NULL ? r.error : "fine");

		/* ...and platform_read with both. */
		if (f->error != NULL) {
			CHECK_EQ_U64(ret, -1);
			if (!CHECK(why != NULL && strstr(why, f->error) != NULL))
				printf("    %s boot %" PRIu64 ": why is \"%s\", want \"%s\"\n", f->file,
				       f->boot, ret != 0 && why != NULL ? why : "", f->error);
		} else if (CHECK_EQ_U64(ret, 0) && !row_depends_on_limit(f)) {
			char uses[PLATFORM_MAX_CPUS + 1];
			uses_string(&p, uses, sizeof(uses));
			if (!CHECK_STR(uses, f->uses))
				printf("    %s boot %" PRIu64 "\n", f->file, f->boot);
			CHECK_EQ_U64(p.nharts, f->nharts);
			for (int h = 0; h < f->nharts && h < p.nharts; h++)
				CHECK_EQ_U64(p.hartids[h], f->hartids[h]);
			CHECK_EQ_U64(p.timebase, f->timebase);
			CHECK_EQ_U64(p.mem_base, f->mem_base);
			CHECK_EQ_U64(p.mem_size, f->mem_size);
		} else if (ret != 0) {
			printf("    %s boot %" PRIu64 ": %s\n", f->file, f->boot, why);
		}

		struct diff d;
		diff_init(&d, "%s boot %" PRIu64, f->file, f->boot);
		diff_platform(&d, ret, why, &p, &r);
		CHECK_NO_DIFF(&d);
		free(fdt);
	}
}

/* The riscv,isa of /cpus/cpu@<hart> in QEMU's tree fdt, as libfdt reads it. */
static const char *qemu_riscv_isa(const uint8_t *fdt, int hart)
{
	char name[32];
	int len;
	snprintf(name, sizeof(name), "cpu@%d", hart);
	int cpu = ref_subnode_offset(fdt, ref_subnode_offset(fdt, 0, "cpus"), name);
	const char *isa = ref_getprop(fdt, cpu, "riscv,isa", &len);
	return isa != NULL && len >= 1 && isa[len - 1] == '\0' ? isa : "(none)";
}

/*
 * QEMU's trees, 7.2's and 10's, with each hart as the boot hart. Every hart
 * has its whole ISA, as its riscv,isa says (QEMU 10's cpus give it the newer
 * way too, which platform_read reads instead; platform_bindings compares).
 */
static void test_platform_qemu(void)
{
	static struct platform p;
	const char *families[] = { "qemu", "qemu10" };

	for (size_t q = 0; q < ARRAY_SIZE(families); q++) {
		for (int n = 1; n <= QEMU_MAX_SMP; n++) {
			char name[32];
			size_t size;
			snprintf(name, sizeof(name), "%s-smp%d.dtb", families[q], n);
			if (blob_skipped(name))
				continue;
			uint8_t *fdt = blob_load(name, &size);
			if (!CHECK(fdt != NULL))
				continue;

			/*
			 * Every hart can boot; it comes first, the others follow in
			 * order, as many as HYP_MAX_HARTS allows.
			 */
			for (int boot = 0; boot < n; boot++) {
				const char *why = NULL;
				if (!CHECK_EQ_U64(platform_read(fdt, size, (uint64_t)boot, &p, &why), 0)) {
					printf("    %s boot %d: %s\n", name, boot, why);
					continue;
				}
				CHECK_EQ_U64(p.ncpus, n);
				CHECK_EQ_U64(p.nharts, n < HYP_MAX_HARTS ? n : HYP_MAX_HARTS);
				CHECK_EQ_U64(p.hartids[0], boot);
				for (int h = 1, want = 0; h < p.nharts && h < HYP_MAX_HARTS; h++, want++) {
					want += want == boot;
					CHECK_EQ_U64(p.hartids[h], want);
				}
				CHECK_EQ_U64(p.timebase, 10000000);
				CHECK_EQ_U64(p.mem_base, 0x80000000);
				CHECK_EQ_U64(p.mem_size, QEMU_MEM);
				for (int h = 0; h < n; h++) {
					CHECK_STR(platform_isa(&p, (uint64_t)h), qemu_riscv_isa(fdt, h));
					CHECK(platform_isa_has(platform_isa(&p, (uint64_t)h), 'h'));
				}
				CHECK_STR(p.boot_isa, qemu_riscv_isa(fdt, boot));

				struct diff d;
				diff_init(&d, "%s boot %d", name, boot);
				compare_platform(fdt, size, (uint64_t)boot, &d);
				CHECK_NO_DIFF(&d);
			}

			/* A boot hart that is not in the tree. */
			const char *why = NULL;
			CHECK_EQ_U64(platform_read(fdt, size, (uint64_t)n, &p, &why), -1);
			CHECK(why != NULL && strstr(why, "boot hart") != NULL);
			free(fdt);
		}
	}
}

/*
 * Hand-made structure blocks, each with one flaw, in a blob with a good
 * header. W() writes a big-endian word; a node's name is its bytes, a NUL
 * and zeros up to a multiple of 4.
 */
#define W(x) (uint8_t)((uint32_t)(x) >> 24), (uint8_t)((uint32_t)(x) >> 16), \
	     (uint8_t)((uint32_t)(x) >> 8), (uint8_t)(x)
#define T_BEGIN W(FDT_BEGIN_NODE)
#define T_END_NODE W(FDT_END_NODE)
#define T_PROP(len, nameoff) W(FDT_PROP), W(len), W(nameoff)
#define T_NOP W(FDT_NOP)
#define T_END W(FDT_END)
#define ROOT_NAME W(0) /* "" */
#define NAME_A 'a', 0, 0, 0 /* "a" */
#define STRINGS "reg\0status" /* at 0 "reg", at 4 "status"; 11 bytes with the last NUL */

struct malformed {
	const char *what;
	uint8_t s[64]; /* the structure block */
	uint32_t len;
	uint32_t strings_len; /* how much of STRINGS: 11 is all of it, with the NUL */
	int lab_ok, libfdt_ok; /* 1 if fdt_check / fdt_check_full accept it */
};

/* BLOCK(bytes...): the structure block and its length. */
#define BLOCK(...) .s = { __VA_ARGS__ }, .len = sizeof((const uint8_t[]){ __VA_ARGS__ })

static const struct malformed malformed[] = {
	/* clang-format off */
	{ "a good tree", BLOCK(T_BEGIN, ROOT_NAME, T_PROP(4, 0), W(7), T_NOP, T_BEGIN, NAME_A,
			       T_PROP(0, 4), T_END_NODE, T_END_NODE, T_END), 11, 1, 1 },
	/* libfdt takes a tree with no node at all; fdt.c wants the root. */
	{ "no root", BLOCK(T_END), 11, 0, 1 },
	{ "an empty block", .len = 0, 11, 0, 0 },
	{ "a NOP before the root", BLOCK(T_NOP, T_BEGIN, ROOT_NAME, T_END_NODE, T_END), 11, 0, 1 },
	{ "two roots", BLOCK(T_BEGIN, ROOT_NAME, T_END_NODE, T_BEGIN, ROOT_NAME, T_END_NODE, T_END),
	  11, 0, 0 },
	{ "a property after the root", BLOCK(T_BEGIN, ROOT_NAME, T_END_NODE, T_PROP(0, 0), T_END),
	  11, 0, 0 },
	{ "one END_NODE too many", BLOCK(T_BEGIN, ROOT_NAME, T_END_NODE, T_END_NODE, T_END), 11, 0,
	  0 },
	{ "a node never ended", BLOCK(T_BEGIN, ROOT_NAME, T_BEGIN, NAME_A, T_END_NODE, T_END), 11, 0,
	  0 },
	{ "no FDT_END", BLOCK(T_BEGIN, ROOT_NAME, T_END_NODE), 11, 0, 0 },
	{ "an unknown token", BLOCK(T_BEGIN, ROOT_NAME, W(5), T_END_NODE, T_END), 11, 0, 0 },
	{ "a name without its NUL", BLOCK(T_BEGIN, ROOT_NAME, T_BEGIN, 'a', 'b', 'c', 'd'), 11, 0,
	  0 },
	{ "a value past the block", BLOCK(T_BEGIN, ROOT_NAME, T_PROP(9, 0), W(0), T_END_NODE, T_END),
	  11, 0, 0 },
	{ "a length that wraps", BLOCK(T_BEGIN, ROOT_NAME, T_PROP(0xfffffffc, 0), T_END_NODE, T_END),
	  11, 0, 0 },
	{ "a property header past the block", BLOCK(T_BEGIN, ROOT_NAME, W(FDT_PROP), W(0)), 11, 0,
	  0 },
	{ "a name offset past the strings", BLOCK(T_BEGIN, ROOT_NAME, T_PROP(0, 11), T_END_NODE,
						  T_END), 11, 0, 0 },
	{ "a name offset far past them", BLOCK(T_BEGIN, ROOT_NAME, T_PROP(0, 0x80000000),
					       T_END_NODE, T_END), 11, 0, 0 },
	{ "a name with no NUL in the block", BLOCK(T_BEGIN, ROOT_NAME, T_PROP(0, 4), T_END_NODE,
						   T_END), 10, 0, 0 },
	/* The two differences fdt.c allows (see the corruption invariant below). */
	{ "a root with a name", BLOCK(T_BEGIN, NAME_A, T_END_NODE, T_END), 11, 1, 0 },
	{ "a NOP after the root", BLOCK(T_BEGIN, ROOT_NAME, T_END_NODE, T_NOP, T_END), 11, 1, 0 },
	/* Legal, if odd: both take it, and read it alike. */
	{ "a property after a child", BLOCK(T_BEGIN, ROOT_NAME, T_BEGIN, NAME_A, T_END_NODE,
					    T_PROP(0, 0), T_END_NODE, T_END), 11, 1, 1 },
	/* clang-format on */
};

/* A blob with an empty reservation map, then s, then the strings. */
static uint8_t *malformed_blob(const struct malformed *m, size_t *size)
{
	uint32_t off_struct = FDT_HEADER_SIZE + 16;
	uint32_t off_strings = off_struct + m->len;
	*size = off_strings + m->strings_len;
	uint8_t *b = calloc(1, *size);
	uint32_t header[] = { FDT_MAGIC, (uint32_t)*size, off_struct, off_strings,
			      FDT_HEADER_SIZE, 17, 16, 0, m->strings_len, m->len };
	for (size_t i = 0; i < ARRAY_SIZE(header); i++)
		put_be32(b + 4 * i, header[i]);
	memcpy(b + off_struct, m->s, m->len);
	memcpy(b + off_strings, STRINGS, m->strings_len);
	return b;
}

static void test_fdt_malformed(void)
{
	static struct platform p;

	for (size_t i = 0; i < ARRAY_SIZE(malformed); i++) {
		const struct malformed *m = &malformed[i];
		size_t size;
		uint8_t *fdt = malformed_blob(m, &size);
		int err = fdt_check(fdt, size);
		int ref = ref_check_full(fdt, size);
		if (!CHECK_EQ_U64(err == 0, m->lab_ok))
			printf("    %s: fdt_check says %d\n", m->what, err);
		if (!CHECK_EQ_U64(ref == 0, m->libfdt_ok))
			printf("    %s: fdt_check_full says %s\n", m->what, ref_strerror(ref));
		if (err == 0 && ref == 0) {
			struct diff d;
			diff_init(&d, "%s", m->what);
			walk_tree(fdt, &d, NULL);
			CHECK_NO_DIFF(&d);
		}
		if (err == 0 && ref != 0)
			CHECK(ref_lenient_reason(fdt, size) != NULL);
		/* No cpus in any of them: platform_read refuses each, cleanly. */
		const char *why = NULL;
		CHECK_EQ_U64(platform_read(fdt, size, 0, &p, &why), -1);
		free(fdt);
	}
}

/*
 * platform_isa_has looks for a single-letter extension: among the letters
 * between "rv64" and the first '_' or the first multi-letter extension,
 * which may follow the letters directly ("rv64imafdczihintpause", whose 'h'
 * is not the H extension).
 */
static void test_platform_isa(void)
{
	struct {
		const char *isa;
		int has_h;
	} cases[] = {
		{ "rv64imafdch", 1 },
		{ "rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc", 1 },
		{ "rv64gch", 1 },
		{ "rv32imach_zicsr", 1 },
		{ "rv64imafdchzicsr_zifencei", 1 },
		{ "rv64imafdc", 0 },
		{ "rv64imafdc_zicsr_zihintpause", 0 },
		{ "rv64imafdc_svinval_xhfoo", 0 },
		{ "rv64imafdczicsr_zihintpause", 0 },
		{ "rv64imafdcsvinval_h", 0 },
		{ "rv64imafdcxhfoo", 0 },
		{ "rv64imafdcsh", 0 },
		{ "rv64imafdchsstc", 1 },
		{ "rv64", 0 },
		{ "hrv64", 0 },
		{ "", 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (!CHECK_EQ_U64(platform_isa_has(cases[i].isa, 'h'), cases[i].has_h))
			printf("    platform_isa_has(\"%s\", 'h')\n", cases[i].isa);
	CHECK(platform_isa_has("rv64imafdc", 'c'));
	CHECK(!platform_isa_has("rv64imafd_zca", 'c'));

	/* The table's ISA by hart id, and a word for each fate. */
	size_t size;
	uint8_t *fdt = blob_load("no-h.dtb", &size);
	static struct platform p;
	const char *why;
	if (CHECK(fdt != NULL) && CHECK_EQ_U64(platform_read(fdt, size, 0, &p, &why), 0)) {
		CHECK_STR(platform_isa(&p, 1), "rv64imafdc_zicsr_zihintpause");
		CHECK_STR(platform_isa(&p, 2), "rv64gch");
		CHECK_STR(platform_isa(&p, 3), "");
	}
	free(fdt);

	/* The newer binding, as one riscv,isa string (see the fixture's comment). */
	fdt = blob_load("isa-extensions.dtb", &size);
	if (CHECK(fdt != NULL) && CHECK_EQ_U64(platform_read(fdt, size, 0, &p, &why), 0)) {
		CHECK_STR(platform_isa(&p, 0), "rv64imafdch_zicsr_zba");
		CHECK_STR(platform_isa(&p, 1), "rv64imac_zicsr");
		CHECK_STR(platform_isa(&p, 2), "rv64ihmac_zicsr");
		CHECK_STR(platform_isa(&p, 3), "rv64imafdch");
	}
	free(fdt);
	enum platform_cpu_use uses[] = { CPU_USED, CPU_DISABLED, CPU_NO_H, CPU_OVER_LIMIT };
	for (size_t i = 0; i < ARRAY_SIZE(uses); i++) {
		CHECK(strcmp(platform_use_name(uses[i]), "?") != 0);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(platform_use_name(uses[i]), platform_use_name(uses[j])) != 0);
	}
}

/*
 * QEMU 10 gives each cpu its ISA both ways, and platform_read takes the
 * newer binding. With riscv,isa alone left, or riscv,isa-base and
 * riscv,isa-extensions alone, every hart must have the same ISA, and all of
 * it: 302 characters, more than the 127 a first HART_ISA_MAX of 128 kept.
 */
static void test_platform_bindings(void)
{
	static struct platform both, old, new;

	for (int n = 1; n <= QEMU_MAX_SMP; n++) {
		char name[32];
		size_t size, old_size = 0, new_size = 0, tmp_size;
		snprintf(name, sizeof(name), "qemu10-smp%d.dtb", n);
		if (blob_skipped(name))
			continue;
		uint8_t *fdt = blob_load(name, &size);
		if (!CHECK(fdt != NULL))
			continue;
		uint8_t *tmp = ref_cpus_setprop(fdt, "riscv,isa-base", NULL, 0, &tmp_size);
		uint8_t *old_only = tmp != NULL ? ref_cpus_setprop(tmp, "riscv,isa-extensions", NULL, 0,
								   &old_size)
						: NULL;
		uint8_t *new_only = ref_cpus_setprop(fdt, "riscv,isa", NULL, 0, &new_size);
		const char *why = NULL;
		if (CHECK(old_only != NULL && new_only != NULL) &&
		    CHECK_EQ_U64(platform_read(fdt, size, 0, &both, &why), 0) &&
		    CHECK_EQ_U64(platform_read(old_only, old_size, 0, &old, &why), 0) &&
		    CHECK_EQ_U64(platform_read(new_only, new_size, 0, &new, &why), 0)) {
			for (int h = 0; h < n; h++) {
				const char *isa = platform_isa(&both, (uint64_t)h);
				CHECK_STR(platform_isa(&old, (uint64_t)h), isa);
				CHECK_STR(platform_isa(&new, (uint64_t)h), isa);
				CHECK(strlen(isa) > 127);
			}
			CHECK_EQ_U64(new.nharts, both.nharts);
			CHECK_EQ_U64(old.nharts, both.nharts);
			struct diff d;
			diff_init(&d, "%s, riscv,isa alone", name);
			compare_platform(old_only, old_size, 0, &d);
			CHECK_NO_DIFF(&d);
			diff_init(&d, "%s, riscv,isa-base and riscv,isa-extensions alone", name);
			compare_platform(new_only, new_size, 0, &d);
			CHECK_NO_DIFF(&d);
		}
		free(tmp);
		free(old_only);
		free(new_only);
		free(fdt);
	}
}

/* qemu-smp2.dtb with its cpus' riscv,isa-base and riscv,isa-extensions set (NULL: deleted). */
struct isa_edit {
	const char *what;
	const char *base;
	int base_len; /* 0: strlen + 1 */
	const char *list;
	int list_len;
	const char *want; /* cpu@0's ISA, or the error, which names cpu@0 */
};

#define LIST(s) s, sizeof(s) - 1 /* a list of strings: each with its NUL, and no more */

static const struct isa_edit isa_edits[] = {
	/* clang-format off */
	{ "both", "rv64i", 0, LIST("i\0m\0a\0c\0h\0zicsr\0zic64b\0"), "rv64imach_zicsr_zic64b" },
	{ "rv32i", "rv32i", 0, LIST("i\0h\0"), "rv32ih" },
	{ "no base", NULL, 0, LIST("i\0h\0"), "cpu@0: riscv,isa-base or riscv,isa-extensions without the other" },
	{ "no list", "rv64i", 0, NULL, 0, "cpu@0: riscv,isa-base or riscv,isa-extensions without the other" },
	{ "an empty base", "", 0, LIST("i\0h\0"), "cpu@0: riscv,isa-base is not \"rv32i\" or \"rv64i\"" },
	{ "base rv128i", "rv128i", 0, LIST("i\0h\0"), "cpu@0: riscv,isa-base is not" },
	{ "base rv64", "rv64", 0, LIST("i\0h\0"), "cpu@0: riscv,isa-base is not" },
	{ "base rv64imafdch", "rv64imafdch", 0, LIST("i\0h\0"), "cpu@0: riscv,isa-base is not" },
	{ "a base with no NUL", "rv64i", 5, LIST("i\0h\0"), "cpu@0: riscv,isa-base is not" },
	{ "an empty list", "rv64i", 0, "", 0, "cpu@0: riscv,isa-extensions does not end with a NUL" },
	{ "a list with no last NUL", "rv64i", 0, "i\0m\0h", 5, "cpu@0: riscv,isa-extensions does not end with a NUL" },
	{ "an empty name", "rv64i", 0, LIST("i\0\0h\0"), "cpu@0: riscv,isa-extensions has an empty or malformed name" },
	{ "a capital", "rv64i", 0, LIST("i\0h\0Zicsr\0"), "cpu@0: riscv,isa-extensions has an empty or malformed name" },
	{ "an underscore", "rv64i", 0, LIST("i\0h\0zicsr_zba\0"), "cpu@0: riscv,isa-extensions has an empty or malformed name" },
	{ "a single s", "rv64i", 0, LIST("i\0s\0h\0"), "cpu@0: riscv,isa-extensions has an empty or malformed name" },
	{ "a digit first", "rv64i", 0, LIST("i\0h\0" "64b\0"), "cpu@0: riscv,isa-extensions has an empty or malformed name" },
	/* clang-format on */
};

/*
 * What platform_read makes of an ISA, in either binding: malformed ones are
 * refused, naming the cpu, and so is one longer than HART_ISA_MAX - 1, with
 * its length: never cut short. Each agrees with ref_platform_read too.
 */
static void test_platform_isa_errors(void)
{
	static struct platform p;
	size_t size;
	uint8_t *fdt = blob_load("qemu-smp2.dtb", &size);
	if (!CHECK(fdt != NULL))
		return;

	for (size_t i = 0; i < ARRAY_SIZE(isa_edits); i++) {
		const struct isa_edit *e = &isa_edits[i];
		size_t base_size = 0, edited_size = 0;
		int base_len = e->base_len;
		if (base_len == 0 && e->base != NULL)
			base_len = (int)strlen(e->base) + 1;
		uint8_t *with_base = ref_cpus_setprop(fdt, "riscv,isa-base", e->base, base_len, &base_size);
		uint8_t *edited = with_base == NULL ? NULL
						    : ref_cpus_setprop(with_base, "riscv,isa-extensions", e->list,
								       e->list_len, &edited_size);
		if (!CHECK(edited != NULL)) {
			free(with_base);
			continue;
		}
		const char *why = NULL;
		int ret = platform_read(edited, edited_size, 0, &p, &why);
		if (strncmp(e->want, "rv", 2) == 0) {
			if (CHECK_EQ_U64(ret, 0))
				CHECK_STR(platform_isa(&p, 0), e->want);
			else
				printf("    %s: %s\n", e->what, why);
		} else if (!CHECK(ret == -1 && why != NULL && strstr(why, e->want) != NULL)) {
			printf("    %s: platform_read gave %d \"%s\", want \"%s\"\n", e->what, ret,
			       ret != 0 && why != NULL ? why : "", e->want);
		}
		struct diff d;
		diff_init(&d, "qemu-smp2.dtb, %s", e->what);
		compare_platform(edited, edited_size, 0, &d);
		CHECK_NO_DIFF(&d);
		free(with_base);
		free(edited);
	}

	/*
	 * The longest ISA that fits, and one more character, in each binding:
	 * riscv,isa "rv64imafdch_zzz...", and base "rv64i" with "i", "h",
	 * "zzz...", which stand for "rv64ih_zzz...".
	 */
	static char isa[HART_ISA_MAX + 1], list[HART_ISA_MAX + 8], want[128];
	for (int len = HART_ISA_MAX - 1; len <= HART_ISA_MAX; len++) {
		for (int binding = 0; binding < 2; binding++) {
			size_t edited_size = 0, tmp_size = 0;
			uint8_t *tmp = NULL, *edited;
			if (binding == 0) {
				memset(isa, 'z', (size_t)len);
				memcpy(isa, "rv64imafdch_", 12);
				isa[len] = '\0';
				edited = ref_cpus_setprop(fdt, "riscv,isa", isa, len + 1, &edited_size);
			} else {
				int names = len - 7; /* "rv64ih_" */
				memcpy(list, "i\0h\0", 4);
				memset(list + 4, 'z', (size_t)names);
				list[4 + names] = '\0';
				tmp = ref_cpus_setprop(fdt, "riscv,isa-base", "rv64i", 6, &tmp_size);
				edited = tmp == NULL ? NULL
						     : ref_cpus_setprop(tmp, "riscv,isa-extensions", list,
									5 + names, &edited_size);
			}
			const char *why = NULL;
			if (!CHECK(edited != NULL)) {
				free(tmp);
				continue;
			}
			int ret = platform_read(edited, edited_size, 0, &p, &why);
			if (len < HART_ISA_MAX) {
				if (CHECK_EQ_U64(ret, 0))
					CHECK_EQ_U64(strlen(platform_isa(&p, 0)), len);
			} else {
				snprintf(want, sizeof(want),
					 "cpu@0: its ISA is %d characters, more than HART_ISA_MAX - 1 (%d)", len,
					 HART_ISA_MAX - 1);
				CHECK_EQ_U64(ret, -1);
				CHECK_STR(ret != 0 ? why : "", want);
			}
			struct diff d;
			diff_init(&d, "qemu-smp2.dtb, an ISA of %d in binding %d", len, binding);
			compare_platform(edited, edited_size, 0, &d);
			CHECK_NO_DIFF(&d);
			free(tmp);
			free(edited);
		}
	}
	free(fdt);
}

/*
 * Truncations. Every prefix shorter than the tree, with bufsize its length,
 * in a buffer of that size: fdt_check fails for each, and so does
 * platform_read. Then a header that gives the structure block, or the
 * strings block, every size shorter than its own: the last token (FDT_END)
 * or the last property name no longer fits, so both fdt_check and libfdt's
 * fdt_check_full must refuse each.
 */
static void test_fdt_truncated(void)
{
	static struct platform p;

	for (size_t i = BROKEN_FROM; i < ARRAY_SIZE(blob_names); i++) {
		if (blob_skipped(blob_names[i]))
			continue;
		size_t size;
		uint8_t *fdt = blob_load(blob_names[i], &size);
		if (!CHECK(fdt != NULL))
			continue;

		int bad = 0;
		for (size_t len = 0; len < size && bad < CASE_FAILURES_MAX; len++) {
			uint8_t *prefix = blob_copy(fdt, len);
			const char *why = NULL;
			int err = fdt_check(prefix, len);
			int ret = platform_read(prefix, len, 0, &p, &why);
			if (err >= 0 || ret != -1 || why == NULL) {
				bad++;
				check_true_at(0, "a prefix is refused", __FILE__, __LINE__);
				printf("    %s: the first %zu of %zu bytes: fdt_check %d, platform_read %d\n",
				       blob_names[i], len, size, err, ret);
			}
			free(prefix);
		}
		CHECK_EQ_U64(bad, 0);

		/* The field at field_offset set to every size below its own. */
		int fields[] = { H_SIZE_STRUCT, H_SIZE_STRINGS };
		for (size_t f = 0; f < ARRAY_SIZE(fields); f++) {
			uint32_t real = get_be32(fdt + fields[f]);
			uint8_t *copy = blob_copy(fdt, size);
			bad = 0;
			for (uint32_t k = 0; k < real && bad < CASE_FAILURES_MAX; k++) {
				put_be32(copy + fields[f], k);
				int err = fdt_check(copy, size);
				int ref = ref_check_full(copy, size);
				if (err >= 0 || ref >= 0) {
					bad++;
					check_true_at(0, "a shorter block is refused", __FILE__, __LINE__);
					printf("    %s: %s %u of %u: fdt_check %d, fdt_check_full %d\n",
					       blob_names[i], fields[f] == H_SIZE_STRUCT ? "size_dt_struct" : "size_dt_strings",
					       k, real, err, ref);
				}
			}
			CHECK_EQ_U64(bad, 0);
			free(copy);
		}
		free(fdt);
	}
}

/*
 * The corruption invariant. For a corrupted blob:
 *
 *  1. fdt.c never reads outside it and never crashes or hangs, whatever it
 *     holds (AddressSanitizer and the time the run takes tell).
 *  2. If fdt_check accepts it, libfdt's fdt_check_full accepts it too: the
 *     lab's reader is not fooled by what the reference refuses. Two
 *     differences are allowed, where fdt.c is lenient on purpose because
 *     nothing it reads depends on them: a root node with a name (fdt.c
 *     knows the root by its offset, 0), and NOPs between the root's
 *     END_NODE and FDT_END. ref_lenient_reason() repairs those in a copy:
 *     if libfdt then accepts, the case is allowed.
 *  3. If both accept it, they read it the same (the walk above), and
 *     platform_read agrees with ref_platform_read on it: the tree may now
 *     say other things (a status that is no longer "okay", a hart id that
 *     changed), and both must understand them alike. Not for a blob where
 *     they disagree already uncorrupted: platform_fixtures reports that.
 *
 * Not asked: that fdt_check accepts what libfdt accepts. fdt.c is stricter
 * on purpose in places (the first token must be the root; the reservation
 * map 8-byte aligned and ended by an all-zero entry; the structure block's
 * offset and size multiples of 4; version 17 or later), and refusing a
 * tree is always safe.
 */
struct corruption_run {
	const char *test;
	int cases, refused, refused_by_libfdt_too, lenient, both_accept;
	int failed, shown; /* failing cases, and those printed in full */
	int compare_platform; /* 0 for a blob platform_read gets wrong anyway */
};

#define CASES_SHOWN 10 /* failing cases printed in full; the rest are counted */

/* One corrupted blob: the invariant above. */
static void check_corrupted(struct corruption_run *run, const uint8_t *fdt, size_t size,
			    const char *label)
{
	static struct platform p;
	struct diff d;
	diff_init(&d, "%s", label);
	run->cases++;

	int err = fdt_check(fdt, size);
	int ref = ref_check_full(fdt, size);
	if (err != 0) {
		run->refused++;
		run->refused_by_libfdt_too += ref != 0;
		/* platform_read gives up, with fdt_check's message. */
		const char *why = NULL;
		if (platform_read(fdt, size, 0, &p, &why) != -1 || why == NULL ||
		    strcmp(why, fdt_strerror(err)) != 0)
			diff_add(&d, "fdt_check says %d but platform_read does not", err);
	} else if (ref != 0 && ref_lenient_reason(fdt, size) == NULL) {
		diff_add(&d, "fdt_check accepts it, libfdt's fdt_check_full says %s",
			 ref_strerror(ref));
	} else {
		/* Both accept it, or it is an allowed difference: fdt.c reads it all. */
		struct diff ignored, *to = &d;
		if (ref != 0) {
			run->lenient++;
			diff_init(&ignored, "%s", label);
			to = &ignored;
		} else {
			run->both_accept++;
		}
		walk_tree(fdt, to, NULL);
		if (!run->compare_platform) {
			diff_init(&ignored, "%s", label);
			to = &ignored;
		}
		compare_platform(fdt, size, 0, to);
	}

	if (d.count == 0) {
		check_passed++;
	} else if (run->shown < CASES_SHOWN || getenv("TEST_VERBOSE") != NULL) {
		run->shown++;
		CHECK_NO_DIFF(&d);
	} else {
		check_failed++;
	}
	run->failed += d.count != 0;
}

/* Sets run->compare_platform for the uncorrupted blob. */
static void corruption_blob(struct corruption_run *run, const uint8_t *fdt, size_t size)
{
	struct diff d;
	diff_init(&d, "uncorrupted");
	compare_platform(fdt, size, 0, &d);
	run->compare_platform = d.count == 0;
}

static void corruption_end(const struct corruption_run *run)
{
	if (run->failed > run->shown)
		printf("FAIL %s: and %d more failing cases like those above\n", run->test,
		       run->failed - run->shown);
	if (getenv("TEST_VERBOSE") != NULL)
		printf("%s: %d cases: fdt_check refused %d (libfdt too: %d), both accepted %d, "
		       "allowed differences %d, failed %d\n",
		       run->test, run->cases, run->refused, run->refused_by_libfdt_too,
		       run->both_accept, run->lenient, run->failed);
}

/* Each header byte inverted, then each header bit flipped alone. */
static void test_fdt_header_flips(void)
{
	struct corruption_run run = { .test = "fdt_header_flips" };

	for (size_t i = BROKEN_FROM; i < ARRAY_SIZE(blob_names); i++) {
		if (blob_skipped(blob_names[i]))
			continue;
		size_t size;
		uint8_t *fdt = blob_load(blob_names[i], &size);
		if (!CHECK(fdt != NULL))
			continue;
		corruption_blob(&run, fdt, size);
		uint8_t *copy = blob_copy(fdt, size);
		for (int byte = 0; byte < FDT_HEADER_SIZE; byte++) {
			for (int flip = -1; flip < 8; flip++) {
				uint8_t mask = flip < 0 ? 0xff : (uint8_t)(1u << flip);
				char label[96];
				copy[byte] ^= mask;
				snprintf(label, sizeof(label), "%s, header byte %d ^ 0x%02x",
					 blob_names[i], byte, mask);
				check_corrupted(&run, copy, size, label);
				copy[byte] = fdt[byte];
			}
		}
		free(copy);
		free(fdt);
	}
	corruption_end(&run);
}

/* xorshift64: the same corruptions on every run and every machine. */
static uint64_t random_next(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

/* RANDOM_CORRUPTIONS per blob: one byte anywhere set to another value. */
static void test_fdt_corrupted(void)
{
	struct corruption_run run = { .test = "fdt_corrupted" };
	uint64_t state = 0x2545f4914f6cdd1dULL;

	for (size_t i = BROKEN_FROM; i < ARRAY_SIZE(blob_names); i++) {
		if (blob_skipped(blob_names[i]))
			continue;
		size_t size;
		uint8_t *fdt = blob_load(blob_names[i], &size);
		if (!CHECK(fdt != NULL))
			continue;
		corruption_blob(&run, fdt, size);
		uint8_t *copy = blob_copy(fdt, size);
		for (int n = 0; n < RANDOM_CORRUPTIONS; n++) {
			size_t at = random_next(&state) % size;
			uint8_t value = (uint8_t)(fdt[at] ^ (1 + random_next(&state) % 255));
			char label[96];
			copy[at] = value;
			snprintf(label, sizeof(label), "%s, byte 0x%zx 0x%02x -> 0x%02x", blob_names[i],
				 at, fdt[at], value);
			check_corrupted(&run, copy, size, label);
			copy[at] = fdt[at];
		}
		free(copy);
		free(fdt);
	}
	corruption_end(&run);
}

#if LAB_NUMBER >= 5
/* platform_read's *why when it refuses /chosen's initrd. */
#define INITRD_ERROR "/chosen has a broken linux,initrd-start/end"

/* The size of the Makefile's zeros.bin, QEMU's -initrd for the fixtures. */
#define FIXTURE_INITRD_SIZE 5000

/* platform_read on one tree: takes it with this initrd, or refuses it with want_why. */
static void check_initrd_at(const char *file, int line, const char *what, const uint8_t *fdt,
			    size_t size, const char *want_why, uint64_t start, uint64_t end)
{
	static struct platform p;
	const char *why = NULL;
	int ret = platform_read(fdt, size, 0, &p, &why);

	if (want_why == NULL) {
		int ok = check_eq_u64_at(ret, 0, "platform_read", "0", file, line);
		ok = ok && check_eq_u64_at(p.initrd_start, start, "initrd_start", "want", file, line);
		ok = ok && check_eq_u64_at(p.initrd_end, end, "initrd_end", "want", file, line);
		if (!ok)
			printf("    %s: %s\n", what, ret != 0 && why != NULL ? why : "");
	} else if (!check_true_at(ret == -1 && why != NULL && strstr(why, want_why) != NULL,
				  "platform_read refuses it", file, line)) {
		printf("    %s: platform_read gave %d \"%s\", want \"%s\"\n", what, ret,
		       ret != 0 && why != NULL ? why : "", want_why);
	}
	struct diff d;
	diff_init(&d, "%s", what);
	compare_platform(fdt, size, 0, &d);
	check_no_diff_at(&d, file, line);
}
#define CHECK_INITRD(what, fdt, size, want_why, start, end) \
	check_initrd_at(__FILE__, __LINE__, (what), (fdt), (size), (want_why), (start), (end))

/* qemu-smp2.dtb's /chosen given linux,initrd-start and -end (len -1: none). */
struct initrd_edit {
	const char *what;
	uint8_t start[16];
	int start_len;
	uint8_t end[16];
	int end_len;
	int ok; /* 1: taken, with want_start and want_end; 0: refused */
	uint64_t want_start, want_end;
};

/* A property of one cell, of two, and none. */
#define ONE(x) { W(x) }, 4
#define TWO(x) { W((uint64_t)(x) >> 32), W(x) }, 8
#define NONE { 0 }, -1
#define TAKEN(start, end) 1, (start), (end)
#define REFUSED 0, 0, 0

static const struct initrd_edit initrd_edits[] = {
	/* clang-format off */
	/* QEMU 7.2 writes one cell each, QEMU 10 two. */
	{ "one cell each", ONE(0x88200000), ONE(0x8827b000), TAKEN(0x88200000, 0x8827b000) },
	{ "two cells each", TWO(0x94200000), TWO(0x9427b000), TAKEN(0x94200000, 0x9427b000) },
	{ "two cells, above 4 GiB", TWO(0x2080200000), TWO(0x2080300000), TAKEN(0x2080200000, 0x2080300000) },
	{ "one cell and two", ONE(0x88200000), TWO(0x188200000), TAKEN(0x88200000, 0x188200000) },
	{ "two cells and one", TWO(0x88200000), ONE(0x8827b000), TAKEN(0x88200000, 0x8827b000) },
	/* Any size and any place: where it may lie is main.c's to judge (guest_initrd_load). */
	{ "one byte, unaligned", ONE(0x88200001), ONE(0x88200002), TAKEN(0x88200001, 0x88200002) },
	{ "empty: end is start", ONE(0x88200000), ONE(0x88200000), TAKEN(0x88200000, 0x88200000) },
	{ "both 0", ONE(0), ONE(0), TAKEN(0, 0) },
	{ "beyond RAM, at the top", TWO(0xfffffffffffff000), TWO(0xffffffffffffffff), TAKEN(0xfffffffffffff000, 0xffffffffffffffff) },
	{ "all of memory", TWO(0), TWO(0xffffffffffffffff), TAKEN(0, 0xffffffffffffffff) },
	/* As Linux reads them too: len / 4 cells, the bytes after the last whole one left out. */
	{ "six bytes", { W(0x88200000), 0xff, 0xff }, 6, ONE(0x8827b000), TAKEN(0x88200000, 0x8827b000) },
	{ "eleven bytes", ONE(0x88200000), { W(0), W(0x8827b000), 1, 2, 3 }, 11, TAKEN(0x88200000, 0x8827b000) },
	/* No start: no initrd, whatever else /chosen says. */
	{ "an end without a start", NONE, ONE(0x8827b000), TAKEN(0, 0) },
	{ "neither", NONE, NONE, TAKEN(0, 0) },
	{ "a start without an end", ONE(0x88200000), NONE, REFUSED },
	{ "the end before the start", ONE(0x8827b000), ONE(0x88200000), REFUSED },
	{ "the end one byte before the start", TWO(0x100000001), TWO(0x100000000), REFUSED },
	{ "an empty start", { 0 }, 0, ONE(0x8827b000), REFUSED },
	{ "an empty end", ONE(0x88200000), { 0 }, 0, REFUSED },
	{ "three bytes", { 0x88, 0x20, 0x00 }, 3, ONE(0x8827b000), REFUSED },
	{ "three cells", { W(0), W(0), W(0x88200000) }, 12, ONE(0x8827b000), REFUSED },
	{ "four cells", ONE(0x88200000), { W(0), W(0), W(0), W(0x8827b000) }, 16, REFUSED },
	/* clang-format on */
};

/*
 * lab 05's platform_read and /chosen's initrd: QEMU's trees with -initrd,
 * then qemu-smp2.dtb given each pair of initrd_edits, then a tree with no
 * /chosen, and the order of the errors. Each case agrees with
 * ref_platform_read too.
 */
static void test_platform_initrd(void)
{
	static struct platform p;
	const char *why = NULL;
	size_t size;

	/*
	 * QEMU's own: one cell each from QEMU 7.2, two from QEMU 10, at a place
	 * of its choosing in RAM (README.md: it moves), as libfdt reads it too.
	 */
	const char *qemu[] = { "qemu-initrd.dtb", "qemu10-initrd.dtb" };
	for (size_t i = 0; i < ARRAY_SIZE(qemu); i++) {
		if (blob_skipped(qemu[i]))
			continue;
		uint8_t *fdt = blob_load(qemu[i], &size);
		if (!CHECK(fdt != NULL))
			continue;
		int len, chosen = ref_subnode_offset(fdt, 0, "chosen");
		CHECK(ref_getprop(fdt, chosen, "linux,initrd-start", &len) != NULL && len == 4 * (int)(i + 1));
		if (CHECK_EQ_U64(platform_read(fdt, size, 0, &p, &why), 0)) {
			CHECK_EQ_U64(p.initrd_end - p.initrd_start, FIXTURE_INITRD_SIZE);
			CHECK(p.initrd_start >= p.mem_base && p.initrd_end <= p.mem_base + p.mem_size);
		}
		CHECK_INITRD(qemu[i], fdt, size, NULL, p.initrd_start, p.initrd_end);

		/* A second read, of a tree without one, forgets it. */
		uint8_t *plain = blob_load("qemu-smp2.dtb", &size);
		if (CHECK(plain != NULL))
			CHECK_INITRD("qemu-smp2.dtb after an initrd", plain, size, NULL, 0, 0);
		free(plain);
		free(fdt);
	}

	uint8_t *base = blob_load("qemu-smp2.dtb", &size);
	if (!CHECK(base != NULL))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(initrd_edits); i++) {
		const struct initrd_edit *e = &initrd_edits[i];
		size_t tmp_size = 0, edited_size = 0;
		uint8_t *tmp = ref_chosen_setprop(base, "linux,initrd-start",
						  e->start_len < 0 ? NULL : e->start, e->start_len,
						  &tmp_size);
		uint8_t *edited = tmp == NULL ? NULL
					      : ref_chosen_setprop(tmp, "linux,initrd-end",
								   e->end_len < 0 ? NULL : e->end,
								   e->end_len, &edited_size);
		if (CHECK(edited != NULL))
			CHECK_INITRD(e->what, edited, edited_size, e->ok ? NULL : INITRD_ERROR,
				     e->want_start, e->want_end);
		free(tmp);
		free(edited);
	}
	free(base);

	/* No /chosen at all; and one made for an initrd. */
	base = blob_load("minimal.dtb", &size);
	if (CHECK(base != NULL)) {
		CHECK(ref_subnode_offset(base, 0, "chosen") < 0);
		CHECK_INITRD("minimal.dtb, no /chosen", base, size, NULL, 0, 0);
		uint8_t start[] = { W(0x80400000) }, end[] = { W(0x80401000) };
		size_t tmp_size = 0, edited_size = 0;
		uint8_t *tmp = ref_chosen_setprop(base, "linux,initrd-start", start, 4, &tmp_size);
		uint8_t *edited = tmp == NULL ? NULL
					      : ref_chosen_setprop(tmp, "linux,initrd-end", end, 4,
								   &edited_size);
		if (CHECK(edited != NULL))
			CHECK_INITRD("minimal.dtb, a /chosen with an initrd", edited, edited_size, NULL,
				     0x80400000, 0x80401000);
		free(tmp);
		free(edited);
		free(base);
	}

	/* /memory is read first: its error is the one given. */
	base = blob_load("no-memory.dtb", &size);
	if (CHECK(base != NULL)) {
		uint8_t start[] = { W(0x80400000) };
		size_t edited_size = 0;
		uint8_t *edited = ref_chosen_setprop(base, "linux,initrd-start", start, 4, &edited_size);
		if (CHECK(edited != NULL))
			CHECK_INITRD("no-memory.dtb, a start without an end", edited, edited_size,
				     "/memory", 0, 0);
		free(edited);
		free(base);
	}
}

/*
 * In QEMU's trees with -initrd, each byte of /chosen's two initrd
 * properties (the FDT_PROP token, the length, the name's offset, the
 * value) inverted, then each of its bits flipped alone: the corruption
 * invariant of fdt_corrupted, where a value that changed may now put the
 * end before the start.
 */
static void test_platform_initrd_flips(void)
{
	struct corruption_run run = { .test = "platform_initrd_flips" };
	const char *qemu[] = { "qemu-initrd.dtb", "qemu10-initrd.dtb" };
	const char *props[] = { "linux,initrd-start", "linux,initrd-end" };

	for (size_t i = 0; i < ARRAY_SIZE(qemu); i++) {
		if (blob_skipped(qemu[i]))
			continue;
		size_t size;
		uint8_t *fdt = blob_load(qemu[i], &size);
		if (!CHECK(fdt != NULL))
			continue;
		corruption_blob(&run, fdt, size);
		uint8_t *copy = blob_copy(fdt, size);
		int chosen = ref_subnode_offset(fdt, 0, "chosen");
		for (size_t k = 0; k < ARRAY_SIZE(props); k++) {
			int len;
			const uint8_t *value = ref_getprop(fdt, chosen, props[k], &len);
			if (!CHECK(value != NULL))
				continue;
			/* The property's header: token, length and name offset, 12 bytes. */
			size_t from = (size_t)(value - fdt) - 12, to = (size_t)(value - fdt) + (size_t)len;
			for (size_t byte = from; byte < to; byte++) {
				for (int flip = -1; flip < 8; flip++) {
					uint8_t mask = flip < 0 ? 0xff : (uint8_t)(1u << flip);
					char label[96];
					copy[byte] ^= mask;
					snprintf(label, sizeof(label), "%s, %s byte %zu ^ 0x%02x", qemu[i],
						 props[k], byte - from, mask);
					check_corrupted(&run, copy, size, label);
					copy[byte] = fdt[byte];
				}
			}
		}
		free(copy);
		free(fdt);
	}
	corruption_end(&run);
}
#endif

const struct check_test check_tests[] = {
	{ "fdt_walk", test_fdt_walk },
	{ "fdt_lookups", test_fdt_lookups },
	{ "fdt_header", test_fdt_header },
	{ "fdt_malformed", test_fdt_malformed },
	{ "platform_fixtures", test_platform_fixtures },
	{ "platform_qemu", test_platform_qemu },
	{ "platform_isa", test_platform_isa },
	{ "platform_bindings", test_platform_bindings },
	{ "platform_isa_errors", test_platform_isa_errors },
	{ "fdt_truncated", test_fdt_truncated },
	{ "fdt_header_flips", test_fdt_header_flips },
	{ "fdt_corrupted", test_fdt_corrupted },
#if LAB_NUMBER >= 5
	{ "platform_initrd", test_platform_initrd },
	{ "platform_initrd_flips", test_platform_initrd_flips },
#endif
	{ NULL, NULL },
};
