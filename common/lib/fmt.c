/*
 * fmt.c: a small vsnprintf. It always NUL-terminates (when size > 0) and
 * returns the length the full output would have had, like C's.
 */
#include "lib.h"

struct out {
	char *buf;
	size_t size;
	size_t len; /* characters produced so far, stored or not */
};

static void out_char(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

/*
 * Prints an unsigned number in base 10 or 16, after a sign or "0x" prefix,
 * in a field of width chars.
 */
static void out_number(struct out *o, uint64_t v, int base, int upper,
		       const char *prefix, int width, int zero, int left)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v != 0);

	int len = n + (int)strlen(prefix);
	if (!left && !zero)
		out_pad(o, ' ', width - len);
	while (*prefix != '\0')
		out_char(o, *prefix++);
	if (!left && zero)
		out_pad(o, '0', width - len);
	while (n > 0)
		out_char(o, tmp[--n]);
	if (left)
		out_pad(o, ' ', width - len);
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		fmt++;
		int zero = 0, left = 0, width = 0, longs = 0;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = 1;
			else if (*fmt == '-')
				left = 1;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}

		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = longs ? va_arg(ap, long) : va_arg(ap, int);
			uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
			out_number(&o, mag, 10, 0, v < 0 ? "-" : "", width, zero, left);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = longs ? va_arg(ap, unsigned long)
					   : va_arg(ap, unsigned int);
			int base = *fmt == 'u' ? 10 : 16;
			out_number(&o, v, base, *fmt == 'X', "", width, zero, left);
			break;
		}
		case 'p':
			out_number(&o, (uintptr_t)va_arg(ap, void *), 16, 0, "0x",
				   width, zero, left);
			break;
		case 'c':
		case 's': {
			char c[2] = { 0, 0 };
			const char *s;
			if (*fmt == 'c') {
				c[0] = (char)va_arg(ap, int);
				s = c;
			} else {
				s = va_arg(ap, const char *);
				if (s == NULL)
					s = "(null)";
			}
			int len = *fmt == 'c' ? 1 : (int)strlen(s);
			if (!left)
				out_pad(&o, ' ', width - len);
			for (int i = 0; i < len; i++)
				out_char(&o, s[i]);
			if (left)
				out_pad(&o, ' ', width - len);
			break;
		}
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			/* A lone '%' at the end: print it and stop. */
			out_char(&o, '%');
			fmt--;
			break;
		default:
			/* Unknown conversion: print it as written. */
			out_char(&o, '%');
			out_char(&o, *fmt);
			break;
		}
	}

	if (o.size > 0)
		o.buf[o.len < o.size ? o.len : o.size - 1] = '\0';
	return (int)o.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
