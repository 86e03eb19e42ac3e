/*
 * platform.c: learns the machine from the firmware's device tree, with the
 * reader in fdt.c. Pure logic, tested on the host against libfdt.
 *
 * The parts of the tree it reads (QEMU virt, -smp 2):
 *
 *   / { #address-cells = <2>; #size-cells = <2>;
 *       cpus { #address-cells = <1>; #size-cells = <0>;
 *              timebase-frequency = <10000000>;
 *              cpu@0 { device_type = "cpu"; reg = <0>; status = "okay";
 *                      riscv,isa = "rv64imafdch_..."; mmu-type = "riscv,sv48"; ... };
 *              cpu@1 { ... };
 *              cpu-map { ... }; };
 *       memory@80000000 { device_type = "memory"; reg = <0 0x80000000 0 0x10000000>; }; };
 *
 * QEMU 10's cpus also give their ISA the newer way, as a base and a list:
 *   riscv,isa-base = "rv64i"; riscv,isa-extensions = "i", "m", ..., "h", "zic64b", ...;
 */
#include "fdt.h"
#include "lib.h"
#include "platform.h"

int platform_isa_has_ext(const char *isa, const char *ext)
{
	size_t n = strlen(ext);
	for (const char *p = isa; *p != '\0'; p++)
		if (*p == '_' && strncmp(p + 1, ext, n) == 0 && (p[n + 1] == '\0' || p[n + 1] == '_'))
			return 1;
	return 0;
}

int platform_isa_has(const char *isa, char ext)
{
	/* "rv64" then single letters, until the first '_' (multi-letter ones). */
	if (strncmp(isa, "rv64", 4) != 0 && strncmp(isa, "rv32", 4) != 0)
		return 0;
	for (const char *c = isa + 4; *c != '\0' && *c != '_'; c++) {
		if (*c == 'z' || *c == 's' || *c == 'x')
			break; /* a multi-letter extension: the single letters are over */
		if (*c == ext)
			return 1;
	}
	return 0;
}

const char *platform_use_name(enum platform_cpu_use use)
{
	switch (use) {
	case CPU_USED:
		return "used";
	case CPU_DISABLED:
		return "disabled in the device tree";
	case CPU_NO_H:
		return "no H extension: not used";
	case CPU_OVER_LIMIT:
		return "over HYP_MAX_HARTS: not used";
	}
	return "?";
}

const char *platform_isa(const struct platform *p, uint64_t hartid)
{
	if (hartid == p->boot_hartid && p->boot_isa[0] != '\0')
		return p->boot_isa;
	for (int i = 0; i < p->ncpus && i < PLATFORM_MAX_CPUS; i++)
		if (p->cpus[i].hartid == hartid)
			return p->cpus[i].isa;
	return "";
}

static void copy_string(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Messages that name a cpu or a length are written here; *why points at it. */
static char why_buf[128];

/* *why = "<the cpu node's name>: <what>". Returns -1. */
static int platform_isa_error(const void *fdt, int node, const char *what, const char **why)
{
	fmt_snprintf(why_buf, sizeof(why_buf), "%s: %s", fdt_name(fdt, node), what);
	*why = why_buf;
	return -1;
}

/*
 * Appends n bytes of s to the ISA string being built, *len bytes so far.
 * What does not fit is counted but not written, so that *len ends as the
 * whole string's length, for the error message.
 */
static void isa_append(char *isa, size_t size, size_t *len, const char *s, size_t n)
{
	if (*len + n < size)
		memcpy(isa + *len, s, n);
	*len += n;
}

/*
 * A name in riscv,isa-extensions: lowercase letters and digits, a letter
 * first. The ISA string made from the list must read back the same, so no
 * '_', and no single letter s, x or z: in riscv,isa those begin a
 * multi-letter name.
 */
static int isa_name_ok(const char *name)
{
	if (name[0] < 'a' || name[0] > 'z')
		return 0;
	if (name[1] == '\0')
		return name[0] != 's' && name[0] != 'x' && name[0] != 'z';
	for (const char *c = name; *c != '\0'; c++)
		if ((*c < 'a' || *c > 'z') && (*c < '0' || *c > '9'))
			return 0;
	return 1;
}

/*
 * The newer binding as one riscv,isa string: base "rv64i" and the list "i",
 * "m", "a", "c", "h", "zicsr" become "rv64imach_zicsr". The list's single
 * letters come first, as riscv,isa has them, and its "i" (Linux wants it in
 * the list too) is not written twice. Sets *len to the string's length,
 * written or not (see isa_append). Returns 0, or -1 with *why.
 */
static int platform_read_isa_list(const void *fdt, int node, char *isa, size_t size,
				  size_t *len, const char **why)
{
	int base_len, list_len;
	const char *base = fdt_prop(fdt, node, "riscv,isa-base", &base_len);
	const char *list = fdt_prop(fdt, node, "riscv,isa-extensions", &list_len);

	/* The binding wants both or neither. */
	if (base == NULL || list == NULL)
		return platform_isa_error(fdt, node,
					  "riscv,isa-base or riscv,isa-extensions without the other", why);
	base = fdt_prop_string(fdt, node, "riscv,isa-base");
	if (base == NULL || (strcmp(base, "rv64i") != 0 && strcmp(base, "rv32i") != 0))
		return platform_isa_error(fdt, node, "riscv,isa-base is not \"rv32i\" or \"rv64i\"",
					  why);
	/* A list of strings, each NUL-terminated: the last one too. */
	if (list_len < 1 || list[list_len - 1] != '\0')
		return platform_isa_error(fdt, node, "riscv,isa-extensions does not end with a NUL",
					  why);
	const char *end = list + list_len;
	for (const char *e = list; e < end; e += strlen(e) + 1)
		if (!isa_name_ok(e))
			return platform_isa_error(
				fdt, node, "riscv,isa-extensions has an empty or malformed name", why);

	isa_append(isa, size, len, base, strlen(base));
	for (const char *e = list; e < end; e += strlen(e) + 1)
		if (e[1] == '\0' && e[0] != 'i')
			isa_append(isa, size, len, e, 1);
	for (const char *e = list; e < end; e += strlen(e) + 1) {
		if (e[1] != '\0') {
			isa_append(isa, size, len, "_", 1);
			isa_append(isa, size, len, e, strlen(e));
		}
	}
	return 0;
}

/*
 * Reads a cpu's ISA into isa (size bytes) as one riscv,isa string: from
 * riscv,isa-base and riscv,isa-extensions if the node has either (the newer
 * binding, which Linux prefers too), else from riscv,isa as it is. An ISA
 * that does not fit is an error, never cut short. Returns 0, or -1 with *why.
 */
static int platform_read_isa(const void *fdt, int node, char *isa, size_t size,
			     const char **why)
{
	int len_ignored;
	size_t len = 0;

	if (fdt_prop(fdt, node, "riscv,isa-base", &len_ignored) != NULL ||
	    fdt_prop(fdt, node, "riscv,isa-extensions", &len_ignored) != NULL) {
		if (platform_read_isa_list(fdt, node, isa, size, &len, why) != 0)
			return -1;
	} else {
		const char *s = fdt_prop_string(fdt, node, "riscv,isa");
		if (s == NULL) {
			*why = "a cpu node has no riscv,isa";
			return -1;
		}
		isa_append(isa, size, &len, s, strlen(s));
	}
	if (len >= size) {
		fmt_snprintf(why_buf, sizeof(why_buf),
			     "%s: its ISA is %lu characters, more than HART_ISA_MAX - 1 (%lu)",
			     fdt_name(fdt, node), (unsigned long)len, (unsigned long)size - 1);
		*why = why_buf;
		return -1;
	}
	isa[len] = '\0';
	return 0;
}

/*
 * Chooses the harts to use among the usable ones (marked CPU_USED so far):
 * the boot hart first, then the others in tree order, up to HYP_MAX_HARTS.
 */
static void platform_choose_harts(struct platform *p, uint64_t boot_hartid)
{
	p->hartids[p->nharts++] = boot_hartid;
	/* BEGIN SOLUTION (lab 2): add the other usable harts, up to HYP_MAX_HARTS */
	for (int i = 0; i < p->ncpus && i < PLATFORM_MAX_CPUS; i++) {
		struct platform_cpu *cpu = &p->cpus[i];
		if (cpu->use != CPU_USED || cpu->hartid == boot_hartid)
			continue;
		if (p->nharts < HYP_MAX_HARTS) {
			p->hartids[p->nharts++] = cpu->hartid;
		} else {
			cpu->use = CPU_OVER_LIMIT;
			p->over_limit++;
		}
	}
	/* END SOLUTION (lab 2) */
}

/* Reads /cpus. Returns 0 or -1 with *why. */
static int platform_read_cpus(const void *fdt, uint64_t boot_hartid, struct platform *p,
			      const char **why)
{
	int cpus = fdt_subnode(fdt, 0, "cpus");
	if (cpus < 0) {
		*why = "no /cpus node";
		return -1;
	}
	uint32_t cells;
	if (fdt_prop_u32(fdt, cpus, "#address-cells", 0, &cells) != 0 || (cells != 1 && cells != 2)) {
		*why = "/cpus has no #address-cells of 1 or 2";
		return -1;
	}
	int boot_usable = 0, usable = 0;

	/* The timebase may sit on /cpus, or on each cpu. */
	fdt_prop_u32(fdt, cpus, "timebase-frequency", 0, &p->timebase);

	for (int node = fdt_subnode_first(fdt, cpus); node >= 0;
	     node = fdt_subnode_next(fdt, node)) {
		const char *type = fdt_prop_string(fdt, node, "device_type");
		if (type == NULL || strcmp(type, "cpu") != 0)
			continue; /* cpu-map and friends */

		uint64_t hartid;
		if (fdt_prop_cells(fdt, node, "reg", 0, (int)cells, &hartid) != 0) {
			*why = "a cpu node has no valid reg";
			return -1;
		}
		char isa[HART_ISA_MAX];
		if (platform_read_isa(fdt, node, isa, sizeof(isa), why) != 0)
			return -1;
		/* A status that is there but not a proper string counts as "not okay". */
		int status_len;
		int has_status = fdt_prop(fdt, node, "status", &status_len) != NULL;
		const char *status = fdt_prop_string(fdt, node, "status");
		const char *mmu = fdt_prop_string(fdt, node, "mmu-type");
		if (p->timebase == 0)
			fdt_prop_u32(fdt, node, "timebase-frequency", 0, &p->timebase);

		for (int i = 0; i < p->ncpus && i < PLATFORM_MAX_CPUS; i++) {
			if (p->cpus[i].hartid == hartid) {
				*why = "two cpu nodes have the same hart id";
				return -1;
			}
		}

		enum platform_cpu_use use = CPU_USED;
		if (has_status && (status == NULL || (strcmp(status, "okay") != 0 &&
						      strcmp(status, "ok") != 0)))
			use = CPU_DISABLED;
		else if (!platform_isa_has(isa, 'h'))
			use = CPU_NO_H;
		if (use == CPU_USED)
			usable++;
		if (use == CPU_USED && hartid == boot_hartid) {
			boot_usable = 1;
			copy_string(p->boot_isa, isa, sizeof(p->boot_isa));
			if (mmu != NULL)
				copy_string(p->mmu_type, mmu, sizeof(p->mmu_type));
		}

		/* Harts past the table's end are over every limit: count them only. */
		if (p->ncpus < PLATFORM_MAX_CPUS) {
			struct platform_cpu *cpu = &p->cpus[p->ncpus];
			cpu->hartid = hartid;
			copy_string(cpu->isa, isa, sizeof(cpu->isa));
			cpu->use = use;
		} else if (use == CPU_USED && hartid != boot_hartid) {
			p->over_limit++;
		}
		p->ncpus++;
	}

	if (p->timebase == 0) {
		*why = "no timebase-frequency on /cpus or on a cpu";
		return -1;
	}
	if (usable == 0) {
		*why = "no usable hart (status okay, with the H extension)";
		return -1;
	}
	if (!boot_usable) {
		*why = "the boot hart is not a usable cpu (status okay, with the H extension)";
		return -1;
	}
	platform_choose_harts(p, boot_hartid);
	return 0;
}

/* Reads the first /memory node's first range. */
static int platform_read_memory(const void *fdt, struct platform *p, const char **why)
{
	uint32_t acells = 2, scells = 1; /* the specification's defaults */
	fdt_prop_u32(fdt, 0, "#address-cells", 0, &acells);
	fdt_prop_u32(fdt, 0, "#size-cells", 0, &scells);
	if (acells < 1 || acells > 2 || scells < 1 || scells > 2) {
		*why = "the root's #address-cells or #size-cells is not 1 or 2";
		return -1;
	}
	int mem = fdt_subnode(fdt, 0, "memory");
	if (mem < 0 || fdt_prop_cells(fdt, mem, "reg", 0, (int)acells, &p->mem_base) != 0 ||
	    fdt_prop_cells(fdt, mem, "reg", (int)acells, (int)scells, &p->mem_size) != 0) {
		*why = "no /memory node with a reg";
		return -1;
	}
	return 0;
}

/*
 * Reads /chosen's linux,initrd-start and linux,initrd-end, where QEMU (-initrd)
 * or a boot loader put an initial RAM disk for Linux. Either 1 or 2 cells.
 */
static int platform_read_initrd(const void *fdt, struct platform *p, const char **why)
{
	int chosen = fdt_subnode(fdt, 0, "chosen");
	int len_start, len_end;

	if (chosen < 0 || fdt_prop(fdt, chosen, "linux,initrd-start", &len_start) == NULL)
		return 0; /* no initrd: fine */
	if (fdt_prop(fdt, chosen, "linux,initrd-end", &len_end) == NULL ||
	    fdt_prop_cells(fdt, chosen, "linux,initrd-start", 0, len_start / 4, &p->initrd_start) != 0 ||
	    fdt_prop_cells(fdt, chosen, "linux,initrd-end", 0, len_end / 4, &p->initrd_end) != 0 ||
	    p->initrd_end < p->initrd_start) {
		*why = "/chosen has a broken linux,initrd-start/end";
		return -1;
	}
	return 0;
}

int platform_read(const void *fdt, uint64_t bufsize, uint64_t boot_hartid,
		  struct platform *p, const char **why)
{
	memset(p, 0, sizeof(*p));
	p->boot_hartid = boot_hartid;
	int err = fdt_check(fdt, bufsize);
	if (err != 0) {
		*why = fdt_strerror(err);
		return -1;
	}
	if (platform_read_cpus(fdt, boot_hartid, p, why) != 0)
		return -1;
	if (platform_read_memory(fdt, p, why) != 0)
		return -1;
	return platform_read_initrd(fdt, p, why);
}
