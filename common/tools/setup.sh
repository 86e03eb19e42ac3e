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

# QEMU 10 itself goes to ~/.cache (no root needed); its libraries are
# bookworm packages like the rest.
sh "$here/platforms.sh" fetch
PACKAGES="$PACKAGES $(sh "$here/platforms.sh" deps | tr '\n' ' ')"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "setup: all packages are installed"
	sh "$here/platforms.sh" check
	exit 0
fi

echo "setup: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO="sudo"
else
	echo "setup: cannot install packages (not root and no password-less sudo)." >&2
	echo "setup: missing:$missing" >&2
	echo "setup: run as root: apt-get install$missing" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# --no-install-recommends keeps qemu-system-misc from pulling in a desktop.
if ! $SUDO apt-get install -y -qq --no-install-recommends $missing; then
	echo "setup: apt-get failed; missing:$missing" >&2
	exit 1
fi
sh "$here/platforms.sh" check
echo "setup: done"
