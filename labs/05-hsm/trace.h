/*
 * trace.h: a per-hart record of what each hart did and when, drawn as a
 * timeline by grader/trace.py (make labN TRACE=1). Built without TRACE,
 * every trace point compiles to nothing: not even its arguments are
 * evaluated.
 */
#ifndef TRACE_H
#define TRACE_H

#include <stdint.h>

/* What happened; grader/trace-format.md gives each event's arguments. */
enum trace_event {
	TRACE_BOOT, /* the boot hart entered C */
	TRACE_ONLINE, /* a secondary came online: a0 = its index */
	TRACE_PARK, /* about to sleep in wfi */
	TRACE_WAKE, /* wfi returned: a0 = 1 if an IPI was pending */
	TRACE_IPI_SEND, /* a0 = the target hart's id */
	TRACE_IPI_RECV, /* this hart took its IPI (cleared sip.SSIP) */
	TRACE_GUEST_ENTER, /* a vCPU starts in the guest: a0 = vCPU id */
	TRACE_EXIT, /* the guest trapped: a0 = the cause's name, a1 = vCPU id */
	TRACE_RESUME, /* back into the guest after an exit: a0 = vCPU id */
	TRACE_POWEROFF, /* the guest powered off */
	TRACE_LOCK_WAIT, /* started to take a lock: a0 = its name, a1 = its address */
	TRACE_LOCK_ACQUIRED, /* holds it: the same */
	TRACE_LOCK_RELEASE, /* let it go: the same */
	TRACE_BARRIER_ARRIVE, /* a0 = the barrier, a1 = how many harts it waits for */
	TRACE_BARRIER_LEAVE, /* everyone arrived: a0 = the barrier */
	TRACE_VM_CREATE, /* a0 = the VM's vCPUs */
	TRACE_VCPU_ADD, /* this hart added its vCPU: a0 = its id */
	TRACE_RELEASE, /* the rendezvous is over, every vCPU is in: a0 = how many */
	TRACE_VCPU_START, /* the guest's hart_start: a0 = the vCPU, a1 = its hart */
	TRACE_SUSPEND, /* the guest's hart_suspend: a0 = the vCPU */
	TRACE_SUSPEND_END, /* it has an interrupt: a0 = the vCPU */
	TRACE_HART_STOP, /* the guest's hart_stop: a0 = the vCPU */
	TRACE_EVENTS
};

#ifdef TRACE
#define trace(event, a0, a1) trace_record((event), (uint64_t)(a0), (uint64_t)(a1))
#define trace_lock(event, name, lock) trace_lock_event((event), (name), (lock))
/* Appends an event to this hart's buffer: no lock, no line shared with another hart. */
void trace_record(enum trace_event event, uint64_t a0, uint64_t a1);
/*
 * A lock event, up to TRACE_LOCK_TAKES takings of each lock per hart: the
 * torture takes its locks a hundred thousand times, which would fill the
 * buffer before the rendezvous. A taking is recorded whole or not at all.
 */
void trace_lock_event(enum trace_event event, const char *name, const void *lock);
/* Sets what the dump tells the reader: the time CSR's frequency, from the device tree. */
void trace_start(uint32_t timebase);
/* Prints every hart's buffer on the console (grader/trace-format.md), once. */
void trace_dump(void);
#else
#define trace(event, a0, a1) ((void)0)
#define trace_lock(event, name, lock) ((void)0)
#define trace_start(timebase) ((void)0)
#define trace_dump() ((void)0)
#endif

#endif
