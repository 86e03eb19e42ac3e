/*
 * vm.h: the one virtual machine, shared by every hart: one vCPU per hart.
 *
 * The seed made the VM a lazily initialised static: the boot hart creates
 * it; each secondary waits until it exists, then creates its own vCPU and
 * adds it; an atomic count (INITED_VCPUS) tells the boot hart when all are
 * in, and only then does it run the VM.
 */
#ifndef VM_H
#define VM_H

#include "gstage.h"
#include "param.h"
#include "spinlock.h"
#include "vcpu.h"

struct vm {
	struct ticketlock lock;            /* guards vcpus[] */
	struct vcpu *vcpus[HYP_MAX_HARTS]; /* by vCPU id */
	int nvcpus_expected;               /* one per online hart */
	uint32_t inited_vcpus;             /* atomic: vCPUs added so far */
	const struct gstage *gstage;       /* the guest's memory */
};

/* The VM, or NULL until the boot hart has created it. */
struct vm *vm_get(void);

/* On the boot hart: creates the VM and wakes the harts waiting for it. */
struct vm *vm_create(const struct gstage *g, int nvcpus);

/* Creates vCPU id (PoweredOff) and adds it to the VM. */
struct vcpu *vm_add_vcpu(struct vm *vm, uint64_t id);

/* How many vCPUs have been added (a load-acquire of inited_vcpus). */
int vm_vcpus_in(struct vm *vm);

/* On the boot hart: sleeps until every expected vCPU has been added. */
void vm_wait_vcpus(struct vm *vm);

#endif
