#!/bin/sh
# run.sh OUT SECONDS FUZZER...: runs each OUT/FUZZER in turn (see Makefile),
# the SECONDS split between them (the first gets what does not divide, and
# each at least 1 s: libFuzzer takes 0 for no limit), then prints one line
# for all, "fuzz: N executions, C crashes"; exits 1 if C is not 0.
#
# libFuzzer stops at the first crash, so each adds 0 or 1 to C; a timeout
# (an input that takes over 10 s) or running out of memory counts as a
# crash too. fuzz_fdt keeps what it learns in OUT/work and its whole output
# in OUT/fuzz.log; fuzz_fdt_lab05 in OUT/work_lab05 and OUT/fuzz_lab05.log.

out=$1
seconds=$2
shift 2
mkdir -p "$out/crashes"

share=$((seconds / $#))
first=$((seconds - share * ($# - 1)))
[ "$share" -ge 1 ] || share=1

total_execs=0
total_crashes=0
for name in "$@"; do
	tag=${name#fuzz_fdt}
	log=$out/fuzz$tag.log
	mkdir -p "$out/work$tag"
	time=$share
	[ "$name" = "$1" ] && [ "$first" -ge 1 ] && time=$first

	before=$(ls "$out/crashes" | wc -l)
	"$out/$name" -max_total_time="$time" -max_len=16384 -timeout=10 \
		-print_final_stats=1 -dict=fdt.dict -artifact_prefix="$out/crashes/$name-" \
		"$out/work$tag" "$out/corpus" >"$log" 2>&1
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
		echo "$name: the whole output is in $log"
	fi
	echo "$name: ${execs:-0} executions, $crashes crashes in $time s"
	total_execs=$((total_execs + ${execs:-0}))
	total_crashes=$((total_crashes + crashes))
done

echo "fuzz: $total_execs executions, $total_crashes crashes"
[ "$total_crashes" -eq 0 ]
