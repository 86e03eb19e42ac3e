/*
 * lib.h: the small C library shared by the hypervisor, the test guest and
 * the host unit tests. Nothing here touches a CSR.
 */
#ifndef LIB_H
#define LIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * fmt_vsnprintf formats like C's vsnprintf, with the conversions the labs use:
 * %d %i %u %x %X %p %s %c %%, the length modifiers l and ll, a field width,
 * and the flags 0 and -. Returns the length the whole output would have.
 */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The compiler may emit calls to these four, so they keep their C names. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
