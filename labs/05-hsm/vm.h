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

/* Each group of fields says who may touch it. */
struct vm {
	/* Set by vm_create before it publishes the VM (vm_get); read-only after. */
	int nvcpus; /* its size: one vCPU per online hart */
	const struct gstage *gstage; /* the guest's memory */

	/*
	 * lock guards the writes of vcpus[], during the rendezvous
	 * (vm_add_vcpu). Once every vCPU is in, no entry changes again, and
	 * vcpus[] is read without the lock: the boot hart saw all the adds
	 * (vm_wait_vcpus' load-acquire of inited_vcpus), and a secondary runs
	 * its vCPU only after the boot hart released it.
	 */
	struct ticketlock lock;
	struct vcpu *vcpus[HYP_MAX_HARTS]; /* by vCPU id */

	/* Atomic: vCPUs added so far (INITED_VCPUS), amoadd-release by each adder. */
	uint32_t inited_vcpus;
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

/* Whether every vCPU of vm is PoweredOff (STOPPED), each read under its lock. */
int vm_all_stopped(struct vm *vm);

#endif
