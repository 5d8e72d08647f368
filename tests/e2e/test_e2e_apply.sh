#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# End-to-end tests of `picfw apply`, the live policy update, in the namespace
# lab of tests/e2e/lib.sh: no packet lost while the policy changes under
# streaming TCP and UDP, the new policy whole right after apply returns, a bad
# policy or a killed apply leaving a whole policy in force, --dry-run; and
# `ip netns exec`, and a device without native XDP.
#
# Usage: tests/e2e/test_e2e_apply.sh BUILD_DIR  (BUILD_DIR holds picfw and tests/peer)
# Output: `ok - test_e2e_apply_NAME`, `not ok - test_e2e_apply_NAME`, `# diagnostics`.
# Exit: 0 if no test failed, 1 otherwise. Needs root; SKIPs without it.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAP_PREFIX=test_e2e_apply_
# shellcheck source=tests/e2e/tap.sh
source "$ROOT/tests/e2e/tap.sh"
e2e_args "$@"
RUN_DIR=/run/picfw # picfw's copies of the active policies
e2e_need_root "(network namespaces, XDP)"
e2e_need_tools ip nsenter ss jq timeout awk
e2e_need_bins

# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"

# What picfw keeps for interface NAME, in any network namespace: its pin
# directory (NAME, or NAME:NETNS outside the initial namespace) and its
# policy copies in $RUN_DIR (NAME.genN.policy or NAME:NETNS.genN.policy).
# Prints each one that exists; status 0 when there is one.
left_for()
{
	local f found=1
	for f in "$LAB_BPFFS/picfw/$1" "$LAB_BPFFS/picfw/$1":* "$RUN_DIR/$1".* "$RUN_DIR/$1":*; do
		[[ -e $f ]] || continue
		echo "$f"
		found=0
	done
	return $found
}
lab_names pfa # not the default pf-edge0 of test_e2e.sh and the demo

TMP=
TIMEOUT_OK=2    # seconds an allowed exchange may take
TIMEOUT_NOW=0.5 # "right after apply": less than one SYN retransmission (1 s)
TIMEOUT_BLOCK=1 # seconds a blocked exchange waits before calling it blocked
NOXDP_IF=       # the device without native XDP (test 7), once created
OWN_RUN_COPY=0  # the lab is ours: so is $RUN_DIR/$LAB_IFACE.policy
KILL_PID=       # a `picfw apply` started in the background (test 8)

cleanup()
{
	if [[ -n $KILL_PID ]]; then
		kill -KILL "$KILL_PID" 2>/dev/null
		wait "$KILL_PID" 2>/dev/null
		KILL_PID=
	fi
	# lab_down knows only pf-edge0's pins: detach the other device first.
	if [[ -n $NOXDP_IF ]]; then
		if left_for "$NOXDP_IF" >/dev/null && lab_ns_exists "$LAB_EDGE_NS"; then
			timeout 10 nsenter --net="/run/netns/$LAB_EDGE_NS" -- \
				"$PICFW" detach "$NOXDP_IF" >/dev/null 2>&1
		fi
		local f
		for f in $(left_for "$NOXDP_IF"); do
			lab_log "removing leftover $f"
			rm -rf -- "$f"
		done
		NOXDP_IF=
	fi
	lab_down
	if [[ $OWN_RUN_COPY == 1 ]]; then
		rm -f -- "$RUN_DIR/$LAB_IFACE.policy"
		OWN_RUN_COPY=0
	fi
	[[ -n $TMP ]] && rm -rf -- "$TMP"
	TMP=
}
e2e_begin picfw-e2e-apply

# nx ARGS...: the same through `ip netns exec` (a private mount namespace).
nx()
{
	timeout 20 ip netns exec "$LAB_EDGE_NS" "$PICFW" "$@" >"$TMP/out" 2>"$TMP/err"
}

attached_xdp() # [IFACE]
{
	in_edge ip link show dev "${1:-$LAB_IFACE}" 2>/dev/null | grep -q xdp
}

has_row() # FILE ROW
{
	jq -e --arg n "$2" 'any(.rows[]; .name == $n)' "$1" >/dev/null
}

# Counters of B below those of A: rows by name (in both), reasons, would_drop.
decreases()
{
	jq -n -r --slurpfile a "$1" --slurpfile b "$2" '
		def flat: [(.rows[] | {key: ("row " + .name), value: .}),
			   (.reasons | to_entries[] | {key: ("reason " + .key), value: .value}),
			   ((.would_drop // {}) | to_entries[] |
				{key: ("would_drop " + .key), value: .value})] | from_entries;
		($a[0] | flat) as $x | ($b[0] | flat) as $y |
		$x | keys[] | select($y[.] != null) |
		select($y[.].packets < $x[.].packets or $y[.].bytes < $x[.].bytes) |
		"\(.): \($x[.].packets)/\($x[.].bytes) -> \($y[.].packets)/\($y[.].bytes)"'
}

# monotonic FILE...: ok (0) if no counter went down between two successive
# files; the decreases are in $TMP/decreased.
monotonic()
{
	local prev='' f d
	: >"$TMP/decreased"
	for f in "$@"; do
		if [[ -n $prev ]]; then
			d=$(decreases "$prev" "$f")
			[[ -n $d ]] && echo "$(basename "$prev") -> $(basename "$f"): ${d//$'\n'/, }" \
				>>"$TMP/decreased"
		fi
		prev=$f
	done
	[[ ! -s $TMP/decreased ]]
}

# status_field generation|policy: from `picfw status pf-edge0` (text).
status_field()
{
	pf status "$LAB_IFACE" || return 1
	case $1 in
	generation) awk '$1 == "generation" { print $2 }' "$TMP/out" ;;
	policy) awk '$1 == "policy" { print $2 }' "$TMP/out" ;;
	esac
}

# TCP segments the "Internet" namespace has sent (new and retransmitted).
net_tcp_segs()
{
	in_net cat /proc/net/snmp | awk '
		$1 == "Tcp:" && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
		$1 == "Tcp:" && h { print $col["OutSegs"] + $col["RetransSegs"] }'
}

# Several exchanges at once. probe_start KEY edge|net PEER-ARGS...; then
# probe_wait KEY sets PROBE[KEY] to pass, block (timed out) or error.
declare -A PROBE PROBE_PID
probe_start()
{
	local key=$1 where=$2
	shift 2
	lab_bg "$where" "$PEER" "$@" 2>"$TMP/probe.$key.err"
	PROBE_PID[$key]=$LAB_LAST_PID
}

probe_wait()
{
	local key=$1 rc
	wait "${PROBE_PID[$key]}"
	rc=$?
	lab_forget "${PROBE_PID[$key]}"
	if [[ $rc -eq 0 ]]; then
		PROBE[$key]=pass
	elif [[ $rc -eq 1 ]] && grep -q 'timed out' "$TMP/probe.$key.err"; then
		PROBE[$key]=block
	else
		PROBE[$key]="error($(head -n 1 "$TMP/probe.$key.err"))"
	fi
}

# judge: which policy do the packets see, A (pic.policy: 443 open, 8080
# closed) or C (443 closed, 8080 open)? Both: partner 5061 open, 22 closed.
# Sets JUDGED to A, C or "neither", and JUDGED_SEEN to what each exchange did.
judge()
{
	local k t=$TIMEOUT_BLOCK
	probe_start j443 net tcp-connect "$E4" 443 --bind "$S4" --timeout "$t"
	probe_start j8080 net tcp-connect "$E4" 8080 --bind "$S4" --timeout "$t"
	probe_start j443v6 net tcp-connect "$E6" 443 --bind "$S6" --timeout "$t"
	probe_start j8080v6 net tcp-connect "$E6" 8080 --bind "$S6" --timeout "$t"
	probe_start j5061 net tcp-connect "$E4" 5061 --bind "$P4" --timeout "$t"
	probe_start j22 net tcp-connect "$E4" 22 --bind "$S4" --timeout "$t"
	for k in j443 j8080 j443v6 j8080v6 j5061 j22; do
		probe_wait "$k"
	done
	JUDGED_SEEN="443:${PROBE[j443]}/${PROBE[j443v6]} 8080:${PROBE[j8080]}/${PROBE[j8080v6]}"
	JUDGED_SEEN+=" 5061:${PROBE[j5061]} 22:${PROBE[j22]}"
	JUDGED=neither
	[[ ${PROBE[j5061]} == pass && ${PROBE[j22]} == block ]] || return 0
	if [[ ${PROBE[j443]}${PROBE[j443v6]}${PROBE[j8080]}${PROBE[j8080v6]} == passpassblockblock ]]; then
		JUDGED=A
	elif [[ ${PROBE[j443]}${PROBE[j443v6]}${PROBE[j8080]}${PROBE[j8080v6]} == blockblockpasspass ]]; then
		JUDGED=C
	fi
}

# wait_gone SECONDS PID...: 0 once all have exited, 1 if some still run.
wait_gone()
{
	local t=$1 i pid alive
	shift
	for ((i = 0; i < t * 20; i++)); do
		alive=0
		for pid in "$@"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[[ $alive == 0 ]] && return 0
		sleep 0.05
	done
	return 1
}

# --- the lab and the policies -------------------------------------------------------
if ! lab_up apply; then
	not_ok lab_up "could not build the namespace lab"
	exit 1
fi
OWN_RUN_COPY=1

S4=$LAB_STRANGER4
S6=$LAB_STRANGER6
P4=$LAB_PARTNER4
P6=$LAB_PARTNER6
E4=$LAB_EDGE4
E6=$LAB_EDGE6

# A: etc/pic.policy. B: A plus partner prefixes and a row (the flows of test 1
# stay allowed). C: A without 443, with 8080 from anywhere. BAD: A with a row
# whose port is out of range, on its last line.
POL_A=$POLICY
POL_B=$TMP/b.policy
POL_C=$TMP/c.policy
POL_BAD=$TMP/bad.policy
ROW_EXTRA=apply-test-extra
ROW_8080=apply-test-8080
ROW_443=access-sip-tls-tcp-443-in
ROW_STUN_IN=a-v-stun-msturn-udp-3478-in
ROW_SIP_IN=access-sip-mtls-tcp-5061-in
{
	sed 's|^\(set pic-partners = .*\)$|\1, 192.0.2.128/25, 2001:db8:200::/48|' "$POL_A"
	echo "$ROW_EXTRA: Access/SIP(TLS)/TCP/8443 clients edge-access \"added by test_e2e_apply\""
} >"$POL_B"
{
	grep -v '^Access/SIP(TLS)/TCP/443 ' "$POL_A"
	echo "$ROW_8080: Access/HTTP/TCP/8080 any edge-access \"added by test_e2e_apply\""
} >"$POL_C"
{
	cat "$POL_A"
	echo "apply-test-bad: Access/HTTP/TCP/70000 clients edge-access"
} >"$POL_BAD"
BAD_LINE=$(wc -l <"$POL_BAD")
REAL_A=$(realpath "$POL_A")
REAL_C=$(realpath "$POL_C")

policies_ok=1
grep -q '192.0.2.128/25' "$POL_B" || policies_ok=0
grep -q '^Access/SIP(TLS)/TCP/443 ' "$POL_C" && policies_ok=0
for p in "$POL_A" "$POL_B" "$POL_C"; do
	"$PICFW" check "$p" >/dev/null 2>"$TMP/err" || policies_ok=0
done
if [[ $policies_ok == 1 ]]; then
	ok policies
else
	not_ok policies "could not derive the test policies from $POL_A" "$(cat "$TMP/err")"
	exit 1
fi

# --- 1. no packet lost while applies alternate --------------------------------------
# While TCP streams (partner -> Edge 5061, echoed) and paced UDP flows
# (stranger -> Edge 3478, each datagram echoed) run in both families, the
# Edge applies A and B alternately. Nothing may be lost, the UDP row counts
# exactly what was sent, and no counter goes down.
N_UDP=2000      # datagrams per family
UDP_RATE=400    # per second: 5 s
UDP_SIZE=100    # payload bytes
TCP_BYTES=5242880
TCP_RATE=1048576 # bytes per second: 5 s
N_APPLY=30      # at most; the loop also stops 3.5 s in, well before the 5 s flows end
N_APPLY_MIN=10  # fewer (a loaded machine) proves too little

lab_bg edge "$PEER" tcp-listen "$E4" 5061 --count 1 --timeout 40 2>"$TMP/srv.t4.err"
SRV_T4=$LAB_LAST_PID
lab_bg edge "$PEER" tcp-listen "$E6" 5061 --count 1 --timeout 40 2>"$TMP/srv.t6.err"
SRV_T6=$LAB_LAST_PID
lab_bg edge "$PEER" udp-echo "$E4" 3478 --count "$N_UDP" --timeout 40 2>"$TMP/srv.u4.err"
SRV_U4=$LAB_LAST_PID
lab_bg edge "$PEER" udp-echo "$E6" 3478 --count "$N_UDP" --timeout 40 2>"$TMP/srv.u6.err"
SRV_U6=$LAB_LAST_PID
if ! { lab_wait_listen edge tcp 5061 && lab_wait_listen edge udp 3478; }; then
	not_ok lab_servers "the stream servers did not start"
	exit 1
fi

pf attach "$LAB_IFACE" "$POL_A"
rc=$?
check attach "$rc" "picfw attach $LAB_IFACE $POL_A exited $rc" "$(cat "$TMP/err")"
if [[ $rc -ne 0 ]]; then
	echo "# not attached: the apply tests cannot run"
	exit 1
fi
GEN_ATTACH=$(status_field generation)

stats "$TMP/z.000.json"
SEGS0=$(net_tcp_segs)
T_START=$(date +%s.%N)
T_START_NS=$(date +%s%N)
lab_bg net "$PEER" tcp-connect "$E4" 5061 --bind "$P4" --bytes "$TCP_BYTES" --rate "$TCP_RATE" \
	--timeout 30 2>"$TMP/cli.t4.err"
CLI_T4=$LAB_LAST_PID
lab_bg net "$PEER" tcp-connect "$E6" 5061 --bind "$P6" --bytes "$TCP_BYTES" --rate "$TCP_RATE" \
	--timeout 30 2>"$TMP/cli.t6.err"
CLI_T6=$LAB_LAST_PID
lab_bg net "$PEER" udp-send "$E4" 3478 --bind "$S4" --count "$N_UDP" --size "$UDP_SIZE" \
	--rate "$UDP_RATE" --expect-reply --timeout 3 2>"$TMP/cli.u4.err"
CLI_U4=$LAB_LAST_PID
lab_bg net "$PEER" udp-send "$E6" 3478 --bind "$S6" --count "$N_UDP" --size "$UDP_SIZE" \
	--rate "$UDP_RATE" --expect-reply --timeout 3 2>"$TMP/cli.u6.err"
CLI_U6=$LAB_LAST_PID
sleep 0.3 # the flows are under way

apply_fail=()
apply_ms=()
n_applied=0
for ((i = 1; i <= N_APPLY; i++)); do
	# Bounded in time too: the applies must run while the flows do.
	(($(date +%s%N) - T_START_NS > 3500000000)) && break
	n_applied=$i
	if ((i % 2)); then p=$POL_B; else p=$POL_A; fi
	t0=$(date +%s%N)
	pf apply "$LAB_IFACE" "$p"
	rc=$?
	apply_ms+=($((($(date +%s%N) - t0) / 1000000)))
	[[ $rc -ne 0 ]] && apply_fail+=("apply #$i ($(basename "$p")) exited $rc: $(head -n 1 "$TMP/err")")
	stats "$TMP/z.$(printf '%03d' "$i").json" ||
		apply_fail+=("stats after apply #$i failed: $(head -n 1 "$TMP/err")")
	sleep 0.03
done
T_LOOP=$(date +%s.%N)
still=0
for pid in "$CLI_T4" "$CLI_T6" "$CLI_U4" "$CLI_U6"; do
	kill -0 "$pid" 2>/dev/null && still=$((still + 1))
done

wait "$CLI_T4"
rc_t4=$?
wait "$CLI_T6"
rc_t6=$?
wait "$CLI_U4"
rc_u4=$?
wait "$CLI_U6"
rc_u6=$?
T_END=$(date +%s.%N)
wait_gone 2 "$SRV_T4" "$SRV_T6" "$SRV_U4" "$SRV_U6" ||
	echo "# some stream servers were still waiting (a lost packet?): stopping them"
for pid in "$SRV_T4" "$SRV_T6" "$SRV_U4" "$SRV_U6"; do
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	lab_forget "$pid"
done
for pid in "$CLI_T4" "$CLI_T6" "$CLI_U4" "$CLI_U6"; do
	lab_forget "$pid"
done
sleep 0.2 # the last ACKs and FINs
SEGS1=$(net_tcp_segs)
sleep 0.2
stats "$TMP/z.999.json"

echo "# $n_applied applies in $(awk -v a="$T_START" -v b="$T_LOOP" 'BEGIN { printf "%.2f", b - a }') s" \
	"(ms each: ${apply_ms[*]}); flows done after" \
	"$(awk -v a="$T_START" -v b="$T_END" 'BEGIN { printf "%.2f", b - a }') s"

if [[ ${#apply_fail[@]} -eq 0 ]]; then
	ok zero_loss_applies_exit_0
else
	not_ok zero_loss_applies_exit_0 "${apply_fail[@]}"
fi
# The loop must have run while the flows did, or it proves nothing.
if [[ $still -eq 4 ]]; then
	ok zero_loss_flows_outlast_applies
else
	not_ok zero_loss_flows_outlast_applies \
		"only $still of 4 flows were still running when the $n_applied applies ended"
fi
if ((n_applied >= N_APPLY_MIN)); then
	ok zero_loss_enough_applies
else
	not_ok zero_loss_enough_applies "only $n_applied applies in 3.5 s (want $N_APPLY_MIN)"
fi
check zero_loss_tcp_v4 "$rc_t4" "$TCP_BYTES bytes from $P4 to $E4:5061 not all echoed" \
	"$(cat "$TMP/cli.t4.err" "$TMP/srv.t4.err")"
check zero_loss_tcp_v6 "$rc_t6" "$TCP_BYTES bytes from $P6 to [$E6]:5061 not all echoed" \
	"$(cat "$TMP/cli.t6.err" "$TMP/srv.t6.err")"
check zero_loss_udp_v4 "$rc_u4" "datagrams from $S4 to $E4:3478 lost" \
	"$(cat "$TMP/cli.u4.err" "$TMP/srv.u4.err")"
check zero_loss_udp_v6 "$rc_u6" "datagrams from $S6 to [$E6]:3478 lost" \
	"$(cat "$TMP/cli.u6.err" "$TMP/srv.u6.err")"

gen=$(jq -r .generation "$TMP/z.999.json" 2>/dev/null)
if [[ $gen == $((GEN_ATTACH + n_applied)) ]]; then
	ok zero_loss_generation
else
	not_ok zero_loss_generation "generation $gen after $n_applied applies (attached as $GEN_ATTACH)"
fi

# The UDP row: exactly what was sent, in both families; its counters survived
# every apply (the row keeps its name).
p0=$(row_val "$TMP/z.000.json" "$ROW_STUN_IN" packets)
p1=$(row_val "$TMP/z.999.json" "$ROW_STUN_IN" packets)
b0=$(row_val "$TMP/z.000.json" "$ROW_STUN_IN" bytes)
b1=$(row_val "$TMP/z.999.json" "$ROW_STUN_IN" bytes)
want_p=$((2 * N_UDP))
want_b=$((N_UDP * (14 + 20 + 8 + UDP_SIZE) + N_UDP * (14 + 40 + 8 + UDP_SIZE)))
if [[ $p0$p1$b0$b1 =~ ^[0-9]+$ ]] && ((p1 - p0 == want_p && b1 - b0 == want_b)); then
	ok zero_loss_udp_row_exact
else
	not_ok zero_loss_udp_row_exact \
		"$ROW_STUN_IN: packets $p0 -> $p1 (want +$want_p), bytes $b0 -> $b1 (want +$want_b)"
fi

# The TCP row: at least every segment the partner's namespace sent.
t0=$(row_val "$TMP/z.000.json" "$ROW_SIP_IN" packets)
t1=$(row_val "$TMP/z.999.json" "$ROW_SIP_IN" packets)
if [[ $t0$t1$SEGS0$SEGS1 =~ ^[0-9]+$ ]] && ((t1 - t0 >= SEGS1 - SEGS0 && SEGS1 > SEGS0)); then
	ok zero_loss_tcp_row
	echo "# $ROW_SIP_IN +$((t1 - t0)) packets; the partner sent $((SEGS1 - SEGS0)) segments"
else
	not_ok zero_loss_tcp_row "$ROW_SIP_IN packets $t0 -> $t1; segments sent $SEGS0 -> $SEGS1"
fi

if monotonic "$TMP"/z.*.json; then
	ok zero_loss_counters_monotonic
else
	not_ok zero_loss_counters_monotonic "counters went down:" "$(cat "$TMP/decreased")"
fi

# --- servers for the tests below (the stream servers are gone) ------------------------
for port in 22 443 5061 8080; do
	lab_bg edge "$PEER" tcp-listen :: "$port" --count 500 --timeout 300 2>/dev/null
done
for port in 22 443 5061 8080; do
	if ! lab_wait_listen edge tcp "$port"; then
		not_ok lab_servers "the TCP servers did not start"
		exit 1
	fi
done

# --- 2. the new policy, whole, as soon as apply returns -------------------------------
stats "$TMP/before_c.json"
gen0=$(status_field generation)
pf apply "$LAB_IFACE" "$POL_C"
rc=$?
check new_policy_apply "$rc" "picfw apply $POL_C exited $rc" "$(cat "$TMP/err")"
grep . "$TMP/out" | sed 's/^/# /'
expect_pass new_policy_allows_8080_now_v4 "$TIMEOUT_NOW" net tcp-connect "$E4" 8080 --bind "$S4"
expect_pass new_policy_allows_8080_now_v6 "$TIMEOUT_NOW" net tcp-connect "$E6" 8080 --bind "$S6"
expect_block new_policy_blocks_443_v4 net tcp-connect "$E4" 443 --bind "$S4"
expect_block new_policy_blocks_443_v6 net tcp-connect "$E6" 443 --bind "$S6"
expect_pass new_policy_keeps_5061_v4 "$TIMEOUT_OK" net tcp-connect "$E4" 5061 --bind "$P4"

if stats "$TMP/after_c.json"; then
	if has_row "$TMP/after_c.json" "$ROW_8080" && ! has_row "$TMP/after_c.json" "$ROW_443"; then
		ok new_policy_stats_rows
	else
		not_ok new_policy_stats_rows "want row $ROW_8080 and no $ROW_443; rows:" \
			"$(jq -r '[.rows[].name] | join(" ")' "$TMP/after_c.json")"
	fi
	if monotonic "$TMP/before_c.json" "$TMP/after_c.json"; then
		ok new_policy_kept_counters
	else
		not_ok new_policy_kept_counters "counters went down:" "$(cat "$TMP/decreased")"
	fi
else
	not_ok new_policy_stats_rows "picfw stats failed" "$(cat "$TMP/err")"
fi
gen1=$(status_field generation)
pol1=$(status_field policy)
if [[ $gen0 =~ ^[0-9]+$ && $gen1 == $((gen0 + 1)) && $pol1 == "$REAL_C" ]]; then
	ok new_policy_status
else
	not_ok new_policy_status "generation $gen0 -> $gen1 (want +1), policy '$pol1' (want $REAL_C)"
fi

# --- 3. a bad policy changes nothing ------------------------------------------------
pf apply "$LAB_IFACE" "$POL_BAD"
rc=$?
if [[ $rc -eq 1 ]] && grep -qE "^$POL_BAD:$BAD_LINE:[0-9]+: error: " "$TMP/err"; then
	ok bad_policy_refused
else
	not_ok bad_policy_refused "exit $rc (want 1 and '$POL_BAD:$BAD_LINE:COL: error: ...')" \
		"$(cat "$TMP/out" "$TMP/err")"
fi
expect_pass bad_policy_old_allows_8080 "$TIMEOUT_OK" net tcp-connect "$E4" 8080 --bind "$S4"
expect_block bad_policy_old_blocks_443 net tcp-connect "$E4" 443 --bind "$S4"
gen2=$(status_field generation)
pol2=$(status_field policy)
if [[ $gen2 == "$gen1" && $pol2 == "$REAL_C" ]]; then
	ok bad_policy_generation_unchanged
else
	not_ok bad_policy_generation_unchanged "generation $gen1 -> $gen2, policy '$pol2'"
fi

# --- 4. --dry-run shows the change and makes none ---------------------------------------
# From C to B: 443 and the extra row come, 8080 goes, pic-partners gains two prefixes.
pf apply "$LAB_IFACE" "$POL_B" --dry-run
rc=$?
cp "$TMP/out" "$TMP/dry.out"
if [[ $rc -eq 0 ]]; then
	ok dry_run_exit_0
else
	not_ok dry_run_exit_0 "picfw apply --dry-run exited $rc" "$(cat "$TMP/err")"
fi
missing=()
grep -qE "^ *\+ +$ROW_443( |$)" "$TMP/dry.out" || missing+=("+ $ROW_443")
grep -qE "^ *\+ +$ROW_EXTRA( |$)" "$TMP/dry.out" || missing+=("+ $ROW_EXTRA")
grep -qE "^ *- +$ROW_8080( |$)" "$TMP/dry.out" || missing+=("- $ROW_8080")
if [[ ${#missing[@]} -eq 0 ]]; then
	ok dry_run_rows
else
	not_ok dry_run_rows "--dry-run output lacks: ${missing[*]}" "$(cat "$TMP/dry.out")"
fi
missing=()
grep -qE "set pic-partners.*2 prefixes added, 0 removed" "$TMP/dry.out" ||
	missing+=("set pic-partners: 2 added, 0 removed")
grep -qE "^ *\+ 192\.0\.2\.128/25$" "$TMP/dry.out" || missing+=("+ 192.0.2.128/25")
grep -qE "^ *\+ 2001:db8:200::/48$" "$TMP/dry.out" || missing+=("+ 2001:db8:200::/48")
if [[ ${#missing[@]} -eq 0 ]]; then
	ok dry_run_prefixes
else
	not_ok dry_run_prefixes "--dry-run output lacks: ${missing[*]}" "$(cat "$TMP/dry.out")"
fi
gen3=$(status_field generation)
pol3=$(status_field policy)
if [[ $gen3 == "$gen1" && $pol3 == "$REAL_C" ]]; then
	ok dry_run_generation_unchanged
else
	not_ok dry_run_generation_unchanged "generation $gen1 -> $gen3, policy '$pol3'"
fi
# A copy that is not the policy enforced (an apply that could not save its
# own leaves the older one) is refused, not diffed: here B's text stands in
# the active generation's copy while C enforces.
slot=$(pf status "$LAB_IFACE" && awk '$1 == "generation" { gsub(/\)/, "", $4); print $4 }' "$TMP/out")
copy=$(compgen -G "$RUN_DIR/$LAB_IFACE*.gen$slot.policy" | head -1)
if [[ -n $copy ]] && cp "$copy" "$TMP/copy.save" && cp "$POL_B" "$copy" && chmod 0600 "$copy"; then
	pf apply "$LAB_IFACE" "$POL_B" --dry-run
	rc=$?
	cp "$TMP/copy.save" "$copy"
	if [[ $rc -eq 1 ]] && one_line_err && grep -q "is not the policy $LAB_IFACE enforces" "$TMP/err"; then
		ok dry_run_stale_copy_refused
	else
		not_ok dry_run_stale_copy_refused "exit $rc (want 1, one line)" "$(cat "$TMP/err" "$TMP/out")"
	fi
else
	not_ok dry_run_stale_copy_refused "no copy of generation slot '$slot' in $RUN_DIR"
fi
judge
if [[ $JUDGED == C ]]; then
	ok dry_run_traffic_unchanged
else
	not_ok dry_run_traffic_unchanged "want policy C still whole; saw $JUDGED_SEEN"
fi

# --- 5. apply where picfw is not attached ----------------------------------------------
pf apply lo "$POL_A"
rc=$?
if [[ $rc -eq 1 ]] && one_line_err && grep -q 'not attached' "$TMP/err"; then
	ok not_attached_lo
else
	not_ok not_attached_lo "exit $rc (want 1 and one line saying it is not attached):" \
		"$(cat "$TMP/err")"
fi
pf apply pf-nope0 "$POL_A"
rc=$?
if [[ $rc -eq 1 ]] && one_line_err; then
	ok not_attached_no_such_iface
else
	not_ok not_attached_no_such_iface "exit $rc (want 1 and one line):" "$(cat "$TMP/err")"
fi
! left_for lo >/dev/null && ! left_for pf-nope0 >/dev/null
check not_attached_leaves_nothing "$?" "pins or a policy copy appeared for lo or pf-nope0"

# --- 8. SIGKILL during apply: one policy, whole -----------------------------------------
# The CLI sleeps 50 ms between its steps (write, switch, grace period, clear);
# kill it after a different delay each round, so that kills land before and
# after the switch ("switch": as soon as status shows the new generation,
# which is always in the 100 ms or more before the old one is cleared).
# Then: the packets see A or C whole, status names that one, --dry-run
# against it shows no change, and a plain apply works. (Here 0.04 s lands
# before the switch, 0.12 and 0.16 after it, and 0.21 usually after the end.)
KILL_DELAYS=(0.005 0.04 switch 0.12 0.16 0.21)
seen_old=0
seen_new=0
round=0
for d in "${KILL_DELAYS[@]}"; do
	round=$((round + 1))
	gen_b=$(status_field generation)
	pol_b=$(status_field policy)
	if [[ $pol_b == "$REAL_A" ]]; then
		target=$POL_C
		real_target=$REAL_C
	else
		target=$POL_A
		real_target=$REAL_A
	fi
	PICFW_TEST_APPLY_PAUSE_MS=50 nsenter --net="/run/netns/$LAB_EDGE_NS" -- \
		"$PICFW-test" apply "$LAB_IFACE" "$target" >/dev/null 2>"$TMP/kill.err" &
	KILL_PID=$!
	if [[ $d == switch ]]; then
		for ((i = 0; i < 100; i++)); do # <= 1 s or so
			g=$(status_field generation)
			[[ $g != "$gen_b" ]] && break
			kill -0 "$KILL_PID" 2>/dev/null || break
			sleep 0.01
		done
	else
		sleep "$d"
	fi
	kill -KILL "$KILL_PID" 2>/dev/null
	{ wait "$KILL_PID"; } 2>/dev/null
	rc=$?
	KILL_PID=
	gen_k=$(status_field generation)
	pol_k=$(status_field policy)
	rows_k=none
	if stats "$TMP/kill.json"; then
		rows_k=
		has_row "$TMP/kill.json" "$ROW_443" && rows_k+=443
		has_row "$TMP/kill.json" "$ROW_8080" && rows_k+=8080
	fi
	judge
	if [[ $pol_k == "$REAL_A" ]]; then want=A; else want=C; fi
	if [[ $pol_k == "$real_target" ]]; then
		side=new
		seen_new=$((seen_new + 1))
		want_gen=$((gen_b + 1))
	else
		side=old
		seen_old=$((seen_old + 1))
		want_gen=$gen_b
	fi
	[[ $d == switch ]] || d+=s
	echo "# kill round $round: after $d (apply exit $rc): $side policy ($(basename "$pol_k")," \
		"generation $gen_b -> $gen_k); packets: $JUDGED_SEEN"
	if [[ $JUDGED == A || $JUDGED == C ]]; then
		ok "kill_${round}_whole_policy"
	else
		not_ok "kill_${round}_whole_policy" "neither A nor C whole: $JUDGED_SEEN"
	fi
	# status and stats name the policy the packets see.
	if [[ $want == A ]]; then want_rows=443; else want_rows=8080; fi
	if [[ $JUDGED == "$want" && $gen_k == "$want_gen" && $rows_k == "$want_rows" ]]; then
		ok "kill_${round}_status_agrees"
	else
		not_ok "kill_${round}_status_agrees" \
			"status: policy $pol_k, generation $gen_b -> $gen_k (want $want_gen); packets: $JUDGED;" \
			"stats rows among 443/8080: $rows_k (want $want_rows)"
	fi
	# --dry-run compares with picfw's copy of the active policy: after a
	# kill it must still be the policy that enforces.
	pf apply "$LAB_IFACE" "$pol_k" --dry-run
	rc=$?
	if [[ $rc -eq 0 ]] && grep -q 'summary: 0 rows added, 0 removed, 0 changed' "$TMP/out"; then
		ok "kill_${round}_dry_run_sees_active"
	else
		not_ok "kill_${round}_dry_run_sees_active" \
			"apply --dry-run of the enforced policy $(basename "$pol_k") (exit $rc) shows changes:" \
			"$(grep -E '^ *[-+~] |summary' "$TMP/out")" "$(cat "$TMP/err")"
	fi
	pf apply "$LAB_IFACE" "$target"
	rc=$?
	cp "$TMP/err" "$TMP/apply.err"
	gen_r=$(status_field generation)
	judge
	if [[ $target == "$POL_A" ]]; then want=A; else want=C; fi
	if [[ $rc -eq 0 && $JUDGED == "$want" && $gen_r == $((gen_k + 1)) ]]; then
		ok "kill_${round}_next_apply"
	else
		not_ok "kill_${round}_next_apply" \
			"apply $(basename "$target") exited $rc, generation $gen_k -> $gen_r; packets: $JUDGED_SEEN" \
			"$(cat "$TMP/apply.err")"
	fi
done
if ((seen_old > 0 && seen_new > 0)); then
	ok kill_hit_both_sides_of_the_switch
else
	skip kill_hit_both_sides_of_the_switch \
		"kills landed $seen_old times before and $seen_new times after the switch (timing)"
fi

# --- 6. `ip netns exec`, whose private mount namespace has a fresh /sys ----------------
pf detach "$LAB_IFACE"
rc=$?
if [[ $rc -eq 0 && ! -e $LAB_PIN_DIR && ! -e $RUN_DIR/$LAB_IFACE.policy ]] && ! attached_xdp; then
	ok detach
else
	not_ok detach "picfw detach exited $rc, or pins, XDP or $RUN_DIR/$LAB_IFACE.policy left" \
		"$(cat "$TMP/err")"
fi
mounts0=$(grep -c ' - bpf ' /proc/self/mountinfo)

nx attach "$LAB_IFACE" "$POL_A"
rc=$?
if [[ $rc -eq 0 && -d $LAB_PIN_DIR ]] && attached_xdp; then
	ok netns_exec_attach
else
	not_ok netns_exec_attach "ip netns exec ... attach exited $rc; pins in $LAB_PIN_DIR:" \
		"$(ls "$LAB_PIN_DIR" 2>&1)" "$(cat "$TMP/err")"
fi
nx stats "$LAB_IFACE" --json
rc=$?
if [[ $rc -eq 0 ]] && jq -e --arg i "$LAB_IFACE" '.interface == $i and (.rows | length) == 6' \
	"$TMP/out" >/dev/null 2>&1; then
	ok netns_exec_stats_json
else
	not_ok netns_exec_stats_json "ip netns exec ... stats --json exited $rc" \
		"$(cat "$TMP/out" "$TMP/err")"
fi
nx apply "$LAB_IFACE" "$POL_C"
rc=$?
cp "$TMP/err" "$TMP/apply.err"
gen=$(status_field generation) # seen from outside, through nsenter
if [[ $rc -eq 0 && $gen == 2 ]]; then
	ok netns_exec_apply
else
	not_ok netns_exec_apply "ip netns exec ... apply exited $rc; generation seen outside: $gen" \
		"$(cat "$TMP/apply.err")"
fi
judge
if [[ $JUDGED == C ]]; then
	ok netns_exec_filters
else
	not_ok netns_exec_filters "want policy C whole; saw $JUDGED_SEEN"
fi
nx detach "$LAB_IFACE"
rc=$?
check netns_exec_detach "$rc" "ip netns exec ... detach exited $rc" "$(cat "$TMP/err")"
left=()
[[ -e $LAB_PIN_DIR ]] && left+=("pins in $LAB_PIN_DIR")
attached_xdp && left+=("XDP on $LAB_IFACE")
[[ -e $RUN_DIR/$LAB_IFACE.policy ]] && left+=("$RUN_DIR/$LAB_IFACE.policy")
[[ $(grep -c ' - bpf ' /proc/self/mountinfo) == "$mounts0" ]] ||
	left+=("bpffs mounts: $mounts0 -> $(grep -c ' - bpf ' /proc/self/mountinfo)")
if [[ ${#left[@]} -eq 0 ]]; then
	ok netns_exec_nothing_left
else
	not_ok netns_exec_nothing_left "left after detach: ${left[*]}"
fi
judge
if [[ ${PROBE[j22]} == pass && ${PROBE[j8080]} == pass && ${PROBE[j443]} == pass ]]; then
	ok netns_exec_detach_restores_traffic
else
	not_ok netns_exec_detach_restores_traffic "after detach: $JUDGED_SEEN"
fi

# --- 7. a device without native XDP -----------------------------------------------------
# `dummy` as asked; a kernel without it (CONFIG_DUMMY unset) gets `ifb`, another
# software device whose driver has no native XDP.
for kind in dummy ifb; do
	name=pf${kind}0
	if [[ -e $LAB_BPFFS/picfw/$name || -e $RUN_DIR/$name.policy ]]; then
		echo "# $LAB_BPFFS/picfw/$name or $RUN_DIR/$name.policy exists: not touching it"
		continue
	fi
	if in_edge ip link add "$name" type "$kind" 2>"$TMP/err"; then
		NOXDP_IF=$name
		break
	fi
	echo "# ip link add $name type $kind: $(cat "$TMP/err")"
done
if [[ -z $NOXDP_IF ]]; then
	skip noxdp_all "could not create a dummy or ifb device"
else
	[[ $NOXDP_IF != pfdummy0 ]] &&
		skip noxdp_dummy "no dummy devices in this kernel (CONFIG_DUMMY unset?): $NOXDP_IF instead"
	pf attach "$NOXDP_IF" "$POL_A"
	rc=$?
	if [[ $rc -eq 0 ]]; then
		skip noxdp_native_refused "the kernel accepts native XDP on $NOXDP_IF"
		pf detach "$NOXDP_IF"
	elif [[ $rc -eq 1 ]] && one_line_err && grep -q -- '--mode generic' "$TMP/err" &&
		[[ ! -e $LAB_BPFFS/picfw/$NOXDP_IF && ! -e $RUN_DIR/$NOXDP_IF.policy ]] &&
		! attached_xdp "$NOXDP_IF"; then
		ok noxdp_native_refused
	else
		not_ok noxdp_native_refused \
			"exit $rc (want 1, one line suggesting --mode generic, nothing left):" \
			"$(cat "$TMP/err")" "$(left_for "$NOXDP_IF")"
	fi
	pf attach "$NOXDP_IF" "$POL_A" --mode generic
	rc=$?
	if [[ $rc -eq 0 ]] && in_edge ip link show dev "$NOXDP_IF" | grep -q xdpgeneric; then
		ok noxdp_generic_attach
	else
		not_ok noxdp_generic_attach "attach --mode generic exited $rc" "$(cat "$TMP/err")"
	fi
	pf apply "$NOXDP_IF" "$POL_C"
	check noxdp_generic_apply "$?" "apply on $NOXDP_IF failed" "$(cat "$TMP/err")"
	pf detach "$NOXDP_IF"
	rc=$?
	if [[ $rc -eq 0 ]] && ! left_for "$NOXDP_IF" >/dev/null && ! attached_xdp "$NOXDP_IF"; then
		ok noxdp_generic_detach
	else
		not_ok noxdp_generic_detach "detach exited $rc, or pins, XDP or policy copy left" \
			"$(cat "$TMP/err")"
	fi
fi

# --- the end: tear down, and nothing may be left ------------------------------------------
ns_edge=$LAB_EDGE_NS
ns_net=$LAB_NET_NS
pids=("${LAB_PIDS[@]}")
noxdp=$NOXDP_IF
[[ -z $noxdp ]] && noxdp=pfdummy0
cleanup
left=()
ip netns list | grep -qE "^($ns_edge|$ns_net)( |$)" && left+=("namespaces")
for f in $(left_for "$LAB_IFACE") $(left_for "$noxdp"); do
	left+=("$f")
done
for pid in "${pids[@]}"; do
	kill -0 "$pid" 2>/dev/null && left+=("process $pid")
done
if [[ ${#left[@]} -eq 0 ]]; then
	ok nothing_left
else
	not_ok nothing_left "left behind: ${left[*]}"
fi

echo "# e2e apply: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[[ $FAILED -eq 0 ]]
