#!/bin/sh
# Installs the second platform beside Debian 12's QEMU 7.2 and OpenSBI 1.1:
# QEMU 10.0 and OpenSBI 1.5.1 from Debian's bookworm-backports, the versions
# that QEMU 9.1-10.0, Debian 13, Fedora, Arch and Homebrew users run.
#
#   sh common/tools/platforms.sh fetch   download and unpack (once)
#   sh common/tools/platforms.sh deps    the bookworm libraries it needs
#   sh common/tools/platforms.sh check   it runs: every library is there
#
# common/tools/setup.sh runs all three; `make platforms` lists the result.
# Nothing is installed into the system: the .debs are fetched with
# `apt-get download` from a private source list (the machine's own Debian
# mirror, suite bookworm-backports) and unpacked with `dpkg -x` into
# ~/.cache/riscv-hyp-labs/platforms/qemu10. The libraries QEMU 10 links are
# ordinary bookworm packages, which setup.sh installs with the others.
set -eu

dir=${XDG_CACHE_HOME:-$HOME/.cache}/riscv-hyp-labs/platforms
qemu10=$dir/qemu10
debs="qemu-system-riscv opensbi"

# The QEMU of a platform is a wrapper: -audio none -display none, because
# QEMU 10 would otherwise try the display and audio modules of Debian's
# QEMU 7.2 (in the same module directory) and print errors about them.
write_wrapper() {
	cat >"$1/bin/qemu-system-riscv64" <<'WRAPPER'
#!/bin/sh
# QEMU 10 from bookworm-backports (common/tools/platforms.sh). -audio none and
# -display none keep it from loading Debian's QEMU 7.2 modules.
exec "$(dirname "$0")/../root/usr/bin/qemu-system-riscv64" -audio none -display none "$@"
WRAPPER
	chmod +x "$1/bin/qemu-system-riscv64"
}

# The machine's own Debian mirror: the URI its apt sources use for the suite
# bookworm (deb822 or one-line format alike, through apt itself).
mirror() {
	apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(TARGET_OF)' 2>/dev/null |
		awk '$2 == "bookworm" && $3 == "deb" { print $1; exit }'
}

fetch() {
	uri=$(mirror)
	if [ -z "$uri" ]; then
		echo "platforms: no apt source for Debian 12 (bookworm) on this machine:" >&2
		echo "platforms: cannot fetch QEMU 10 from bookworm-backports" >&2
		exit 1
	fi
	tmp=$qemu10.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp/apt/lists/partial" "$tmp/apt/cache/archives/partial" "$tmp/debs" "$tmp/bin"
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	signed=""
	[ -f "$keyring" ] && signed="[signed-by=$keyring] "
	echo "deb ${signed}${uri} bookworm-backports main" >"$tmp/apt/sources.list"
	set -- -o "Dir::Etc::SourceList=$tmp/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o "Dir::State::Lists=$tmp/apt/lists" -o "Dir::Cache=$tmp/apt/cache" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)"
	echo "platforms: fetching $debs from ${uri} bookworm-backports"
	apt-get -qq "$@" update
	(cd "$tmp/debs" && apt-get -qq "$@" download $debs)
	for deb in "$tmp"/debs/*.deb; do
		dpkg -x "$deb" "$tmp/root"
		dpkg-deb --showformat='${Package} ${Version}\n' -W "$deb" >>"$tmp/versions"
	done
	dpkg-deb -f "$tmp"/debs/qemu-system-riscv_*.deb Depends >"$tmp/depends"
	write_wrapper "$tmp"
	rm -rf "$tmp/apt" "$tmp/debs"
	rm -rf "$qemu10"
	mv "$tmp" "$qemu10"
}

# The bookworm library packages QEMU 10 needs: its Depends, less the QEMU
# and OpenSBI packages that come from backports (unpacked here instead).
deps() {
	tr ',' '\n' <"$qemu10/depends" | sed 's/^ *//; s/[ |(].*//' |
		grep -v -x -e qemu-system-common -e qemu-system-data -e opensbi -e ''
}

case "${1:-}" in
fetch)
	if [ -f "$qemu10/versions" ]; then
		echo "platforms: qemu10 is in $qemu10"
	else
		fetch
	fi
	;;
deps)
	deps
	;;
check)
	# After setup.sh installed the libraries of deps. A QEMU 10 not fetched
	# fails too: setup.sh asks this whether there is anything to do.
	if [ ! -x "$qemu10/root/usr/bin/qemu-system-riscv64" ]; then
		echo "platforms: QEMU 10 is not in $qemu10: run 'sh common/tools/platforms.sh fetch'" >&2
		exit 1
	fi
	missing=$(ldd "$qemu10/root/usr/bin/qemu-system-riscv64" | awk '/not found/ { print $1 }')
	if [ -n "$missing" ]; then
		echo "platforms: QEMU 10 in $qemu10 lacks libraries:" $missing >&2
		exit 1
	fi
	echo "platforms: qemu10: $("$qemu10/bin/qemu-system-riscv64" --version | head -n 1)," \
		"$(awk '$1 == "opensbi" { print "OpenSBI " $2 }' "$qemu10/versions")"
	;;
*)
	echo "usage: platforms.sh fetch|deps|check" >&2
	exit 2
	;;
esac
