#!/usr/bin/env bash
# core/log: lines reach syslog as "applet[pid]: [LEVEL] message" with the
# right priority (facility daemon), and stderr shows the same lines;
# -q keeps INFO and SUCCESS off stderr but not out of syslog.
. "$HABOX_TOP/tests/lib/testlib.sh"
t_require_root

ok=$T_TMP/ok.conf
printf '[cluster]\nname = t\nnode = a\n[node a]\naddress = 10.0.0.1\n[node b]\naddress = 10.0.0.2\n[node w]\naddress = 10.0.0.3\nrole = witness\n' >"$ok"
printf '[cluster]\nname = t\nnode = a\nport = x\n' >"$T_TMP/bad.conf"
log=$T_TMP/syslog.txt
: >"$log"

# A private mount namespace with its own /dev holding our /dev/log.
cat >"$T_TMP/inner.sh" <<INNER
set -e
mount --make-rprivate /
mkdir -p $T_TMP/olddev
mount --bind /dev $T_TMP/olddev
mount -t tmpfs tmpfs /dev
for d in null zero urandom; do touch /dev/\$d; mount --bind $T_TMP/olddev/\$d /dev/\$d; done
python3 $HABOX_TOP/tests/lib/syslogd.py /dev/log $log &
sd=\$!
for i in \$(seq 100); do [ -S /dev/log ] && break; sleep 0.1; done
[ -S /dev/log ] || { echo "no syslog receiver" >&2; exit 1; }
"$HABOX" hactl check-config -c $ok >/dev/null 2>$T_TMP/err1 || true
"$HABOX" hactl check-config -q -c $ok >/dev/null 2>$T_TMP/err2 || true
"$HABOX" hactl check-config -c $T_TMP/bad.conf >/dev/null 2>$T_TMP/err3 || true
sleep 0.2
kill \$sd
INNER
t_ok "run applets with a syslog receiver" unshare -m bash "$T_TMP/inner.sh"

t_ok "SUCCESS reaches syslog as notice, ident hactl[pid]" \
	grep -qE '^<29>.*hactl\[[0-9]+\]: \[SUCCESS\] .*ok.conf: configuration is valid' "$log"
t_ok "FAILURE reaches syslog as err" \
	grep -qE "^<27>.*hactl\[[0-9]+\]: \[FAILURE\] .*bad.conf:4: \[cluster\] port: 'x'" "$log"
t_ok "stderr has the same line, prefixed with the applet" \
	grep -qx "hactl: \[SUCCESS\] $ok: configuration is valid" "$T_TMP/err1"
t_case "-q: no SUCCESS on stderr" --out-eq /dev/null -- cat "$T_TMP/err2"
t_ok "-q: SUCCESS still in syslog" \
	test "$(grep -c 'configuration is valid' "$log")" = 2
t_ok "alerting is a grep for FAILURE" \
	grep -q 'hactl: \[FAILURE\]' "$T_TMP/err3"
