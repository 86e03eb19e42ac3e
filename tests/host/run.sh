#!/bin/sh
# run.sh TEST...: runs the host test programs (see Makefile) one after
# another. Each prints its failures and ends with "NAME: P passed, F failed";
# this passes everything else through, adds the counts up and prints the one
# closing line "P passed, F failed". Exits 1 if anything failed.
#
# A program that stops without its count line (a sanitizer report, a crash)
# or exits non-zero with no failed check counts as one failure, so the
# total never hides it. Its output is kept in build/host/NAME.log.

passed=0
failed=0
for test in "$@"; do
	name=$(basename "$test")
	log=$test.log
	"$test" >"$log" 2>&1
	status=$?

	count_line="^$name: [0-9]* passed, [0-9]* failed\$"
	grep -v "$count_line" "$log"
	counts=$(grep "$count_line" "$log" | tail -n 1)
	if [ -n "$counts" ]; then
		# "NAME: P passed, F failed": P is the 2nd word, F the 4th.
		p=$(echo "$counts" | cut -d ' ' -f 2)
		f=$(echo "$counts" | cut -d ' ' -f 4)
	else
		p=0
		f=0
	fi
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exited with status $status (see $log)"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
