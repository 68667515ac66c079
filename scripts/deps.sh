#!/usr/bin/env bash
# Build habox's five libraries (mbedTLS, inih, zlib, zstd, libpq) for one target
# into a prefix cached outside the work tree, keyed by versions and flags.
#
#   scripts/deps.sh prefix TARGET   print the prefix path (nothing is built)
#   scripts/deps.sh build TARGET    build it unless cached, print the path
#
# TARGET: musl (the static release build, musl-gcc) or san (glibc + clang
# with ASan/UBSan and libFuzzer coverage, for `make asan` and `make fuzz`).
# Sources: the pinned Debian source packages fetched with apt-get source
# through a private APT configuration under build/apt (never /etc/apt), or
# upstream tarballs from DEPS_SRC=DIR. Cache: $HABOX_CACHE, default
# ${XDG_CACHE_HOME:-$HOME/.cache}/habox. See ../BUILD.md-derived notes in
# README ("Building").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cache=${HABOX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/habox}
aptdir=${HABOX_APTDIR:-$top/build/apt}

# Pinned sources: name, version, Debian source package=version, the orig
# tarball's name in the Debian archive and its SHA-256.
MBEDTLS_VER=3.6.6
MBEDTLS_DEB='mbedtls=3.6.6-0.1~deb13u1'
MBEDTLS_ORIG=mbedtls_3.6.6.orig.tar.bz2
MBEDTLS_POOL=main/m/mbedtls
MBEDTLS_SHA=8fb65fae8dcae5840f793c0a334860a411f884cc537ea290ce1c52bb64ca007a
INIH_VER=59
INIH_DEB='libinih=59-1'
INIH_ORIG=libinih_59.orig.tar.gz
INIH_POOL=main/libi/libinih
INIH_SHA=062279922805f5e9a369551a08d5ddb506140fe50774183ffdbb7c22bb97e3f4
ZLIB_VER=1.3.1
ZLIB_DEB='zlib=1:1.3.dfsg+really1.3.1-1'
ZLIB_ORIG=zlib_1.3.dfsg+really1.3.1.orig.tar.gz
ZLIB_POOL=main/z/zlib
ZLIB_SHA=60dd315c07f616887caa029408308a018ace66e3d142726a97db164b3b8f69fb
ZSTD_VER=1.5.7
ZSTD_DEB='libzstd=1.5.7+dfsg-1'
ZSTD_ORIG=libzstd_1.5.7+dfsg.orig.tar.xz
ZSTD_POOL=main/libz/libzstd
ZSTD_SHA=0c092ef267edce57ba7f3f2645c861f72eaf5e76273c6c3632869423464b90a5
PG_VER=17.11
PG_DEB='postgresql-17=17.11-0+deb13u1'
PG_ORIG=postgresql-17_17.11.orig.tar.bz2
PG_POOL=main/p/postgresql-17
PG_SHA=dd27f2b3c59e73ed14aa3324901242bf69a032a6347805f274e6260322d42979

DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
APT_HELPER=${APT_HELPER:-/usr/lib/apt/apt-helper}

die() { echo "deps: $*" >&2; exit 1; }
say() { echo "deps: $*" >&2; }

target_flags() {
	case $1 in
	musl)
		CC=musl-gcc
		CFLAGS="-Os -ffunction-sections -fdata-sections -fstack-protector-strong"
		# The crypto and compression on the data path are worth their
		# size at -O2 (bench/tls); libpq and the rest stay -Os.
		FAST_CFLAGS="-O2 -ffunction-sections -fdata-sections -fstack-protector-strong"
		LDFLAGS="-static"
		;;
	san)
		CC=clang
		CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fsanitize=fuzzer-no-link"
		FAST_CFLAGS=$CFLAGS
		LDFLAGS="-fsanitize=address,undefined"
		;;
	*) die "unknown target '$1' (musl or san)" ;;
	esac
	command -v "$CC" >/dev/null || die "$CC not found (Debian: scripts/debian-deps.sh --install build)"
}

# The cache key covers everything that changes the result.
prefix_of() {
	target_flags "$1"
	local key
	key=$( {
		cat "$0" "$top/deps/mbedtls_config.h" "$top/deps/chacha20_alt.h" \
		    "$top/deps/gcm_alt.h"
		echo "$1 $CC $CFLAGS $FAST_CFLAGS $LDFLAGS"
		"$CC" --version 2>/dev/null | head -n 1
	} | sha256sum | cut -c1-16)
	echo "$cache/deps-$1-$key"
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# Fetch the five orig tarballs into $cache/src through a private APT
# configuration (apt checks them against the signed index; we check the
# pinned hashes as well).
fetch_debian() {
	local src=$cache/src missing=0 f
	mkdir -p "$src"
	for f in "$MBEDTLS_ORIG" "$INIH_ORIG" "$ZLIB_ORIG" "$ZSTD_ORIG" "$PG_ORIG"; do
		[ -s "$src/$f" ] || missing=1
	done
	if [ $missing = 1 ]; then
		command -v apt-get >/dev/null ||
			die "no apt-get: give upstream tarballs with DEPS_SRC=DIR"
		[ -r /usr/share/keyrings/debian-archive-keyring.gpg ] ||
			die "missing debian-archive-keyring (apt-get install debian-archive-keyring)"
		mkdir -p "$aptdir"/{sources.list.d,preferences.d,lists/partial,cache/archives/partial}
		cat >"$aptdir/apt.conf" <<-EOF
		Dir::Etc::SourceList "/dev/null";
		Dir::Etc::SourceParts "$aptdir/sources.list.d";
		Dir::Etc::PreferencesParts "$aptdir/preferences.d";
		Dir::State::Lists "$aptdir/lists";
		Dir::Cache "$aptdir/cache";
		APT::Sandbox::User "root";
		EOF
		cat >"$aptdir/sources.list.d/trixie-src.sources" <<-EOF
		Types: deb-src
		URIs: $DEBIAN_MIRROR
		Suites: trixie
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
		say "fetching Debian sources (apt-get source, private config in $aptdir)"
		APT_CONFIG=$aptdir/apt.conf apt-get -q update >&2 ||
			die "apt-get update failed (network? see above)"
		(cd "$src" && APT_CONFIG=$aptdir/apt.conf apt-get -q source \
			--download-only "$MBEDTLS_DEB" "$INIH_DEB" "$ZLIB_DEB" \
			"$ZSTD_DEB" "$PG_DEB" >&2) || {
			# The archive's index lists only the newest version of
			# a package; an older pinned one stays in the pool for
			# a while. Fetch the orig tarballs from there, checked
			# against our pinned SHA-256 by apt's own helper.
			say "apt-get source failed; fetching the pinned orig tarballs from the archive's pool"
			pool_get "$src" "$MBEDTLS_POOL" "$MBEDTLS_ORIG" "$MBEDTLS_SHA"
			pool_get "$src" "$INIH_POOL" "$INIH_ORIG" "$INIH_SHA"
			pool_get "$src" "$ZLIB_POOL" "$ZLIB_ORIG" "$ZLIB_SHA"
			pool_get "$src" "$ZSTD_POOL" "$ZSTD_ORIG" "$ZSTD_SHA"
			pool_get "$src" "$PG_POOL" "$PG_ORIG" "$PG_SHA"
		}
	fi
	check_sha "$src/$MBEDTLS_ORIG" "$MBEDTLS_SHA"
	check_sha "$src/$INIH_ORIG" "$INIH_SHA"
	check_sha "$src/$ZLIB_ORIG" "$ZLIB_SHA"
	check_sha "$src/$ZSTD_ORIG" "$ZSTD_SHA"
	check_sha "$src/$PG_ORIG" "$PG_SHA"
	T_MBEDTLS=$src/$MBEDTLS_ORIG T_INIH=$src/$INIH_ORIG
	T_ZLIB=$src/$ZLIB_ORIG T_ZSTD=$src/$ZSTD_ORIG T_PG=$src/$PG_ORIG
}

# pool_get DIR POOLDIR FILE SHA256: one file from the archive's pool.
pool_get() {
	[ -s "$1/$3" ] && return 0
	"$APT_HELPER" download-file "$DEBIAN_MIRROR/pool/$2/$3" "$1/$3.part" \
		"SHA256:$4" >&2 ||
		die "$3: not in the archive's index nor its pool (was the pin superseded? see BUILD notes in README)"
	mv "$1/$3.part" "$1/$3"
}

check_sha() {
	local got
	got=$(sha_of "$1")
	[ "$got" = "$2" ] || die "$1: sha256 $got, expected $2 (corrupt download? remove it and retry)"
}

# DEPS_SRC=DIR: upstream tarballs (or the Debian orig ones) of the same
# versions, found by name.
find_one() {
	local dir=$1 f
	shift
	for f in "$@"; do
		if [ -s "$dir/$f" ]; then echo "$dir/$f"; return 0; fi
	done
	die "DEPS_SRC=$dir: none of $* found"
}

fetch_dir() {
	local d=$1
	[ -d "$d" ] || die "DEPS_SRC=$d: not a directory"
	d=$(cd "$d" && pwd)
	T_MBEDTLS=$(find_one "$d" "mbedtls-$MBEDTLS_VER.tar.bz2" \
		"mbedtls-$MBEDTLS_VER.tar.gz" "$MBEDTLS_ORIG")
	T_INIH=$(find_one "$d" "inih-r$INIH_VER.tar.gz" \
		"inih-$INIH_VER.tar.gz" "$INIH_ORIG")
	T_ZLIB=$(find_one "$d" "zlib-$ZLIB_VER.tar.gz" \
		"zlib-$ZLIB_VER.tar.xz" "$ZLIB_ORIG")
	T_ZSTD=$(find_one "$d" "zstd-$ZSTD_VER.tar.gz" \
		"zstd-$ZSTD_VER.tar.zst" "$ZSTD_ORIG")
	T_PG=$(find_one "$d" "postgresql-$PG_VER.tar.bz2" \
		"postgresql-$PG_VER.tar.gz" "$PG_ORIG")
	local t
	for t in "$T_MBEDTLS" "$T_INIH" "$T_ZLIB" "$T_ZSTD" "$T_PG"; do
		say "using $t (sha256 $(sha_of "$t"))"
	done
}

# Unpack a tarball into the empty folder $2 and print the one top-level
# folder it made.
unpack() {
	local top
	mkdir -p "$2"
	tar -xf "$1" -C "$2" || die "cannot unpack $1"
	top=$(find "$2" -mindepth 1 -maxdepth 1 -type d | head -n 1)
	[ -n "$top" ] || die "$1 has no top-level folder"
	echo "$top"
}

build_mbedtls() {
	local s=$1 p=$2
	say "mbedTLS $MBEDTLS_VER"
	cp "$top/deps/mbedtls_config.h" "$p/include/ha_mbedtls_config.h"
	# MBEDTLS_CHACHA20_ALT and MBEDTLS_GCM_ALT: mbedtls/chacha20.h and
	# mbedtls/gcm.h include our contexts.
	cp "$top/deps/chacha20_alt.h" "$top/deps/gcm_alt.h" "$s/include/mbedtls/"
	make -s -C "$s/library" -j"$jobs" CC="$CC" \
		CFLAGS="$FAST_CFLAGS -DMBEDTLS_CONFIG_FILE='\"$p/include/ha_mbedtls_config.h\"'" \
		libmbedcrypto.a libmbedx509.a libmbedtls.a >&2
	cp "$s"/library/libmbed{crypto,x509,tls}.a "$p/lib/"
	cp -r "$s/include/mbedtls" "$s/include/psa" "$p/include/"
}

build_inih() {
	local s=$1 p=$2
	say "inih r$INIH_VER (pristine upstream source, compiled by habox's Makefile)"
	mkdir -p "$p/src/inih"
	cp "$s/ini.c" "$s/ini.h" "$p/src/inih/"
	cp "$s/ini.h" "$p/include/"
}

build_zlib() {
	local s=$1 p=$2
	say "zlib $ZLIB_VER"
	(cd "$s" && CC=$CC CFLAGS=$FAST_CFLAGS ./configure --static --prefix="$p" >&2 &&
		make -s -j"$jobs" libz.a >&2 && make -s install >&2)
}

# The library only (lib/), single-threaded, and smaller: no dictionary
# builder, no legacy formats, no error strings, no compressors above
# dfast (zstd levels 5 and up compress as dfast does: hasync uses 1),
# single-symbol Huffman and short-sequence decoding only (hasync's
# frames hold at most 256 KiB). That makes it about 30% smaller in the
# binary (557 to 398 KB) at the same speed at level 1 (measured: 253
# MB/s compress, 940 MB/s decompress on text).
# CFLAGS goes in through the environment: libzstd.mk adds its -D flags
# to it, which a command-line CFLAGS would override.
build_zstd() {
	local s=$1 p=$2
	say "zstd $ZSTD_VER (lib only)"
	CFLAGS="$FAST_CFLAGS" make -s -C "$s/lib" -j"$jobs" CC="$CC" \
		ZSTD_LIB_DICTBUILDER=0 ZSTD_LEGACY_SUPPORT=0 \
		ZSTD_LIB_EXCLUDE_COMPRESSORS_GREEDY_AND_UP=1 \
		HUF_FORCE_DECOMPRESS_X1=1 ZSTD_FORCE_DECOMPRESS_SEQUENCES_SHORT=1 \
		ZSTD_STRIP_ERROR_STRINGS=1 libzstd.a >&2
	cp "$s/lib/libzstd.a" "$p/lib/"
	cp "$s/lib/zstd.h" "$s/lib/zstd_errors.h" "$p/include/"
}

build_libpq() {
	local s=$1 p=$2 b
	say "libpq $PG_VER (src/interfaces/libpq only)"
	# Debian's servers put their socket in /var/run/postgresql, not /tmp.
	sed -i 's|^#define DEFAULT_PGSOCKET_DIR  "/tmp"|#define DEFAULT_PGSOCKET_DIR  "/var/run/postgresql"|' \
		"$s/src/include/pg_config_manual.h"
	grep -q '"/var/run/postgresql"' "$s/src/include/pg_config_manual.h" ||
		die "libpq: could not set the default socket directory"
	b=$s-build
	mkdir -p "$b"
	(cd "$b" && "$s/configure" -q CC="$CC" CFLAGS="$CFLAGS" LDFLAGS="$LDFLAGS" \
		--prefix="$p" --without-readline --without-zlib --without-icu \
		--without-openssl --without-gssapi --without-ldap --without-pam \
		--without-systemd --without-libxml --without-lz4 --without-zstd \
		--disable-nls >&2) || die "libpq: configure failed (see above)"
	# src/port and src/common need the generated headers (errcodes.h, ...)
	# before a parallel build starts on them.
	make -s -C "$b/src/backend" generated-headers >&2
	make -s -C "$b/src/interfaces/libpq" -j"$jobs" all-static-lib >&2
	cp "$b/src/interfaces/libpq/libpq.a" "$b/src/common/libpgcommon_shlib.a" \
		"$b/src/port/libpgport_shlib.a" "$p/lib/"
	cp "$s/src/interfaces/libpq/libpq-fe.h" \
		"$s/src/interfaces/libpq/libpq-events.h" \
		"$s/src/include/postgres_ext.h" "$b/src/include/pg_config_ext.h" \
		"$p/include/"
}

build() {
	local target=$1 prefix t0 w
	target_flags "$target"
	prefix=$(prefix_of "$target")
	if [ -f "$prefix/manifest" ]; then echo "$prefix"; return 0; fi
	mkdir -p "$cache"
	# One builder per prefix; a second make waits and then reuses it.
	exec 9>"$prefix.lock"
	flock 9
	if [ -f "$prefix/manifest" ]; then echo "$prefix"; return 0; fi
	t0=$(date +%s)
	if [ -n "${DEPS_SRC:-}" ]; then fetch_dir "$DEPS_SRC"; else fetch_debian; fi
	tmp=$prefix.tmp.$$
	rm -rf "$tmp"
	trap 'rm -rf "${tmp:-}"' EXIT
	mkdir -p "$tmp/include" "$tmp/lib" "$tmp/work"
	jobs=$(nproc 2>/dev/null || echo 2)
	w=$tmp/work
	build_mbedtls "$(unpack "$T_MBEDTLS" "$w/mbedtls")" "$tmp"
	build_inih "$(unpack "$T_INIH" "$w/inih")" "$tmp"
	build_zlib "$(unpack "$T_ZLIB" "$w/zlib")" "$tmp"
	build_zstd "$(unpack "$T_ZSTD" "$w/zstd")" "$tmp"
	build_libpq "$(unpack "$T_PG" "$w/pg")" "$tmp"
	rm -rf "$w" "$tmp/share" "$tmp/lib/pkgconfig"
	{
		echo "target $target"
		echo "cc $CC $("$CC" --version 2>/dev/null | head -n 1)"
		echo "cflags $CFLAGS (mbedTLS, zlib, zstd: $FAST_CFLAGS)"
		echo "mbedtls $MBEDTLS_VER $(sha_of "$T_MBEDTLS")"
		echo "inih $INIH_VER $(sha_of "$T_INIH")"
		echo "zlib $ZLIB_VER $(sha_of "$T_ZLIB")"
		echo "zstd $ZSTD_VER $(sha_of "$T_ZSTD")"
		echo "libpq $PG_VER $(sha_of "$T_PG")"
		echo "build_seconds $(( $(date +%s) - t0 ))"
	} >"$tmp/manifest"
	# Replace the path the tmp prefix was built at in installed scripts.
	mv "$tmp" "$prefix"
	trap - EXIT
	say "built $target libraries in $(( $(date +%s) - t0 )) s: $prefix"
	echo "$prefix"
}

case ${1:-} in
prefix) [ $# = 2 ] || die "usage: deps.sh prefix musl|san"; prefix_of "$2" ;;
build) [ $# = 2 ] || die "usage: deps.sh build musl|san"; build "$2" ;;
*) die "usage: deps.sh prefix|build musl|san" ;;
esac
