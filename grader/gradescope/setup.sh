#!/bin/sh
# Gradescope runs this once, as root, when it builds the autograder image.
# The zip holds this repository; Gradescope unpacks it to /autograder/source.
#
# The labs' platform is Debian 12: `make setup` installs its packages. On
# Debian 12 this runs `make setup` and `make support` here. Anywhere else
# (Gradescope's base images are Ubuntu 22.04 and 24.04) it builds a Debian 12
# root with debootstrap, copies this repository into it and runs them in
# there, under chroot; run_autograder then grades inside that root
# (grader/gradescope/debian12.sh, grader/README.md "Where courses grade").
#
#   AUTOGRADER_SOURCE   this repository                (/autograder/source)
#   DEBIAN_ROOT         where the Debian 12 root goes  (/opt/debian12)
#   DEBIAN_MIRROR       Debian's archive, for debootstrap and the root's apt
#                       (http://deb.debian.org/debian)
#   DEBIAN_SECURITY     Debian's security archive  (http://deb.debian.org/debian-security)
#   GRADESCOPE_DEBIAN_ROOT=1   build the root on Debian 12 too: the switch
#                       that tries this route on a Debian machine
set -eu
SOURCE=${AUTOGRADER_SOURCE:-/autograder/source}
. "$SOURCE/grader/gradescope/debian12.sh"

if [ "${GRADESCOPE_DEBIAN_ROOT:-}" != 1 ] && debian12_is /etc/os-release; then
	cd "$SOURCE"
	make setup
	# Build the test guests, device trees and Linux now, not once per submission.
	make support
	exit 0
fi

root=${DEBIAN_ROOT:-/opt/debian12}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
export DEBIAN_FRONTEND=noninteractive
# How long the step that just ended took: each takes minutes, and
# Gradescope's build log shows these lines.
step=$(date +%s)
took() {
	now=$(date +%s)
	echo "setup: $1 took $((now - step)) s"
	step=$now
}
echo "setup: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME" || echo "no /etc/os-release");" \
	"the labs' Debian 12 goes into a root in $root"

# debootstrap builds the root. python3 writes run_autograder's results.json
# when the root itself cannot run (Gradescope's images have it already).
# Ubuntu has both in main; its image ships no package lists.
apt-get update -qq
apt-get install -y -qq --no-install-recommends debootstrap python3
took "installing debootstrap"

# debootstrap checks the archive's signature with debian-bookworm.gpg beside
# this file: the two keys that sign bookworm (its archive key and its release
# key, valid until 2031), exported from Debian 12's debian-archive-keyring:
# Ubuntu's package of that keyring, where it has one, may be older than them.
# A complete debootstrap deletes its work folder, /debootstrap in the root:
# a root without one is whole and is kept when this runs again.
if [ ! -f "$root/etc/debian_version" ] || [ -d "$root/debootstrap" ]; then
	debootstrap --variant=minbase --keyring="$SOURCE/grader/gradescope/debian-bookworm.gpg" \
		bookworm "$root" "$mirror"
	took "debootstrap"
else
	echo "setup: $root is a whole Debian 12 root already: no debootstrap"
fi
# The suites of Debian's own bookworm images, not only the release that
# debootstrap names: the point release's updates and the security fixes.
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
SOURCES

# A fresh copy of the repository, without what was built here or its git
# history, at the path Gradescope uses, inside the root.
rm -rf "$root/autograder/source"
mkdir -p "$root/autograder/source"
tar -C "$SOURCE" --exclude=./build --exclude=./.git -cf - . | tar -C "$root/autograder/source" -xf -

# `make setup` is `sh common/tools/setup.sh`, run without make: minbase has
# no make, and setup.sh installs it with the rest (fetching apt's package
# lists first, which the new root has none of).
debian12_run "$root" sh -c 'cd /autograder/source && sh common/tools/setup.sh'
took "make setup in the root"
# The test guests, device trees and Linux, once, not once per submission.
debian12_run "$root" make -C /autograder/source support
took "make support in the root"

mkdir -p "$SOURCE/build"
echo "$root" >"$SOURCE/$DEBIAN12_MARKER"
echo "setup: the Debian 12 root in $root is ready; run_autograder grades in it"
