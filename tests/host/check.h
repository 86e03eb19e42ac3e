/*
 * check.h: a tiny unit-test harness for the host tests.
 *
 * Every CHECK, CHECK_EQ_U64 and CHECK_STR counts as one check. A failing one
 * prints the test, file:line, what it compared and both values, and the test
 * goes on, so one run shows every failure. Each returns 1 if it passed and 0
 * if not, so a loop can stop at its first failure instead of printing
 * thousands:
 *
 *	if (!CHECK_EQ_U64(got, want))
 *		break;
 *
 * A test file lists its tests in check_tests[] (see the end of test_fmt.c);
 * main.c runs them and prints the totals.
 */
#ifndef CHECK_H
#define CHECK_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct check_test {
	const char *name;
	void (*fn)(void);
};

/* Defined by each test file; the last entry is { NULL, NULL }. */
extern const struct check_test check_tests[];

/* Defined in main.c. */
extern int check_passed;
extern int check_failed;
extern const char *check_current; /* the name of the test that runs */

/* CHECK(cond): cond is true. */
#define CHECK(cond) check_true_at((cond) != 0, #cond, __FILE__, __LINE__)

/* CHECK_EQ_U64(got, want): equal as uint64_t; signed values compare fine. */
#define CHECK_EQ_U64(got, want) \
	check_eq_u64_at((uint64_t)(got), (uint64_t)(want), #got, #want, __FILE__, __LINE__)

/* CHECK_STR(got, want): two NUL-terminated strings are equal. */
#define CHECK_STR(got, want) check_str_at((got), (want), #got, #want, __FILE__, __LINE__)

/*
 * The functions behind the macros. A helper that checks for its caller
 * calls these directly with the caller's file and line (see check_fmt_at
 * in test_fmt.c), so a failure points at the line that describes the case.
 */
static inline void check_fail_begin(const char *file, int line)
{
	check_failed++;
	printf("FAIL %s (%s:%d): ", check_current, file, line);
}

static inline int check_true_at(int ok, const char *what, const char *file, int line)
{
	if (ok) {
		check_passed++;
		return 1;
	}
	check_fail_begin(file, line);
	printf("CHECK(%s)\n", what);
	return 0;
}

static inline int check_eq_u64_at(uint64_t got, uint64_t want, const char *got_what,
				  const char *want_what, const char *file, int line)
{
	if (got == want) {
		check_passed++;
		return 1;
	}
	/* Hex for addresses and bits, signed decimal for counts and errors. */
	check_fail_begin(file, line);
	printf("%s == %s\n", got_what, want_what);
	printf("    got  0x%" PRIx64 " (%" PRId64 ")\n", got, (int64_t)got);
	printf("    want 0x%" PRIx64 " (%" PRId64 ")\n", want, (int64_t)want);
	return 0;
}

/* Prints s in double quotes, with unprintable characters as \xNN. */
static inline void check_print_str(const char *s)
{
	if (s == NULL) {
		printf("NULL");
		return;
	}
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s >= ' ' && *s <= '~' && *s != '"' && *s != '\\')
			putchar(*s);
		else
			printf("\\x%02x", (unsigned char)*s);
	}
	putchar('"');
}

static inline int check_str_at(const char *got, const char *want, const char *got_what,
			       const char *want_what, const char *file, int line)
{
	int same = got != NULL && want != NULL ? strcmp(got, want) == 0 : got == want;
	if (same) {
		check_passed++;
		return 1;
	}
	check_fail_begin(file, line);
	printf("%s equals %s\n    got  ", got_what, want_what);
	check_print_str(got);
	printf("\n    want ");
	check_print_str(want);
	printf("\n");
	return 0;
}

#endif
