/*
 * test_fmt.c: fmt_vsnprintf (common/lib/fmt.c) against the host C library.
 *
 * For every format it supports, our output must match the host's snprintf
 * exactly: the text and the return value, and the text again when the
 * buffer is too small. The few places where C leaves the output to the
 * library (a NULL %s or %p, an unknown conversion) are checked against
 * what fmt.c promises instead.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>

#include "check.h"
#include "lib.h"

/*
 * Checks fmt_vsnprintf(args) against want, the full output of want_len
 * characters, at every buffer size from 0 to want_len + 2: the return value
 * is always the full length, the buffer holds as much of the text as fits
 * with a NUL after it, and nothing is written past size. Each buffer is
 * malloc'ed with exactly size bytes, so AddressSanitizer catches a write
 * past the end; size 0 passes NULL, so any write at all crashes.
 * Stops at the first failing size.
 */
static void check_truncation_at(const char *file, int line, const char *want, int want_len,
				const char *fmt, va_list args)
{
	for (size_t size = 0; size <= (size_t)want_len + 2; size++) {
		char *buf = size > 0 ? malloc(size) : NULL;
		if (size > 0)
			memset(buf, '#', size);

		va_list ap;
		va_copy(ap, args);
		int got_len = fmt_vsnprintf(buf, size, fmt, ap);
		va_end(ap);

		char what[160];
		snprintf(what, sizeof(what), "fmt_vsnprintf(buf, %zu, \"%s\", ...)", size, fmt);
		int ok = check_eq_u64_at((uint64_t)got_len, (uint64_t)want_len, what,
					 "the full length", file, line);
		if (ok && size > 0) {
			/* The text that fits, then the NUL (want may hold a NUL of %c). */
			size_t kept = (size_t)want_len < size - 1 ? (size_t)want_len : size - 1;
			ok = check_true_at(memcmp(buf, want, kept) == 0 && buf[kept] == '\0',
					   what, file, line);
			if (!ok) {
				printf("    buffer: ");
				fwrite(buf, 1, size, stdout);
				printf("\n    want the first %zu of \"%s\" and a NUL\n", kept, want);
			}
		}
		free(buf);
		if (!ok)
			return;
	}
}

/* Formats with both fmt_vsnprintf and the host's vsnprintf: all must agree. */
static void check_fmt_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define CHECK_FMT(...) check_fmt_at(__FILE__, __LINE__, __VA_ARGS__)

static void check_fmt_at(const char *file, int line, const char *fmt, ...)
{
	char want[256], got[256];
	va_list args, ap;
	va_start(args, fmt);

	va_copy(ap, args);
	int want_len = vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	va_copy(ap, args);
	int got_len = fmt_vsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);

	char what[160];
	snprintf(what, sizeof(what), "fmt_vsnprintf(\"%s\", ...)", fmt);
	int ok = check_eq_u64_at((uint64_t)got_len, (uint64_t)want_len, what,
				 "vsnprintf's", file, line);
	ok &= check_str_at(got, want, what, "vsnprintf's", file, line);
	/* Only truncate what was right to begin with: one failure is enough. */
	if (ok)
		check_truncation_at(file, line, want, want_len, fmt, args);
	va_end(args);
}

/* For what the host library does its own way: want is fmt.c's promise. */
static void check_fmt_want_at(const char *file, int line, const char *want, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define CHECK_FMT_WANT(...) check_fmt_want_at(__FILE__, __LINE__, __VA_ARGS__)

static void check_fmt_want_at(const char *file, int line, const char *want, const char *fmt, ...)
{
	char got[256];
	va_list args, ap;
	va_start(args, fmt);

	va_copy(ap, args);
	int got_len = fmt_vsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);

	char what[160];
	snprintf(what, sizeof(what), "fmt_vsnprintf(\"%s\", ...)", fmt);
	int ok = check_eq_u64_at((uint64_t)got_len, strlen(want), what, "strlen(want)", file, line);
	ok &= check_str_at(got, want, what, "want", file, line);
	if (ok)
		check_truncation_at(file, line, want, (int)strlen(want), fmt, args);
	va_end(args);
}

static void test_fmt_text(void)
{
	/* GCC warns about an empty format: it is the point here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-zero-length"
	CHECK_FMT("");
#pragma GCC diagnostic pop
	CHECK_FMT("hello, world\n");
	CHECK_FMT("100%%");
	CHECK_FMT("%%d %%%%");
	CHECK_FMT("%s", "");
	CHECK_FMT("%s", "abc");
	CHECK_FMT("[%s|%s]", "left", "right");
	CHECK_FMT("%c", 'x');
	CHECK_FMT("%c%c%c", 'a', 'b', 'c');
	/* A NUL from %c is part of the output and of the length. */
	CHECK_FMT("a%cb", '\0');
}

static void test_fmt_signed(void)
{
	CHECK_FMT("%d", 0);
	CHECK_FMT("%d", 1);
	CHECK_FMT("%d", -1);
	CHECK_FMT("%d", 42);
	CHECK_FMT("%i", -123);
	CHECK_FMT("%d", INT_MAX);
	CHECK_FMT("%d", INT_MIN);
	CHECK_FMT("%ld", 0L);
	CHECK_FMT("%ld", -1L);
	CHECK_FMT("%ld", LONG_MAX);
	CHECK_FMT("%ld", LONG_MIN);
	CHECK_FMT("%li", -4294967296L);
	CHECK_FMT("%lld", (long long)INT64_MAX);
	/* INT64_MIN has no positive counterpart: negating it overflows. */
	CHECK_FMT("%lld", (long long)INT64_MIN);
	CHECK_FMT("%lli", (long long)INT64_MIN + 1);
	CHECK_FMT("%d %ld %d", -5, -6L, 7);
}

static void test_fmt_unsigned(void)
{
	CHECK_FMT("%u", 0U);
	CHECK_FMT("%u", 4000000000U);
	CHECK_FMT("%u", UINT_MAX);
	CHECK_FMT("%x", 0U);
	CHECK_FMT("%x", 0xdeadbeefU);
	CHECK_FMT("%X", 0xdeadbeefU);
	CHECK_FMT("%x", UINT_MAX);
	/* A negative int through %u and %x: its bits, as unsigned int. */
	CHECK_FMT("%u", (unsigned int)-1);
	CHECK_FMT("%x", (unsigned int)-2);
	CHECK_FMT("%lu", ULONG_MAX);
	CHECK_FMT("%lx", 0xfedcba9876543210UL);
	CHECK_FMT("%lX", 0xfedcba9876543210UL);
	CHECK_FMT("%llu", (unsigned long long)UINT64_MAX);
	CHECK_FMT("%llx", 0x8000000000000000ULL);
	CHECK_FMT("%llX", 0xabcULL);
	/* An int after a long: each takes its own size from the arguments. */
	CHECK_FMT("%lx %x %lu", 0x1122334455667788UL, 0x99U, 3UL);
}

static void test_fmt_width(void)
{
	/* Wider than the value: padded on the left with spaces. */
	CHECK_FMT("[%5d]", 42);
	CHECK_FMT("[%5d]", -42);
	CHECK_FMT("[%8x]", 0xbeefU);
	CHECK_FMT("[%10u]", 0U);
	CHECK_FMT("[%20lld]", (long long)INT64_MIN);
	CHECK_FMT("[%6s]", "ab");
	CHECK_FMT("[%3s]", "");
	/* As wide as the value, or narrower: the value is never cut. */
	CHECK_FMT("[%2d]", 12);
	CHECK_FMT("[%2d]", 12345);
	CHECK_FMT("[%1d]", -5);
	CHECK_FMT("[%3x]", 0xdeadbeefU);
	CHECK_FMT("[%2s]", "abcdef");
	/* Zero padding goes after the sign. */
	CHECK_FMT("[%05d]", 42);
	CHECK_FMT("[%05d]", -42);
	CHECK_FMT("[%05d]", 0);
	CHECK_FMT("[%02d]", -7);
	CHECK_FMT("[%03d]", INT_MIN);
	CHECK_FMT("[%08x]", 0xbeefU);
	CHECK_FMT("[%08X]", 0xbeefU);
	CHECK_FMT("[%016lx]", 0x1234UL);
	CHECK_FMT("[%025lld]", (long long)INT64_MIN);
	CHECK_FMT("[%0d]", 5);
	/* Left-justified: padded on the right. */
	CHECK_FMT("[%-5d]", 42);
	CHECK_FMT("[%-5d]", -42);
	CHECK_FMT("[%-8x]", 0xabcU);
	CHECK_FMT("[%-3d]", 12345);
	CHECK_FMT("[%-25lld]", (long long)INT64_MIN);
	CHECK_FMT("[%-6s]", "ab");
	CHECK_FMT("[%-2s]", "abcdef");
	/* The way the hypervisor prints registers. */
	CHECK_FMT("hart %lu: sepc 0x%016lx %-8s|%4d", 3UL, 0x80200000UL, "ecall", -1);
}

static void test_fmt_flags_combined(void)
{
	/*
	 * '-' wins over '0' (C says so). GCC warns that the '0' is ignored;
	 * that is the point here.
	 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
	CHECK_FMT("[%-05d]", 42);
	CHECK_FMT("[%0-5d]", -42);
	CHECK_FMT("[%-08lx]", 0x1fUL);
#pragma GCC diagnostic pop
	/* '0' has no effect on %s. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
	CHECK_FMT("[%05s]", "ab");
#pragma GCC diagnostic pop
}

static void test_fmt_char_width(void)
{
	/* A field width applies to %c too. */
	CHECK_FMT("[%5c]", 'a');
	CHECK_FMT("[%-5c]", 'a');
	CHECK_FMT("[%1c]", 'a');
}

static void test_fmt_pointer(void)
{
	int local;

	CHECK_FMT("%p", (void *)0x1234);
	CHECK_FMT("%p", (void *)0x80200000UL);
	CHECK_FMT("%p", (void *)UINTPTR_MAX);
	CHECK_FMT("%p", (void *)&local);
	CHECK_FMT("at %p.", (void *)0xabcdef);
	/* The width is that of the whole "0x..." (C and glibc agree). */
	CHECK_FMT("[%18p]", (void *)0x1234);
	CHECK_FMT("[%-18p]", (void *)0x1234);
	CHECK_FMT("[%4p]", (void *)0x123456);
}

static void test_fmt_ours_only(void)
{
	/*
	 * A NULL string prints as glibc prints it; C leaves it undefined, and
	 * GCC warns about it, which is the point here.
	 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-overflow"
	CHECK_FMT_WANT("(null)", "%s", (char *)NULL);
	CHECK_FMT_WANT("[  (null)]", "[%8s]", (char *)NULL);
	CHECK_FMT_WANT("[(null)  ]", "[%-8s]", (char *)NULL);
#pragma GCC diagnostic pop
	/* glibc prints "(nil)"; fmt.c prints NULL as the number it is. */
	CHECK_FMT_WANT("0x0", "%p", (void *)NULL);
	/* fmt.c's comments: a lone '%' at the end prints; unknown ones too. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
	CHECK_FMT_WANT("abc%", "abc%");
	CHECK_FMT_WANT("50%y off", "50%y off");
	CHECK_FMT_WANT("%y 7", "%y %d", 7);
#pragma GCC diagnostic pop
}

static void test_fmt_size_zero(void)
{
	char buf[4] = "zzz";

	/* Size 0 writes nothing at all, not even the NUL. */
	CHECK_EQ_U64(fmt_snprintf(buf, 0, "%d", 12345), 5);
	CHECK_STR(buf, "zzz");
	CHECK_EQ_U64(fmt_snprintf(NULL, 0, "%s=%lx", "a0", 0xffUL), 5);
	/* Size 1 holds only the NUL. */
	CHECK_EQ_U64(fmt_snprintf(buf, 1, "%d", 12345), 5);
	CHECK_STR(buf, "");
	CHECK_EQ_U64(buf[1], 'z');
}

static void test_fmt_snprintf(void)
{
	char buf[32];

	/* fmt_snprintf is fmt_vsnprintf with the arguments in place. */
	CHECK_EQ_U64(fmt_snprintf(buf, sizeof(buf), "%s %d 0x%x", "ok", -3, 255U), 10);
	CHECK_STR(buf, "ok -3 0xff");
	CHECK_EQ_U64(fmt_snprintf(buf, 6, "%s", "truncated"), 9);
	CHECK_STR(buf, "trunc");
}

static void test_fmt_long_output(void)
{
	/* Longer than a console line: every truncation point up to 200 bytes. */
	CHECK_FMT("%s|%s|%s|%40lu|%-40lx|%040lld|", "the quick brown fox",
		  "jumps over the lazy dog", "0123456789abcdef", ULONG_MAX, 0x1UL,
		  (long long)INT64_MIN);
}

const struct check_test check_tests[] = {
	{ "fmt_text", test_fmt_text },
	{ "fmt_signed", test_fmt_signed },
	{ "fmt_unsigned", test_fmt_unsigned },
	{ "fmt_width", test_fmt_width },
	{ "fmt_flags_combined", test_fmt_flags_combined },
	{ "fmt_char_width", test_fmt_char_width },
	{ "fmt_pointer", test_fmt_pointer },
	{ "fmt_ours_only", test_fmt_ours_only },
	{ "fmt_size_zero", test_fmt_size_zero },
	{ "fmt_snprintf", test_fmt_snprintf },
	{ "fmt_long_output", test_fmt_long_output },
	{ NULL, NULL },
};
