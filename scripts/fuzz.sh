#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# `make fuzz`: the long runs, each bounded in time.
#  1. The differential test (tests/datapath/test_differential.c) for MINUTES:
#     random policies and updates, random frames through the real XDP program
#     and the reference classifier. Needs root (BPF_PROG_TEST_RUN).
#  2. The libFuzzer harness of the policy parser and compiler
#     (tests/fuzz/fuzz_policy.c) for MINUTES, from the seed corpus.
# Prints what ran (policies, frames, executions) and what was found; every
# mismatch or crash is saved as a reproducible case under BUILD/fuzz/, with
# the command that replays it. Exits 1 when anything was found.
#
# Usage: scripts/fuzz.sh BUILD_DIR [MINUTES]    (make fuzz FUZZ_MINUTES=N)
# PICFW_DIFF_SEED=S fixes the differential test's seed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
build=${1:?usage: scripts/fuzz.sh BUILD_DIR [MINUTES]}
minutes=${2:-5}
seconds=$(awk -v m="$minutes" 'BEGIN { s = int(m * 60); print (s < 1 ? 1 : s) }')

diff_bin=$build/tests/test_differential
fuzz_bin=$build/fuzz/fuzz_policy
out=$build/fuzz
cases=$out/diff-cases
artifacts=$out/artifacts
corpus=$out/corpus
mkdir -p "$cases" "$artifacts" "$corpus" || exit 1
for b in "$diff_bin" "$fuzz_bin"; do
	if [ ! -x "$b" ]; then
		echo "fuzz.sh: $b is not built (make tests-build fuzz-build)" >&2
		exit 1
	fi
done

found=0

# --- 1. differential --------------------------------------------------------
echo "fuzz: differential test for ${seconds} s (mismatches saved in $cases/)"
diff_log=$out/differential.log
before=$(find "$cases" -name '*.case' | wc -l)
PICFW_DIFF_SECONDS=$seconds PICFW_DIFF_SAVE=$cases "$diff_bin" 2>&1 | tee "$diff_log" |
	grep -E '^# (random|saved cases|MISMATCH|saved |  (reference|picfw|packet):)|^(not )?ok '
stats=$(grep '^DIFF-STATS' "$diff_log" | tail -1)
after=$(find "$cases" -name '*.case' | wc -l)
if [ -z "$stats" ]; then
	reason=$(grep -m1 'SKIP\|cannot load' "$diff_log")
	echo "fuzz: differential: did not run${reason:+ ($reason)}"
	diff_summary="did not run (root is needed for BPF_PROG_TEST_RUN)"
else
	val() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$stats"; }
	mism=$(val mismatches) refused=$(val refused)
	diff_summary="$(val policies) policies, $(val applies) applies (updates included), $(val frames) frames, $mism mismatches, $refused policies refused or misread"
	if [ "$mism" -ne 0 ] || [ "$refused" -ne 0 ] || grep -q '^not ok' "$diff_log"; then
		found=1
	fi
fi

# --- 2. libFuzzer -------------------------------------------------------------
echo "fuzz: libFuzzer on the policy parser and compiler for ${seconds} s (findings in $artifacts/)"
fuzz_log=$out/libfuzzer.log
: >"$fuzz_log"
start=$(date +%s)
execs=0 runs=0
arts_before=$(find "$artifacts" -type f | wc -l)
# libFuzzer stops at its first crash: start it again until the time is up,
# so that one finding does not end the run (at most 20 findings).
while :; do
	left=$((seconds - ($(date +%s) - start)))
	[ "$left" -gt 0 ] || break
	[ $(($(find "$artifacts" -type f | wc -l) - arts_before)) -lt 20 ] || break
	runs=$((runs + 1))
	"$fuzz_bin" -max_total_time="$left" -dict=tests/fuzz/policy.dict -max_len=8192 \
		-timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "$corpus" tests/fuzz/corpus >>"$fuzz_log" 2>&1
	rc=$?
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$fuzz_log" | tail -1)
	execs=$((execs + ${n:-0}))
	[ "$rc" -eq 0 ] && break
	grep -E '^(==[0-9]+==ERROR|fuzz_policy: |SUMMARY)' "$fuzz_log" | tail -3
done
arts=$(($(find "$artifacts" -type f | wc -l) - arts_before))
[ "$arts" -gt 0 ] && found=1

echo
echo "fuzz: differential: $diff_summary"
if [ $((after - before)) -gt 0 ]; then
	echo "      $((after - before)) new cases in $cases/; replay one with"
	echo "      sudo PICFW_DIFF_SECONDS=0 PICFW_DIFF_REPLAY=$cases/NAME.case $diff_bin"
	echo "      and keep it as a regression test by copying it to tests/reference/cases/."
fi
echo "fuzz: libFuzzer: $execs executions in $runs runs, $arts findings, corpus $(find "$corpus" -type f | wc -l) inputs"
if [ "$arts" -gt 0 ]; then
	ls -t "$artifacts" | head -n "$arts" | sed "s|^|      $artifacts/|"
	echo "      replay one with: $fuzz_bin FILE; keep it as a unit test (tests/unit/test_policy.c)"
	echo "      and in tests/fuzz/corpus/ once fixed."
fi
exit "$found"
