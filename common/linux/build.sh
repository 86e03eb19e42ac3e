#!/bin/sh
# Builds the Linux guest: a riscv64 Linux 6.1 Image from Debian's
# linux-source-6.1 (tinyconfig + ./config) and an initramfs holding ./init.c,
# with the riscv64-linux-gnu cross compiler.
#
#   common/linux/build.sh OUTDIR
#
# The build is cached under ~/.cache/riscv-hyp-labs/, keyed on the kernel
# source, the config fragment, init.c and this script: the second run copies
# Image, initramfs.cpio and System.map (the grader names the functions of a
# stalled guest with it) into OUTDIR in seconds.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=$1
src=/usr/src/linux-source-6.1.tar.xz
cross=riscv64-linux-gnu-

for tool in ${cross}gcc bc flex bison; do
	command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool not found: run 'make setup'" >&2; exit 1; }
done
[ -f "$src" ] || { echo "error: $src not found: run 'make setup'" >&2; exit 1; }

key=$( (ls -l "$src"; cat "$here/config" "$here/init.c" "$here/initramfs.list" "$0") | sha256sum | cut -c1-16)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/riscv-hyp-labs/linux-$key
mkdir -p "$out" "$(dirname "$cache")"

# One build at a time (make test and a student may start one together).
exec 9>"$cache.lock"
flock 9
if [ ! -f "$cache/Image" ] || [ ! -f "$cache/initramfs.cpio" ] || [ ! -f "$cache/System.map" ]; then
	echo "linux: building into $cache (a few minutes, once)"
	rm -rf "$cache.tmp"
	mkdir -p "$cache.tmp"
	tar -xf "$src" -C "$cache.tmp"
	tree=$cache.tmp/linux-source-6.1
	make -s -C "$tree" ARCH=riscv CROSS_COMPILE=$cross tinyconfig
	"$tree/scripts/kconfig/merge_config.sh" -m -O "$tree" "$tree/.config" "$here/config" >/dev/null
	make -s -C "$tree" ARCH=riscv CROSS_COMPILE=$cross olddefconfig
	# Every line of the fragment must have survived olddefconfig.
	lost=$(grep -v '^#' "$here/config" | grep -v '=n$' | grep -vxF -f "$tree/.config" || true)
	[ -z "$lost" ] || { echo "error: the kernel config dropped: $lost" >&2; exit 1; }
	make -s -C "$tree" ARCH=riscv CROSS_COMPILE=$cross -j"$(nproc)" Image
	${cross}gcc -static -O2 -o "$cache.tmp/init" "$here/init.c"
	gcc -o "$cache.tmp/gen_init_cpio" "$tree/usr/gen_init_cpio.c"
	sed "s|@INIT@|$cache.tmp/init|" "$here/initramfs.list" > "$cache.tmp/initramfs.list"
	"$cache.tmp/gen_init_cpio" "$cache.tmp/initramfs.list" > "$cache.tmp/initramfs.cpio"
	cp "$tree/arch/riscv/boot/Image" "$tree/System.map" "$cache.tmp/"
	cp "$tree/.config" "$cache.tmp/config"
	rm -rf "$tree" "$cache"
	mv "$cache.tmp" "$cache"
fi
cp "$cache/Image" "$cache/initramfs.cpio" "$cache/config" "$cache/System.map" "$out/"
echo "linux: $out/Image ($(stat -c %s "$out/Image") bytes), $out/initramfs.cpio"
