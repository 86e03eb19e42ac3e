/*
 * guestdt.c: writes a flattened device tree (see fdt.c for the format).
 * Pure logic, checked on the host with libfdt's fdt_check_full and dtc.
 *
 * The writer lays the blob out in one pass:
 *   header (40) | empty reservation map (16) | structure block | strings
 * The structure block grows in place; property names collect in a side
 * table and are appended last, when the structure block's size is known.
 */
#include "fdt.h"
#include "guestdt.h"
#include "lib.h"
#include "param.h"

#define STRINGS_MAX 512
#define RSVMAP_OFFSET FDT_HEADER_SIZE
#define STRUCT_OFFSET (RSVMAP_OFFSET + 16)

struct dtw {
	uint8_t *buf;
	uint32_t size;
	uint32_t off; /* where the next structure-block byte goes */
	char strings[STRINGS_MAX];
	uint32_t strings_len;
	char isa_list[2 * HART_ISA_MAX]; /* riscv,isa-extensions: a NUL after each letter */
	int overflow; /* set once anything did not fit */
};

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void dtw_u32(struct dtw *w, uint32_t v)
{
	if (w->off + 4 > w->size) {
		w->overflow = 1;
		return;
	}
	put_be32(w->buf + w->off, v);
	w->off += 4;
}

/* Copies len bytes, then zeros up to the next 4-byte boundary. */
static void dtw_bytes(struct dtw *w, const void *p, uint32_t len)
{
	uint32_t padded = (len + 3) & ~3U;
	if (w->off + padded > w->size || w->off + padded < w->off) {
		w->overflow = 1;
		return;
	}
	memcpy(w->buf + w->off, p, len);
	memset(w->buf + w->off + len, 0, padded - len);
	w->off += padded;
}

/* The offset of name in the strings block, adding it if new. */
static uint32_t dtw_string(struct dtw *w, const char *name)
{
	uint32_t len = (uint32_t)strlen(name) + 1;
	for (uint32_t o = 0; o < w->strings_len; o += (uint32_t)strlen(w->strings + o) + 1)
		if (strcmp(w->strings + o, name) == 0)
			return o;
	if (w->strings_len + len > STRINGS_MAX) {
		w->overflow = 1;
		return 0;
	}
	memcpy(w->strings + w->strings_len, name, len);
	w->strings_len += len;
	return w->strings_len - len;
}

static void dtw_begin_node(struct dtw *w, const char *name)
{
	dtw_u32(w, FDT_BEGIN_NODE);
	dtw_bytes(w, name, (uint32_t)strlen(name) + 1);
}

static void dtw_end_node(struct dtw *w)
{
	dtw_u32(w, FDT_END_NODE);
}

static void dtw_prop(struct dtw *w, const char *name, const void *value, uint32_t len)
{
	dtw_u32(w, FDT_PROP);
	dtw_u32(w, len);
	dtw_u32(w, dtw_string(w, name));
	dtw_bytes(w, value, len);
}

static void dtw_prop_string(struct dtw *w, const char *name, const char *value)
{
	dtw_prop(w, name, value, (uint32_t)strlen(value) + 1);
}

/* A property of n 32-bit cells. */
static void dtw_prop_cells(struct dtw *w, const char *name, const uint32_t *cells, int n)
{
	uint8_t value[16];
	for (int i = 0; i < n; i++)
		put_be32(value + 4 * i, cells[i]);
	dtw_prop(w, name, value, (uint32_t)(4 * n));
}

static void dtw_prop_u32(struct dtw *w, const char *name, uint32_t v)
{
	dtw_prop_cells(w, name, &v, 1);
}

/*
 * A cpu's ISA in both bindings (platform.c reads either), all three
 * properties from the one string: "rv64imac_zicsr" (as guestdt_isa writes
 * it, every multi-letter name after an '_') is also riscv,isa-base "rv64i"
 * and riscv,isa-extensions "i", "m", "a", "c", "zicsr".
 */
static void dtw_prop_isa(struct dtw *w, const char *isa)
{
	char base[] = "rv64i";
	uint32_t n = 0;

	/* The list is then at most twice as long: it fits in isa_list. */
	if (strlen(isa) >= HART_ISA_MAX) {
		w->overflow = 1;
		return;
	}
	memcpy(base, isa, 4); /* "rv32" or "rv64": guestdt_build checked */
	const char *p = isa + 4;
	for (; *p != '\0' && *p != '_'; p++) {
		w->isa_list[n++] = *p;
		w->isa_list[n++] = '\0';
	}
	while (*p == '_') {
		const char *name = ++p;
		while (*p != '\0' && *p != '_')
			p++;
		memcpy(w->isa_list + n, name, (size_t)(p - name));
		n += (uint32_t)(p - name);
		w->isa_list[n++] = '\0';
	}
	dtw_prop_string(w, "riscv,isa", isa);
	dtw_prop_string(w, "riscv,isa-base", base);
	dtw_prop(w, "riscv,isa-extensions", w->isa_list, n);
}

/* phandles: cpu@i is 2i+1, its interrupt controller 2i+2. */
static uint32_t cpu_phandle(int i)
{
	return (uint32_t)(2 * i + 1);
}

static void guestdt_cpus(struct dtw *w, const struct guestdt_config *c)
{
	char name[32];

	dtw_begin_node(w, "cpus");
	dtw_prop_u32(w, "#address-cells", 1);
	dtw_prop_u32(w, "#size-cells", 0);
	dtw_prop_u32(w, "timebase-frequency", c->timebase);
	for (int i = 0; i < c->nvcpus; i++) {
		fmt_snprintf(name, sizeof(name), "cpu@%x", i); /* unit address = reg, in hex */
		dtw_begin_node(w, name);
		dtw_prop_string(w, "device_type", "cpu");
		dtw_prop_u32(w, "reg", (uint32_t)i);
		dtw_prop_string(w, "status", "okay");
		dtw_prop_string(w, "compatible", "riscv");
		dtw_prop_isa(w, c->isa);
		if (c->mmu_type[0] != '\0')
			dtw_prop_string(w, "mmu-type", c->mmu_type);
		dtw_prop_u32(w, "phandle", cpu_phandle(i));
		/* Each hart's local interrupt controller: timer, software, external. */
		dtw_begin_node(w, "interrupt-controller");
		dtw_prop_u32(w, "#interrupt-cells", 1);
		dtw_prop(w, "interrupt-controller", "", 0);
		dtw_prop_string(w, "compatible", "riscv,cpu-intc");
		dtw_prop_u32(w, "phandle", cpu_phandle(i) + 1);
		dtw_end_node(w);
		dtw_end_node(w);
	}
	/* One cluster with one core per vCPU: vCPUs share no caches we know of. */
	dtw_begin_node(w, "cpu-map");
	dtw_begin_node(w, "cluster0");
	for (int i = 0; i < c->nvcpus; i++) {
		fmt_snprintf(name, sizeof(name), "core%d", i);
		dtw_begin_node(w, name);
		dtw_prop_u32(w, "cpu", cpu_phandle(i));
		dtw_end_node(w);
	}
	dtw_end_node(w);
	dtw_end_node(w);
	dtw_end_node(w);
}

int guestdt_build(void *buf, uint32_t size, const struct guestdt_config *c)
{
	static struct dtw w; /* 2.5 KiB of strings and lists: not on the stack */
	char name[32];

	memset(&w, 0, sizeof(w));
	w.buf = buf;
	w.size = size;
	w.off = STRUCT_OFFSET;
	if (size < STRUCT_OFFSET)
		return -1;
	/* riscv,isa-base is the ISA's first five letters: "rv32i" or "rv64i". */
	if (strncmp(c->isa, "rv64i", 5) != 0 && strncmp(c->isa, "rv32i", 5) != 0)
		return -1;
	memset(buf, 0, STRUCT_OFFSET); /* header and the empty reservation map */

	dtw_begin_node(&w, "");
	dtw_prop_u32(&w, "#address-cells", 2);
	dtw_prop_u32(&w, "#size-cells", 2);
	dtw_prop_string(&w, "compatible", "riscv-virtio");
	dtw_prop_string(&w, "model", "riscv-hypervisor-labs,guest");

	dtw_begin_node(&w, "chosen");
	dtw_prop_string(&w, "bootargs", c->bootargs);
	dtw_end_node(&w);

	guestdt_cpus(&w, c);

	fmt_snprintf(name, sizeof(name), "memory@%lx", c->mem_base);
	dtw_begin_node(&w, name);
	dtw_prop_string(&w, "device_type", "memory");
	uint32_t reg[4] = { (uint32_t)(c->mem_base >> 32), (uint32_t)c->mem_base,
			    (uint32_t)(c->mem_size >> 32), (uint32_t)c->mem_size };
	dtw_prop_cells(&w, "reg", reg, 4);
	dtw_end_node(&w);

	dtw_end_node(&w); /* the root */
	dtw_u32(&w, FDT_END);

	uint32_t struct_size = w.off - STRUCT_OFFSET;
	uint32_t strings_off = w.off;
	if (w.overflow || strings_off + w.strings_len > size)
		return -1;
	memcpy(w.buf + strings_off, w.strings, w.strings_len);
	uint32_t total = strings_off + w.strings_len;

	uint8_t *h = buf;
	put_be32(h + 0, FDT_MAGIC);
	put_be32(h + 4, total);
	put_be32(h + 8, STRUCT_OFFSET); /* off_dt_struct */
	put_be32(h + 12, strings_off); /* off_dt_strings */
	put_be32(h + 16, RSVMAP_OFFSET); /* off_mem_rsvmap */
	put_be32(h + 20, 17); /* version */
	put_be32(h + 24, 16); /* last_comp_version */
	put_be32(h + 28, 0); /* boot_cpuid_phys: vCPU 0 boots */
	put_be32(h + 32, w.strings_len);
	put_be32(h + 36, struct_size);
	return (int)total;
}

/*
 * The extensions a guest is told about: the single letters of the binding
 * but v and h, and the multi-letter ones listed. All of them work in VS-mode
 * as they do natively, with nothing set up by this hypervisor. Left out:
 *   h                 no nested virtualization: hypervisor instructions trap
 *   v, zv*, zve*      vector instructions need sstatus.VS on; vcpu.c turns on FS only
 *   s*, sh*, sm*, sv* supervisor, hypervisor and machine extensions: the
 *                     guest's CSRs and traps are what this hypervisor makes of
 *                     them (sstc needs henvcfg.STCE, and the guest gets the SBI
 *                     timer; svpbmt and svadu need henvcfg.PBMTE and ADUE)
 *   zicbom, zicboz    cbo.* trap from VS-mode while henvcfg.CBIE, CBCFE, CBZE are 0
 *   zicbop            its prefetches are hints and run anyway, but the binding
 *                     pairs it with riscv,cbop-block-size, not in this tree
 *   zihpm             hcounteren lets the guest read cycle, time and instret
 *                     only: hpmcounter3..31 trap
 *   zkr               the seed CSR traps in VS-mode
 *   x*                vendor extensions: nobody here knows what they need
 * and any name not listed: an unknown extension is never passed on.
 */
static const char guest_letters[] = "imafdqc";
/* clang-format off */
static const char *const guest_extensions[] = {
	/* Plain unprivileged instructions and hints. */
	"zicsr", "zifencei", "zicond", "zihintntl", "zihintpause", "zimop", "zmmul",
	"zaamo", "zabha", "zacas", "zalrsc", "zba", "zbb", "zbc", "zbs",
	"zca", "zcb", "zcd", "zcf", "zcmop",
	/* Floating point: vcpu_load turns sstatus.FS on for the guest. */
	"zfa", "zfh", "zfhmin",
	/* cycle, time and instret: hcounteren.CY, TM and IR are set (vcpu.c). */
	"zicntr",
	/* wrs.nto traps to the hypervisor only if hstatus.VTW is set; it never is. */
	"zawrs",
	/* What caches and memory guarantee: the same seen from a guest. */
	"zic64b", "ziccamoa", "ziccif", "zicclsm", "ziccrse", "za64rs",
};
/* clang-format on */

static int guest_letter_ok(char letter)
{
	for (const char *l = guest_letters; *l != '\0'; l++)
		if (*l == letter)
			return 1;
	return 0;
}

/* Is the len-byte name at ext on guest_extensions? */
static int guest_extension_ok(const char *ext, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(guest_extensions); i++)
		if (strlen(guest_extensions[i]) == len && strncmp(guest_extensions[i], ext, len) == 0)
			return 1;
	return 0;
}

/* Appends len bytes of s to out, *n bytes so far. 0, or -1 if they and a NUL do not fit. */
static int isa_put(char *out, size_t size, size_t *n, const char *s, size_t len)
{
	if (*n + len >= size)
		return -1;
	memcpy(out + *n, s, len);
	*n += len;
	return 0;
}

int guestdt_isa(const char *host_isa, char *out, size_t size)
{
	size_t n = 0;

	if (strncmp(host_isa, "rv64", 4) != 0 && strncmp(host_isa, "rv32", 4) != 0)
		return -1;
	/* "rv64", and 'i': H needs the I base (not E), so "rv64i" is the base. */
	if (isa_put(out, size, &n, host_isa, 4) != 0 || isa_put(out, size, &n, "i", 1) != 0)
		return -1;
	const char *p = host_isa + 4;
	/* The single letters end at the first '_' or multi-letter name (z, s or x). */
	for (; *p != '\0' && *p != '_' && *p != 'z' && *p != 's' && *p != 'x'; p++)
		if (*p != 'i' && guest_letter_ok(*p) && isa_put(out, size, &n, p, 1) != 0)
			return -1;
	/* Then each multi-letter name; the first may lack its '_'. */
	while (*p != '\0') {
		if (*p == '_') {
			p++;
			continue;
		}
		const char *ext = p;
		while (*p != '\0' && *p != '_')
			p++;
		size_t len = (size_t)(p - ext);
		if (guest_extension_ok(ext, len) &&
		    (isa_put(out, size, &n, "_", 1) != 0 || isa_put(out, size, &n, ext, len) != 0))
			return -1;
	}
	out[n] = '\0';
	return 0;
}
