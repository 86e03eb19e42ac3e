/*
 * console.c: printf for the hypervisor. Each call formats a whole line into
 * a buffer first, then hands it to the firmware (OpenSBI's legacy putchar)
 * under the console lock, so lines from different harts never interleave.
 */
#include <stdarg.h>

#include "console.h"
#include "lib.h"
#include "machine.h"
#include "sbi.h"
#include "spinlock.h"

static struct spinlock console_lock = SPINLOCK_INIT("console");

/* Formats prefix + fmt into one buffer and writes it, under the lock if asked. */
static void console_vprintf(const char *prefix, const char *fmt, va_list ap, int lock)
{
	char buf[256];
	int p = fmt_snprintf(buf, sizeof(buf), "%s", prefix);
	int n = p + fmt_vsnprintf(buf + p, sizeof(buf) - p, fmt, ap);
	int cut = n >= (int)sizeof(buf);
	if (cut)
		n = sizeof(buf) - 1;
	if (lock)
		spin_lock(&console_lock);
	for (int i = 0; i < n; i++)
		sbi_console_putchar(buf[i]);
	/* A line too long for the buffer is cut, visibly. */
	if (cut)
		for (const char *c = "...\n"; *c != '\0'; c++)
			sbi_console_putchar(*c);
	if (lock)
		spin_unlock(&console_lock);
}

void printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	console_vprintf("", fmt, ap, 1);
	va_end(ap);
}

/*
 * The guest prints a character or a buffer at a time (SBI putchar, DBCN).
 * Taking the lock for it keeps the guest's bytes out of the middle of a
 * line of ours; the guest's own lines are the guest's business.
 */
void console_write(const uint8_t *buf, uint64_t n)
{
	spin_lock(&console_lock);
	for (uint64_t i = 0; i < n; i++)
		sbi_console_putchar(buf[i]);
	spin_unlock(&console_lock);
}

void console_write_byte(uint8_t c)
{
	console_write(&c, 1);
}

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	/* No lock: the lock may be what failed, or this hart may hold it. */
	console_vprintf("panic: ", fmt, ap, 0);
	va_end(ap);
	machine_fail();
}
