#!/usr/bin/env bash
# hactl check-config on the example configurations and on bad input:
# every error named with file and line, exit 2, never a crash.
. "$HABOX_TOP/tests/lib/testlib.sh"

cfg=$HABOX_TOP/config
ok=$T_TMP/ok.conf
cat >"$ok" <<'CONF'
[cluster]
name = t
node = n1
[node n1]
address = 10.0.0.11
[node n2]
address = 10.0.0.12
[node w]
address = 10.0.0.13
role = witness
CONF

for f in "$cfg"/*.conf; do
	case $(basename "$f") in
	cfhub.conf) t_has_applet haprom || continue ;;
	esac
	t_case "example $(basename "$f") is valid" --out-has "[cluster]" \
		--err-has "configuration is valid" -- "$HABOX" hactl check-config -c "$f"
done

t_case "effective config: defaults shown" \
	--out-has "heartbeat = 100ms" --out-has "; default" \
	-- "$HABOX" hactl check-config -c "$ok"
t_case "environment override" --out-has "node = n2" \
	--out-has "; from HABOX_CLUSTER_NODE" \
	-- env HABOX_CLUSTER_NODE=n2 "$HABOX" hactl check-config -c "$ok"
t_case "-o override beats the environment" --out-has "port = 9000" \
	-- env HABOX_CLUSTER_PORT=8000 "$HABOX" hactl check-config -c "$ok" \
	-o cluster.port=9000
if t_has_applet haprom; then
	t_case "a secret is masked" --out-has "password=********" \
		--out-lacks "hunter2" -- "$HABOX" hactl check-config -c "$ok" \
		-o postgres.data_dir=/d -o "postgres.conninfo=host=/x password=hunter2"
else
	t_case "no conninfo without haprom, and no secret in the error" \
		--exit 2 --err-has "CONFIG_HAPROM=n" --err-lacks "hunter2" \
		-- "$HABOX" hactl check-config -c "$ok" \
		-o postgres.data_dir=/d -o "postgres.conninfo=host=/x password=hunter2"
fi

# Bad input: a clear error and exit 2.
head -c 4096 /dev/urandom >"$T_TMP/garbage.conf"
t_case "garbage bytes" --exit 2 --err-has "garbage.conf:" \
	--err-has "configuration not used" \
	-- "$HABOX" hactl check-config -c "$T_TMP/garbage.conf"
{ cat "$ok"; printf 'priority = 1\0000\n'; } >"$T_TMP/nul.conf"
t_case "a NUL byte" --exit 2 --err-has "nul.conf:11: NUL byte at column 13" \
	-- "$HABOX" hactl check-config -c "$T_TMP/nul.conf"
{ cat "$ok"; printf '[sync s]\npath = /'; head -c 100000 /dev/zero | tr '\0' a; echo; } >"$T_TMP/long.conf"
t_case "a 100 kB line" --exit 2 --err-has "long.conf:12: line longer than 4000 bytes" \
	-- "$HABOX" hactl check-config -c "$T_TMP/long.conf"
t_case "a missing file" --exit 2 \
	--err-has "cannot read config file $T_TMP/none.conf: No such file or directory" \
	-- "$HABOX" hactl check-config -c "$T_TMP/none.conf"
t_case "a directory" --exit 2 --err-has "$T_TMP: is a directory" \
	-- "$HABOX" hactl check-config -c "$T_TMP"
cp "$ok" "$T_TMP/secret.conf"
chmod 600 "$T_TMP/secret.conf"
chmod 755 "$T_TMP"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	t_case "an unreadable file" --exit 2 --err-has "Permission denied" \
		-- setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$HABOX" hactl check-config -c "$T_TMP/secret.conf"
else
	t_skip "an unreadable file" "needs root and setpriv to read as nobody"
fi
{ cat "$ok"; printf '[node n1]\naddress = 10.0.0.99\n'; } >"$T_TMP/dup.conf"
t_case "a duplicate section" --exit 2 \
	--err-has "dup.conf:11: duplicate section [node n1] (first at line 4)" \
	-- "$HABOX" hactl check-config -c "$T_TMP/dup.conf"
{ cat "$ok"; printf 'colour = blue\nprioity = 3\n'; } >"$T_TMP/keys.conf"
t_case "unknown keys, all of them" --exit 2 \
	--err-has "keys.conf:11: [node w] colour: unknown key" \
	--err-has "keys.conf:12: [node w] prioity: unknown key (did you mean 'priority'?)" \
	--err-has "2 errors: configuration not used" \
	-- "$HABOX" hactl check-config -c "$T_TMP/keys.conf"
t_case "no partial config printed on error" --exit 2 --out-eq /dev/null \
	-- "$HABOX" hactl check-config -c "$T_TMP/keys.conf"
printf '[cluster]\nname = t\nnode = a\n[node a]\naddress = 10.0.0.1\n[node b]\naddress = 10.0.0.2\n' >"$T_TMP/two.conf"
t_case "two members without a witness: a warning" \
	--err-has "[WARNING]" --err-has "two members and no witness" \
	-- "$HABOX" hactl check-config -c "$T_TMP/two.conf"
