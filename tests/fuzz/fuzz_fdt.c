/*
 * fuzz_fdt.c: libFuzzer's entry point for the device-tree code of lab 02
 * (labs/02-dtb/fdt.c, platform.c, guestdt.c), and of lab 05, whose
 * platform.c also reads /chosen's initrd and whose guestdt.c writes it into
 * the guest's tree: the Makefile builds it once for each, with LAB_NUMBER.
 * See the Makefile to run it.
 *
 * Each input is a blob in a buffer of exactly its size (libFuzzer copies
 * it into one), so AddressSanitizer sees any read past its end. fdt_check
 * looks at it first; if it accepts it, the rest of fdt.c reads all of it:
 * every node, and on every node each property name the strings block
 * holds, through each reader. Then platform_read, with a few boot harts,
 * and when that succeeds guestdt_build writes the guest's tree from what
 * it learned.
 *
 * A finding is a crash, a sanitizer report (AddressSanitizer,
 * UndefinedBehaviorSanitizer), a hang (libFuzzer's -timeout), or one of
 * the promises below broken, which calls promise_broken() and aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdt.h"
#include "guestdt.h"
#include "param.h"
#include "platform.h"

#define WALK_MAX_DEPTH 64 /* deeper nodes are not visited: the harness recurses */
#define WALK_MAX_NODES 512 /* nor more nodes than this: keeps one input fast */
#define NAMES_MAX 64 /* property names tried on each node */

/* A promise of fdt.h, platform.h or guestdt.h did not hold for this input. */
static void promise_broken(const char *what)
{
	fprintf(stderr, "fuzz_fdt: broken promise: %s\n", what);
	abort();
}

#define PROMISE(cond)                          \
	do {                                   \
		if (!(cond))                   \
			promise_broken(#cond); \
	} while (0)

struct input {
	const uint8_t *data;
	size_t size;
	const char *names[NAMES_MAX]; /* from the strings block */
	int nnames;
	int nodes; /* visited so far */
};

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* v lies inside the blob, with len bytes after it. */
static int inside(const struct input *in, const void *v, int len)
{
	const uint8_t *p = v;
	return p >= in->data && len >= 0 && (size_t)(p - in->data) + (size_t)len <= in->size;
}

/*
 * The property names to try: every NUL-terminated string in the strings
 * block (fdt_check accepted the header, so the block is inside the blob),
 * and one that no property has.
 */
static void collect_names(struct input *in)
{
	uint32_t off = get_be32(in->data + 12), size = get_be32(in->data + 32);
	const char *strings = (const char *)in->data + off;

	in->names[in->nnames++] = "no-such-property";
	for (uint32_t o = 0; o < size && in->nnames < NAMES_MAX;) {
		const char *end = memchr(strings + o, '\0', size - o);
		if (end == NULL)
			break;
		in->names[in->nnames++] = strings + o;
		o = (uint32_t)(end - strings) + 1;
	}
}

/* Every reader on one property of node. */
static void read_prop(struct input *in, int node, const char *name)
{
	int len;
	const uint8_t *v = fdt_prop(in->data, node, name, &len);
	if (v == NULL) {
		PROMISE(len < 0);
		return;
	}
	PROMISE(inside(in, v, len));

	uint32_t u32;
	uint64_t u64;
	for (int index = -1; index <= 2; index++) {
		int err = fdt_prop_u32(in->data, node, name, index, &u32);
		PROMISE(err == 0 ? index >= 0 && 4 * (index + 1) <= len : err < 0);
		err = fdt_prop_cells(in->data, node, name, index, 2, &u64);
		PROMISE(err == 0 ? index >= 0 && 4 * (index + 2) <= len : err < 0);
	}
	const char *s = fdt_prop_string(in->data, node, name);
	if (s != NULL)
		PROMISE(s == (const char *)v && len >= 1 && s[len - 1] == '\0');
}

static void walk(struct input *in, int node, int depth)
{
	const char *name = fdt_name(in->data, node);
	PROMISE(name != NULL && inside(in, name, (int)strlen(name) + 1));
	if (++in->nodes > WALK_MAX_NODES)
		return;
	for (int i = 0; i < in->nnames; i++)
		read_prop(in, node, in->names[i]);

	int child;
	for (child = fdt_subnode_first(in->data, node); child >= 0;
	     child = fdt_subnode_next(in->data, child)) {
		/* By its name, fdt_subnode finds this child or an earlier one. */
		const char *child_name = fdt_name(in->data, child);
		PROMISE(child_name != NULL);
		int found = fdt_subnode(in->data, node, child_name);
		PROMISE(found >= 0 && found <= child);
		if (depth < WALK_MAX_DEPTH && in->nodes <= WALK_MAX_NODES)
			walk(in, child, depth + 1);
	}
	/* fdt_check accepted the tree: the children end cleanly. */
	PROMISE(child == FDT_ERR_NOTFOUND);
}

/* What platform_read promises when it succeeds. */
static void check_platform(const struct platform *p, uint64_t boot)
{
	PROMISE(p->nharts >= 1 && p->nharts <= HYP_MAX_HARTS);
	PROMISE(p->hartids[0] == boot);
	PROMISE(p->timebase != 0);
	PROMISE(strlen(p->mmu_type) < sizeof(p->mmu_type));
	PROMISE(platform_isa_has(p->boot_isa, 'h'));
	for (int i = 0; i < p->nharts; i++)
		for (int j = 0; j < i; j++)
			PROMISE(p->hartids[i] != p->hartids[j]);
	if (p->ncpus > PLATFORM_MAX_CPUS)
		return; /* the table holds only the first cpus */

	/* The harts used are exactly the cpus marked CPU_USED. */
	int used = 0;
	for (int i = 0; i < p->ncpus; i++) {
		const struct platform_cpu *c = &p->cpus[i];
		PROMISE(strlen(c->isa) < sizeof(c->isa));
		if (c->use != CPU_USED)
			continue;
		used++;
		int listed = 0;
		for (int h = 0; h < p->nharts; h++)
			listed |= p->hartids[h] == c->hartid;
		PROMISE(listed);
		/* Its ISA, never cut short, has the H extension. */
		PROMISE(platform_isa_has(c->isa, 'h'));
	}
	PROMISE(used == p->nharts);
}

#if LAB_NUMBER >= 5
/*
 * What platform_read promises of /chosen's initrd when it succeeds: never
 * backwards, and none without a linux,initrd-start.
 */
static void check_initrd(const uint8_t *fdt, const struct platform *p)
{
	int chosen = fdt_subnode(fdt, 0, "chosen"), len;

	PROMISE(p->initrd_end >= p->initrd_start);
	if (chosen < 0 || fdt_prop(fdt, chosen, "linux,initrd-start", &len) == NULL)
		PROMISE(p->initrd_start == 0 && p->initrd_end == 0);
}

/* The guest's /chosen names the initrd, in two cells each, if it has a byte. */
static void check_guest_initrd(const uint8_t *guest, const struct guestdt_config *c)
{
	int chosen = fdt_subnode(guest, 0, "chosen"), len;
	uint64_t start, end;

	PROMISE(chosen > 0);
	if (c->initrd_end > c->initrd_start) {
		PROMISE(fdt_prop(guest, chosen, "linux,initrd-start", &len) != NULL && len == 8);
		PROMISE(fdt_prop(guest, chosen, "linux,initrd-end", &len) != NULL && len == 8);
		PROMISE(fdt_prop_cells(guest, chosen, "linux,initrd-start", 0, 2, &start) == 0 &&
			start == c->initrd_start);
		PROMISE(fdt_prop_cells(guest, chosen, "linux,initrd-end", 0, 2, &end) == 0 &&
			end == c->initrd_end);
	} else {
		PROMISE(fdt_prop(guest, chosen, "linux,initrd-start", &len) == NULL);
		PROMISE(fdt_prop(guest, chosen, "linux,initrd-end", &len) == NULL);
	}
}
#endif

/* The guest's tree from what platform_read learned: fdt_check takes it. */
static void build_guest(const struct platform *p)
{
	static uint8_t buf[GUEST_DTB_MAX];
	static char isa[HART_ISA_MAX];

	/*
	 * The boot hart has H, which the guest's ISA drops; it may gain an 'i'
	 * and an '_' (see guestdt_isa). So it fits, but for a host ISA of
	 * HART_ISA_MAX - 1 characters.
	 */
	const char *host_isa = platform_isa(p, p->hartids[0]);
	if (guestdt_isa(host_isa, isa, sizeof(isa)) != 0) {
		PROMISE(strlen(host_isa) == HART_ISA_MAX - 1);
		return;
	}
	PROMISE(strchr(isa, '\0') < isa + sizeof(isa));
	struct guestdt_config c = {
		.nvcpus = p->nharts,
		.isa = isa,
		.mmu_type = p->mmu_type,
		.timebase = p->timebase,
		.mem_base = p->mem_base,
		.mem_size = p->mem_size,
		.bootargs = "console=hvc0 earlycon=sbi",
#if LAB_NUMBER >= 5
		/* main.c moves it first; where to does not matter to the writer. */
		.initrd_start = p->initrd_start,
		.initrd_end = p->initrd_end,
#endif
	};
	int size = guestdt_build(buf, sizeof(buf), &c);
	PROMISE(size > 0 && size <= (int)sizeof(buf));
	PROMISE(fdt_check(buf, (uint64_t)size) == 0);
	PROMISE(fdt_subnode(buf, 0, "cpus") > 0);
#if LAB_NUMBER >= 5
	check_guest_initrd(buf, &c);
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct platform p;
	static struct input in;
	const char *why;

	memset(&in, 0, sizeof(in));
	in.data = data;
	in.size = size;
	if (fdt_check(data, size) != 0) {
		PROMISE(platform_read(data, size, 0, &p, &why) == -1 && why != NULL);
		return 0;
	}
	PROMISE(fdt_totalsize(data) <= size);
	collect_names(&in);
	walk(&in, 0, 0);

	/* Boot hart 0, then the first and the last cpu in the tree. */
	uint64_t boots[3] = { 0 };
	int nboots = 1;
	for (int b = 0; b < nboots; b++) {
		why = NULL;
		if (platform_read(data, size, boots[b], &p, &why) != 0) {
			PROMISE(why != NULL);
		} else {
			check_platform(&p, boots[b]);
#if LAB_NUMBER >= 5
			check_initrd(data, &p);
#endif
			build_guest(&p);
		}
		if (b == 0 && p.ncpus > 0) {
			boots[nboots++] = p.cpus[0].hartid;
			int last = p.ncpus < PLATFORM_MAX_CPUS ? p.ncpus - 1 : PLATFORM_MAX_CPUS - 1;
			boots[nboots++] = p.cpus[last].hartid;
		}
	}
	return 0;
}
