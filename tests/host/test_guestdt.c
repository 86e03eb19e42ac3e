/*
 * test_guestdt.c: the guest's device tree (labs/02-dtb/guestdt.c), read
 * back with libfdt and decompiled by dtc. The Makefile builds it once for
 * each lab whose guestdt.c is not a copy of the lab before's, with
 * LAB_NUMBER: test_guestdt for lab 02, test_guestdt_lab05 for lab 05, whose
 * guest's /chosen also names the initrd.
 *
 *   guestdt_trees       1 to 8 vCPUs: libfdt's fdt_check_full accepts each
 *                       tree, dtc decompiles it, and it says what the
 *                       config said (the cpus, their interrupt controllers
 *                       and phandles, the cpu-map, /memory, /chosen)
 *   guestdt_too_small   every buffer smaller than the tree: -1, and not a
 *                       byte written past the buffer
 *   guestdt_options     no mmu-type, long bootargs, memory above 4 GiB,
 *                       QEMU 10's ISA, ISAs the writer refuses
 *   guestdt_isa         the ISA the guest is told about: the filter, on
 *                       QEMU 7.2's and QEMU 10's and others, and small buffers
 *   guestdt_initrd      (lab 05) the initrd in /chosen, in two cells: below
 *                       and above 4 GiB, through dtc; none when it is empty
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

/* QEMU 10.0's default cpu: 302 characters. */
static const char QEMU10_ISA[] =
	"rv64imafdch_zic64b_zicbom_zicbop_zicboz_ziccamoa_ziccif_zicclsm_ziccrse_zicntr_zicsr_"
	"zifencei_zihintntl_zihintpause_zihpm_zmmul_za64rs_zaamo_zalrsc_zawrs_zfa_zca_zcd_zba_zbb_"
	"zbc_zbs_shcounterenw_shgatpa_shtvala_shvsatpa_shvstvala_shvstvecd_ssccptr_sscounterenw_"
	"sstc_sstvala_sstvecd_ssu64xl_svadu_svvptc";
/* What its guest is told: no h, zicbom, zicbop, zicboz, zihpm, sh*, ss*, sv*. */
static const char QEMU10_GUEST_ISA[] =
	"rv64imafdc_zic64b_ziccamoa_ziccif_zicclsm_ziccrse_zicntr_zicsr_zifencei_zihintntl_"
	"zihintpause_zmmul_za64rs_zaamo_zalrsc_zawrs_zfa_zca_zcd_zba_zbb_zbc_zbs";

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

/*
 * The newer ISA binding says what riscv,isa says: riscv,isa-base is its
 * first five letters ("rv64i"), and riscv,isa-extensions lists its single
 * letters, that "i" first, then its multi-letter names, in its order. Read
 * with libfdt's string-list functions and put back together, the list gives
 * riscv,isa again.
 */
static void check_isa_bindings(const void *fdt, int node, const char *isa)
{
	char base[6], again[2 * HART_ISA_MAX];
	int names = 0;

	snprintf(base, sizeof(base), "%s", isa);
	CHECK_PROP_STR(fdt, node, "riscv,isa-base", base);
	int count = fdt_stringlist_count(fdt, node, "riscv,isa-extensions");
	if (!CHECK(count >= 1))
		return;
	snprintf(again, sizeof(again), "%.4s", isa);
	for (int i = 0; i < count; i++) {
		int len;
		const char *e = fdt_stringlist_get(fdt, node, "riscv,isa-extensions", i, &len);
		if (!CHECK(e != NULL && len >= 1))
			return;
		names |= len > 1;
		size_t n = strlen(again);
		snprintf(again + n, sizeof(again) - n, "%s%s", names ? "_" : "", e);
	}
	CHECK_STR(again, isa);
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
#if LAB_NUMBER >= 5
	/* The initrd, in two cells each, if it has a byte; else neither property. */
	if (chosen >= 0) {
		int start_len = -1, end_len = -1;
		const fdt64_t *start = fdt_getprop(fdt, chosen, "linux,initrd-start", &start_len);
		const fdt64_t *end = fdt_getprop(fdt, chosen, "linux,initrd-end", &end_len);
		if (c->initrd_end > c->initrd_start) {
			if (CHECK(start != NULL && start_len == 8))
				CHECK_EQ_U64(fdt64_ld(start), c->initrd_start);
			if (CHECK(end != NULL && end_len == 8))
				CHECK_EQ_U64(fdt64_ld(end), c->initrd_end);
		} else {
			CHECK(start == NULL && end == NULL);
		}
	}
#endif

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
		check_isa_bindings(fdt, node, c->isa);
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

/* Every size below c's tree's: -1, with nothing written past the buffer. */
static void check_too_small(const struct guestdt_config *c)
{
	int size;
	uint8_t *fdt = build(c, &size);
	if (fdt == NULL)
		return;
	for (int small = 0; small < size; small++) {
		/* Size 0 passes NULL: any write at all crashes. */
		uint8_t *buf = small > 0 ? malloc((size_t)small) : NULL;
		int got = guestdt_build(buf, (uint32_t)small, c);
		free(buf);
		if (!CHECK_EQ_U64(got, -1)) {
			printf("    %d vCPUs, a buffer of %d bytes (the tree has %d)\n", c->nvcpus,
			       small, size);
			break;
		}
	}
	free(fdt);
}

static void test_guestdt_too_small(void)
{
	for (int n = 1; n <= HYP_MAX_HARTS; n++) {
		struct guestdt_config c = config_for(n);
		check_too_small(&c);
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

	/* QEMU 10's ISA for its guest, at the most vCPUs. */
	c = config_for(HYP_MAX_HARTS);
	c.isa = QEMU10_GUEST_ISA;
	fdt = build(&c, &size);
	if (fdt != NULL) {
		check_guest_tree(fdt, size, &c);
		check_dtc(fdt, size, "guestdt-qemu10");
	}
	free(fdt);

	/* The longest ISA guestdt_isa can write; and one more is refused. */
	static char isa[HART_ISA_MAX + 1];
	memset(isa, 'z', HART_ISA_MAX);
	memcpy(isa, "rv64imac_", 9);
	isa[HART_ISA_MAX - 1] = '\0';
	c = config_for(2);
	c.isa = isa;
	fdt = build(&c, &size);
	if (fdt != NULL)
		check_guest_tree(fdt, size, &c);
	free(fdt);
	isa[HART_ISA_MAX - 1] = 'z';
	CHECK_EQ_U64(guestdt_build(buf, GUEST_DTB_MAX, &c), -1);

	/* riscv,isa-base is "rv64i" or "rv32i": an ISA without either is refused. */
	const char *bad[] = { "", "rv64", "rv64gc", "rv128i", "imac" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		c.isa = bad[i];
		if (!CHECK_EQ_U64(guestdt_build(buf, GUEST_DTB_MAX, &c), -1))
			printf("    isa \"%s\"\n", bad[i]);
	}
	free(buf);
}

/* guestdt_isa(host) into a roomy buffer succeeds and gives want. */
#define CHECK_ISA(host, want) check_isa_at(__FILE__, __LINE__, (host), (want))
static void check_isa_at(const char *file, int line, const char *host, const char *want)
{
	char out[HART_ISA_MAX], what[HART_ISA_MAX + 32];

	snprintf(what, sizeof(what), "guestdt_isa(\"%s\")", host);
	if (check_eq_u64_at(guestdt_isa(host, out, sizeof(out)), 0, what, "0", file, line))
		check_str_at(out, want, what, want, file, line);
}

/* Is name one of the '_'-separated extensions of isa? */
static int isa_has_name(const char *isa, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = strchr(isa, '_'); p != NULL; p = strchr(p + 1, '_'))
		if (strncmp(p + 1, name, len) == 0 && (p[1 + len] == '_' || p[1 + len] == '\0'))
			return 1;
	return 0;
}

static void test_guestdt_isa(void)
{
	CHECK_ISA(QEMU_ISA, GUEST_ISA);
	CHECK_ISA(QEMU10_ISA, QEMU10_GUEST_ISA);
	CHECK_ISA("rv64imafdch", "rv64imafdc");
	CHECK_ISA("rv64imafdc", "rv64imafdc");
	CHECK_ISA("rv32imach_zicsr", "rv32imac_zicsr");
	/* The binding's single letters but v and h; and always i: H needs the I base. */
	CHECK_ISA("rv64imafdqcbvh", "rv64imafdqc");
	CHECK_ISA("rv64h", "rv64i");
	/* g is no letter of the binding (it spells out imafd): not passed on. */
	CHECK_ISA("rv64gch", "rv64ic");
	/* Supervisor, hypervisor and vendor extensions are not passed on... */
	CHECK_ISA("rv64imafdch_svinval_xtheadba_hfoo_zba_sstc_zbb", "rv64imafdc_zba_zbb");
	/* ...nor unprivileged ones that need the hypervisor, nor unknown ones. */
	CHECK_ISA("rv64imafdch_zicboz_zicbom_zicbop_zihpm_zkr_zvbb_zfoo_zicntr", "rv64imafdc_zicntr");
	/* A name is kept only whole: zbaz and zb are not zba. */
	CHECK_ISA("rv64ih_zbaz_zb_zba", "rv64i_zba");
	/* Empty extensions (two '_' in a row, one at the end) are dropped. */
	CHECK_ISA("rv64imafdch__zba_", "rv64imafdc_zba");
	/* The first multi-letter extension may follow the letters directly. */
	CHECK_ISA("rv64imafdchzicsr_zifencei", "rv64imafdc_zicsr_zifencei");
	CHECK_ISA("rv64imafdczihintpause", "rv64imafdc_zihintpause");
	CHECK_ISA("rv64imafdchsstc_zba", "rv64imafdc_zba");

	/* QEMU 10's, group by group (see guestdt.c). */
	char out[HART_ISA_MAX];
	if (CHECK_EQ_U64(guestdt_isa(QEMU10_ISA, out, sizeof(out)), 0)) {
		const char *dropped[] = { "sstc", "shgatpa", "shvsatpa", "ssccptr", "svadu",
					  "svvptc", "zicbom", "zicboz", "zicbop", "zihpm" };
		const char *kept[] = { "zicsr", "zifencei", "zicntr", "zba", "zbb", "zbc", "zbs",
				       "zawrs", "zfa", "zca", "zcd", "zic64b" };
		CHECK(strncmp(out, "rv64imafdc_", 11) == 0);
		for (size_t i = 0; i < ARRAY_SIZE(dropped); i++)
			if (!CHECK(!isa_has_name(out, dropped[i])))
				printf("    %s passed on\n", dropped[i]);
		for (size_t i = 0; i < ARRAY_SIZE(kept); i++)
			if (!CHECK(isa_has_name(out, kept[i])))
				printf("    %s left out\n", kept[i]);
	}

	/* Not an ISA string: nothing to tell a guest. */
	CHECK_EQ_U64(guestdt_isa("", out, sizeof(out)), -1);
	CHECK_EQ_U64(guestdt_isa("hrv64", out, sizeof(out)), -1);

	/*
	 * Every buffer: -1 if the ISA and its NUL do not fit, else 0 and all
	 * of it; never a string cut short, never a byte past the buffer (each
	 * is malloc'ed to exactly its size; size 0 passes a one-byte buffer,
	 * which must stay as it was).
	 */
	char canary = '#';
	CHECK_EQ_U64(guestdt_isa(QEMU10_ISA, &canary, 0), -1);
	if (!CHECK_EQ_U64(canary, '#'))
		printf("    guestdt_isa into 0 bytes wrote one\n");
	size_t full = strlen(QEMU10_GUEST_ISA);
	for (size_t size = 1; size <= full + 2; size++) {
		char *buf = malloc(size);
		int ret = guestdt_isa(QEMU10_ISA, buf, size);
		int ok = size <= full ? ret == -1 : ret == 0 && strcmp(buf, QEMU10_GUEST_ISA) == 0;
		char what[64];
		snprintf(what, sizeof(what), "guestdt_isa into %zu bytes", size);
		ok = check_true_at(ok, what, __FILE__, __LINE__);
		free(buf);
		if (!ok)
			break;
	}
}

#if LAB_NUMBER >= 5
/* dtc's text of the tree it decompiled into build/host/name.dts holds want. */
static void check_dts_has(const char *name, const char *want)
{
	char path[4096];
	size_t size = 0;
	snprintf(path, sizeof(path), "%s/%s.dts", blob_dir(), name);
	uint8_t *text = blob_read(path, &size);
	if (!CHECK(text != NULL))
		return;
	char *s = malloc(size + 1);
	memcpy(s, text, size);
	s[size] = '\0';
	if (!CHECK(strstr(s, want) != NULL))
		printf("    %s has no line \"%s\"\n", path, want);
	free(s);
	free(text);
}

static void test_guestdt_initrd(void)
{
	/* Lab 05's README (section 7): 503808 bytes just below the guest's tree. */
	struct guestdt_config c = config_for(4);
	c.initrd_start = 0x87d85000;
	c.initrd_end = 0x87e00000;
	int size;
	uint8_t *fdt = build(&c, &size);
	if (fdt != NULL) {
		check_guest_tree(fdt, size, &c);
		check_dtc(fdt, size, "guestdt-initrd");
		check_dts_has("guestdt-initrd", "linux,initrd-start = <0x00 0x87d85000>;");
		check_dts_has("guestdt-initrd", "linux,initrd-end = <0x00 0x87e00000>;");
	}
	free(fdt);
	check_too_small(&c);

	/* Above 4 GiB, one byte long: both cells of each. */
	c.initrd_start = 0x2087654321;
	c.initrd_end = 0x2087654322;
	fdt = build(&c, &size);
	if (fdt != NULL)
		check_guest_tree(fdt, size, &c);
	free(fdt);

	/* Empty, and backwards: no initrd for the guest (check_guest_tree looks). */
	uint64_t empty[][2] = { { 0x87e00000, 0x87e00000 }, { 0x87e00000, 0x87d85000 } };
	for (size_t i = 0; i < ARRAY_SIZE(empty); i++) {
		c.initrd_start = empty[i][0];
		c.initrd_end = empty[i][1];
		fdt = build(&c, &size);
		if (fdt != NULL)
			check_guest_tree(fdt, size, &c);
		free(fdt);
	}
}
#endif

const struct check_test check_tests[] = {
	{ "guestdt_trees", test_guestdt_trees },
	{ "guestdt_too_small", test_guestdt_too_small },
	{ "guestdt_options", test_guestdt_options },
	{ "guestdt_isa", test_guestdt_isa },
#if LAB_NUMBER >= 5
	{ "guestdt_initrd", test_guestdt_initrd },
#endif
	{ NULL, NULL },
};
