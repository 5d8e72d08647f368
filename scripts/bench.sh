#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# bench.sh - `make bench`: picfw's speed side by side with its peers, all
# numbers taken in one run on this machine.
#
#   scripts/bench.sh [BUILD_DIR]     (root; `make bench` installs and builds first)
#   scripts/bench.sh --report-only [BUILD_DIR]   tables, plot and README section
#                                    again from BUILD_DIR/bench/raw/
#
# 1. BPF_PROG_TEST_RUN (BUILD_DIR/bench/testrun), ns per packet, repeat
#    300,000, 15 rounds, of: the floor (bench/floor.bpf.c: a per-CPU counter and
#    XDP_PASS); picfw with etc/pic.policy and with generated policies of 100
#    and 1,024 rows and 1,000, 10,000 and 100,000 prefixes (IPv4 and IPv6
#    half each, scripts/gen-policy.sh) and with the partner mix (1,024 rows x
#    100,000 nested, overlapping prefixes in 64 sets, hosts next to the
#    measured sources: scripts/gen-policy.sh --mix partner); xdp-filter from xdp-tools in ports
#    mode and in IP mode, loaded by xdp-filter itself on a veth in a namespace
#    made here and run by program id; single operations (bench/probes.bpf.c)
#    for attribution; picfw's egress (TC) program on three of the Edge's own
#    packets, against a TC floor (bench/floor_tc.bpf.c). Everything is loaded
#    first, then measured in interleaved rounds, on one CPU. Medians, and
#    each program's lowest decile (this VM's quiet rounds: see report.awk).
# 2. End to end: a veth pair between two namespaces made here; 64-byte
#    frames from build/bench/sender into a receiver running, in turn,
#    XDP_DROP, picfw (etc/pic.policy), nftables `inet` (bench/pic-inet.nft),
#    nftables `netdev` ingress (bench/pic-netdev.nft), and no filter.
# 3. `picfw apply` latency (PIC policy, 100,000 prefixes, the partner mix) and
#    map memory per policy.
# 4. `picfw exporter`: time of a /metrics scrape (curl's time_total, on
#    loopback in the receiver's namespace) with the PIC policy and with 1,024
#    rows (scripts/gen-policy.sh 1024 1000).
#
# Results in BUILD_DIR/bench/: results.txt (tables, goals), results.csv,
# results.png, README-section.md; raw data under raw/. Takes 4-6 minutes.
#
# Settings (environment):
#   BENCH_ROUNDS       rounds of the end-to-end, apply and exporter parts (5; at least 5)
#   BENCH_TESTRUN_ROUNDS  rounds of BPF_PROG_TEST_RUN (15; 5 to 100)
#   BENCH_REPEAT       BPF_PROG_TEST_RUN repetitions per measurement (300000)
#   BENCH_E2E_SECONDS  seconds per end-to-end measurement (2)
#   BENCH_CPU          the CPU everything runs on (the last one)
#   BENCH_SKIP         parts to leave out: any of testrun e2e apply scrape xdp-filter nft
#   BENCH_SCRAPES      exporter scrapes timed per policy and round (20)
#
# Network safety (doc: design.md): frames are sent only inside the two
# namespaces made here, on their veth pair, with documentation addresses
# (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32); the veth
# pairs are created directly inside their namespaces, so nothing touches the
# host's interfaces. Every loop is bounded; every namespace, program and pin
# made here is removed on exit, on failure and on Ctrl-C too (trap).
set -u

REPORT_ONLY=0
if [[ ${1:-} == --report-only ]]; then
	REPORT_ONLY=1
	shift
fi
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

ROUNDS=${BENCH_ROUNDS:-5}
TR_ROUNDS=${BENCH_TESTRUN_ROUNDS:-15}
REPEAT=${BENCH_REPEAT:-300000}
E2E_SECONDS=${BENCH_E2E_SECONDS:-2}
NCPU=$(nproc)
CPU=${BENCH_CPU:-$((NCPU - 1))}
SKIP=" ${BENCH_SKIP:-} "

B=$build/bench   # where the results go
# The run works on a copy of what it runs, in a directory of its own: a
# `make clean` or rebuild in the tree meanwhile does not pull the binaries or
# the raw data from under it. Results are copied to $B at the end.
WORK=
RAW=
BIN=
PICFW=
TESTRUN=
SENDER=
BIG=r1024-p100000 # "the 100,000-prefix policy" of the apply and scale goals
MIX=mix-partner   # the same size, shaped like real partner lists (issue 12)

# Names: distinct from the tests' lab (pf-edge0), so both can run at once.
# BENCH_NS_PREFIX, BENCH_IF_PREFIX: other names, to run a part beside someone else's lab.
NS_TX=${BENCH_NS_PREFIX:-picfw-bench}-tx-$$
NS_RX=${BENCH_NS_PREFIX:-picfw-bench}-rx-$$
NS_XF=${BENCH_NS_PREFIX:-picfw-bench}-xdpf-$$
IF_TX=${BENCH_IF_PREFIX:-pfb}-tx0
IF_RX=${BENCH_IF_PREFIX:-pfb}-rx0
IF_XF_PORTS=${BENCH_IF_PREFIX:-pfb}-xf0
IF_XF_IP=${BENCH_IF_PREFIX:-pfb}-xf1
BPFFS=/sys/fs/bpf
PICFW_PINS=$BPFFS/picfw/$IF_RX
OWN_PIN_DIR=$BPFFS/picfw-bench-$$
XDPF_PINS=$BPFFS/xdp-filter

OWN_PICFW_PINS=0
OWN_XDPF_PINS=0
XDPF_LOADED=()

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	log "$*"
	[[ -n $WORK && -d $WORK ]] && KEEP_WORK=1 && log "what was measured so far: $WORK"
	exit 1
}
skipped() { [[ $SKIP == *" $1 "* ]]; }

in_tx() { nsenter --net="/run/netns/$NS_TX" -- "$@"; }
in_rx() { nsenter --net="/run/netns/$NS_RX" -- "$@"; }
in_xf() { nsenter --net="/run/netns/$NS_XF" -- "$@"; }
ns_exists() { [[ -e /run/netns/$1 ]]; }

cleanup() {
	local ifc i

	if [[ -n ${EXPORTER_PID:-} ]]; then
		kill "$EXPORTER_PID" 2>/dev/null
		wait "$EXPORTER_PID" 2>/dev/null
		EXPORTER_PID=
	fi

	if ns_exists "$NS_XF"; then
		for ifc in "${XDPF_LOADED[@]}"; do
			timeout 20 nsenter --net="/run/netns/$NS_XF" -- xdp-filter unload "$ifc" \
				>/dev/null 2>&1
		done
	fi
	XDPF_LOADED=()
	if ns_exists "$NS_RX"; then
		if [[ -e $PICFW_PINS ]] && [[ -x $PICFW ]]; then
			timeout 20 nsenter --net="/run/netns/$NS_RX" -- "$PICFW" detach "$IF_RX" \
				>/dev/null 2>&1
		fi
	fi
	for i in "$NS_XF" "$NS_RX" "$NS_TX"; do
		ns_exists "$i" && ip netns del "$i" 2>/dev/null
	done
	# Pins left by a failed detach or unload keep programs alive: ours only.
	if [[ $OWN_PICFW_PINS == 1 && -e $PICFW_PINS ]]; then
		log "removing leftover pins in $PICFW_PINS"
		rm -rf -- "$PICFW_PINS"
		rmdir "$BPFFS/picfw" 2>/dev/null
	fi
	[[ -e $OWN_PIN_DIR ]] && rm -rf -- "$OWN_PIN_DIR"
	if [[ $OWN_XDPF_PINS == 1 && -e $XDPF_PINS ]]; then
		log "removing leftover pins in $XDPF_PINS"
		rm -rf -- "$XDPF_PINS"
	fi
	OWN_PICFW_PINS=0
	OWN_XDPF_PINS=0
	[[ -n $WORK && -d $WORK && ${KEEP_WORK:-0} != 1 ]] && rm -rf -- "$WORK"
	for ((i = 0; i < 40; i++)); do
		ns_exists "$NS_TX" || ns_exists "$NS_RX" || ns_exists "$NS_XF" || break
		sleep 0.05
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The end-to-end method, printed with its table.
e2e_note() {
	E2E_NOTE="Sender and receive path both on CPU $CPU: a veth delivers in softirq on the sending CPU, so
   the sender's rate is 1 / (sender + receiver cost) and a receiver's cost shows as the difference
   from the XDP_DROP round. (On $NCPU CPUs, a sender with a CPU of its own would be the bottleneck
   and hide the receiver's cost.) Receivers: xdp-drop (count, XDP_DROP), xdp-pass (the floor: count,
   XDP_PASS), picfw (etc/pic.policy, picfw attach), nft-netdev (bench/pic-netdev.nft, ingress),
   nft-inet (bench/pic-inet.nft: input hook, ct state), none. Dropped traffic (v4-tcp-miss): a
   stranger's SYN to 5061, which every filter drops (with no filter the stack answers RST).
   Passed traffic (v4-udp-hit): UDP to 3478, which every filter passes to a stack with no socket
   there. Any XDP program puts a veth in its XDP receive mode, which copies each frame out of its
   skb and builds a new skb for XDP_PASS: compare XDP programs on passed traffic with xdp-pass."
}

# --- tables, CSV, plot, README section ------------------------------------------

# render: RAW (and its meta.env) into results in $B, through $WORK/out.
render() {
	e2e_note

	OUT=$WORK/out
	mkdir -p "$OUT" || exit 1

	inputs=()
	for f in testrun e2e apply memory; do
		[[ -s $RAW/$f.csv ]] && inputs+=("$RAW/$f.csv")
	done
	[[ ${#inputs[@]} -gt 0 || -s $RAW/scrape.csv ]] || die "nothing was measured"
	: >"$OUT/results.txt"
	[[ ${#inputs[@]} -eq 0 ]] || awk -f bench/report.awk -v csv="$OUT/results.csv" -v plotdat="$RAW/plot.dat" \
		-v readme="$RAW/readme-table.md" -v goals="$RAW/goals.md" -v when="$WHEN" -v kernel="$KERNEL" \
		-v cpu="$CPU_MODEL" -v ncpu="$NCPU" -v e2e_note="$E2E_NOTE" "${inputs[@]}" \
		>"$OUT/results.txt" || die "report.awk failed"
	if [[ -s $RAW/scrape.csv ]]; then
		awk -F, 'NR > 1 { v[$2] = v[$2] " " $3 }
		END {
			print "5. picfw exporter: one GET /metrics (curl time_total, loopback, ms), all rounds"
			for (p in v) {
				n = split(substr(v[p], 2), a, " ")
				for (i = 1; i <= n; i++)
					for (j = i + 1; j <= n; j++)
						if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
				goal = p == "pic" ? 10 : 50
				printf "   %-6s  median %7.3f  min %7.3f  max %7.3f  (%d scrapes; goal < %d ms: %s)\n",
					p, a[int((n + 1) / 2)], a[1], a[n], n, goal,
					a[int((n + 1) / 2)] < goal ? "met" : "NOT met"
			}
			print ""
		}' "$RAW/scrape.csv" >>"$OUT/results.txt"
	fi
	if [[ -s $RAW/picfw_xdp.calls.txt ]]; then
		{
			echo "   Helper calls left in picfw's program after the verifier (static count; array"
			echo "   lookups are inlined and do not appear), bpftool prog dump xlated:"
			sed 's/^/   /' "$RAW/picfw_xdp.calls.txt"
			echo
		} >>"$OUT/results.txt"
	fi

	if command -v gnuplot >/dev/null && [[ -s $RAW/plot.dat ]]; then
		gnuplot <<-EOF 2>"$RAW/gnuplot.err" || log "gnuplot failed: see $B/raw/gnuplot.err"
	set terminal pngcairo noenhanced size 1400,620 font ",10"
	set output "$OUT/results.png"
	set multiplot layout 1,2 title "ns per packet through BPF_PROG_TEST_RUN against policy size ($WHEN, $KERNEL, $NCPU CPUs)"
	set logscale x
	set xrange [1.5:150000]
	set xtics ("PIC" 2, "1k" 1000, "10k" 10000, "100k" 100000)
	set xlabel "prefixes in the policy (xdp-filter IP: addresses)"
	set ylabel "ns/packet, median of $TR_ROUNDS rounds"
	set yrange [0:*]
	set key inside top left horizontal maxcols 2 width -6 font ",8" samplen 3
	set offsets 0, 0, graph 0.5, 0
	set grid ytics
	# Blocks per packet kind: picfw 100 rows, picfw 1,024 rows, floor, xdp-filter ports, xdp-filter IP.
	d = "$RAW/plot.dat"
	set title "IPv4 TCP to 5061 (hit: a PIC partner; miss: a stranger)"
	plot d index 0 u 1:2 w lp lw 2 pt 7 lc rgb "#1f77b4" t "picfw 100 rows, hit", \
	     d index 5 u 1:2 w lp lw 2 pt 6 dt 2 lc rgb "#1f77b4" t "picfw 100 rows, miss", \
	     d index 1 u 1:2 w lp lw 2 pt 5 lc rgb "#2ca02c" t "picfw 1,024 rows, hit", \
	     d index 6 u 1:2 w lp lw 2 pt 4 dt 2 lc rgb "#2ca02c" t "picfw 1,024 rows, miss", \
	     d index 3 u 1:2 w l lw 2 lc rgb "#d62728" t "xdp-filter ports (full program), hit", \
	     d index 8 u 1:2 w l lw 2 dt 2 lc rgb "#d62728" t "xdp-filter ports, miss", \
	     d index 4 u 1:2 w lp lw 2 pt 9 lc rgb "#ff7f0e" t "xdp-filter IP, hit", \
	     d index 9 u 1:2 w lp lw 2 pt 8 dt 2 lc rgb "#ff7f0e" t "xdp-filter IP, miss", \
	     d index 2 u 1:2 w l lw 2 lc rgb "#7f7f7f" t "floor (count + XDP_PASS)"
	set title "IPv6 TCP to 5061 (hit: a PIC partner; miss: a stranger)"
	plot d index 10 u 1:2 w lp lw 2 pt 7 lc rgb "#1f77b4" t "picfw 100 rows, hit", \
	     d index 15 u 1:2 w lp lw 2 pt 6 dt 2 lc rgb "#1f77b4" t "picfw 100 rows, miss", \
	     d index 11 u 1:2 w lp lw 2 pt 5 lc rgb "#2ca02c" t "picfw 1,024 rows, hit", \
	     d index 16 u 1:2 w lp lw 2 pt 4 dt 2 lc rgb "#2ca02c" t "picfw 1,024 rows, miss", \
	     d index 13 u 1:2 w l lw 2 lc rgb "#d62728" t "xdp-filter ports (full program), hit", \
	     d index 18 u 1:2 w l lw 2 dt 2 lc rgb "#d62728" t "xdp-filter ports, miss", \
	     d index 14 u 1:2 w lp lw 2 pt 9 lc rgb "#ff7f0e" t "xdp-filter IP, hit", \
	     d index 19 u 1:2 w lp lw 2 pt 8 dt 2 lc rgb "#ff7f0e" t "xdp-filter IP, miss", \
	     d index 12 u 1:2 w l lw 2 lc rgb "#7f7f7f" t "floor (count + XDP_PASS)"
	unset multiplot
	EOF
	fi

	# The README section the maintainers paste: the latest table and plot.
	{
		echo "## Performance"
		echo
		echo "Measured by \`sudo make bench\` on $WHEN: kernel $KERNEL, $CPU_MODEL, $NCPU vCPUs,"
		echo "everything on one CPU; medians of interleaved rounds taken in one run ($TR_ROUNDS"
		echo "of BPF_PROG_TEST_RUN, $ROUNDS of the rest"
		echo "(\`build/bench/results.txt\` has min–max, every packet kind and every ratio;"
		echo "\`results.csv\` the same as data)."
		echo
		echo "![ns per packet against policy size, picfw, xdp-filter and the floor](doc/bench.png)"
		echo
		echo "**Through BPF_PROG_TEST_RUN** (repeat $REPEAT): the cost of each program above the"
		echo "floor, a program that only bumps a per-CPU counter and passes"
		echo "(\`d\`: the program dropped the packet; xdp-filter cannot express the PIC rows"
		echo "exactly, so its verdicts differ):"
		echo
		cat "$RAW/readme-table.md" 2>/dev/null
		echo
		echo "**End to end**, 64-byte frames on a veth pair between two namespaces, sender and"
		echo "receive path on one CPU; ns/pkt is CPU time per packet (sender + receiver), and a"
		echo "receiver's extra cost is its difference from an XDP program that only counts and"
		echo "drops (dropped traffic: a stranger's SYN to 5061) or passes (passed traffic: UDP to"
		echo "3478), measured in the same round, or from no filter at all:"
		echo
		echo '```'
		sed -n '/^   receiver  /,/^$/p' "$OUT/results.txt" | sed '/^$/d' |
			grep -v -e '^   xdp-pass  *v4-tcp-miss' -e '^   xdp-drop  *v4-udp-hit'
		echo '```'
		echo
		echo "**\`picfw apply\`** and map memory:"
		echo
		echo '```'
		sed -n '/^3\. picfw apply/,/^4\. Goals/p' "$OUT/results.txt" | sed '$d' | sed '/^$/d'
		echo '```'
		if grep -q '^5\. picfw exporter' "$OUT/results.txt"; then
			echo
			echo "**\`picfw exporter\`**, one scrape of /metrics:"
			echo
			echo '```'
			sed -n '/^5\. picfw exporter/,/^$/p' "$OUT/results.txt" | sed '/^$/d'
			echo '```'
		fi
		echo
		echo "**Goals** of the benchmark issue, from the same run (every packet kind's line is"
		echo "in \`results.txt\`):"
		echo
		cat "$RAW/goals.md" 2>/dev/null
	} >"$OUT/README-section.md"

	# Into the build tree: results, and the raw data beside them.
	KEEP_WORK=1
	mkdir -p "$B" && rm -rf -- "$B/raw" && cp -r "$RAW" "$B/raw" &&
		rm -f "$B/results.txt" "$B/results.csv" "$B/results.png" "$B/README-section.md" &&
		cp "$OUT"/* "$B/" || die "copying the results to $B failed"
	KEEP_WORK=0
	log "done in $((SECONDS - START)) s: $B/results.txt, results.csv, results.png, README-section.md"
	cat "$B/results.txt"
}

if [[ $REPORT_ONLY == 1 ]]; then
	[[ -f $B/raw/meta.env ]] || die "no $B/raw/meta.env: run 'make bench' first"
	WORK=$(mktemp -d /tmp/picfw-bench.XXXXXX) || die "mktemp failed"
	RAW=$WORK/raw
	cp -r "$B/raw" "$RAW" || die "copying $B/raw failed"
	# shellcheck disable=SC1091
	. "$RAW/meta.env"
	START=$SECONDS
	render
	exit 0
fi

# --- checks -------------------------------------------------------------------

[[ $(id -u) -eq 0 ]] || die "needs root (BPF, namespaces): sudo make bench"
for c in ip nsenter jq bpftool taskset timeout awk; do
	command -v "$c" >/dev/null || die "missing command: $c (scripts/deps.sh bench)"
done
for f in "$build/picfw" "$B/testrun" "$B/sender" "$B/floor.bpf.o" "$B/floor_tc.bpf.o" \
	"$B/xdp_drop.bpf.o" "$B/probes.bpf.o"; do
	[[ -e $f ]] || die "missing $f: run 'make bench' (it builds first)"
done
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 5 && $ROUNDS -le 50 ]] ||
	die "BENCH_ROUNDS must be 5..50 (medians of at least 5 rounds)"
[[ $TR_ROUNDS =~ ^[0-9]+$ && $TR_ROUNDS -ge 5 && $TR_ROUNDS -le 100 ]] ||
	die "BENCH_TESTRUN_ROUNDS must be 5..100"
[[ $REPEAT =~ ^[0-9]+$ && $REPEAT -ge 1000 && $REPEAT -le 100000000 ]] ||
	die "BENCH_REPEAT must be 1000..100000000"
[[ $E2E_SECONDS =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "BENCH_E2E_SECONDS must be a number"
[[ $CPU =~ ^[0-9]+$ && $CPU -lt $NCPU ]] || die "BENCH_CPU must be 0..$((NCPU - 1))"
if [[ $(stat -f -c %T "$BPFFS" 2>/dev/null) != bpf_fs ]]; then
	log "mounting bpffs on $BPFFS"
	mount -t bpf bpf "$BPFFS" || die "cannot mount bpffs on $BPFFS"
fi
# (The pins' name is known once the receiver's namespace exists: see lab_up.)
OWN_PICFW_PINS=1

HAVE_XDPF=1
if skipped xdp-filter; then
	HAVE_XDPF=0
elif ! command -v xdp-filter >/dev/null; then
	log "xdp-filter is not installed (xdp-tools): its rows are left out"
	HAVE_XDPF=0
elif [[ -e $XDPF_PINS ]]; then
	log "$XDPF_PINS exists: xdp-filter is in use on this machine; the benchmark leaves it alone and its rows out"
	HAVE_XDPF=0
fi
HAVE_NFT=1
if skipped nft || ! command -v nft >/dev/null; then
	skipped nft || log "nft is not installed (nftables): its end-to-end rounds are left out"
	HAVE_NFT=0
fi


WORK=$(mktemp -d /tmp/picfw-bench.XXXXXX) || die "mktemp failed"
RAW=$WORK/raw
BIN=$WORK/bin
mkdir -p "$RAW/policies" "$BIN" || die "mkdir in $WORK failed"
cp "$build/picfw" "$B/testrun" "$B/sender" "$B/floor.bpf.o" "$B/floor_tc.bpf.o" \
	"$B/xdp_drop.bpf.o" "$B/probes.bpf.o" "$BIN/" || die "copying the binaries to $BIN failed"
PICFW=$BIN/picfw
TESTRUN=$BIN/testrun
SENDER=$BIN/sender

WHEN=$(date -u '+%Y-%m-%d %H:%M UTC')
KERNEL=$(uname -r)
CPU_MODEL=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
[[ -n $CPU_MODEL ]] || CPU_MODEL=$(uname -m)
START=$SECONDS
log "$WHEN, kernel $KERNEL, $CPU_MODEL, $NCPU CPUs; everything on CPU $CPU; $ROUNDS rounds"
for v in WHEN KERNEL CPU_MODEL NCPU CPU ROUNDS TR_ROUNDS REPEAT E2E_SECONDS; do
	printf '%s=%q\n' "$v" "${!v}"
done >"$RAW/meta.env"

# --- policies -----------------------------------------------------------------

PICFW_ARGS=(--picfw "pic=etc/pic.policy")
# The PIC policy again with the drop log on (as while `picfw log` runs, default rate).
PICFW_ARGS+=(--picfw-droplog "pic-log=etc/pic.policy")
for rows in 100 1024; do
	for prefixes in 1000 10000 100000; do
		name=r$rows-p$prefixes
		scripts/gen-policy.sh "$rows" "$prefixes" >"$RAW/policies/$name.policy" ||
			die "scripts/gen-policy.sh $rows $prefixes failed"
		PICFW_ARGS+=(--picfw "$name=$RAW/policies/$name.policy")
	done
done
scripts/gen-policy.sh --mix partner 1024 100000 1 >"$RAW/policies/$MIX.policy" ||
	die "scripts/gen-policy.sh --mix partner 1024 100000 1 failed"
PICFW_ARGS+=(--picfw "$MIX=$RAW/policies/$MIX.policy")

# --- xdp-filter, loaded by itself on veths of its own namespace ----------------

XDPF_ARGS=()
xdpf_prog_id() { # IFACE
	in_xf ip -j link show dev "$1" | jq -r '.[0].xdp.prog.id // empty'
}

if [[ $HAVE_XDPF == 1 ]] && ! skipped testrun; then
	ip netns add "$NS_XF" || die "ip netns add $NS_XF failed"
	ip link add "$IF_XF_PORTS" netns "$NS_XF" type veth peer name "$IF_XF_IP" netns "$NS_XF" ||
		die "creating the veth pair in $NS_XF failed"
	in_xf ip link set lo up && in_xf ip link set "$IF_XF_PORTS" up &&
		in_xf ip link set "$IF_XF_IP" up || die "bringing up $NS_XF failed"
	OWN_XDPF_PINS=1
	# Deny policy: what the rules name passes, the rest drops, like picfw.
	# LIBXDP_SKIP_DISPATCHER: the filter program itself on the interface, not
	# libxdp's dispatcher in front of it (which would add its own cost).
	# `-f tcp,udp` is the ports mode; no single-feature program has both, so
	# xdp-filter loads its full program (xdpfilt_dny_all).
	if LIBXDP_SKIP_DISPATCHER=1 in_xf xdp-filter load -p deny -f tcp,udp "$IF_XF_PORTS" &&
		XDPF_LOADED+=("$IF_XF_PORTS") &&
		LIBXDP_SKIP_DISPATCHER=1 in_xf xdp-filter load -p deny -f ipv4,ipv6 "$IF_XF_IP" &&
		XDPF_LOADED+=("$IF_XF_IP"); then
		# The PIC table's ports: inbound destinations, and the source ports
		# of the outbound rows' replies (one port each: a range would be
		# 10,000 `xdp-filter port` calls).
		ok=1
		in_xf xdp-filter port 5061 -p tcp -m dst,src || ok=0
		in_xf xdp-filter port 443 -p tcp -m dst || ok=0
		in_xf xdp-filter port 3478 -p udp -m dst,src || ok=0
		id_ports=$(xdpf_prog_id "$IF_XF_PORTS")
		id_ip=$(xdpf_prog_id "$IF_XF_IP")
		if [[ $ok == 1 && -n $id_ports && -n $id_ip ]]; then
			XDPF_ARGS=(--prog "xdpf-ports=$id_ports"
				--xdpf-ip "xdpf-ip-2=$id_ip:2"
				--xdpf-ip "xdpf-ip-1000=$id_ip:1000"
				--xdpf-ip "xdpf-ip-10000=$id_ip:10000")
			in_xf xdp-filter status >"$RAW/xdp-filter-status.txt" 2>&1
		else
			log "configuring xdp-filter failed: its rows are left out"
		fi
	else
		log "loading xdp-filter failed: its rows are left out"
	fi
fi

# --- 1. BPF_PROG_TEST_RUN ------------------------------------------------------

if ! skipped testrun; then
	log "1/3 BPF_PROG_TEST_RUN: loading 8 picfw instances, the floor, the probes, xdp-filter; then $TR_ROUNDS rounds"
	timeout 1200 taskset -c "$CPU" "$TESTRUN" --rounds "$TR_ROUNDS" --repeat "$REPEAT" \
		--floor "$BIN/floor.bpf.o" --floor-tc "$BIN/floor_tc.bpf.o" "${PICFW_ARGS[@]}" "${XDPF_ARGS[@]}" \
		--probes "$BIN/probes.bpf.o" >"$RAW/testrun.csv" 2>"$RAW/testrun.err"
	rc=$?
	if [[ $rc -ne 0 ]]; then
		cat "$RAW/testrun.err" >&2
		die "testrun failed (status $rc)"
	fi
	bad=$(awk -F, '$1 == "run" && $5 != $6 && ($3 == "pic" || $3 == "pic-log" || $3 ~ /^r[0-9]+-p/)' "$RAW/testrun.csv")
	[[ -z $bad ]] || die "picfw gave a verdict other than the expected one: $bad"
	log "1/3 done ($((SECONDS - START)) s)"
fi
# xdp-filter is done: unload it now (the trap would too).
if ns_exists "$NS_XF"; then
	for ifc in "${XDPF_LOADED[@]}"; do
		in_xf xdp-filter unload "$ifc" >/dev/null 2>&1 || log "xdp-filter unload $ifc failed"
	done
	XDPF_LOADED=()
	ip netns del "$NS_XF"
	[[ -e $XDPF_PINS ]] && rm -rf -- "$XDPF_PINS"
	OWN_XDPF_PINS=0
fi

# --- the end-to-end lab --------------------------------------------------------

lab_up() {
	local i state
	ip netns add "$NS_TX" && ip netns add "$NS_RX" || return 1
	# picfw keys pins by namespace outside the initial one: IFACE:NETNS (its inode).
	PICFW_PINS=$BPFFS/picfw/$IF_RX:$(stat -L -c %i "/run/netns/$NS_RX")
	if [[ -e $PICFW_PINS ]]; then
		log "$PICFW_PINS exists: a stale benchmark left it (remove it)"
		return 1
	fi
	ip link add "$IF_TX" netns "$NS_TX" type veth peer name "$IF_RX" netns "$NS_RX" || return 1
	# The sending side needs no address: the sender writes whole frames.
	in_tx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
		in_tx ip link set lo up && in_tx ip link set "$IF_TX" up || return 1
	TX_MAC=$(in_tx ip -j link show dev "$IF_TX" | jq -r '.[0].address')
	# The receiver is the Edge: its Access addresses, routes back to the
	# senders through a static neighbour (no ARP), no reverse-path filter.
	in_rx ip link set lo up &&
		in_rx sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 &&
		in_rx ip addr add 203.0.113.10/24 dev "$IF_RX" &&
		in_rx ip addr add 2001:db8:e::10/64 dev "$IF_RX" nodad &&
		in_rx ip link set "$IF_RX" up &&
		in_rx sysctl -qw "net.ipv4.conf.$IF_RX.rp_filter=0" &&
		in_rx ip neigh add 203.0.113.1 lladdr "$TX_MAC" dev "$IF_RX" nud permanent &&
		in_rx ip route add 192.0.2.0/24 via 203.0.113.1 &&
		in_rx ip route add 198.51.100.0/24 via 203.0.113.1 || return 1
	RX_MAC=$(in_rx ip -j link show dev "$IF_RX" | jq -r '.[0].address')
	for ((i = 0; i < 100; i++)); do
		state=$(in_tx ip -o link show dev "$IF_TX")
		[[ $state == *"state UP"* ]] && return 0
		sleep 0.05
	done
	return 1
}

if ! skipped e2e || ! skipped apply || ! skipped scrape; then
	lab_up || die "setting up the namespaces failed"
fi

# --- 2. end to end -------------------------------------------------------------

# Attach the first program of OBJ to the receiver (native XDP). With bpftool,
# not `ip link ... obj`: iproute2's loader leaves its tc/globals hierarchy in
# the host's bpffs. The pin is ours, and only until the program is attached.
xdp_on() { # OBJ
	local rc
	mkdir -p "$OWN_PIN_DIR" &&
		bpftool prog load "$1" "$OWN_PIN_DIR/prog" type xdp &&
		in_rx bpftool net attach xdpdrv pinned "$OWN_PIN_DIR/prog" dev "$IF_RX"
	rc=$?
	rm -f "$OWN_PIN_DIR/prog"
	rmdir "$OWN_PIN_DIR" 2>/dev/null
	return $rc
}

# cfg_on/cfg_off NAME: put a receiver in place, take it away.
cfg_on() {
	case $1 in
	none) return 0 ;;
	xdp-drop) xdp_on "$BIN/xdp_drop.bpf.o" ;;
	xdp-pass) xdp_on "$BIN/floor.bpf.o" ;;
	picfw) in_rx "$PICFW" attach "$IF_RX" etc/pic.policy >/dev/null ;;
	nft-inet) in_rx nft -f bench/pic-inet.nft ;;
	nft-netdev) in_rx nft -D "DEV=$IF_RX" -f bench/pic-netdev.nft ;;
	esac
}
cfg_off() {
	case $1 in
	none) return 0 ;;
	xdp-drop | xdp-pass) in_rx bpftool net detach xdpdrv dev "$IF_RX" ;;
	picfw) in_rx "$PICFW" detach "$IF_RX" >/dev/null ;;
	nft-inet) in_rx nft delete table inet picfw_bench ;;
	nft-netdev) in_rx nft delete table netdev picfw_bench ;;
	esac
}
rx_packets() {
	in_rx ip -j -s link show dev "$IF_RX" | jq -r '.[0].stats64.rx.packets'
}
send() { # TRAFFIC SECONDS
	timeout 120 nsenter --net="/run/netns/$NS_TX" -- "$SENDER" --ifname "$IF_TX" \
		--dst-mac "$RX_MAC" --src-mac "$TX_MAC" --traffic "$1" --seconds "$2" --cpu "$CPU"
}


if ! skipped e2e; then
	CONFIGS=(xdp-drop xdp-pass picfw none)
	[[ $HAVE_NFT == 1 ]] && CONFIGS=(xdp-drop xdp-pass picfw nft-netdev nft-inet none)
	TRAFFIC=(v4-tcp-miss v4-udp-hit)
	n=${#CONFIGS[@]}
	log "2/3 end to end: ${CONFIGS[*]}; ${TRAFFIC[*]}; $ROUNDS rounds of ${E2E_SECONDS} s each"
	echo "round,config,traffic,sent,seconds,pps,cpu_ns,cpu_share,rx" >"$RAW/e2e.csv"
	for ((r = 1; r <= ROUNDS; r++)); do
		for ((i = 0; i < n; i++)); do
			c=${CONFIGS[$(((i + r - 1) % n))]}
			cfg_on "$c" || die "end to end: putting $c in place failed"
			for t in "${TRAFFIC[@]}"; do
				send "$t" 0.3 >/dev/null || die "end to end: the sender failed"
				before=$(rx_packets)
				out=$(send "$t" "$E2E_SECONDS") || die "end to end: the sender failed"
				after=$(rx_packets)
				sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$out")
				secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$out")
				pps=$(sed -n 's/.*pps=\([0-9]*\).*/\1/p' <<<"$out")
				cpu_ns=$(sed -n 's/.*cpu_ns=\([0-9]*\).*/\1/p' <<<"$out")
				share=$(sed -n 's/.*cpu_share=\([0-9.]*\).*/\1/p' <<<"$out")
				echo "$r,$c,$t,$sent,$secs,$pps,$cpu_ns,$share,$((after - before))" >>"$RAW/e2e.csv"
			done
			if [[ $c == nft-* ]]; then
				in_rx nft list ruleset >"$RAW/$c.ruleset.txt" 2>&1
			fi
			cfg_off "$c" || die "end to end: taking $c away failed"
		done
		log "2/3 round $r/$ROUNDS done ($((SECONDS - START)) s)"
	done
fi

# --- 3. apply latency, map memory, where the time goes -------------------------

apply_one() { # ROUND FROM TO POLICY
	local s e out
	s=$(date +%s%N)
	out=$(in_rx "$PICFW" apply "$IF_RX" "$4" 2>&1) || die "picfw apply $4 failed: $out"
	e=$(date +%s%N)
	printf '%s,%s -> %s,%s,%s,%s,%s,%s\n' "$1" "$2" "$3" \
		"$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')" \
		"$(sed -n 's/.*compiled in \([0-9.]*\) ms.*/\1/p' <<<"$out")" \
		"$(sed -n 's/.*written in \([0-9.]*\) ms.*/\1/p' <<<"$out")" \
		"$(sed -n 's/.*switched in \([0-9.]*\) ms.*/\1/p' <<<"$out")" \
		"$(sed -n 's/.*cleared in \([0-9.]*\) ms.*/\1/p' <<<"$out")" >>"$RAW/apply.csv"
}
# What entering the namespace costs (the wall times above include it; an
# administrator's `picfw apply` in its own namespace does not).
nsenter_only() { # ROUND
	local s e
	s=$(date +%s%N)
	in_rx true
	e=$(date +%s%N)
	printf '%s,nsenter alone,%s,,,,\n' "$1" \
		"$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')" >>"$RAW/apply.csv"
}
memory_of() { # STATE: every pinned map of the attached filter
	local pin
	for pin in "$PICFW_PINS"/*; do
		[[ $(basename "$pin") == "$PICFW_PIN_LINK_NAME" ]] && continue
		# The pin's name: the kernel's map names stop at 15 characters
		# (picfw_flows_tcp4 and picfw_flows_tcp6 would read alike).
		bpftool -j map show pinned "$pin" 2>/dev/null |
			jq -r --arg s "$1" --arg n "$(basename "$pin")" '"\($s),\($n),\(.bytes_memlock)"'
	done >>"$RAW/memory.csv"
}
PICFW_PIN_LINK_NAME="link" # the pinned BPF link: not a map

if ! skipped apply; then
	log "3/3 picfw apply: $ROUNDS rounds of pic -> pic -> $BIG -> $BIG -> pic -> $MIX -> pic"
	in_rx "$PICFW" attach "$IF_RX" etc/pic.policy >"$RAW/attach.txt" 2>&1 ||
		die "picfw attach failed: $(cat "$RAW/attach.txt")"
	echo "round,transition,wall_ms,compile_ms,write_ms,switch_ms,clear_ms" >"$RAW/apply.csv"
	echo "state,map,bytes" >"$RAW/memory.csv"
	for ((r = 1; r <= ROUNDS; r++)); do
		nsenter_only "$r"
		apply_one "$r" pic pic etc/pic.policy
		[[ $r == "$ROUNDS" ]] && memory_of pic
		apply_one "$r" pic "$BIG" "$RAW/policies/$BIG.policy"
		[[ $r == "$ROUNDS" ]] && memory_of "$BIG"
		apply_one "$r" "$BIG" "$BIG" "$RAW/policies/$BIG.policy"
		apply_one "$r" "$BIG" pic etc/pic.policy
		apply_one "$r" pic "$MIX" "$RAW/policies/$MIX.policy"
		[[ $r == "$ROUNDS" ]] && memory_of "$MIX"
		apply_one "$r" "$MIX" pic etc/pic.policy
	done
	# Where the time goes: the program as the kernel runs it.
	id=$(in_rx ip -j link show dev "$IF_RX" | jq -r '.[0].xdp.prog.id // empty')
	if [[ -n $id ]]; then
		bpftool prog dump xlated id "$id" >"$RAW/picfw_xdp.xlated.txt" 2>&1
		bpftool prog dump jited id "$id" >"$RAW/picfw_xdp.jited.txt" 2>&1
		grep -o 'call [a-z_0-9]*' "$RAW/picfw_xdp.xlated.txt" | sort | uniq -c | sort -rn \
			>"$RAW/picfw_xdp.calls.txt"
	fi
	in_rx "$PICFW" detach "$IF_RX" >/dev/null 2>&1 || log "picfw detach failed"
	log "3/3 done ($((SECONDS - START)) s)"
fi
# --- 4. exporter scrape time -----------------------------------------------------

# scrape_times ROUND POLICY-NAME: BENCH_SCRAPES scrapes of /metrics, one CSV line each.
scrape_times() {
	local i t
	for ((i = 1; i <= SCRAPES; i++)); do
		t=$(in_rx curl -sS -m 5 -o /dev/null -w '%{time_total}' http://127.0.0.1:9724/metrics) ||
			die "scraping the exporter failed"
		printf '%s,%s,%s\n' "$1" "$2" "$(awk -v t="$t" 'BEGIN { printf "%.3f", t * 1000 }')"
	done >>"$RAW/scrape.csv"
}
SCRAPES=${BENCH_SCRAPES:-20}
[[ $SCRAPES =~ ^[0-9]+$ && $SCRAPES -ge 1 && $SCRAPES -le 1000 ]] || die "BENCH_SCRAPES must be 1..1000"

if ! skipped scrape; then
	command -v curl >/dev/null || die "missing command: curl (scripts/deps.sh)"
	log "4/4 picfw exporter: $ROUNDS rounds of $SCRAPES scrapes, PIC policy and 1,024 rows"
	in_rx "$PICFW" attach "$IF_RX" etc/pic.policy >"$RAW/attach-scrape.txt" 2>&1 ||
		die "picfw attach failed: $(cat "$RAW/attach-scrape.txt")"
	nsenter --net="/run/netns/$NS_RX" -- "$PICFW" exporter >"$RAW/exporter.log" 2>&1 &
	EXPORTER_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -n $(in_rx ss -Hltn 'sport = :9724' 2>/dev/null) ]] && break
		sleep 0.05
	done
	echo "round,policy,ms" >"$RAW/scrape.csv"
	for ((r = 1; r <= ROUNDS; r++)); do
		in_rx "$PICFW" apply "$IF_RX" etc/pic.policy >/dev/null 2>&1 || die "picfw apply pic failed"
		scrape_times "$r" pic
		in_rx "$PICFW" apply "$IF_RX" "$RAW/policies/r1024-p1000.policy" >/dev/null 2>&1 ||
			die "picfw apply r1024-p1000 failed"
		scrape_times "$r" r1024
	done
	kill "$EXPORTER_PID" 2>/dev/null
	wait "$EXPORTER_PID" 2>/dev/null
	EXPORTER_PID=
	in_rx "$PICFW" detach "$IF_RX" >/dev/null 2>&1 || log "picfw detach failed"
	log "4/4 done ($((SECONDS - START)) s)"
fi

# Everything measured: the lab goes now, the work directory after the report.
KEEP_WORK=1
cleanup
KEEP_WORK=0

render
