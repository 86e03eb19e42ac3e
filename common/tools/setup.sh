#!/bin/sh
# Installs every Debian package the labs need, and the second platform
# (QEMU 10 and OpenSBI 1.5.1, common/tools/platforms.sh) beside them. Safe to
# run again: it only installs what is missing. Uses sudo only when not root.
set -eu
here=$(dirname "$0")

PACKAGES="make gcc libc6-dev python3 patch qemu-system-misc opensbi device-tree-compiler \
gcc-riscv64-unknown-elf gdb-multiarch libfdt-dev clang libclang-rt-14-dev \
linux-source-6.1 gcc-riscv64-linux-gnu libc6-dev-riscv64-cross bc flex bison libssl-dev libelf-dev \
clang-format clangd bear libxml2-utils"

# How apt runs as root: "" (this is root), "sudo" (password-less), or "none".
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO="sudo"
else
	SUDO="none"
fi
export DEBIAN_FRONTEND=noninteractive

# The packages of the list $* that are not installed.
not_installed() {
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
			printf ' %s' "$p"
		fi
	done
}

# apt's package lists: platforms.sh finds Debian's mirror in them (through
# `apt-get indextargets`, which lists nothing without them), and apt-get
# install needs them. A fresh container or root (debian:bookworm, debootstrap)
# has none: fetch them first, if there is anything to fetch or install (a
# machine set up already, whose lists were removed to save space, needs none).
updated=""
if [ -z "$(apt-get indextargets 2>/dev/null | head -n 1)" ] &&
	{ [ -n "$(not_installed $PACKAGES)" ] || ! sh "$here/platforms.sh" check >/dev/null 2>&1; }; then
	if [ "$SUDO" = none ]; then
		echo "setup: apt has no package lists, and this is not root (no password-less sudo either)." >&2
		echo "setup: run as root: apt-get update; then run setup again" >&2
		exit 1
	fi
	echo "setup: fetching apt's package lists (there are none yet)"
	$SUDO apt-get update -qq
	updated=1
fi

# QEMU 10 itself goes to ~/.cache (no root needed); its libraries are
# bookworm packages like the rest.
sh "$here/platforms.sh" fetch
PACKAGES="$PACKAGES $(sh "$here/platforms.sh" deps | tr '\n' ' ')"

missing=$(not_installed $PACKAGES)

if [ -z "$missing" ]; then
	echo "setup: all packages are installed"
	sh "$here/platforms.sh" check
	exit 0
fi

echo "setup: installing:$missing"
if [ "$SUDO" = none ]; then
	echo "setup: cannot install packages (not root and no password-less sudo)." >&2
	echo "setup: missing:$missing" >&2
	echo "setup: run as root: apt-get install$missing" >&2
	exit 1
fi

# Lists fetched long ago may name versions the mirror no longer has.
[ -n "$updated" ] || $SUDO apt-get update -qq
# --no-install-recommends keeps qemu-system-misc from pulling in a desktop.
if ! $SUDO apt-get install -y -qq --no-install-recommends $missing; then
	echo "setup: apt-get failed; missing:$missing" >&2
	exit 1
fi
sh "$here/platforms.sh" check
echo "setup: done"
