# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# tap.sh - TAP lines and picfw helpers shared by the end-to-end scripts.
# The caller sets ROOT (the source tree) and TAP_PREFIX (e.g. test_e2e_),
# sources this file, then starts as every script does:
#   e2e_args "$@"                  BUILD_DIR: BUILD, PICFW, PEER, POLICY
#   e2e_need_root WHY; e2e_need_tools TOOL...; e2e_need_bins [BIN...]
#   source lib.sh (the namespace lab), if it uses it
#   cleanup() { ...; }; e2e_begin NAME     traps, and the scratch directory TMP
# shellcheck shell=bash

# e2e_args "$@": the one argument, BUILD_DIR (holding picfw and tests/peer).
e2e_args()
{
	if [[ $# -ne 1 ]]; then
		echo "usage: $0 BUILD_DIR" >&2
		exit 2
	fi
	BUILD=$1
	PICFW=$(realpath -m "$BUILD/picfw")
	PEER=$(realpath -m "$BUILD/tests/peer")
	# shellcheck disable=SC2034 # the scripts' policy
	POLICY=$ROOT/etc/pic.policy
}

# e2e_need_root WHY: SKIP the whole script unless root (WHY: what for, or "").
e2e_need_root()
{
	local why=$1

	if [[ $EUID -ne 0 ]]; then
		echo "ok - ${TAP_PREFIX}all # SKIP needs root${why:+ $why}"
		exit 0
	fi
}

# e2e_need_tools TOOL...: SKIP the whole script when one is missing.
e2e_need_tools()
{
	local tool

	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "ok - ${TAP_PREFIX}all # SKIP missing $tool (scripts/deps.sh installs it)"
			exit 0
		fi
	done
}

# e2e_need_bins [BIN...]: these (default: picfw and the peer tool) must be built.
e2e_need_bins()
{
	local bin

	[[ $# -gt 0 ]] || set -- "$PICFW" "$PEER"
	for bin in "$@"; do
		if [[ ! -x $bin ]]; then
			echo "not ok - ${TAP_PREFIX}all"
			echo "# $bin is missing: make tests-build"
			exit 1
		fi
	done
}

# e2e_begin NAME: the caller's cleanup() on exit (and on INT and TERM), and a
# scratch directory TMP=/tmp/NAME.XXXXXX.
e2e_begin()
{
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	TMP=$(mktemp -d "/tmp/$1.XXXXXX") || exit 1
}

PASSED=0
FAILED=0
SKIPPED=0

ok()
{
	echo "ok - ${TAP_PREFIX}$1"
	PASSED=$((PASSED + 1))
}

skip()
{
	echo "ok - ${TAP_PREFIX}$1 # SKIP $2"
	SKIPPED=$((SKIPPED + 1))
}

# not_ok NAME [DIAGNOSTIC...]: each diagnostic shown as up to 10 "# " lines.
not_ok()
{
	local name=$1 line
	shift
	echo "not ok - ${TAP_PREFIX}$name"
	FAILED=$((FAILED + 1))
	for line in "$@"; do
		[[ -n $line ]] && printf '%s\n' "$line" | head -n 10 | sed 's/^/# /'
	done
}

# check NAME RC MESSAGE...: ok if RC is 0.
check()
{
	local name=$1 rc=$2
	shift 2
	if [[ $rc -eq 0 ]]; then
		ok "$name"
	else
		not_ok "$name" "$@"
	fi
}

# pf ARGS...: picfw in the Edge namespace; stdout in $TMP/out, stderr in $TMP/err.
pf()
{
	timeout 20 nsenter --net="/run/netns/$LAB_EDGE_NS" -- "$PICFW" "$@" \
		>"$TMP/out" 2>"$TMP/err"
}

# A command's stderr is "one line" if it has exactly one non-empty line.
one_line_err()
{
	[[ $(grep -c . "$TMP/err") -eq 1 ]]
}

# ex edge|net PEER-ARGS...: run one exchange with the peer tool ($PEER);
# its stderr in $TMP/peer.err.
ex()
{
	local where=$1
	shift
	if [[ $where == edge ]]; then
		in_edge "$PEER" "$@" 2>"$TMP/peer.err"
	else
		in_net "$PEER" "$@" 2>"$TMP/peer.err"
	fi
}

# expect_pass NAME TIMEOUT edge|net PEER-ARGS...: must complete within TIMEOUT s.
expect_pass()
{
	local name=$1 t=$2
	shift 2
	if ex "$@" --timeout "$t"; then
		ok "$name"
	else
		not_ok "$name" "expected to pass within $t s: peer $*" "$(cat "$TMP/peer.err")"
	fi
}

# expect_block NAME edge|net PEER-ARGS...: must time out within
# $TIMEOUT_BLOCK s (a refusal is not a drop). A TCP connect must time out in
# its handshake: a session that connects and then waits on a busy server is
# no block.
expect_block()
{
	local name=$1 rc want='timed out'
	shift
	[[ ${2:-} == tcp-connect ]] && want=': connect .*: timed out'
	ex "$@" --timeout "$TIMEOUT_BLOCK"
	rc=$?
	if [[ $rc -eq 1 ]] && grep -q "$want" "$TMP/peer.err"; then
		ok "$name"
	elif [[ $rc -eq 0 ]]; then
		not_ok "$name" "expected to be dropped, but it passed: peer $*"
	else
		not_ok "$name" "expected a timeout: peer $*" "$(cat "$TMP/peer.err")"
	fi
}

# stats FILE: `picfw stats $LAB_IFACE --json` into FILE; 0 if it is a JSON object.
stats()
{
	pf stats "$LAB_IFACE" --json || return 1
	jq -e 'type == "object"' "$TMP/out" >/dev/null 2>&1 || return 1
	cp "$TMP/out" "$1"
}

# --- reading `picfw stats --json` output (FILE) ------------------------------------

# row_val FILE ROW FIELD: the row's packets or bytes, "missing" if not one row.
row_val()
{
	jq -r --arg n "$2" --arg f "$3" \
		'[.rows[] | select(.name == $n) | .[$f]] | if length == 1 then .[0] else "missing" end' \
		"$1" 2>/dev/null
}

# reason_val FILE REASON [FIELD]: a reason's packets (or FIELD), "missing" if absent.
reason_val()
{
	jq -r --arg r "$2" --arg f "${3:-packets}" '.reasons[$r][$f] // "missing"' "$1" 2>/dev/null
}

# delta A B: B - A if both are numbers, else "?".
delta()
{
	if [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]]; then
		echo $(($2 - $1))
	else
		echo "?"
	fi
}

# elapsed T0: seconds since T0 (date +%s.%N), two decimals.
elapsed()
{
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'
}
