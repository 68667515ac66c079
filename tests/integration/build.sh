#!/usr/bin/env bash
# Build variants: a habox without haprom (CONFIG_HAPROM=n) links no libpq
# symbol and still passes every other test; Kconfig front ends; a second
# build reuses the cached libraries; SYSTEM_DEPS=1 links installed ones.
. "$HABOX_TOP/tests/lib/testlib.sh"
top=$HABOX_TOP
cd "$top" || exit 1
# The build under test is the default one; variants go to $T_TMP.
mk() { make --no-print-directory -C "$top" "$@"; }

# --- the library cache ----------------------------------------------------
p1=$(scripts/deps.sh prefix musl)
t_ok "the musl libraries are cached outside the work tree" \
	sh -c "case '$p1' in '$top'/*) exit 1 ;; esac; test -f '$p1/manifest'"
start=$(date +%s%N)
p2=$(scripts/deps.sh build musl 2>/dev/null)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
t_ok "a second build reuses them (${ms} ms, same prefix)" \
	sh -c "[ '$p1' = '$p2' ] && [ $ms -lt 5000 ]"
t_ok "the cache key names the versions' hash" \
	sh -c "echo '$p1' | grep -Eq 'deps-musl-[0-9a-f]{16}$'"

# --- CONFIG_HAPROM=n --------------------------------------------------------
nopg=$T_TMP/nopg
sed 's/^CONFIG_HAPROM=y/# CONFIG_HAPROM is not set/' config/defconfig >"$T_TMP/nopg.config"
t_ok "build with CONFIG_HAPROM=n" \
	mk OUT="$nopg" KCONFIG_CONFIG="$T_TMP/nopg.config" all tests
t_ok "the default build has libpq (so the next check can fail)" \
	sh -c "nm '$top/build/habox' | grep -q ' T PQlibVersion'"
# libpq's names: PQxxx, pqXxx, pq_xxx, pqsecure_xxx, pg_xxx. (zlib has a
# static pqdownheap of its own: lower case after "pq" is not libpq's.)
t_case "CONFIG_HAPROM=n links no libpq symbol" --out-eq /dev/null \
	-- sh -c "nm '$nopg/habox' | grep -E ' [TtDdBbRr] (PQ|pq[A-Z_]|pqsecure|pg_|pgp|pgwin)' || true"
t_ok "  the pattern finds libpq's internals in the default build" \
	sh -c "nm '$top/build/habox' | grep -qE ' [TtDdBbRr] pq[A-Z_]' && nm '$top/build/habox' | grep -qE ' [TtDdBbRr] pqsecure_'"
t_ok "and is smaller" sh -c "[ \$(stat -c %s '$nopg/habox') -lt \$(stat -c %s '$top/build/habox') ]"
t_case "haprom is not in --list" --out-lacks haprom -- "$nopg/habox" --list
t_case "haprom says it is not built in" --exit 2 \
	--err-has "applet 'haprom' is not built in (CONFIG_HAPROM=n)" \
	-- "$nopg/habox" haprom status
printf '[cluster]\nname = t\nnode = a\n[node a]\naddress = 10.0.0.1\n[node b]\naddress = 10.0.0.2\n[node w]\naddress = 10.0.0.3\nrole = witness\n[postgres]\ndata_dir = /d\n' >"$T_TMP/pg.conf"
t_case "a [postgres] section is refused without haprom" --exit 2 \
	--err-has "built without haprom (CONFIG_HAPROM=n)" \
	-- "$nopg/habox" hactl check-config -c "$T_TMP/pg.conf"
T_LOGS=$T_TMP/nopg-logs tests/run.sh --habox "$nopg/habox" --unit "$nopg/tests" \
	--skip 'integration/build*' >"$T_TMP/nopg-run.txt" 2>&1
rc=$?
if [ $rc = 0 ]; then
	t_pass "every other test passes with CONFIG_HAPROM=n ($(tail -n 1 "$T_TMP/nopg-run.txt"))"
else
	t_fail "every other test passes with CONFIG_HAPROM=n" "$(tail -n 1 "$T_TMP/nopg-run.txt")"
	grep -E '^FAIL' "$T_TMP/nopg-run.txt" | head -20
fi

# --- Kconfig front ends -------------------------------------------------------
if command -v kconfig-conf >/dev/null; then
	printf 'CONFIG_HASYNC=n\n' >"$T_TMP/partial.config"
	t_ok "make olddefconfig fills in the defaults" \
		mk KCONFIG_CONFIG="$T_TMP/partial.config" olddefconfig
	t_ok "  keeps the choice made" grep -qx '# CONFIG_HASYNC is not set' "$T_TMP/partial.config"
	t_ok "  and adds the rest" grep -qx 'CONFIG_HAVIP=y' "$T_TMP/partial.config"
	t_ok "make defconfig writes the committed defaults" \
		mk KCONFIG_CONFIG="$T_TMP/def.config" defconfig
	t_case "the header generator agrees with kconfig-conf" \
		--out-has '#define CONFIG_HASYNC 0' --out-has '#define CONFIG_HAVIP 1' \
		-- scripts/kconfig-header.sh Kconfig "$T_TMP/partial.config"
	t_case "defconfig header" --out-has '#define CONFIG_HAPROM 1' \
		-- scripts/kconfig-header.sh Kconfig "$T_TMP/def.config"
else
	t_skip "kconfig front ends" "kconfig-frontends is not installed"
fi
printf 'CONFIG_HAVIP=maybe\n' >"$T_TMP/badval.config"
t_case "a bad Kconfig value is refused" --exit 1 \
	--err-has "CONFIG_HAVIP=maybe" -- scripts/kconfig-header.sh Kconfig "$T_TMP/badval.config"

# --- SYSTEM_DEPS=1: libraries installed on the system ------------------------
# Stand in for a musl system's /usr: the cached prefix, plus a libinih.a.
sys=$T_TMP/sys
mkdir -p "$sys/lib" "$sys/kh"
musl-gcc -Os -c -o "$sys/ini.o" "$p1/src/inih/ini.c" && ar rcs "$sys/lib/libinih.a" "$sys/ini.o"
ln -s /usr/include/linux "$sys/kh/linux"
ln -s /usr/include/asm-generic "$sys/kh/asm-generic"
ln -s "/usr/include/$(gcc -print-multiarch)/asm" "$sys/kh/asm"
t_ok "make SYSTEM_DEPS=1 links the installed libraries" \
	mk SYSTEM_DEPS=1 CC=musl-gcc OUT="$sys/out" \
	CPPFLAGS="-isystem $p1/include -isystem $sys/kh -DMBEDTLS_CONFIG_FILE='\"ha_mbedtls_config.h\"'" \
	LDFLAGS="-L$p1/lib -L$sys/lib" PQ_LIBS="-lpq -lpgcommon_shlib -lpgport_shlib"
t_case "  and that binary runs" --out-has "libraries: mbedTLS 3.6.6" \
	-- "$sys/out/habox" --version
t_case "  and parses configurations" --err-has "configuration is valid" \
	-- "$sys/out/habox" hactl check-config -c "$top/config/appliance.conf"
