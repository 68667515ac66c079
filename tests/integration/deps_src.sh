#!/usr/bin/env bash
# DEPS_SRC=DIR: the libraries from upstream-named tarballs instead of
# apt-get source (for systems without Debian's archive), into a separate
# cache; habox builds against them and runs.
. "$HABOX_TOP/tests/lib/testlib.sh"
top=$HABOX_TOP
cache=${HABOX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/habox}
src=$T_TMP/src
mkdir -p "$src"
# Debian's orig tarballs are the upstream releases; give them upstream names.
ln -s "$cache/src/mbedtls_3.6.6.orig.tar.bz2" "$src/mbedtls-3.6.6.tar.bz2"
ln -s "$cache/src/libinih_59.orig.tar.gz" "$src/inih-r59.tar.gz"
ln -s "$cache/src/zlib_1.3.dfsg+really1.3.1.orig.tar.gz" "$src/zlib-1.3.1.tar.gz"
ln -s "$cache/src/libzstd_1.5.7+dfsg.orig.tar.xz" "$src/zstd-1.5.7.tar.gz"
ln -s "$cache/src/postgresql-17_17.11.orig.tar.bz2" "$src/postgresql-17.11.tar.bz2"
export HABOX_CACHE=$T_TMP/cache

t_case "DEPS_SRC with a missing tarball names it" --exit 1 \
	--err-has "none of zlib-1.3.1.tar.gz" \
	-- env DEPS_SRC="$T_TMP/empty" sh -c "mkdir -p '$T_TMP/empty' && cp -P '$src/mbedtls-3.6.6.tar.bz2' '$src/inih-r59.tar.gz' '$T_TMP/empty/' && '$top/scripts/deps.sh' build musl"
t_ok "DEPS_SRC=DIR builds the libraries without apt" \
	env DEPS_SRC="$src" "$top/scripts/deps.sh" build musl
prefix=$("$top/scripts/deps.sh" prefix musl)
t_ok "into the cache given by HABOX_CACHE" test -f "$prefix/manifest"
t_ok "habox builds against them" \
	make --no-print-directory -C "$top" OUT="$T_TMP/out" all
t_case "and runs" --out-has "mbedTLS 3.6.6" --out-has "libpq 17.11" \
	-- "$T_TMP/out/habox" --version
