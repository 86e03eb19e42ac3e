/* machine.h: ending the whole machine, well or badly. */
#ifndef MACHINE_H
#define MACHINE_H

/* Powers off through the firmware's SBI SRST; QEMU exits with status 0. */
void machine_poweroff(void) __attribute__((noreturn));

/* Stops after an error; QEMU exits with status 1. */
void machine_fail(void) __attribute__((noreturn));

#endif
