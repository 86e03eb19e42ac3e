/* console.h: the hypervisor's own console, through the firmware's SBI. */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stdint.h>

void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "panic: ..." and stops the machine; QEMU exits with status 1. */
void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The guest's console output (vsbi.c), under the console lock too. */
void console_write(const uint8_t *buf, uint64_t n);
void console_write_byte(uint8_t c);

#endif
