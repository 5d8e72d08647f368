#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# profile.sh - where picfw's XDP program spends its time on one packet kind:
# BPF_PROG_TEST_RUN of that kind in a loop on one CPU (build/bench/testrun
# --packet), sampled by perf (cpu-clock: this works in VMs without a PMU),
# each sample attributed to the source line whose JITed code holds it.
# Prints the lines by share of the program's samples, with how many of their
# instructions were sampled (a lower bound on those run), and the share
# outside the program (BPF_PROG_TEST_RUN's own loop).
# A timer's sample lands on the instruction after the one that waited: read
# a share as its line's and its predecessor's.
# Usage: sudo bench/profile.sh [-b BUILD_DIR] [-s SECONDS] KIND [POLICY]
#        (KIND: build/bench/testrun --list-packets; POLICY: etc/pic.policy)
set -euo pipefail
build=build seconds=3
while getopts b:s: o; do
	case $o in
	b) build=$OPTARG ;;
	s) seconds=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
kind=${1:?usage: bench/profile.sh [-b BUILD_DIR] [-s SECONDS] KIND [POLICY]}
policy=${2:-etc/pic.policy}
testrun=$build/bench/testrun
[ -x "$testrun" ] || { echo "profile.sh: $testrun missing (make bench-build)" >&2; exit 1; }
command -v perf >/dev/null || { echo "profile.sh: perf missing (sudo scripts/deps.sh bench)" >&2; exit 1; }
"$testrun" --list-packets | cut -d, -f1 | grep -qx -- "$kind" ||
	{ echo "profile.sh: no packet kind '$kind' (testrun --list-packets)" >&2; exit 2; }
cpu=$(($(nproc) - 1))
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# Enough repeats for the whole sampling window and more (runs of 1e7).
taskset -c "$cpu" "$testrun" --rounds 100 --repeat 10000000 --lines "$tmp/lines" \
	--picfw "pic=$policy" --packet "$kind" >"$tmp/run" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/lines" ] && break; sleep 0.1; done
[ -s "$tmp/lines" ] || { cat "$tmp/run" >&2; exit 1; }
sleep 0.5 # past the maps' fill
perf record -q -C "$cpu" -e cpu-clock -F 10000 -o "$tmp/perf.data" -- sleep "$seconds" \
	>/dev/null 2>&1
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=
grep '^run,' "$tmp/run" | awk -F, '{ print "# " $3 " " $4 ": " $5 ", " $7 " ns per packet" }' | head -3

# Samples (S) and line starts (L) by address, as text: 16 hex digits sort
# like numbers. Each sample goes to the last line start at or below it.
perf script -i "$tmp/perf.data" -F ip 2>/dev/null |
	awk '{ printf "%016s\tS\n", $1 }' | tr ' ' 0 >"$tmp/samples"
awk -F'\t' '{ print $1 "\tL\t" $2 "\t" $3 }' "$tmp/lines" >"$tmp/starts"
sort -s -t"$(printf '\t')" -k1,1 -k2,2 "$tmp/starts" "$tmp/samples" | awk -F'\t' '
	$2 == "L" { cur = $3; src[cur] = $4; next }
	{ total++; if (cur == "" || cur == "-") { outside++; next }
	  n[cur]++; if (!(cur SUBSEP $1 in seen)) { seen[cur, $1] = 1; ins[cur]++ } }
	END {
		inprog = total - outside
		if (!inprog) { print "profile.sh: no sample in the program" > "/dev/stderr"; exit 1 }
		printf "# %d samples: %.0f%% in the program, %.0f%% outside (the test run loop)\n",
			total, 100 * inprog / total, 100 * outside / total
		for (l in n) printf "%5.1f%%\t%3d\t%-22s\t%s\n", 100 * n[l] / inprog, ins[l], l, substr(src[l], 1, 70)
	}' >"$tmp/report"
head -1 "$tmp/report"
printf '%6s\t%s\t%-22s\t%s\n' share insns line source
tail -n +2 "$tmp/report" | sort -t"$(printf '\t')" -k1,1 -rn | head -40
