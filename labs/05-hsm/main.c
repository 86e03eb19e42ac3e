/*
 * main.c: the hypervisor's table of contents.
 *
 * Lab 04 built one VM with one vCPU per hart, the secondaries PoweredOff.
 * Lab 05 gives the guest SBI HSM, IPI, TIME and RFENCE (vsbi.c), so that the
 * guest starts its other vCPUs itself: an SMP guest, Linux included.
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
#include "vm.h"

#define GSTAGE_POOL_TABLES 8 /* enough for guest RAM up to 8 GiB */

extern char image_start[], image_end[];

static uint64_t gstage_root[GSTAGE_ROOT_ENTRIES] __attribute__((aligned(16384)));
static uint64_t gstage_pool[GSTAGE_POOL_TABLES][GSTAGE_TABLE_ENTRIES]
	__attribute__((aligned(4096)));
static struct gstage guest_gstage = { gstage_root, gstage_pool, GSTAGE_POOL_TABLES, 0 };
static struct platform platform;

static int ranges_overlap(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

/*
 * Maps guest RAM in the G-stage table. Each hart turns translation on when
 * it runs a vCPU (vcpu_load).
 */
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

/*
 * Puts the initrd that QEMU loaded (-initrd, named in the firmware's
 * /chosen) into guest RAM, just below the device tree, and returns its
 * guest-physical start (0 if there is none). QEMU picks the place from the
 * size of host RAM: QEMU 7.2 put it below guest RAM's host memory, QEMU 10
 * inside it. Either is fine as long as it is whole and clear of the payload;
 * memmove, because inside guest RAM the two places may overlap.
 */
static uint64_t guest_initrd_load(void)
{
	uint64_t start = platform.initrd_start, end = platform.initrd_end;
	uint64_t size = end - start;
	uint64_t gpa = (GUEST_DTB_GPA - size) & ~(PAGE_SIZE - 1);
	uint64_t ram_end = GUEST_RAM_HPA + GUEST_RAM_SIZE;
	uint64_t payload = GUEST_RAM_HPA + (GUEST_ENTRY - GUEST_RAM_BASE);
	uint64_t hpa, perm;

	if (size == 0)
		return 0;
	if (ranges_overlap(start, end, GUEST_RAM_HPA, ram_end) &&
	    (start < GUEST_RAM_HPA || end > ram_end ||
	     ranges_overlap(start, end, payload, payload + GUEST_PAYLOAD_MAX)))
		panic("QEMU put the initrd at host-physical 0x%lx-0x%lx: across the edge of "
		      "guest RAM 0x%lx-0x%lx or over its payload; try another GUEST_MEM\n",
		      start, end, GUEST_RAM_HPA, ram_end);
	/* It must fit above a payload of the largest size we take. */
	if (size > GUEST_DTB_GPA - GUEST_ENTRY - GUEST_PAYLOAD_MAX ||
	    gstage_translate(&guest_gstage, gpa, &hpa, &perm) != 0)
		panic("the initrd (%lu bytes) does not fit in guest RAM\n", size);
	memmove((void *)hpa, (const void *)start, size);
	printf("hyp: initrd: %lu bytes at guest-physical 0x%lx\n", size, gpa);
	return gpa;
}

/*
 * Builds the guest's device tree, for nvcpus vCPUs (with Sstc if sstc), in
 * the last 2 MiB of its RAM.
 */
static void guest_dtb_build(int nvcpus, int sstc)
{
	static char isa[HART_ISA_MAX];
	uint64_t hpa, perm;
	uint64_t initrd = guest_initrd_load();

	/* Every vCPU gets the boot hart's ISA, less what a guest cannot use... */
	if (guestdt_isa(platform_isa(&platform, platform.hartids[0]), isa, sizeof(isa)) != 0)
		panic("the guest's ISA does not fit in %d bytes\n", HART_ISA_MAX);
	/* ...plus Sstc if vcpu.c gives it one: the last name, as s-names come after z-names. */
	if (sstc) {
		size_t n = strlen(isa);
		if (n + sizeof("_sstc") > sizeof(isa))
			panic("the guest's ISA does not fit in %d bytes\n", HART_ISA_MAX);
		memcpy(isa + n, "_sstc", sizeof("_sstc"));
	}
	struct guestdt_config config = {
		.nvcpus = nvcpus,
		.isa = isa,
		.mmu_type = platform.mmu_type,
		.timebase = platform.timebase,
		.mem_base = GUEST_RAM_BASE,
		.mem_size = GUEST_RAM_SIZE,
		.bootargs = GUEST_BOOTARGS,
		.initrd_start = initrd,
		.initrd_end = initrd + (platform.initrd_end - platform.initrd_start),
	};
	if (gstage_translate(&guest_gstage, GUEST_DTB_GPA, &hpa, &perm) != 0)
		panic("the guest device tree's place is not guest RAM\n");
	int size = guestdt_build((void *)hpa, GUEST_DTB_MAX, &config);
	if (size < 0)
		panic("the guest device tree does not fit in %d bytes\n", GUEST_DTB_MAX);
	printf("hyp: guest device tree: %d vCPUs, isa %s, %d bytes at guest-physical 0x%lx\n",
	       config.nvcpus, isa, size, GUEST_DTB_GPA);
}

/* For hart_park_until: the boot hart has created the VM. */
static int hyp_vm_exists(void *arg)
{
	(void)arg;
	return vm_get() != NULL;
}

/*
 * For hart_park_until, on the hart of vCPU arg, at each wake-up: carry out
 * what other harts asked of the vCPU (a parked vCPU's hart still does the
 * fences they wait for), then say whether it has an entry point and may run.
 */
static int hyp_vcpu_runnable(void *arg)
{
	vcpu_handle_requests(arg);
	return vcpu_get_state(arg) == VCPU_RUNNABLE;
}

/*
 * Every hart's last loop, the boot hart's too: a vCPU has no entry point
 * until the guest gives it one with hart_start (the seed's PoweredOff).
 * Sleep until then, run it, and sleep again after each hart_stop.
 */
static void hyp_run_vcpu(struct hart *h) __attribute__((noreturn));
static void hyp_run_vcpu(struct hart *h)
{
	for (;;) {
		hart_park_until(h, hyp_vcpu_runnable, h->vcpu);
		vcpu_run(h->vcpu);
		/*
		 * It stopped. Only a running vCPU can start another (hart_start),
		 * so once every vCPU is STOPPED none will ever run again: end the
		 * machine, as a guest's failed power-off would, instead of idling.
		 * If two vCPUs stop at once, at least the second sees both.
		 */
		if (vm_all_stopped(h->vcpu->vm)) {
			printf("hyp: every vCPU is stopped (hart_stop) and none can start another: "
			       "stopping the machine\n");
			machine_fail();
		}
	}
}

/* The boot hart enters C here (entry.S, _start), with the firmware's device tree. */
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
	hart_release_secondaries();
	online = hart_count_online(); /* fixed now: a hart that comes later is left out */
	/*
	 * No lock torture: lab 04's locks are this lab's (make copies-check),
	 * and its grader tortures them there; a boot of lab 05 does not wait
	 * for that again.
	 */
	guest_memory_init();

	/* The rendezvous: the VM, then one vCPU per online hart. */
	struct vm *vm = vm_create(&guest_gstage, online);
	struct vcpu *vcpu0 = vm_add_vcpu(vm, 0);
	hart_self()->vcpu = vcpu0;
	vm_wait_vcpus(vm);

	/* The guest's timer: its own stimecmp where the harts and firmware allow. */
	int sstc = vcpu_timer_init(platform_isa_has_ext(platform.boot_isa, "sstc"));
	printf("hyp: guest timer: %s\n",
	       sstc ? "Sstc (the guest's stimecmp is the hart's vstimecmp: no exit)"
		    : "SBI set_timer, through our own timer (one exit per deadline)");
	guest_dtb_build(online, sstc); /* one vCPU per hart that came online */
	vcpu_power_on(vcpu0, GUEST_ENTRY, GUEST_DTB_GPA);
	printf("hyp: starting vCPU 0 on hart %lu at guest-physical 0x%lx\n", hartid,
	       GUEST_ENTRY);
	/* From here every hart is alike: it runs its vCPU when the guest starts it. */
	hyp_run_vcpu(hart_self());
}

/*
 * Every other hart, started by hart_start_secondaries, enters C here
 * (entry.S, secondary_entry), on its own stack, with tp = h.
 */
void hyp_secondary_main(struct hart *h)
{
	hart_online(h);
	hart_wait_released(h); /* after the boot hart's IPI test */

	/* The seed's rendezvous: wait until the boot hart made the VM, add our vCPU. */
	hart_park_until(h, hyp_vm_exists, NULL);
	h->vcpu = vm_add_vcpu(vm_get(), (uint64_t)h->index);
	hart_ipi_boot(); /* the boot hart waits for every vCPU: tell it */

	hyp_run_vcpu(h);
}
