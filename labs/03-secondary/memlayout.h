/*
 * memlayout.h: where everything lives, host-physical and guest-physical.
 * GUEST_MEM_MIB and GUEST_RAM_HPA come from build/labN/config.h, which the
 * Makefile writes: QEMU's loader must put the guest payload at the same
 * place this hypervisor maps it from.
 */
#ifndef MEMLAYOUT_H
#define MEMLAYOUT_H

/* Host-physical memory (QEMU virt, -m GUEST_MEM + 512 MiB). */
#define SIFIVE_TEST_BASE 0x00100000UL /* QEMU's test device: a write ends QEMU */
#define OPENSBI_BASE 0x80000000UL /* firmware; PMP hides it from us */
#define HYP_BASE 0x80200000UL /* this hypervisor: code, data, stacks, tables */
#define HOST_FDT_BASE 0x82200000UL /* fw_jump's copy of the device tree */
#define HOST_FDT_MAX 0x100000UL /* we read at most 1 MiB of it */
/* GUEST_RAM_HPA  0x90000000 (config.h): the guest's RAM, GUEST_MEM_MIB MiB */

/* Guest-physical memory: all the guest can reach. */
#define GUEST_RAM_BASE 0x80000000UL
#define GUEST_RAM_SIZE ((uint64_t)GUEST_MEM_MIB << 20)
#define GUEST_ENTRY 0x80200000UL /* QEMU's loader put the payload here */
#define GUEST_PAYLOAD_MAX (32UL << 20)
#define GUEST_DTB_SPACE 0x200000UL /* the last 2 MiB of guest RAM: one 2 MiB page */
#define GUEST_DTB_GPA (GUEST_RAM_BASE + GUEST_RAM_SIZE - GUEST_DTB_SPACE)

/* Guest RAM is mapped with 2 MiB pages and must hold payload and DTB. */
_Static_assert(GUEST_MEM_MIB % 2 == 0, "GUEST_MEM must be a multiple of 2 MiB");
_Static_assert(GUEST_MEM_MIB >= 64, "GUEST_MEM must be at least 64 MiB");

#endif
