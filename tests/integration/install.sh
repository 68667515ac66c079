#!/usr/bin/env bash
# make install / make uninstall into a DESTDIR: the binary, a symlink per
# applet built in, the man pages, the examples, the init script of INIT
# (sysvinit, openrc, none), with the modes an operator expects; the
# installed binary runs; uninstall removes exactly that, and an existing
# etc/habox/habox.conf and other files survive both. Uses the binary under
# test (HABOX=...): nothing is built.
. "$HABOX_TOP/tests/lib/testlib.sh"

mk() { make --no-print-directory -C "$HABOX_TOP" HABOX="$HABOX" "$@"; }
mode() { stat -c %a "$1"; }
# Files and links under a root (not directories), one a line.
files() { (cd "$1" && find . ! -type d | sort); }
applets=$("$HABOX" --list)

# A root with what an operator already has: a config, a script of
# another package, a binary and a man page of another package.
prepare() { # ROOT
	mkdir -p "$1/etc/habox" "$1/etc/init.d" "$1/usr/local/sbin" \
		"$1/usr/local/share/man/man8"
	echo "# the operator's own, not ours" >"$1/etc/habox/habox.conf"
	printf '#!/bin/sh\n' >"$1/etc/init.d/other"
	printf '#!/bin/sh\n' >"$1/usr/local/sbin/other"
	echo '.Dd' >"$1/usr/local/share/man/man8/other.8"
	cp "$1/etc/habox/habox.conf" "$T_TMP/conf.orig"
}

# --- INIT=sysvinit (the default), PREFIX=/usr/local ----------------------
R=$T_TMP/root
prepare "$R"
files "$R" >"$T_TMP/before"
t_case "make install" --out-lacks "  CC " --out-lacks "  LD " \
	--out-has "INSTALL $R/usr/local/sbin/habox" \
	-- mk install DESTDIR="$R"
S=$R/usr/local/sbin
M=$R/usr/local/share/man
t_ok "habox installed, mode 0755" test "$(mode "$S/habox")" = 755
t_ok "habox is a regular file, the binary under test" cmp -s "$HABOX" "$S/habox"
for a in $applets; do
	t_ok "$a -> habox" test -L "$S/$a" -a "$(readlink "$S/$a")" = habox
	t_ok "$a.8 installed, mode 0644" test "$(mode "$M/man8/$a.8")" = 644
done
for a in $(sed -n 's/^APPLET(\([a-z]*\),.*/\1/p' "$HABOX_TOP/applets/applets.def"); do
	echo "$applets" | grep -qx "$a" && continue
	t_ok "$a is not built in: no link, no page" test ! -e "$S/$a" -a ! -e "$M/man8/$a.8"
done
t_ok "habox.1 installed, mode 0644" test "$(mode "$M/man1/habox.1")" = 644
t_ok "habox.conf.5 installed, mode 0644" test "$(mode "$M/man5/habox.conf.5")" = 644
t_ok "man pages are the sources" cmp -s "$HABOX_TOP/doc/habox.1" "$M/man1/habox.1"
D=$R/usr/local/share/doc/habox
for e in "$HABOX_TOP"/config/*.conf; do
	t_ok "example $(basename "$e"), mode 0644" \
		test "$(mode "$D/examples/$(basename "$e")")" = 644
done
t_case "installed hactl --version runs" --out-has "hactl (habox) " -- "$S/hactl" --version
t_case "installed habox --list: the applets built in" --out-has "$(echo "$applets" | head -1)" \
	-- "$S/habox" --list
# cfhub.conf has a [postgres] section, which needs haprom built in.
ex=cfhub.conf
echo "$applets" | grep -qx haprom || ex=appliance.conf
t_case "installed hactl checks an installed example ($ex)" \
	-- "$S/hactl" check-config -q -c "$D/examples/$ex"
if echo "$applets" | grep -qx hawatch; then
	I=$R/etc/init.d/hawatch
	t_ok "init script installed, mode 0755" test "$(mode "$I")" = 755
	t_ok "init script is the sysvinit one" grep -q '^### BEGIN INIT INFO' "$I"
	t_ok "init script runs the installed binary" grep -qx 'HABOX=/usr/local/sbin/habox' "$I"
	t_ok "init script still parses" sh -n "$I"
fi
t_ok "habox.conf untouched by install" cmp -s "$T_TMP/conf.orig" "$R/etc/habox/habox.conf"
t_case "make install again (over an installation)" -- mk install DESTDIR="$R"
files "$R" >"$T_TMP/installed"

t_case "make uninstall" -- mk uninstall DESTDIR="$R"
files "$R" >"$T_TMP/after"
t_case "uninstall leaves exactly the files there before" \
	--out-eq "$T_TMP/before" -- cat "$T_TMP/after"
t_ok "install had added files" test "$(comm -13 "$T_TMP/before" "$T_TMP/installed" | wc -l)" -gt 5
t_ok "habox.conf survives uninstall" cmp -s "$T_TMP/conf.orig" "$R/etc/habox/habox.conf"
t_ok "directories that were there stay" test -d "$R/etc/init.d" -a -d "$S" -a -d "$M/man8"
t_ok "DOCDIR removed" test ! -e "$D"
t_case "make uninstall again: nothing left to remove" -- mk uninstall DESTDIR="$R"

# uninstall removes applet names only while they are links to habox.
R2=$T_TMP/root2
mkdir -p "$R2/usr/local/sbin"
printf '#!/bin/sh\n' >"$R2/usr/local/sbin/hactl"
ln -s /bin/true "$R2/usr/local/sbin/havip"
t_case "uninstall where nothing of ours is" -- mk uninstall DESTDIR="$R2"
t_ok "a file named hactl that is not ours stays" test -f "$R2/usr/local/sbin/hactl"
t_ok "a link named havip to elsewhere stays" test -L "$R2/usr/local/sbin/havip"

# --- INIT=openrc, PREFIX=/usr --------------------------------------------
R=$T_TMP/root-openrc
prepare "$R"
files "$R" >"$T_TMP/before"
t_case "make install PREFIX=/usr INIT=openrc" \
	-- mk install DESTDIR="$R" PREFIX=/usr INIT=openrc
t_ok "PREFIX=/usr: the binary in /usr/sbin" test -x "$R/usr/sbin/habox"
t_ok "PREFIX=/usr: man pages in /usr/share/man" test -f "$R/usr/share/man/man1/habox.1"
t_case "installed /usr/sbin/hactl --version runs" --out-has "hactl (habox) " \
	-- "$R/usr/sbin/hactl" --version
if echo "$applets" | grep -qx hawatch; then
	I=$R/etc/init.d/hawatch
	t_ok "openrc script installed, mode 0755" test "$(mode "$I")" = 755
	t_ok "it is the OpenRC one" grep -q '^#!/sbin/openrc-run' "$I"
	t_ok "it runs /usr/sbin/habox" grep -qF ': "${HABOX:=/usr/sbin/habox}"' "$I"
fi
t_case "make uninstall PREFIX=/usr INIT=openrc" \
	-- mk uninstall DESTDIR="$R" PREFIX=/usr INIT=openrc
files "$R" >"$T_TMP/after"
t_case "openrc: uninstall leaves exactly the files there before" \
	--out-eq "$T_TMP/before" -- cat "$T_TMP/after"

# --- INIT=none, BINDIR and MANDIR given ----------------------------------
R=$T_TMP/root-none
t_case "make install INIT=none BINDIR=/opt/ha/bin MANDIR=/opt/ha/man" \
	-- mk install DESTDIR="$R" INIT=none BINDIR=/opt/ha/bin MANDIR=/opt/ha/man
t_ok "INIT=none: no init script, no /etc" test ! -e "$R/etc"
t_ok "BINDIR honoured" test -x "$R/opt/ha/bin/habox"
t_ok "MANDIR honoured" test -f "$R/opt/ha/man/man1/habox.1"
t_case "make uninstall INIT=none BINDIR=... MANDIR=..." \
	-- mk uninstall DESTDIR="$R" INIT=none BINDIR=/opt/ha/bin MANDIR=/opt/ha/man
t_case "INIT=none: no file left" --out-eq /dev/null -- files "$R"

t_case "INIT=upstart is refused" --exit 2 --err-has "INIT must be sysvinit, openrc or none" \
	-- mk install DESTDIR="$T_TMP/root-bad" INIT=upstart
t_ok "a refused install writes nothing" test ! -e "$T_TMP/root-bad"
