/*
 * test_guestdt.c: the guest's device tree (labs/02-dtb/guestdt.c), read
 * back with libfdt and decompiled by dtc.
 *
 *   guestdt_trees       1 to 8 vCPUs: libfdt's fdt_check_full accepts each
 *                       tree, dtc decompiles it, and it says what the
 *                       config said (the cpus, their interrupt controllers
 *                       and phandles, the cpu-map, /memory, /chosen)
 *   guestdt_too_small   every buffer smaller than the tree: -1, and not a
 *                       byte written past the buffer
 *   guestdt_options     no mmu-type, long bootargs, memory above 4 GiB
 *   guestdt_isa         the ISA the guest is told about
 *
 * Buffers are malloc'ed to exactly the size guestdt_build is given, so
 * AddressSanitizer sees a write past the end. The decompiled trees are left
 * in build/host/guestdt-smpN.dts to look at.
 */
#include <libfdt.h>
#include <stdlib.h>

#include "blob.h"
#include "check.h"
#include "guestdt.h"
#include "param.h" /* GUEST_DTB_MAX */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIB (1ULL << 20)

static const char QEMU_ISA[] = "rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc";
static const char GUEST_ISA[] = "rv64imafdc_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs";

static struct guestdt_config config_for(int nvcpus)
{
	return (struct guestdt_config){
		.nvcpus = nvcpus,
		.isa = GUEST_ISA,
		.mmu_type = "riscv,sv48",
		.timebase = 10000000,
		.mem_base = 0x80000000,
		.mem_size = (uint64_t)nvcpus * 64 * MIB,
		.bootargs = "console=hvc0 earlycon=sbi",
	};
}

/*
 * Builds c's tree in a buffer of exactly its size (found with a first
 * build into GUEST_DTB_MAX bytes, which must give the same bytes). Returns
 * the tree, or NULL; *size is its size.
 */
static uint8_t *build(const struct guestdt_config *c, int *size)
{
	uint8_t *room = malloc(GUEST_DTB_MAX);
	memset(room, 0xa5, GUEST_DTB_MAX);
	*size = guestdt_build(room, GUEST_DTB_MAX, c);
	if (!CHECK(*size > 0 && *size <= GUEST_DTB_MAX)) {
		free(room);
		return NULL;
	}
	uint8_t *tree = malloc((size_t)*size);
	CHECK_EQ_U64(guestdt_build(tree, (uint32_t)*size, c), *size);
	CHECK(memcmp(tree, room, (size_t)*size) == 0);
	free(room);
	return tree;
}

/* A property that is the string want. */
#define CHECK_PROP_STR(fdt, node, name, want) \
	check_prop_str_at((fdt), (node), (name), (want), __FILE__, __LINE__)
static int check_prop_str_at(const void *fdt, int node, const char *name, const char *want,
			     const char *file, int line)
{
	int len;
	const char *v = fdt_getprop(fdt, node, name, &len);
	char what[128];
	snprintf(what, sizeof(what), "%s of %s", name, fdt_get_name(fdt, node, NULL));
	if (v == NULL || len < 1 || v[len - 1] != '\0' || (size_t)len != strlen(v) + 1)
		return check_true_at(0, what, file, line);
	return check_str_at(v, want, what, want, file, line);
}

/* A property of one cell, which is want. */
#define CHECK_PROP_U32(fdt, node, name, want) \
	check_prop_u32_at((fdt), (node), (name), (want), __FILE__, __LINE__)
static int check_prop_u32_at(const void *fdt, int node, const char *name, uint32_t want,
			     const char *file, int line)
{
	int len;
	const fdt32_t *v = fdt_getprop(fdt, node, name, &len);
	char what[128];
	snprintf(what, sizeof(what), "%s of %s (one cell)", name, fdt_get_name(fdt, node, NULL));
	if (v == NULL || len != 4)
		return check_true_at(0, what, file, line);
	return check_eq_u64_at(fdt32_ld(v), want, what, "want", file, line);
}

/* Everything the guest's tree must say, read with libfdt. */
static void check_guest_tree(const uint8_t *fdt, int size, const struct guestdt_config *c)
{
	if (!CHECK_EQ_U64(fdt_check_full(fdt, (size_t)size), 0))
		return;
	CHECK_EQ_U64(fdt_totalsize(fdt), size);
	CHECK_EQ_U64(fdt_version(fdt), 17);
	CHECK_EQ_U64(fdt_num_mem_rsv(fdt), 0);
	CHECK_EQ_U64(fdt_boot_cpuid_phys(fdt), 0);
	CHECK_EQ_U64(fdt_address_cells(fdt, 0), 2);
	CHECK_EQ_U64(fdt_size_cells(fdt, 0), 2);

	int chosen = fdt_path_offset(fdt, "/chosen");
	if (CHECK(chosen >= 0))
		CHECK_PROP_STR(fdt, chosen, "bootargs", c->bootargs);

	int cpus = fdt_path_offset(fdt, "/cpus");
	if (!CHECK(cpus >= 0))
		return;
	CHECK_PROP_U32(fdt, cpus, "#address-cells", 1);
	CHECK_PROP_U32(fdt, cpus, "#size-cells", 0);
	CHECK_PROP_U32(fdt, cpus, "timebase-frequency", c->timebase);

	/* Exactly nvcpus cpus, cpu@i with reg i, each with an interrupt controller. */
	uint32_t cpu_phandle[16] = { 0 };
	uint32_t phandles[64];
	int nphandles = 0, ncpus = 0, node;
	fdt_for_each_subnode(node, fdt, cpus) {
		const char *type = fdt_getprop(fdt, node, "device_type", NULL);
		if (type == NULL || strcmp(type, "cpu") != 0)
			continue;
		int i = ncpus++;
		char name[32];
		snprintf(name, sizeof(name), "cpu@%x", i);
		if (!CHECK_STR(fdt_get_name(fdt, node, NULL), name) || i >= 16)
			continue;
		CHECK_PROP_U32(fdt, node, "reg", (uint32_t)i);
		CHECK_PROP_STR(fdt, node, "status", "okay");
		CHECK_PROP_STR(fdt, node, "compatible", "riscv");
		CHECK_PROP_STR(fdt, node, "riscv,isa", c->isa);
		if (c->mmu_type[0] != '\0')
			CHECK_PROP_STR(fdt, node, "mmu-type", c->mmu_type);
		else
			CHECK(fdt_getprop(fdt, node, "mmu-type", NULL) == NULL);
		cpu_phandle[i] = fdt_get_phandle(fdt, node);
		CHECK(cpu_phandle[i] != 0 && cpu_phandle[i] != (uint32_t)-1);
		if (nphandles < 64)
			phandles[nphandles++] = cpu_phandle[i];

		int intc = fdt_subnode_offset(fdt, node, "interrupt-controller");
		if (!CHECK(intc >= 0))
			continue;
		int len = -1;
		CHECK(fdt_getprop(fdt, intc, "interrupt-controller", &len) != NULL && len == 0);
		CHECK_PROP_U32(fdt, intc, "#interrupt-cells", 1);
		CHECK_PROP_STR(fdt, intc, "compatible", "riscv,cpu-intc");
		uint32_t ph = fdt_get_phandle(fdt, intc);
		CHECK(ph != 0 && ph != (uint32_t)-1);
		if (nphandles < 64)
			phandles[nphandles++] = ph;
		CHECK_EQ_U64(fdt_node_offset_by_phandle(fdt, ph), intc);
	}
	CHECK_EQ_U64(ncpus, c->nvcpus);

	/* No two nodes share a phandle. */
	for (int i = 0; i < nphandles; i++)
		for (int j = 0; j < i; j++)
			CHECK(phandles[i] != phandles[j]);

	/* cpu-map/cluster0/coreN points at cpu@N. */
	int cluster = fdt_path_offset(fdt, "/cpus/cpu-map/cluster0");
	if (CHECK(cluster >= 0)) {
		int ncores = 0, core;
		fdt_for_each_subnode(core, fdt, cluster) {
			int i = ncores++;
			char name[32];
			snprintf(name, sizeof(name), "core%d", i);
			CHECK_STR(fdt_get_name(fdt, core, NULL), name);
			if (i >= c->nvcpus || i >= 16)
				continue;
			CHECK_PROP_U32(fdt, core, "cpu", cpu_phandle[i]);
			snprintf(name, sizeof(name), "/cpus/cpu@%x", i);
			CHECK_EQ_U64(fdt_node_offset_by_phandle(fdt, cpu_phandle[i]),
				     fdt_path_offset(fdt, name));
		}
		CHECK_EQ_U64(ncores, c->nvcpus);
	}

	/* /memory@base: reg is the base and the size, two cells each. */
	char name[32];
	snprintf(name, sizeof(name), "/memory@%" PRIx64, c->mem_base);
	int mem = fdt_path_offset(fdt, name);
	if (CHECK(mem >= 0)) {
		CHECK_PROP_STR(fdt, mem, "device_type", "memory");
		int len;
		const fdt64_t *reg = fdt_getprop(fdt, mem, "reg", &len);
		if (CHECK(reg != NULL && len == 16)) {
			CHECK_EQ_U64(fdt64_ld(reg), c->mem_base);
			CHECK_EQ_U64(fdt64_ld(reg + 1), c->mem_size);
		}
	}
}

/*
 * dtc 1.6.1 wants #address-cells in every interrupt provider, the cpus'
 * interrupt controllers included (QEMU's own have none either); dtc 1.7.0
 * dropped that check, as only an interrupt-map needs it. Its warning about
 * that is not counted.
 */
static const char DTC_OLD_WARNING[] = "Missing #address-cells in interrupt provider";

/* The lines of text, NUL-terminated, that do not contain skip. */
static int count_lines_without(const char *text, const char *skip)
{
	int n = 0;
	while (*text != '\0') {
		size_t len = strcspn(text, "\n");
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)len, text);
		if (strstr(line, skip) == NULL) {
			printf("    dtc: %s\n", line);
			n++;
		}
		text += len + (text[len] == '\n');
	}
	return n;
}

/*
 * dtc decompiles the tree: writes it to build/host/NAME.dtb, runs dtc into
 * NAME.dts, and checks dtc succeeded with nothing to say (its warnings go
 * to NAME.log).
 */
static void check_dtc(const uint8_t *fdt, int size, const char *name)
{
	char dtb[4096], dts[4096], log[4096], cmd[3 * 4096 + 64];
	snprintf(dtb, sizeof(dtb), "%s/%s.dtb", blob_dir(), name);
	snprintf(dts, sizeof(dts), "%s/%s.dts", blob_dir(), name);
	snprintf(log, sizeof(log), "%s/%s.log", blob_dir(), name);
	if (!CHECK_EQ_U64(blob_write(dtb, fdt, (size_t)size), 0))
		return;
	snprintf(cmd, sizeof(cmd), "dtc -I dtb -O dts -o '%s' '%s' 2>'%s'", dts, dtb, log);
	if (!CHECK_EQ_U64(system(cmd), 0)) {
		printf("    %s failed\n", cmd);
		return;
	}
	size_t log_size = 0;
	uint8_t *text = blob_read(log, &log_size);
	int warnings = 0;
	if (text != NULL) {
		char *s = malloc(log_size + 1);
		memcpy(s, text, log_size);
		s[log_size] = '\0';
		warnings = count_lines_without(s, DTC_OLD_WARNING);
		free(s);
		free(text);
	}
	if (!CHECK_EQ_U64(warnings, 0))
		printf("    %s: dtc's warnings are in %s\n", name, log);
}

static void test_guestdt_trees(void)
{
	for (int n = 1; n <= HYP_MAX_HARTS; n++) {
		struct guestdt_config c = config_for(n);
		int size;
		uint8_t *fdt = build(&c, &size);
		if (fdt == NULL)
			continue;
		check_guest_tree(fdt, size, &c);
		char name[32];
		snprintf(name, sizeof(name), "guestdt-smp%d", n);
		check_dtc(fdt, size, name);
		free(fdt);
	}
}

/* Every size below the tree's: -1, with nothing written past the buffer. */
static void test_guestdt_too_small(void)
{
	for (int n = 1; n <= HYP_MAX_HARTS; n++) {
		struct guestdt_config c = config_for(n);
		int size;
		uint8_t *fdt = build(&c, &size);
		if (fdt == NULL)
			continue;
		for (int small = 0; small < size; small++) {
			/* Size 0 passes NULL: any write at all crashes. */
			uint8_t *buf = small > 0 ? malloc((size_t)small) : NULL;
			int got = guestdt_build(buf, (uint32_t)small, &c);
			free(buf);
			if (!CHECK_EQ_U64(got, -1)) {
				printf("    %d vCPUs, a buffer of %d bytes (the tree has %d)\n", n, small,
				       size);
				break;
			}
		}
		free(fdt);
	}
}

static void test_guestdt_options(void)
{
	/* No mmu-type: the cpus have none (check_guest_tree looks). */
	struct guestdt_config c = config_for(2);
	c.mmu_type = "";
	int size;
	uint8_t *fdt = build(&c, &size);
	if (fdt != NULL)
		check_guest_tree(fdt, size, &c);
	free(fdt);

	/* Memory above 4 GiB, larger than 4 GiB: both cells of each number. */
	c = config_for(3);
	c.mem_base = 0x2080000000;
	c.mem_size = 0x140000000;
	fdt = build(&c, &size);
	if (fdt != NULL) {
		check_guest_tree(fdt, size, &c);
		check_dtc(fdt, size, "guestdt-highmem");
	}
	free(fdt);

	/* Long bootargs fit if there is room... */
	static char bootargs[GUEST_DTB_MAX + 1];
	memset(bootargs, 'a', 3000);
	bootargs[3000] = '\0';
	c = config_for(4);
	c.bootargs = bootargs;
	fdt = build(&c, &size);
	if (fdt != NULL)
		check_guest_tree(fdt, size, &c);
	free(fdt);

	/* ...and give -1 if there is not. */
	memset(bootargs, 'a', GUEST_DTB_MAX);
	bootargs[GUEST_DTB_MAX] = '\0';
	uint8_t *buf = malloc(GUEST_DTB_MAX);
	CHECK_EQ_U64(guestdt_build(buf, GUEST_DTB_MAX, &c), -1);
	free(buf);
}

/*
 * An ISA string in two parts: the base and single letters, and the list of
 * multi-letter extensions. The first multi-letter one may follow the letters
 * without an '_' ("rv64imafdczicsr_zifencei" is valid); this writes every
 * one after an '_' so two spellings of one ISA compare equal.
 */
static void isa_normalize(const char *isa, char *out, size_t size)
{
	size_t n = strlen(isa);
	size_t letters = n < 4 ? n : 4 + strcspn(isa + 4, "_zsx");
	int add = isa[letters] != '\0' && isa[letters] != '_';
	snprintf(out, size, "%.*s%s%s", (int)letters, isa, add ? "_" : "", isa + letters);
}

/* guestdt_isa(host) into a roomy buffer gives want, spelled either way. */
#define CHECK_ISA(host, want) check_isa_at(__FILE__, __LINE__, (host), (want))
static void check_isa_at(const char *file, int line, const char *host, const char *want)
{
	char out[HART_ISA_MAX], got_norm[2 * HART_ISA_MAX], want_norm[2 * HART_ISA_MAX];
	char what[HART_ISA_MAX + 32];

	guestdt_isa(host, out, sizeof(out));
	isa_normalize(out, got_norm, sizeof(got_norm));
	isa_normalize(want, want_norm, sizeof(want_norm));
	snprintf(what, sizeof(what), "guestdt_isa(\"%s\")", host);
	if (!check_str_at(got_norm, want_norm, what, want, file, line))
		printf("    guestdt_isa gave \"%s\"\n", out);
}

/* Is each '_'-separated extension of part, in order, one of whole's? */
static int isa_extensions_subsequence(const char *part, const char *whole)
{
	part = strchr(part, '_');
	whole = strchr(whole, '_');
	while (part != NULL) {
		size_t len = strcspn(part + 1, "_");
		while (whole != NULL &&
		       (strcspn(whole + 1, "_") != len || strncmp(part + 1, whole + 1, len) != 0))
			whole = strchr(whole + 1, '_');
		if (whole == NULL)
			return 0;
		part = strchr(part + 1, '_');
		whole = strchr(whole + 1, '_');
	}
	return 1;
}

static void test_guestdt_isa(void)
{
	CHECK_ISA(QEMU_ISA, GUEST_ISA);
	CHECK_ISA("rv64gch", "rv64gc");
	CHECK_ISA("rv64imafdch", "rv64imafdc");
	CHECK_ISA("rv64imafdc", "rv64imafdc");
	CHECK_ISA("rv32imach_zicsr", "rv32imac_zicsr");
	CHECK_ISA("rv64h", "rv64");
	CHECK_ISA("", "");
	/* Supervisor, hypervisor and vendor extensions are not passed on. */
	CHECK_ISA("rv64imafdch_svinval_xtheadba_hfoo_zba_sstc_zbb", "rv64imafdc_zba_zbb");
	/* Empty extensions (two '_' in a row, one at the end) are dropped. */
	CHECK_ISA("rv64imafdch__zba_", "rv64imafdc_zba");
	/* The first multi-letter extension may follow the letters directly. */
	CHECK_ISA("rv64imafdchzicsr_zifencei", "rv64imafdc_zicsr_zifencei");
	CHECK_ISA("rv64imafdczihintpause", "rv64imafdc_zihintpause");
	CHECK_ISA("rv64imafdchsstc_zba", "rv64imafdc_zba");

	/*
	 * A small buffer: never a byte past it, always a NUL inside it, and
	 * what fits is a true subset: a prefix of the letters, and whole
	 * extensions in their order. Each buffer is malloc'ed to exactly its
	 * size. Size 0 gets a one-byte buffer: it must stay as it was.
	 */
	char canary = '#';
	guestdt_isa(QEMU_ISA, &canary, 0);
	if (!CHECK_EQ_U64(canary, '#'))
		printf("    guestdt_isa into 0 bytes wrote one\n");

	size_t full = strlen(GUEST_ISA);
	for (size_t size = 1; size <= full + 2; size++) {
		char *out = malloc(size);
		memset(out, '#', size);
		guestdt_isa(QEMU_ISA, out, size);
		/* The NUL first: the other tests read out as a string. */
		int ok = strnlen(out, size) < size;
		if (ok) {
			size_t letters = strcspn(out, "_");
			ok = strncmp(out, GUEST_ISA, letters) == 0 &&
			     isa_extensions_subsequence(out, GUEST_ISA) &&
			     (full >= size || strcmp(out, GUEST_ISA) == 0);
		}
		char what[64];
		snprintf(what, sizeof(what), "guestdt_isa into %zu bytes", size);
		ok = check_true_at(ok, what, __FILE__, __LINE__);
		if (!ok)
			printf("    gave \"%.*s\"\n", (int)size, out);
		free(out);
		if (!ok)
			break;
	}
}

const struct check_test check_tests[] = {
	{ "guestdt_trees", test_guestdt_trees },
	{ "guestdt_too_small", test_guestdt_too_small },
	{ "guestdt_options", test_guestdt_options },
	{ "guestdt_isa", test_guestdt_isa },
	{ NULL, NULL },
};
