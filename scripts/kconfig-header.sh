#!/bin/sh
# Turn a .config (or config/defconfig) into the C header the sources include:
# every bool symbol of the Kconfig tree becomes `#define CONFIG_X 1` or `0`,
# so code can say `if (CONFIG_HA_IPV6)` and both branches still compile.
# A symbol the config file does not mention takes its Kconfig default (and a
# warning: run `make olddefconfig`). Needs only POSIX sh and awk, so a plain
# `make` works without kconfig-frontends.
#
# usage: kconfig-header.sh Kconfig CONFIGFILE > header
set -eu
root=$1 conf=$2
[ -r "$conf" ] || { echo "kconfig: cannot read $conf" >&2; exit 1; }
dir=$(dirname "$root")

# All Kconfig files: the root and everything it sources, recursively.
files() {
	echo "$1"
	sed -n 's/^[[:space:]]*source[[:space:]]*"\(.*\)"/\1/p' "$1" |
	while read -r f; do files "$dir/$f"; done
}

files "$root" | xargs awk '
	/^[[:space:]]*(menu)?config[[:space:]]/ { sym = $2; print "sym", sym; next }
	/^[[:space:]]*default[[:space:]]/ && sym != "" { print "def", sym, $2; sym = "" }
	/^[[:space:]]*(endmenu|menu|comment|choice|endchoice|if|endif|source)/ { sym = "" }
' | awk -v conf="$conf" '
	BEGIN {
		while ((getline line < conf) > 0) {
			if (line ~ /^CONFIG_[A-Za-z0-9_]+=/) {
				eq = index(line, "=")
				val[substr(line, 8, eq - 8)] = substr(line, eq + 1)
			} else if (line ~ /^# CONFIG_[A-Za-z0-9_]+ is not set/) {
				split(line, w, " ")
				val[substr(w[2], 8)] = "n"
			}
		}
		print "/* generated from " conf " by scripts/kconfig-header.sh */"
		print "#ifndef HA_KCONFIG_H"
		print "#define HA_KCONFIG_H"
	}
	$1 == "sym" { order[++n] = $2; def[$2] = "n" }
	$1 == "def" { def[$2] = $3 }
	END {
		for (i = 1; i <= n; i++) {
			s = order[i]
			v = (s in val) ? val[s] : def[s]
			if (!(s in val))
				printf "kconfig: CONFIG_%s not in %s: using its default %s (run make olddefconfig)\n", s, conf, v > "/dev/stderr"
			if (v != "y" && v != "n") {
				printf "kconfig: CONFIG_%s=%s in %s: only y or n\n", s, v, conf > "/dev/stderr"
				exit 1
			}
			printf "#define CONFIG_%s %d\n", s, v == "y"
		}
		for (s in val) {
			known = 0
			for (i = 1; i <= n; i++) if (order[i] == s) known = 1
			if (!known) printf "kconfig: CONFIG_%s in %s is not a habox option\n", s, conf > "/dev/stderr"
		}
		print "#endif"
	}
'
