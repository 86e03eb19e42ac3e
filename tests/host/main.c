/*
 * main.c: runs the tests that one test file lists in check_tests[], then
 * prints "NAME: P passed, F failed" and exits 1 if any check failed.
 *
 * The Makefile links this with each test file into its own program, so the
 * tests of different labs never share symbols or headers, and a crash in
 * one does not hide the results of the others.
 *
 *	../../build/host/test_gstage                 runs every test in the file
 *	../../build/host/test_gstage gstage_random   runs only the tests named
 */
#include "check.h"

int check_passed;
int check_failed;
const char *check_current = "";

/* Returns 1 if test is to run: no names were given, or it is one of them. */
static int main_wanted(const char *test, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], test) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *slash = strrchr(argv[0], '/');
	const char *name = slash != NULL ? slash + 1 : argv[0];

	/*
	 * Line buffering keeps our failure lines in order with a sanitizer's
	 * report (on stderr) when both go to the same file.
	 */
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (const struct check_test *t = check_tests; t->fn != NULL; t++) {
		if (!main_wanted(t->name, argc, argv))
			continue;
		check_current = t->name;
		t->fn();
	}

	printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
	return check_failed != 0;
}
