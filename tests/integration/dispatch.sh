#!/usr/bin/env bash
# The multicall binary: dispatch by symlink name and by first argument,
# --list, --install, --version and --help everywhere, usage errors.
. "$HABOX_TOP/tests/lib/testlib.sh"

applets=$("$HABOX" --list)

t_case "--list names the applets, one a line" --out-has hactl \
	-- "$HABOX" --list
t_ok "the binary is static" sh -c "file -L '$HABOX' | grep -q 'statically linked' || ! file -L '$HABOX' | grep -q musl"
t_case "--version names the libraries" --out-has "habox " \
	--out-has "mbedTLS 3.6.6" --out-has "zlib 1.3.1" --out-has "zstd 1.5.7" -- "$HABOX" --version
t_case "--help" --out-has "usage: habox APPLET" -- "$HABOX" --help
t_case "no arguments: usage, exit 2" --exit 2 --err-has "usage: habox" \
	-- "$HABOX"
t_case "unknown applet, exit 2" --exit 2 \
	--err-has "habox: unknown applet 'frobnicate'" -- "$HABOX" frobnicate
t_case "unknown habox option, exit 2" --exit 2 \
	--err-has "habox: unknown option '--frob'" -- "$HABOX" --frob

# --install makes one symlink per applet; each dispatches by its name.
bin=$T_TMP/bin
mkdir -p "$bin"
t_case "--install DIR" -- "$HABOX" --install "$bin"
for a in $applets; do
	t_ok "$a: symlink made" test -L "$bin/$a"
	t_case "$a --version by symlink" --out-has "$a (habox)" -- "$bin/$a" --version
	t_case "$a --help by symlink" --out-has "usage: $a" -- "$bin/$a" --help
	t_case "habox $a --version" --out-has "$a (habox)" -- "$HABOX" "$a" --version
	t_case "$a: unknown option names it, exit 2" --exit 2 \
		--err-has "$a: unknown option '--no-such-option'" \
		--err-has "try '$a" -- "$bin/$a" --no-such-option
done
t_case "--install again: already there" --err-has "already links to" \
	-- "$HABOX" --install "$bin"
first=$(echo "$applets" | head -n 1)
rm "$bin/$first"
echo "not ours" >"$bin/$first"
t_case "--install keeps a foreign file" --exit 1 \
	--err-has "$bin/$first exists: not replacing it" -- "$HABOX" --install "$bin"
t_ok "the foreign file is intact" grep -qx "not ours" "$bin/$first"
t_case "--install -f replaces it" -- "$HABOX" --install -f "$bin"
t_ok "now a symlink" test -L "$bin/$first"
t_case "--install into a missing dir, exit 1" --exit 1 \
	--err-has "not a directory" -- "$HABOX" --install "$T_TMP/none"

# Every command of every applet has help generated from its table.
for a in $applets; do
	cmds=$("$HABOX" "$a" --help | awk '/^commands:/{c=1; next} /^$/{c=0} c && /^  [a-z]/{print $1}')
	for c in $cmds; do
		t_case "$a $c --help" --out-has "usage: $a $c" -- "$HABOX" "$a" "$c" --help
	done
done
t_case "an unknown command, exit 2" --exit 2 \
	--err-has "hactl: unknown command 'frob'" --err-has "usage: hactl" \
	-- "$HABOX" hactl frob
t_case "a missing argument, exit 2" --exit 2 \
	--err-has "hactl: missing argument: NODE" -- "$HABOX" hactl remove-node
t_case "a bad duration, exit 2" --exit 2 \
	--err-has "hactl: --ttl 5: a duration needs a unit" \
	-- "$HABOX" hactl bootstrap --ttl 5

