/* trap.h: the hypervisor's own traps (HS-mode), and what a guest exit says. */
#ifndef TRAP_H
#define TRAP_H

#include <stdint.h>

/* Points stvec at trap.S's vector. */
void trap_init(void);

/* 1 if reading hstatus works here, 0 if it is an illegal instruction. */
int trap_probe_h(void);

/* A name for an scause value, for messages. */
const char *trap_cause_name(uint64_t scause);

#endif
