/*
 * main.c: the hypervisor's table of contents.
 *
 * Lab 02 read the firmware's device tree to learn the harts, and built the
 * guest a device tree to match: one vCPU per usable hart. Lab 03 starts the
 * other harts, parks them in wfi and wakes them with IPIs; the guest still
 * runs its vCPU 0 on the boot hart alone.
 */
#include "console.h"
#include "gstage.h"
#include "guestdt.h"
#include "hart.h"
#include "lib.h"
#include "machine.h"
#include "memlayout.h"
#include "platform.h"
#include "riscv.h"
#include "trace.h"
#include "trap.h"
#include "vcpu.h"

#define GSTAGE_POOL_TABLES 8 /* enough for guest RAM up to 8 GiB */

extern char image_start[], image_end[];

static uint64_t gstage_root[GSTAGE_ROOT_ENTRIES] __attribute__((aligned(16384)));
static uint64_t gstage_pool[GSTAGE_POOL_TABLES][GSTAGE_TABLE_ENTRIES]
	__attribute__((aligned(4096)));
static struct gstage guest_gstage = { gstage_root, gstage_pool, GSTAGE_POOL_TABLES, 0 };
static struct vcpu vcpu0;
static struct platform platform;

static int ranges_overlap(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

/* Maps guest RAM in the G-stage table and turns G-stage translation on. */
static void guest_memory_init(void)
{
	uint64_t hpa_end = GUEST_RAM_HPA + GUEST_RAM_SIZE;

	/* Guest RAM must be memory nobody else uses: not us, not OpenSBI. */
	if (ranges_overlap(GUEST_RAM_HPA, hpa_end, OPENSBI_BASE, (uint64_t)image_end))
		panic("guest RAM 0x%lx-0x%lx overlaps firmware or hypervisor\n",
		      GUEST_RAM_HPA, hpa_end);
	/* ...and memory that exists: the device tree says how much there is. */
	if (GUEST_RAM_HPA < platform.mem_base ||
	    hpa_end > platform.mem_base + platform.mem_size)
		panic("guest RAM 0x%lx-0x%lx is not inside host memory 0x%lx-0x%lx\n",
		      GUEST_RAM_HPA, hpa_end, platform.mem_base,
		      platform.mem_base + platform.mem_size);

	int err = gstage_map(&guest_gstage, GUEST_RAM_BASE, GUEST_RAM_HPA,
			     GUEST_RAM_SIZE, PTE_R | PTE_W | PTE_X);
	if (err != GSTAGE_OK)
		panic("gstage_map of guest RAM failed: %d\n", err);

	uint64_t hgatp = gstage_hgatp(&guest_gstage, 0);
	csr_write(hgatp, hgatp);
	/* hgatp.MODE is WARL: a hart without Sv39x4 reads back another mode. */
	if ((csr_read(hgatp) & HGATP_MODE_MASK) != HGATP_MODE_SV39X4)
		panic("this hart does not support Sv39x4 G-stage translation\n");
	/* Drop any G-stage translations cached before the table existed. */
	hfence_gvma_all();

	printf("hyp: guest RAM: guest-physical 0x%lx-0x%lx -> host-physical 0x%lx-0x%lx (%lu MiB)\n",
	       GUEST_RAM_BASE, GUEST_RAM_BASE + GUEST_RAM_SIZE,
	       GUEST_RAM_HPA, hpa_end, GUEST_RAM_SIZE >> 20);
}

/* Reads the firmware's device tree and prints what it found. */
static void platform_init(uint64_t boot_hartid, uint64_t fdt)
{
	const char *why;

	if (platform_read((const void *)fdt, HOST_FDT_MAX, boot_hartid, &platform, &why) != 0) {
		printf("hyp: error: the firmware's device tree at 0x%lx: %s\n", fdt, why);
		machine_fail();
	}
	printf("hyp: device tree at 0x%lx: %d cpus, timebase %u Hz, memory 0x%lx-0x%lx\n",
	       fdt, platform.ncpus, platform.timebase, platform.mem_base,
	       platform.mem_base + platform.mem_size);
	for (int i = 0; i < platform.ncpus && i < PLATFORM_MAX_CPUS; i++) {
		const struct platform_cpu *cpu = &platform.cpus[i];
		printf("hyp:   hart %-3lu %-10s %s\n", cpu->hartid,
		       cpu->hartid == boot_hartid ? "(boot)" : "",
		       platform_use_name(cpu->use));
	}
	if (platform.ncpus > PLATFORM_MAX_CPUS)
		printf("hyp:   ... and %d more cpus\n", platform.ncpus - PLATFORM_MAX_CPUS);
	if (platform.over_limit > 0)
		printf("hyp: using %d of %d cpus (this build's limit: HYP_MAX_HARTS = %d)\n",
		       platform.nharts, platform.ncpus, HYP_MAX_HARTS);
}

/* Builds the guest's device tree, for nvcpus vCPUs, in the last 2 MiB of its RAM. */
static void guest_dtb_build(int nvcpus)
{
	static char isa[HART_ISA_MAX];
	uint64_t hpa, perm;

	/* Every vCPU gets the boot hart's ISA, less what a guest cannot use. */
	if (guestdt_isa(platform_isa(&platform, platform.hartids[0]), isa, sizeof(isa)) != 0)
		panic("the guest's ISA does not fit in %d bytes\n", HART_ISA_MAX);
	struct guestdt_config config = {
		.nvcpus = nvcpus,
		.isa = isa,
		.mmu_type = platform.mmu_type,
		.timebase = platform.timebase,
		.mem_base = GUEST_RAM_BASE,
		.mem_size = GUEST_RAM_SIZE,
		.bootargs = GUEST_BOOTARGS,
	};
	if (gstage_translate(&guest_gstage, GUEST_DTB_GPA, &hpa, &perm) != 0)
		panic("the guest device tree's place is not guest RAM\n");
	int size = guestdt_build((void *)hpa, GUEST_DTB_MAX, &config);
	if (size < 0)
		panic("the guest device tree does not fit in %d bytes\n", GUEST_DTB_MAX);
	printf("hyp: guest device tree: %d vCPUs, isa %s, %d bytes at guest-physical 0x%lx\n",
	       config.nvcpus, isa, size, GUEST_DTB_GPA);
}

void hyp_main(uint64_t hartid, uint64_t fdt)
{
	hart_init_boot(hartid); /* tp: this hart's struct hart */
	trace(TRACE_BOOT, 0, 0);
	printf("hyp: RISC-V hypervisor lab %02d, booted on hart %lu\n", LAB_NUMBER, hartid);
	trap_init(); /* our own traps go to trap.S */
	if (!trap_probe_h()) {
		printf("hyp: error: hart %lu cannot run a hypervisor: %s\n", hartid,
		       "no H extension (hstatus is not readable in this mode)");
		printf("hyp: QEMU enables H by default; remove '-cpu ...,h=false'\n");
		machine_fail();
	}
	printf("hyp: running in HS-mode with the H extension\n");
	printf("hyp: hypervisor image 0x%lx-0x%lx\n", (uint64_t)image_start,
	       (uint64_t)image_end);

	platform_init(hartid, fdt);
	trace_start(platform.timebase);
	int online = hart_start_secondaries(&platform);
	hart_ipi_test();
	guest_memory_init();
	guest_dtb_build(online); /* one vCPU per hart that came online */
	vcpu_init(&vcpu0, 0, &guest_gstage, GUEST_ENTRY, GUEST_DTB_GPA);
	printf("hyp: starting vCPU 0 on hart %lu at guest-physical 0x%lx\n", hartid,
	       GUEST_ENTRY);
	vcpu_run(&vcpu0);
}

/*
 * Every other hart, started by hart_start_secondaries, enters C here
 * (entry.S, secondary_entry), on its own stack, with tp = h.
 */
void hyp_secondary_main(struct hart *h)
{
	hart_online(h);
	hart_park(h);
}
