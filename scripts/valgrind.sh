#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# Valgrind memcheck over the CLI commands that need no kernel: `picfw check`
# on etc/pic.policy, the test policies (tests/fuzz/corpus/, one of them full
# of errors), a generated policy of 1,024 rows, a missing file; `help`,
# `help check`, `check --help`, `exporter --help`, `--version`, and bad usage
# (`exporter --listen nonsense` among them). Every run must end
# with no memcheck error and no leak (definite, indirect or possible), and
# with the exit status the command documents (0, 1 or 2).
#
# Usage: scripts/valgrind.sh [PICFW]       (default build/picfw; `make valgrind`)
# Build without SANITIZE=1: valgrind and AddressSanitizer do not mix.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
picfw=${1:-build/picfw}

if ! command -v valgrind >/dev/null; then
	echo "valgrind.sh: valgrind is missing (Debian: apt-get install valgrind)" >&2
	exit 1
fi
if [ ! -x "$picfw" ]; then
	echo "valgrind.sh: $picfw is not built (make)" >&2
	exit 1
fi
if nm -u "$picfw" 2>/dev/null | grep -q __asan_init; then
	echo "valgrind.sh: $picfw is built with AddressSanitizer; build it without SANITIZE=1" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
scripts/gen-policy.sh 1024 20000 >"$tmp/large.policy" || exit 1

VG=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 --track-origins=yes)

runs=0 bad=0

# vg EXPECTED_STATUS ARGS...: one command under memcheck.
vg() {
	local want=$1 rc log errors
	shift
	runs=$((runs + 1))
	log=$tmp/vg.$runs.log
	"${VG[@]}" --log-file="$log" "$picfw" "$@" >/dev/null 2>&1
	rc=$?
	errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
	if [ "${errors:-x}" != 0 ]; then
		echo "not clean: picfw $* ($errors memcheck errors or leaks)"
		sed 's/^/    /' "$log"
		bad=$((bad + 1))
	elif [ "$rc" -ne "$want" ]; then
		echo "clean, but: picfw $* exited $rc, expected $want"
		bad=$((bad + 1))
	else
		echo "clean: picfw $* (exit $rc)"
	fi
}

vg 0 check etc/pic.policy
for p in tests/fuzz/corpus/*.policy; do
	case $p in
	*error*) vg 1 check "$p" ;;
	*) vg 0 check "$p" ;;
	esac
done
vg 0 check "$tmp/large.policy"
vg 1 check "$tmp/no-such.policy"
vg 1 check /dev/null
vg 0 help
vg 0 help check
vg 0 check --help
vg 0 --version
vg 2 check
vg 2 no-such-command
vg 0 exporter --help
vg 2 exporter --listen nonsense
vg 0 run --help
vg 2 run p10-x
# Journal priorities (log.c): stderr (/dev/null here) named by JOURNAL_STREAM.
JOURNAL_STREAM=$(stat -L -c '%d:%i' /dev/null) vg 1 check tests/fuzz/corpus/errors.policy
JOURNAL_STREAM=$(stat -L -c '%d:%i' /dev/null) vg 2 no-such-command

echo "valgrind: $runs runs, $bad not clean"
[ "$bad" -eq 0 ]
