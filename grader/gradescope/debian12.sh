# What setup.sh and run_autograder share about the Debian 12 root that gives
# the grader its platform on a machine that is not Debian 12 (Gradescope's
# Ubuntu base images). Sourced by both, and by test.py; not run by itself.

# Where setup.sh names the root it built, relative to the autograder's
# checkout (AUTOGRADER_SOURCE). run_autograder grades in the root only when
# this file says so: a root left elsewhere on the machine changes nothing.
DEBIAN12_MARKER=build/debian12-root

# Whether the os-release file $1 (/etc/os-release) describes Debian 12. Its
# format is shell assignments (os-release(5)); read in a subshell, so that
# its names (ID, VERSION_ID, NAME) stay out of the caller's.
debian12_is() {
	(. "$1" && [ "${ID:-}" = debian ] && [ "${VERSION_ID:-}" = 12 ]) 2>/dev/null
}

# Runs [NAME=VALUE...] COMMAND... inside the root $1, with only the
# environment given here and those NAME=VALUEs: the host's PATH, locale and
# variables mean nothing in there. HOME is the root's /root, so that
# ~/.cache (QEMU 10, the built Linux) lands inside it. No /proc, /sys or
# /dev/pts is mounted: mounting needs CAP_SYS_ADMIN, which `docker build`
# and most containers lack, and nothing the labs run needs them
# (grader/README.md, "Where courses grade").
debian12_run() {
	root=$1
	shift
	chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# Makes the device nodes of the root $1 that a grading opens (python's
# subprocess opens /dev/null; QEMU and python read /dev/urandom) where they
# are not character devices. debootstrap made them with mknod when setup.sh
# ran; this is for an image that lost them between its build and its run.
# Needs CAP_MKNOD, which Docker gives by default; without it the grading
# goes on and says what is missing.
debian12_devices() {
	mkdir -p "$1/dev"
	while read -r name major minor; do
		[ -c "$1/dev/$name" ] && continue
		rm -f "$1/dev/$name"
		mknod -m 666 "$1/dev/$name" c "$major" "$minor" ||
			echo "run_autograder: no /dev/$name in the Debian 12 root $1, and mknod failed" >&2
	done <<EOF
null 1 3
zero 1 5
full 1 7
random 1 8
urandom 1 9
tty 5 0
EOF
}
