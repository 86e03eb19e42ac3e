#!/bin/sh
# run.sh OUT SECONDS: runs OUT/fuzz_fdt for SECONDS seconds (see Makefile),
# then prints "fuzz: N executions, C crashes"; exits 1 if C is not 0.
#
# libFuzzer stops at the first crash, so C is 0 or 1; a timeout (an input
# that takes over 10 s) or running out of memory counts as a crash too.
# Its whole output is in OUT/fuzz.log.

out=$1
seconds=$2
log=$out/fuzz.log
mkdir -p "$out/work" "$out/crashes"

before=$(ls "$out/crashes" | wc -l)
"$out/fuzz_fdt" -max_total_time="$seconds" -max_len=16384 -timeout=10 \
	-print_final_stats=1 -dict=fdt.dict -artifact_prefix="$out/crashes/" \
	"$out/work" "$out/corpus" >"$log" 2>&1
status=$?
after=$(ls "$out/crashes" | wc -l)

crashes=$((after - before))
if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then
	crashes=1 # it stopped without saving an input: see the log
fi
# "stat::number_of_executed_units: N", printed as libFuzzer exits.
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)

if [ "$crashes" -ne 0 ]; then
	# The report, from the sanitizer's first line (or the broken promise)
	# to its SUMMARY line, and where libFuzzer saved the input.
	sed -n '/ERROR\|runtime error\|broken promise/,/^SUMMARY/p' "$log" | head -n 40
	grep 'Test unit written' "$log"
	echo "fuzz: the whole output is in $log"
fi
echo "fuzz: ${execs:-0} executions, $crashes crashes"
[ "$crashes" -eq 0 ]
