# Shell test library, sourced by tests/integration/*.sh.
#
# A case has a name, a command, the expected exit code and output, and
# optionally a file on stdin:
#
#   t_case "unknown applet" --exit 2 --err-has "unknown applet 'x'" \
#       -- "$HABOX" x
#
# Options: --exit N (default 0), --stdin FILE, --out-eq FILE (stdout
# exactly), --out-has TEXT, --out-lacks TEXT, --err-has TEXT,
# --err-lacks TEXT, --err-eq FILE (repeatable where it makes sense).
# Each case prints "PASS suite: name" or "FAIL suite: name: why" and the
# output that did not match. t_ok NAME CMD... passes when CMD succeeds.
#
# Every run gets unique names (T_ID) and a temp dir (T_TMP); t_defer CMD
# registers cleanup that runs on exit, even after a failure or a signal;
# t_bg starts a process whose PID is killed at exit (only ours, by PID).
set -u
: "${HABOX:?set HABOX to the habox binary (tests/run.sh does)}"
# Debian's programs first: a version manager's shim on PATH (pyenv's
# python3 is a script that takes most of a second a call, and every
# status check parses JSON with python3) must not pace the tests.
PATH=/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}
export PATH
HABOX_TOP=${HABOX_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
T_SUITE=$(basename "$0" .sh)
T_ID=$(printf '%x%04x' $$ $((RANDOM % 65536)))
T_TMP=$(mktemp -d "/tmp/habox-$T_SUITE.XXXXXX")
T_DEFER=()
T_PIDS=()
T_KEEP=()
T_N=0

t_defer() { T_DEFER+=("$*"); }
# t_keep NAME FILE: copy FILE to the logs dir (T_LOGDIR) as SUITE-NAME at
# exit, so that daemons' logs outlive the temp dir for a post-mortem
# (prefixed with T_LOG_PREFIX: the sanitizer run's must not overwrite
# the plain run's).
t_keep() { T_KEEP+=("$1" "$2"); }

t_bg() { # t_bg CMD... ; sets T_LASTPID
	"$@" &
	T_LASTPID=$!
	T_PIDS+=("$T_LASTPID")
}

t_exit() {
	local i p
	for p in "${T_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	for p in "${T_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ((i = ${#T_DEFER[@]} - 1; i >= 0; i--)); do
		eval "${T_DEFER[$i]}" >/dev/null 2>&1
	done
	if [ -n "${T_LOGDIR:-}" ]; then
		for ((i = 0; i < ${#T_KEEP[@]}; i += 2)); do
			cp "${T_KEEP[$((i + 1))]}" \
			    "$T_LOGDIR/${T_LOG_PREFIX:-}$T_SUITE-${T_KEEP[$i]}" \
			    2>/dev/null
		done
	fi
	rm -rf "$T_TMP"
}
trap t_exit EXIT
trap 'exit 130' INT TERM HUP

t_pass() { echo "PASS $T_SUITE: $1"; }
t_fail() { echo "FAIL $T_SUITE: $1: $2 (at $(date +%T.%3N))"; }
t_skip() { echo "SKIP $T_SUITE: $1: $2"; }

# Show a file's first lines, indented, after a failure.
t_show() { echo "  --- $1:"; head -c 2000 "$2" | sed 's/^/  | /'; }

t_case() {
	local name=$1 want_exit=0 stdin=/dev/null
	local -a out_has=() out_lacks=() err_has=() err_lacks=()
	local out_eq= err_eq= why= d rc t
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--exit) want_exit=$2; shift 2 ;;
		--stdin) stdin=$2; shift 2 ;;
		--out-eq) out_eq=$2; shift 2 ;;
		--err-eq) err_eq=$2; shift 2 ;;
		--out-has) out_has+=("$2"); shift 2 ;;
		--out-lacks) out_lacks+=("$2"); shift 2 ;;
		--err-has) err_has+=("$2"); shift 2 ;;
		--err-lacks) err_lacks+=("$2"); shift 2 ;;
		--) shift; break ;;
		*) echo "t_case: bad option $1" >&2; return 2 ;;
		esac
	done
	T_N=$((T_N + 1))
	d=$T_TMP/case.$T_N
	mkdir -p "$d"
	"$@" <"$stdin" >"$d/out" 2>"$d/err"
	rc=$?
	# (with the last line of stderr: the recap at the end of a run, all
	# that a cut-off CI log may show, then says why)
	[ "$rc" = "$want_exit" ] || why="exit $rc, expected $want_exit$(
		tail -1 "$d/err" | cut -c1-200 | sed 's/^./: &/')"
	if [ -z "$why" ] && [ -n "$out_eq" ] && ! cmp -s "$out_eq" "$d/out"; then
		why="stdout differs from $(basename "$out_eq")"
		diff -u "$out_eq" "$d/out" | head -20 >"$d/diff"
	fi
	if [ -z "$why" ] && [ -n "$err_eq" ] && ! cmp -s "$err_eq" "$d/err"; then
		why="stderr differs from $(basename "$err_eq")"
		diff -u "$err_eq" "$d/err" | head -20 >"$d/diff"
	fi
	for t in "${out_has[@]}"; do
		[ -z "$why" ] && ! grep -qF -- "$t" "$d/out" && why="stdout lacks '$t'"
	done
	for t in "${out_lacks[@]}"; do
		[ -z "$why" ] && grep -qF -- "$t" "$d/out" && why="stdout has '$t'"
	done
	for t in "${err_has[@]}"; do
		[ -z "$why" ] && ! grep -qF -- "$t" "$d/err" && why="stderr lacks '$t'"
	done
	for t in "${err_lacks[@]}"; do
		[ -z "$why" ] && grep -qF -- "$t" "$d/err" && why="stderr has '$t'"
	done
	if [ -z "$why" ]; then
		t_pass "$name"
		return 0
	fi
	t_fail "$name" "$why"
	echo "  \$ $*"
	[ -s "$d/diff" ] && t_show diff "$d/diff"
	t_show stdout "$d/out"
	t_show stderr "$d/err"
	return 1
}

t_ok() { # t_ok NAME CMD...
	local name=$1
	shift
	if "$@" >"$T_TMP/ok.out" 2>&1; then
		t_pass "$name"
	else
		t_fail "$name" "command failed: $*"
		t_show output "$T_TMP/ok.out"
		return 1
	fi
}

# 1 when the habox under test has the applet built in.
t_has_applet() { "$HABOX" --list | grep -qx "$1"; }

# Wait up to $1 seconds of wall-clock time (decimals allowed) for CMD to
# succeed, times T_SLOW (default 1; tests/run.sh sets 2 for the sanitizer
# build, which runs everything about twice as slowly). The time CMD itself
# takes counts: a slow check does not stretch the limit.
t_now_us() { local t=${EPOCHREALTIME//[!0-9]/}; echo "${t#0}"; }
t_wait() {
	local start end n=0
	start=$(t_now_us)
	end=$(( start + $(awk -v l="$1" -v s="${T_SLOW:-1}" \
		'BEGIN { printf "%d", l * s * 1000000 }') ))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n + 1))
		if [ "$(t_now_us)" -ge "$end" ]; then
			# For the failure report: how long, how many tries.
			echo "t_wait: gave up after $(( ($(t_now_us) - start) / 1000 )) ms and $n tries (from $(date -d "@$((start / 1000000))" +%T)): $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

t_require_root() {
	if [ "$(id -u)" != 0 ]; then
		t_skip "all" "needs root"
		exit 0
	fi
}
