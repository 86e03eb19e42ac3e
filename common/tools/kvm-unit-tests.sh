#!/bin/sh
# kvm-unit-tests.sh KUT_DIR: kvm-unit-tests' SBI tests (riscv/sbi.flat), a
# suite we did not write, on OpenSBI alone and on lab 05, one after the other.
#
# KUT_DIR is a kvm-unit-tests checkout you supply (this script downloads
# nothing, so it is not part of `make test`). It is copied twice under
# build/kvm-unit-tests/ and built twice with Debian's riscv64-linux-gnu-gcc:
#   native/  console on the UART: OpenSBI 1.1 has no DBCN to print with;
#   lab5/    console through SBI DBCN (--console=sbi): lab 05 gives its guest
#            RAM only, no UART.
# The tests read their expected values from an environment file, which
# QEMU loads as the initrd (lab 05 hands it on to the guest). Each run has
# a time limit and stdin from /dev/null. Prints each run's PASS, FAIL, SKIP
# and KFAIL lines and its SUMMARY line, then the counts side by side.
# Exit status 0 when both runs reached their SUMMARY line, whatever it says.
set -eu

if [ $# -ne 1 ] || [ ! -f "$1/riscv/sbi.c" ]; then
	echo "usage: $0 PATH_TO_KVM_UNIT_TESTS_CHECKOUT (the directory with riscv/sbi.c)" >&2
	exit 2
fi
KUT=$(cd "$1" && pwd)
cd "$(dirname "$0")/../.."
OUT=$(pwd)/build/kvm-unit-tests
SMP=${SMP:-4}
# make kvm-unit-tests passes the platform's (Makefile, "The platform").
PLATFORM=${PLATFORM:-qemu7}
QEMU=${QEMU:-qemu-system-riscv64}
OPENSBI=${OPENSBI:-/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin}
export QEMU OPENSBI
CROSS=riscv64-linux-gnu-
TIMEOUT=120 # seconds; a run takes 1 to 3 s

command -v ${CROSS}gcc >/dev/null 2>&1 ||
	{ echo "error: ${CROSS}gcc not found: apt-get install gcc-riscv64-linux-gnu" >&2; exit 1; }

# One clean copy per console: configure writes lib/config.h into the
# source tree, and an out-of-tree build would still pick up a configured
# checkout's own.
build() { # build NAME CONFIGURE_ARGS...
	name=$1
	shift
	echo "kvm-unit-tests: building $OUT/$name"
	rm -rf "${OUT:?}/$name"
	mkdir -p "$OUT/$name"
	(cd "$KUT" && tar cf - --exclude=.git .) | (cd "$OUT/$name" && tar xf -)
	(cd "$OUT/$name" && { make distclean >/dev/null 2>&1 || true; } &&
		./configure --arch=riscv64 --cross-prefix=$CROSS "$@" >build.log 2>&1 &&
		make -j2 >>build.log 2>&1) ||
		{ echo "error: the build failed, see $OUT/$name/build.log" >&2; exit 1; }
}
build native
build lab5 --console=sbi
make -s build/lab5/hyp.elf

# QEMU 7.2 sets marchid and mimpid to its own version, major << 16 |
# minor << 8 | micro (0x70216 for 7.2.22); QEMU 10's default cpu leaves
# them 0 (seen with 10.0.2). mvendorid is 0 on both. Lab 05 asks the
# firmware for all three, so both runs expect the same.
case $PLATFORM in
qemu7)
	qver=$($QEMU --version | sed -n '1s/^QEMU emulator version \([0-9]*\)\.\([0-9]*\)\.\([0-9]*\).*/\1 \2 \3/p')
	[ -n "$qver" ] || { echo "error: no version in '$QEMU --version'" >&2; exit 1; }
	set -- $qver
	arch=$(printf '0x%x' $(($1 << 16 | $2 << 8 | $3)))
	;;
*) arch=0 ;;
esac
ids="MVENDORID=0
MARCHID=$arch
MIMPID=$arch
INVALID_ADDR_AUTO=1"
# OpenSBI 1.1 (qemu7): SBI 1.0, implementation 1 (OpenSBI), version 1.1.
# OpenSBI 1.5.1 (qemu10): SBI 2.0, version 1.5 (its minor number stops at 5).
case $PLATFORM in
qemu7) spec=0x1000000 version=0x10001 ;;
qemu10) spec=0x2000000 version=0x10005 ;;
*) echo "error: PLATFORM=$PLATFORM: the platforms are qemu7 and qemu10" >&2; exit 1 ;;
esac
printf 'SBI_SPEC_VERSION=%s\nSBI_IMPL_ID=1\nSBI_IMPL_VERSION=%s\n%s\n' $spec $version "$ids" >"$OUT/env-native"
# Lab 05 (vsbi.c): SBI 2.0, its own implementation id, version = lab number.
impl=$(sed -n 's/^#define VSBI_IMPL_ID \(0x[0-9A-Fa-f]*\).*/\1/p' labs/05-hsm/vsbi.h)
printf 'SBI_SPEC_VERSION=0x2000000\nSBI_IMPL_ID=%s\nSBI_IMPL_VERSION=5\n%s\n' "$impl" "$ids" >"$OUT/env-lab5"

# timeout's status (124 on a time-out) is left to the SUMMARY check below.
echo "kvm-unit-tests: sbi.flat on OpenSBI alone, SMP=$SMP"
timeout $TIMEOUT $QEMU -M virt -m 256M -smp "$SMP" -nographic -bios $OPENSBI \
	-kernel "$OUT/native/riscv/sbi.flat" -initrd "$OUT/env-native" \
	</dev/null >"$OUT/native.log" 2>&1 || true
echo "kvm-unit-tests: sbi.flat on lab 05, SMP=$SMP"
timeout $TIMEOUT $(make -s qemu-cmd LAB=5 SMP="$SMP" GUEST="$OUT/lab5/riscv/sbi.flat" \
	INITRD="$OUT/env-lab5") </dev/null >"$OUT/lab5.log" 2>&1 || true

RESULTS='^(PASS|FAIL|SKIP|KFAIL|XFAIL|XPASS): |^SUMMARY: '
status=0
for run in native lab5; do
	echo
	echo "==== $run ($OUT/$run.log)"
	grep -E "$RESULTS" "$OUT/$run.log" || true
	grep -q '^SUMMARY: ' "$OUT/$run.log" || { echo "$run: no SUMMARY line"; status=1; }
done
echo
printf '%-8s %5s %5s %5s %5s\n' run PASS FAIL SKIP KFAIL
for run in native lab5; do
	printf '%-8s' $run
	for s in PASS FAIL SKIP KFAIL; do
		printf ' %5s' "$(grep -c "^$s: " "$OUT/$run.log" || true)"
	done
	echo
done
exit $status
