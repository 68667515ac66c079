#!/usr/bin/env bash
# Manual pages: clean under mandoc -Tlint, and habox.conf(5) documents
# every key the configuration schema knows (so the reference cannot drift).
. "$HABOX_TOP/tests/lib/testlib.sh"
doc=$HABOX_TOP/doc
if command -v mandoc >/dev/null; then
	for m in "$doc"/*.[1-8]; do
		t_case "$(basename "$m") lints clean" --err-eq /dev/null --out-eq /dev/null \
			-- mandoc -Tlint -W warning "$m"
	done
else
	t_skip "man page lint" "mandoc is not installed"
fi
keys=$(sed -n 's/^[[:space:]]*{ "\([a-z_]*\)", T_.*/\1/p' "$HABOX_TOP/core/config_schema.c" | sort -u)
t_ok "the schema has keys" test "$(echo "$keys" | wc -l)" -gt 40
for k in $keys; do
	t_ok "habox.conf(5) documents '$k'" grep -Eq "Cm $k( |\$)" "$doc/habox.conf.5"
done
