#!/usr/bin/env bash
# Manual pages: clean under mandoc -Tlint (else groff renders them without
# error), habox.conf(5) documents every key the configuration schema knows
# and hactl(8) every command and option of hactl's tables (so the references
# cannot drift), habox(1) names every applet and page.
. "$HABOX_TOP/tests/lib/testlib.sh"
doc=$HABOX_TOP/doc
if command -v mandoc >/dev/null; then
	for m in "$doc"/*.[1-8]; do
		t_case "$(basename "$m") lints clean" --err-eq /dev/null --out-eq /dev/null \
			-- mandoc -Tlint -W warning "$m"
	done
elif command -v groff >/dev/null; then
	# groff's mdoc warns about things mandoc accepts: fail on errors only.
	for m in "$doc"/*.[1-8]; do
		t_case "$(basename "$m") renders (groff)" \
			-- groff -mandoc -ww -z "$m"
	done
else
	t_skip "man page lint" "neither mandoc nor groff is installed"
fi
keys=$(sed -n 's/^[[:space:]]*{ "\([a-z_]*\)", T_.*/\1/p' "$HABOX_TOP/core/config_schema.c" | sort -u)
t_ok "the schema has keys" test "$(echo "$keys" | wc -l)" -gt 40
for k in $keys; do
	t_ok "habox.conf(5) documents '$k'" grep -Eq "Cm $k( |\$)" "$doc/habox.conf.5"
done
# Every page's .Dt names the page it is in (habox.conf.5: HABOX.CONF 5).
for m in "$doc"/*.[1-8]; do
	n=$(basename "$m")
	want=$(echo "${n%.*} ${n##*.}" | tr '[:lower:]' '[:upper:]')
	t_ok "$n: .Dt $want" grep -qx "\.Dt $want" "$m"
done
# habox(1) names every applet and refers to every other page.
for m in "$doc"/*.[1-8]; do
	n=$(basename "$m")
	[ "$n" = habox.1 ] && continue
	t_ok "habox(1) refers to ${n%.*}(${n##*.})" \
		grep -qx "\.Xr ${n%.*} ${n##*.}\( ,\)\{0,1\}" "$doc/habox.1"
done
for a in $(sed -n 's/^APPLET(\([a-z]*\),.*/\1/p' "$HABOX_TOP/applets/applets.def"); do
	t_ok "habox(1) describes applet $a" grep -qx "\.It Xr $a 8" "$doc/habox.1"
	t_ok "$a(8) exists" test -f "$doc/$a.8"
done
# hactl(8) documents every command and every option of hactl's tables
# (from --help, so it follows the code).
if t_has_applet hactl; then
	cmds=$("$HABOX" hactl --help | sed -n '/^commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p')
	t_ok "hactl has commands" test "$(echo "$cmds" | wc -w)" -gt 10
	for c in $cmds; do
		t_ok "hactl(8) documents '$c'" grep -Eq "^\.It Cm $c( |\$)" "$doc/hactl.8"
		for o in $("$HABOX" hactl "$c" --help |
			grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' | tr -d ' ,'); do
			case $o in -h--help|-V--version|-v--verbose|-q--quiet|-o--set|-c--config)
				continue ;; esac
			long=--${o#*--} short=${o%%--*}
			t_ok "hactl(8) documents $c $long" \
				grep -Eq "Fl -${long#--}( |\$)" "$doc/hactl.8"
			[ -n "$short" ] && t_ok "hactl(8) documents $c $short" \
				grep -Eq "Fl ${short#-}( |\$)" "$doc/hactl.8"
		done
	done
	for o in -c--config -h--help -o--set -q--quiet -V--version -v--verbose; do
		t_ok "hactl(8) documents ${o%%--*}, --${o#*--}" \
			grep -qx "\.It Fl ${o:1:1} , Fl -${o#*--}.*" "$doc/hactl.8"
	done
	t_ok "hactl(8) BUGS lists nothing as not implemented" \
		sh -c "! grep -q 'not implemented' '$doc/hactl.8'"
else
	t_skip "hactl(8) against hactl --help" "hactl is not built in"
fi
