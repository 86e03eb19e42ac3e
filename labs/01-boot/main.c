/*
 * main.c: the hypervisor's table of contents.
 *
 * Lab 01 runs on the one hart OpenSBI boots and gives one guest one vCPU,
 * like the seed's `cpu_nums = 1`: the other harts stay stopped in OpenSBI.
 */
#include "console.h"
#include "gstage.h"
#include "lib.h"
#include "machine.h"
#include "memlayout.h"
#include "riscv.h"
#include "trap.h"
#include "vcpu.h"

#define GSTAGE_POOL_TABLES 8 /* enough for guest RAM up to 8 GiB */

extern char image_start[], image_end[];
extern char guest_dtb_start[], guest_dtb_end[];

static uint64_t gstage_root[GSTAGE_ROOT_ENTRIES] __attribute__((aligned(16384)));
static uint64_t gstage_pool[GSTAGE_POOL_TABLES][GSTAGE_TABLE_ENTRIES]
	__attribute__((aligned(4096)));
static struct gstage guest_gstage = { gstage_root, gstage_pool, GSTAGE_POOL_TABLES, 0 };
static struct vcpu vcpu0;

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

/* Copies the guest's device tree into the last 2 MiB of its RAM. */
static void guest_dtb_load(void)
{
	uint64_t size = (uint64_t)(guest_dtb_end - guest_dtb_start);
	uint64_t hpa, perm;

	if (gstage_translate(&guest_gstage, GUEST_DTB_GPA, &hpa, &perm) != 0 ||
	    size > GUEST_DTB_SPACE)
		panic("no room for the guest device tree\n");
	memcpy((void *)hpa, guest_dtb_start, size);
	printf("hyp: guest device tree: %lu bytes at guest-physical 0x%lx\n", size,
	       GUEST_DTB_GPA);
}

void hyp_main(uint64_t hartid, uint64_t fdt)
{
	(void)fdt; /* lab 02 reads the firmware's device tree */

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

	guest_memory_init();
	guest_dtb_load();
	vcpu_init(&vcpu0, 0, &guest_gstage, GUEST_ENTRY, GUEST_DTB_GPA);
	printf("hyp: starting vCPU 0 on hart %lu at guest-physical 0x%lx\n", hartid,
	       GUEST_ENTRY);
	vcpu_run(&vcpu0);
}
