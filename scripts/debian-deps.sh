#!/bin/sh
# Every Debian package habox needs, in one place, by purpose.
#
#   scripts/debian-deps.sh --check SET...    say what is missing; exit 1 if any
#   scripts/debian-deps.sh --install SET...  install what is missing (root)
#   scripts/debian-deps.sh --list SET...     print the package names
#
# SET: build (the static musl binary), san (sanitizer and fuzz builds),
# check (everything `make check` uses), demo, bench, all.
# Not root, or not Debian: prints what is missing and how to get it, exit 1.
set -eu

pkgs_build="make gcc libc6-dev musl-tools dpkg-dev bison flex python3
	debian-archive-keyring xz-utils bzip2 file binutils"
pkgs_san="clang libclang-rt-14-dev llvm"
pkgs_check="iproute2 iputils-ping procps psmisc util-linux tcpdump strace
	postgresql-15 kconfig-frontends-nox mandoc openrc"
pkgs_demo="iproute2 iputils-ping procps util-linux postgresql-15"
pkgs_bench="rsync iputils-arping hyperfine nftables"

set_pkgs() {
	case $1 in
	build) echo "$pkgs_build" ;;
	san) echo "$pkgs_san" ;;
	check) echo "$pkgs_build $pkgs_san $pkgs_check" ;;
	demo) echo "$pkgs_build $pkgs_demo" ;;
	bench) echo "$pkgs_build $pkgs_check $pkgs_bench" ;;
	all) echo "$pkgs_build $pkgs_san $pkgs_check $pkgs_demo $pkgs_bench" ;;
	*) echo "debian-deps: unknown set '$1' (build san check demo bench all)" >&2
	   exit 2 ;;
	esac
}

[ $# -ge 2 ] || { sed -n '2,11s/^# \{0,1\}//p' "$0" >&2; exit 2; }
mode=$1
shift
want=
for s in "$@"; do want="$want $(set_pkgs "$s")"; done
want=$(echo $want | tr ' ' '\n' | sort -u)

if [ "$mode" = --list ]; then echo "$want"; exit 0; fi

is_debian=0
if [ -r /etc/debian_version ] && command -v dpkg-query >/dev/null; then
	is_debian=1
fi

missing=
for p in $want; do
	if [ $is_debian = 1 ]; then
		st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
		case $st in ii*) continue ;; esac
	fi
	missing="$missing $p"
done
missing=${missing# }

[ -n "$missing" ] || exit 0

if [ $is_debian = 0 ]; then
	cat >&2 <<EOF
habox: this is not a Debian system, so these could not be checked or
installed. Install the equivalents of these Debian packages:
  $missing
or build with DEPS_SRC=DIR (upstream tarballs) or SYSTEM_DEPS=1 (see README).
EOF
	exit 1
fi

if [ "$mode" = --check ] || [ "$(id -u)" != 0 ]; then
	echo "habox: missing Debian packages: $missing" >&2
	echo "habox: install them with: apt-get install $missing" >&2
	[ "$(id -u)" = 0 ] || echo "habox: (as root; or run 'make check' / 'make demo' as root)" >&2
	exit 1
fi

echo "habox: installing missing Debian packages: $missing" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists may be empty on a fresh machine.
if ! apt-get install -y -q --no-install-recommends $missing >&2; then
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends $missing >&2
fi
