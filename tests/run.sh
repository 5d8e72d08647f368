#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# Run picfw's test layers and end with one line: "N passed, M failed".
# Usage: tests/run.sh BUILD_DIR [unit|datapath|e2e ...]
# Every layer prints TAP lines ("ok ..." / "not ok ..."); this counts them.
# A layer that exits non-zero without reporting a failure counts as one.
set -u
build=${1:?usage: tests/run.sh BUILD_DIR [unit|datapath|e2e ...]}
shift
layers=("$@")
[ ${#layers[@]} -eq 0 ] && layers=(unit datapath e2e)
top=$(cd "$(dirname "$0")/.." && pwd)
export PICFW_SRCDIR=$top
cd "$top" || exit 1

passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_one() { # NAME COMMAND...
	local name=$1 rc p f s
	shift
	echo "# --- $name"
	"$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(grep -cE '^ok ' "$log" | tr -d ' ')
	s=$(grep -cE '^ok .*# ?(SKIP|skip)' "$log" | tr -d ' ')
	f=$(grep -cE '^not ok ' "$log" | tr -d ' ')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc without a failing test"
		f=1
	fi
	passed=$((passed + p - s))
	skipped=$((skipped + s))
	failed=$((failed + f))
}

for layer in "${layers[@]}"; do
	case $layer in
	unit | datapath)
		# A test binary belongs to the layer whose directory holds its source.
		for src in tests/"$layer"/test_*.c; do
			t=$build/tests/$(basename "$src" .c)
			[ -x "$t" ] || continue
			run_one "$layer: $(basename "$t")" "$t"
		done
		# Shell tests of the layer (install, units, CLI against its man page).
		for t in tests/"$layer"/test_*.sh; do
			[ -f "$t" ] || continue
			run_one "$layer: $(basename "$t")" bash "$t" "$build"
		done
		;;
	e2e)
		# Every script, each its own run (bash: no reliance on the exec bit).
		for t in tests/e2e/test_*.sh; do
			[ -f "$t" ] || continue
			run_one "e2e: $(basename "$t")" bash "$t" "$build"
		done
		;;
	*)
		echo "tests/run.sh: unknown layer '$layer'" >&2
		exit 2
		;;
	esac
done

echo
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
