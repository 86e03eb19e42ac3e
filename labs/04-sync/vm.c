/*
 * vm.c: the VM and the rendezvous that fills it.
 *
 *   boot hart                              secondary harts
 *   ---------                              ---------------
 *   vm_create(): init, publish (release) -> wake in wfi, see the VM (acquire)
 *   vm_add_vcpu(0)                          vm_add_vcpu(own index)
 *                                           inited_vcpus += 1 (release), IPI boot
 *   vm_wait_vcpus(): sleep until
 *     inited_vcpus == nvcpus (acquire)  <-  (the last one's IPI)
 *   run vCPU 0                              sleep until own vCPU is Runnable
 */
#include "console.h"
#include "hart.h"
#include "lib.h"
#include "trace.h"
#include "vm.h"

static struct vm the_vm; /* the one VM */
static struct vm *vm_published; /* NULL until the_vm is ready */
static struct vcpu vcpus[HYP_MAX_HARTS];

struct vm *vm_get(void)
{
	/* Pairs with the store-release in vm_create(): see the VM whole. */
	return __atomic_load_n(&vm_published, __ATOMIC_ACQUIRE);
}

struct vm *vm_create(const struct gstage *g, int nvcpus)
{
	if (vm_get() != NULL)
		panic("vm_create: the VM exists already\n");
	the_vm.lock = (struct ticketlock)TICKETLOCK_INIT("vm");
	the_vm.gstage = g;
	the_vm.nvcpus = nvcpus;
	/* Everything above is written before the pointer is published. */
	__atomic_store_n(&vm_published, &the_vm, __ATOMIC_RELEASE);
	trace(TRACE_VM_CREATE, nvcpus, 0);
	printf("hyp: VM created for %d vCPUs\n", nvcpus);
	hart_ipi_all(); /* the secondaries sleep until it exists */
	return &the_vm;
}

struct vcpu *vm_add_vcpu(struct vm *vm, uint64_t id)
{
	struct vcpu *v = &vcpus[id];

	vcpu_init(v, id, vm, vm->gstage);
	ticket_lock(&vm->lock);
	if (vm->vcpus[id] != NULL)
		panic("vm_add_vcpu: vCPU %lu added twice\n", id);
	vm->vcpus[id] = v;
	ticket_unlock(&vm->lock);
	trace(TRACE_VCPU_ADD, id, 0);
	/* Said before the count goes up, so it is on the console before the
	 * boot hart's "all in". */
	printf("hyp: hart %lu: vCPU %lu created, powered off\n", hart_self()->hartid, id);
	/*
	 * INITED_VCPUS. fence iorw,ow; amoadd.w: the vCPU is in vcpus[] before the count
	 * says so; pairs with the load-acquire in vm_vcpus_in().
	 */
	__atomic_fetch_add(&vm->inited_vcpus, 1, __ATOMIC_RELEASE);
	return v;
}

int vm_vcpus_in(struct vm *vm)
{
	return (int)__atomic_load_n(&vm->inited_vcpus, __ATOMIC_ACQUIRE);
}

static int vm_all_in(void *arg)
{
	struct vm *vm = arg;
	return vm_vcpus_in(vm) == vm->nvcpus;
}

void vm_wait_vcpus(struct vm *vm)
{
	hart_park_until(hart_self(), vm_all_in, vm);
	trace(TRACE_RELEASE, vm->nvcpus, 0);
	printf("hyp: all %d of %d vCPUs in: the VM may run\n", vm_vcpus_in(vm),
	       vm->nvcpus);
}
