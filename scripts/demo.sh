#!/bin/sh
# `make demo`: what habox is, shown on this machine. For now (the
# foundation): the static binary, its applets, and the example
# configurations checked by `hactl check-config`. Later: a live failover
# in network namespaces.
set -eu
habox=${1:-./habox}
top=$(cd "$(dirname "$0")/.." && pwd)
say() { printf '\n== %s\n' "$*"; }

say "the binary"
file "$habox" | sed 's/^[^:]*: //'
ls -l "$habox" | awk '{print $5 " bytes"}'
"$habox" --version

say "applets built in (habox --list)"
"$habox" --list

say "each applet answers --help; for example havip add --help"
"$habox" havip add --help

for f in "$top"/config/*.conf; do
	say "hactl check-config -c config/$(basename "$f")"
	"$habox" hactl check-config -c "$f" | head -n 12
	echo "  ..."
done

say "a broken configuration is refused with every error named"
bad=$(mktemp)
trap 'rm -f "$bad"' EXIT
printf '[cluster]\nname = demo\nnode = n1\nheartbeat = fast\n[node n1]\naddress = 10.0.0.256\n[vip v]\ninterface = eth0\n' >"$bad"
if "$habox" hactl check-config -c "$bad" >/dev/null; then
	echo "demo: a broken configuration was accepted" >&2
	exit 1
fi
echo "(exit 2, as expected)"
