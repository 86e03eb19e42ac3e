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
	TRACE_EVENTS
};

#ifdef TRACE
#define trace(event, a0, a1) trace_record((event), (uint64_t)(a0), (uint64_t)(a1))
/* Appends an event to this hart's buffer: no lock, no line shared with another hart. */
void trace_record(enum trace_event event, uint64_t a0, uint64_t a1);
/* Sets what the dump tells the reader: the time CSR's frequency, from the device tree. */
void trace_start(uint32_t timebase);
/* Prints every hart's buffer on the console (grader/trace-format.md), once. */
void trace_dump(void);
#else
#define trace(event, a0, a1) ((void)0)
#define trace_start(timebase) ((void)0)
#define trace_dump() ((void)0)
#endif

#endif
