/*
 * console.c: printf for the hypervisor. Each call formats a whole line into
 * a buffer first, then hands it to the firmware (OpenSBI's legacy putchar).
 */
#include <stdarg.h>

#include "console.h"
#include "lib.h"
#include "machine.h"
#include "sbi.h"

static void console_vprintf(const char *fmt, va_list ap)
{
	char buf[256];
	int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	int cut = n >= (int)sizeof(buf);
	if (cut)
		n = sizeof(buf) - 1;
	for (int i = 0; i < n; i++)
		sbi_console_putchar(buf[i]);
	/* A line too long for the buffer is cut, visibly. */
	if (cut)
		for (const char *p = "...\n"; *p != '\0'; p++)
			sbi_console_putchar(*p);
}

void printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	console_vprintf(fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;
	printf("panic: ");
	va_start(ap, fmt);
	console_vprintf(fmt, ap);
	va_end(ap);
	machine_fail();
}
