/*
 * ref_libfdt.c: the libfdt side of the device-tree tests (see ref_libfdt.h).
 *
 * The Makefile compiles test_fdt with -Dfdt_strerror=lab_fdt_strerror, which
 * renames the lab's fdt_strerror in fdt.c, platform.c and test_fdt.c: libfdt
 * exports a function of the same name, and without the rename the lab's
 * definition would silently replace libfdt's for every caller in the program
 * (the program's own symbols come first when the dynamic linker looks one
 * up), so ref_strerror() would print the lab's messages for libfdt's codes.
 * This file wants libfdt's, hence the #undef before libfdt.h.
 */
#undef fdt_strerror

#include <ctype.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_libfdt.h"

int ref_check_full(const void *fdt, size_t bufsize)
{
	return fdt_check_full(fdt, bufsize);
}

const char *ref_strerror(int err)
{
	return fdt_strerror(err);
}

int ref_first_subnode(const void *fdt, int node)
{
	return fdt_first_subnode(fdt, node);
}

int ref_next_subnode(const void *fdt, int node)
{
	return fdt_next_subnode(fdt, node);
}

const char *ref_get_name(const void *fdt, int node)
{
	return fdt_get_name(fdt, node, NULL);
}

int ref_subnode_offset(const void *fdt, int parent, const char *name)
{
	return fdt_subnode_offset(fdt, parent, name);
}

const void *ref_getprop(const void *fdt, int node, const char *name, int *len)
{
	return fdt_getprop(fdt, node, name, len);
}

int ref_first_property(const void *fdt, int node)
{
	return fdt_first_property_offset(fdt, node);
}

int ref_next_property(const void *fdt, int prop)
{
	return fdt_next_property_offset(fdt, prop);
}

const void *ref_property_at(const void *fdt, int prop, const char **name, int *len)
{
	return fdt_getprop_by_offset(fdt, prop, name, len);
}

const char *ref_lenient_reason(const void *fdt, size_t size)
{
	const char *reason = NULL;
	char *copy = malloc(size);
	if (copy == NULL)
		return NULL;
	memcpy(copy, fdt, size);
	char *structure = copy + fdt_off_dt_struct(copy);

	/* A root name: blank it out, keeping every token where it is. */
	int len;
	const char *root = fdt_get_name(copy, 0, &len);
	if (root != NULL && len > 0) {
		memset(structure + 4, 0, (size_t)len);
		reason = "the root node has a name";
	}

	/* NOPs after the root: end the structure block at the first one. */
	int offset = 0, next, depth = 0;
	for (;;) {
		uint32_t tag = fdt_next_tag(copy, offset, &next);
		if (next < 0 || tag == FDT_END)
			break;
		if (tag == FDT_BEGIN_NODE)
			depth++;
		if (tag == FDT_END_NODE && --depth == 0) {
			if (fdt_next_tag(copy, next, &offset) == FDT_NOP) {
				*(fdt32_t *)(structure + next) = cpu_to_fdt32(FDT_END);
				reason = "NOPs after the root node";
			}
			break;
		}
		offset = next;
	}

	if (reason != NULL && fdt_check_full(copy, size) != 0)
		reason = NULL; /* something else is wrong too */
	free(copy);
	return reason;
}

/* ---- the reference platform_read ---- */

/* A property that holds one NUL-terminated string (the spec's <string>). */
static const char *ref_string(const void *fdt, int node, const char *name)
{
	int len;
	const char *v = fdt_getprop(fdt, node, name, &len);
	if (v == NULL || len < 1 || v[len - 1] != '\0')
		return NULL;
	return v;
}

/* Cell 0 of a property, or 0 if it has none. */
static uint32_t ref_u32(const void *fdt, int node, const char *name)
{
	int len;
	const fdt32_t *v = fdt_getprop(fdt, node, name, &len);
	return v != NULL && len >= 4 ? fdt32_ld(v) : 0;
}

/* cells (1 or 2) cells from cell index on, or -1 if the property is too short. */
static int ref_cells(const void *fdt, int node, const char *name, int index, int cells,
		     uint64_t *out)
{
	int len;
	const fdt32_t *v = fdt_getprop(fdt, node, name, &len);
	if (v == NULL || len < 4 * (index + cells))
		return -1;
	*out = cells == 1 ? fdt32_ld(v + index)
			  : (uint64_t)fdt32_ld(v + index) << 32 | fdt32_ld(v + index + 1);
	return 0;
}

/*
 * The single letters come after "rv32" or "rv64" and end at the first '_',
 * or at the first multi-letter extension (z, s or x), which the ISA manual
 * lets follow them directly ("rv64imafdczihintpause").
 */
static int ref_has_h(const char *isa)
{
	if (strncmp(isa, "rv32", 4) != 0 && strncmp(isa, "rv64", 4) != 0)
		return 0;
	/* Single letters run to the first '_' or multi-letter extension (z, s, x). */
	const char *letters = isa + 4;
	return memchr(letters, 'h', strcspn(letters, "_zsx")) != NULL;
}

/*
 * A name the newer binding's list may hold, as platform.c reads it: only
 * lowercase letters and digits, a letter first, and no single s, x or z.
 */
static int ref_isa_name_ok(const char *name, int len)
{
	const char *alnum = "abcdefghijklmnopqrstuvwxyz0123456789";
	if (len < 1 || !islower((unsigned char)name[0]) || (int)strspn(name, alnum) != len)
		return 0;
	return len > 1 || strchr("sxz", name[0]) == NULL;
}

/*
 * A cpu's ISA (see platform_read in platform.h): NULL and the ISA string in
 * isa (HART_ISA_MAX bytes) and whether it has H in *has_h, or the phrase of
 * platform_read's error. Worked out separately for each binding: the newer
 * one with libfdt's string-list functions, its letters and names counted
 * rather than written into a string first.
 */
static const char *ref_isa(const void *fdt, int node, char *isa, int *has_h)
{
	const char *base = ref_string(fdt, node, "riscv,isa-base");
	int has_base = fdt_getprop(fdt, node, "riscv,isa-base", NULL) != NULL;
	int count = fdt_stringlist_count(fdt, node, "riscv,isa-extensions");
	size_t len = 0;

	if (!has_base && count == -FDT_ERR_NOTFOUND) {
		const char *s = ref_string(fdt, node, "riscv,isa");
		if (s == NULL)
			return "riscv,isa";
		len = strlen(s);
		if (len < HART_ISA_MAX)
			memcpy(isa, s, len + 1);
		*has_h = ref_has_h(s);
	} else {
		if (!has_base || count == -FDT_ERR_NOTFOUND)
			return "without the other";
		if (base == NULL || (strcmp(base, "rv32i") != 0 && strcmp(base, "rv64i") != 0))
			return "riscv,isa-base is not";
		if (count <= 0) /* 0: an empty property, without even one NUL */
			return "does not end with a NUL";
		/* "rv64i", each single letter but i, then "_" and each longer name. */
		char letters[HART_ISA_MAX] = "", names[2 * HART_ISA_MAX] = "";
		size_t nletters = 0, names_len = 0;
		for (int i = 0; i < count; i++) {
			int n;
			const char *e = fdt_stringlist_get(fdt, node, "riscv,isa-extensions", i, &n);
			if (e == NULL || !ref_isa_name_ok(e, n))
				return "malformed name";
			if (n == 1 && e[0] != 'i' && nletters + 1 < sizeof(letters))
				letters[nletters++] = e[0];
			else if (n > 1 && names_len + (size_t)n + 1 < sizeof(names))
				names_len += (size_t)snprintf(names + names_len, sizeof(names) - names_len,
							      "_%s", e);
			len += n == 1 ? e[0] != 'i' : (size_t)n + 1;
		}
		len += strlen(base);
		if (len < HART_ISA_MAX) {
			strcpy(isa, base);
			strcat(isa, letters);
			strcat(isa, names);
		}
		*has_h = fdt_stringlist_search(fdt, node, "riscv,isa-extensions", "h") >= 0;
	}
	return len < HART_ISA_MAX ? NULL : "more than HART_ISA_MAX";
}

/* Absent, "okay" and "ok" are enabled; any other status, even a malformed one, is not. */
static int ref_enabled(const void *fdt, int node)
{
	if (fdt_getprop(fdt, node, "status", NULL) == NULL)
		return 1;
	const char *status = ref_string(fdt, node, "status");
	return status != NULL && (strcmp(status, "okay") == 0 || strcmp(status, "ok") == 0);
}

static void ref_read_cpus(const void *fdt, uint64_t boot, struct ref_platform *r)
{
	int cpus = fdt_path_offset(fdt, "/cpus");
	if (cpus < 0) {
		r->error = "no /cpus";
		return;
	}
	uint32_t cells = ref_u32(fdt, cpus, "#address-cells");
	if (cells != 1 && cells != 2) {
		r->error = "/cpus has no #address-cells";
		return;
	}
	r->timebase = ref_u32(fdt, cpus, "timebase-frequency");

	int node;
	fdt_for_each_subnode(node, fdt, cpus) {
		const char *type = ref_string(fdt, node, "device_type");
		if (type == NULL || strcmp(type, "cpu") != 0)
			continue;
		uint64_t hartid;
		if (ref_cells(fdt, node, "reg", 0, (int)cells, &hartid) != 0) {
			r->error = "valid reg";
			return;
		}
		static char isa[HART_ISA_MAX];
		int has_h = 0;
		r->error = ref_isa(fdt, node, isa, &has_h);
		if (r->error != NULL)
			return;
		if (r->timebase == 0)
			r->timebase = ref_u32(fdt, node, "timebase-frequency");
		for (int i = 0; i < r->ncpus && i < PLATFORM_MAX_CPUS; i++) {
			if (r->cpus[i].hartid == hartid) {
				r->error = "same hart id";
				return;
			}
		}
		char use = !ref_enabled(fdt, node) ? 'D'
			   : has_h                 ? 'U'
						   : 'N';
		const char *mmu = ref_string(fdt, node, "mmu-type");
		/* The hypervisor takes mmu-type from the boot hart. */
		if (use == 'U' && mmu != NULL && hartid == boot)
			r->mmu_type = mmu;
		if (r->ncpus < PLATFORM_MAX_CPUS) {
			r->cpus[r->ncpus].hartid = hartid;
			r->cpus[r->ncpus].use = use;
			memcpy(r->cpus[r->ncpus].isa, isa, sizeof(isa));
		}
		r->ncpus++;
	}

	if (r->timebase == 0) {
		r->error = "timebase";
		return;
	}
	int boot_index = -1, usable = 0;
	for (int i = 0; i < r->ncpus && i < PLATFORM_MAX_CPUS; i++) {
		usable += r->cpus[i].use == 'U';
		if (r->cpus[i].use == 'U' && r->cpus[i].hartid == boot)
			boot_index = i;
	}
	if (usable == 0) {
		r->error = "no usable hart";
		return;
	}
	if (boot_index < 0) {
		r->error = "boot hart";
		return;
	}

	/* The boot hart first, then the others in tree order, while there is room. */
	r->hartids[r->nharts++] = boot;
	for (int i = 0; i < r->ncpus && i < PLATFORM_MAX_CPUS; i++) {
		if (r->cpus[i].use != 'U' || i == boot_index)
			continue;
		if (r->nharts < HYP_MAX_HARTS)
			r->hartids[r->nharts++] = r->cpus[i].hartid;
		else
			r->cpus[i].use = 'O';
	}
}

static void ref_read_memory(const void *fdt, struct ref_platform *r)
{
	/* Absent, they are 2 and 1 (the specification's defaults). */
	int acells = fdt_address_cells(fdt, 0);
	int scells = fdt_size_cells(fdt, 0);
	if (acells < 1 || acells > 2 || scells < 1 || scells > 2) {
		r->error = "root's #address-cells or #size-cells";
		return;
	}
	int mem = fdt_subnode_offset(fdt, 0, "memory");
	if (mem < 0 || ref_cells(fdt, mem, "reg", 0, acells, &r->mem_base) != 0 ||
	    ref_cells(fdt, mem, "reg", acells, scells, &r->mem_size) != 0)
		r->error = "/memory";
}

#if LAB_NUMBER >= 5
/*
 * A number of 1 or 2 cells, read as Linux reads /chosen's initrd
 * (of_read_number(prop, len / 4)): the bytes after the last whole cell do
 * not count. -1 for any other number of cells.
 */
static int ref_number(const fdt32_t *v, int len, uint64_t *out)
{
	if (len / 4 == 1)
		*out = fdt32_ld(v);
	else if (len / 4 == 2)
		*out = (uint64_t)fdt32_ld(v) << 32 | fdt32_ld(v + 1);
	else
		return -1;
	return 0;
}

/*
 * /chosen's linux,initrd-start and -end. No start: no initrd, whatever
 * else /chosen holds. A start: an end too, each a number of 1 or 2 cells,
 * and not before the start.
 */
static void ref_read_initrd(const void *fdt, struct ref_platform *r)
{
	int start_len, end_len;
	int chosen = fdt_subnode_offset(fdt, 0, "chosen");
	const fdt32_t *start = chosen < 0 ? NULL
					  : fdt_getprop(fdt, chosen, "linux,initrd-start", &start_len);
	if (start == NULL)
		return;
	const fdt32_t *end = fdt_getprop(fdt, chosen, "linux,initrd-end", &end_len);
	if (end == NULL || ref_number(start, start_len, &r->initrd_start) != 0 ||
	    ref_number(end, end_len, &r->initrd_end) != 0 || r->initrd_end < r->initrd_start)
		r->error = "/chosen has a broken linux,initrd-start/end";
}
#endif

void ref_platform_read(const void *fdt, uint64_t boot_hartid, struct ref_platform *r)
{
	memset(r, 0, sizeof(*r));
	r->mmu_type = "";
	ref_read_cpus(fdt, boot_hartid, r);
	if (r->error == NULL)
		ref_read_memory(fdt, r);
#if LAB_NUMBER >= 5
	if (r->error == NULL)
		ref_read_initrd(fdt, r);
#endif
}

/* A copy of fdt in a buffer with room for edits of len bytes each, or NULL. */
static uint8_t *ref_open(const void *fdt, int len)
{
	int room = (int)fdt_totalsize(fdt) + 64 * (len + 64) + 4096;
	uint8_t *buf = malloc((size_t)room);
	if (buf == NULL || fdt_open_into(fdt, buf, room) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Sets node's property name to value, or deletes it where there is one if value is NULL. */
static int ref_setprop(uint8_t *buf, int node, const char *name, const void *value, int len)
{
	if (value != NULL)
		return fdt_setprop(buf, node, name, value, len);
	if (fdt_getprop(buf, node, name, NULL) != NULL)
		return fdt_delprop(buf, node, name);
	return 0;
}

/* The edited tree buf (if err is 0) packed, in a buffer of exactly its size; frees buf. */
static uint8_t *ref_close(uint8_t *buf, int err, size_t *size)
{
	uint8_t *tree = NULL;
	if (err == 0 && fdt_pack(buf) == 0) {
		*size = fdt_totalsize(buf);
		tree = malloc(*size);
		if (tree != NULL)
			memcpy(tree, buf, *size);
	}
	free(buf);
	return tree;
}

uint8_t *ref_cpus_setprop(const void *fdt, const char *name, const void *value, int len,
			  size_t *size)
{
	uint8_t *buf = ref_open(fdt, len);
	if (buf == NULL)
		return NULL;
	int cpus = fdt_path_offset(buf, "/cpus"), node, err = cpus < 0 ? cpus : 0;
	if (err == 0) {
		fdt_for_each_subnode(node, buf, cpus) {
			const char *type = ref_string(buf, node, "device_type");
			if (type == NULL || strcmp(type, "cpu") != 0)
				continue;
			err = ref_setprop(buf, node, name, value, len);
			if (err != 0)
				break;
		}
	}
	return ref_close(buf, err, size);
}

uint8_t *ref_chosen_setprop(const void *fdt, const char *name, const void *value, int len,
			    size_t *size)
{
	uint8_t *buf = ref_open(fdt, len);
	if (buf == NULL)
		return NULL;
	int chosen = fdt_subnode_offset(buf, 0, "chosen");
	if (chosen == -FDT_ERR_NOTFOUND)
		chosen = fdt_add_subnode(buf, 0, "chosen");
	int err = chosen < 0 ? chosen : ref_setprop(buf, chosen, name, value, len);
	return ref_close(buf, err, size);
}
