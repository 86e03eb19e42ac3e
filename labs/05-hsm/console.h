/* console.h: the hypervisor's own console, through the firmware's SBI. */
#ifndef CONSOLE_H
#define CONSOLE_H

void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "panic: ..." and stops the machine; QEMU exits with status 1. */
void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
