#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# End-to-end tests: real TCP and UDP through picfw attached to a veth in a
# namespace lab (tests/e2e/lib.sh), counters read back with `picfw stats --json`.
#
# Usage: tests/e2e/test_e2e.sh BUILD_DIR     (BUILD_DIR holds picfw and tests/peer)
# Output: `ok - test_e2e_NAME`, `not ok - test_e2e_NAME`, `# diagnostics`.
# Exit: 0 if no test failed, 1 otherwise. Needs root; SKIPs without it.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAP_PREFIX=test_e2e_
# shellcheck source=tests/e2e/tap.sh
source "$ROOT/tests/e2e/tap.sh"
e2e_args "$@"
e2e_need_root "(network namespaces, XDP)"
e2e_need_tools ip nsenter ss jq
e2e_need_bins

# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"

TMP=
TIMEOUT_OK=2    # seconds an allowed exchange may take
TIMEOUT_BLOCK=1 # seconds a blocked exchange waits before calling it blocked

cleanup()
{
	lab_down
	[[ -n $TMP ]] && rm -rf -- "$TMP"
}
e2e_begin picfw-e2e

# Print a file as diagnostics, at most 10 lines.
diag_file()
{
	head -n 10 -- "$1" | sed 's/^/#   /'
}

# Servers that would answer everything if nothing dropped (dual-stack "::" on
# the Edge; the partner and the stranger answer on their own addresses).
start_servers()
{
	local port
	for port in 22 443 5061; do
		lab_bg edge "$PEER" tcp-listen :: "$port" --count 1000 --timeout 120
	done
	for port in 3478 5000 5061; do
		lab_bg edge "$PEER" udp-echo :: "$port" --count 1000 --timeout 120
	done
	lab_bg net "$PEER" tcp-listen "$LAB_PARTNER4" 5061 --count 1000 --timeout 120
	lab_bg net "$PEER" tcp-listen "$LAB_PARTNER6" 5061 --count 1000 --timeout 120
	lab_bg net "$PEER" udp-echo "$LAB_STRANGER4" 3478 --count 1000 --timeout 120
	lab_bg net "$PEER" udp-echo "$LAB_STRANGER6" 3478 --count 1000 --timeout 120
	for port in 22 443 5061; do
		lab_wait_listen edge tcp "$port" || return 1
	done
	for port in 3478 5000 5061; do
		lab_wait_listen edge udp "$port" || return 1
	done
	lab_wait_listen net tcp 5061 && lab_wait_listen net udp 3478
}

attached_xdp()
{
	in_edge ip link show dev "$LAB_IFACE" 2>/dev/null | grep -q xdp
}

# stats FILE: `picfw stats pf-edge0 --json` into FILE; 0 if it parses as JSON.
STATS_SEQ=0
stats()
{
	STATS_SEQ=$((STATS_SEQ + 1))
	pf stats "$LAB_IFACE" --json || return 1
	jq -e 'type == "object"' "$TMP/out" >/dev/null 2>&1 || return 1
	cp "$TMP/out" "$1"
	cp "$TMP/out" "$TMP/stats.$(printf '%03d' "$STATS_SEQ")"
}

# Every counter of B >= the same counter of A (rows by name, reasons, would_drop).
monotonic()
{
	jq -n -r --slurpfile a "$1" --slurpfile b "$2" '
		def flat: [(.rows[] | {key: ("row " + .name), value: .}),
			   (.reasons | to_entries[] | {key: ("reason " + .key), value: .value}),
			   ((.would_drop // {}) | to_entries[] |
				{key: ("would_drop " + .key), value: .value})] | from_entries;
		($a[0] | flat) as $x | ($b[0] | flat) as $y |
		$x | keys[] | select($y[.] != null) |
		select($y[.].packets < $x[.].packets or $y[.].bytes < $x[.].bytes)'
}

# wait_reason FILE-BEFORE REASON MIN: poll stats (<= 2 s) until REASON grew by MIN.
wait_reason()
{
	local before=$1 reason=$2 min=$3 i b a
	b=$(reason_val "$before" "$reason" packets)
	for ((i = 0; i < 20; i++)); do
		stats "$TMP/wait.json" || return 1
		a=$(reason_val "$TMP/wait.json" "$reason" packets)
		[[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ ]] || return 1
		((a - b >= min)) && return 0
		sleep 0.1
	done
	return 1
}

# --- the lab ------------------------------------------------------------------
if ! lab_up e2e; then
	not_ok lab_up "could not build the namespace lab"
	exit 1
fi
if ! start_servers; then
	not_ok lab_servers "peer servers did not start"
	exit 1
fi

S4=$LAB_STRANGER4
S6=$LAB_STRANGER6
P4=$LAB_PARTNER4
P6=$LAB_PARTNER6
E4=$LAB_EDGE4
E6=$LAB_EDGE6

# --- before attach --------------------------------------------------------------
expect_pass baseline_stranger_tcp22_v4 "$TIMEOUT_OK" net tcp-connect "$E4" 22 --bind "$S4"
expect_pass baseline_stranger_tcp22_v6 "$TIMEOUT_OK" net tcp-connect "$E6" 22 --bind "$S6"

# --- attach ---------------------------------------------------------------------
pf attach "$LAB_IFACE" "$POLICY"
rc=$?
check attach "$rc" "picfw attach $LAB_IFACE $POLICY exited $rc" "$(cat "$TMP/err")"
if [[ $rc -ne 0 ]]; then
	echo "# not attached: the filter tests cannot run"
	exit 1
fi
pf status "$LAB_IFACE" && grep -q "$LAB_IFACE" "$TMP/out"
check status "$?" "picfw status $LAB_IFACE does not mention $LAB_IFACE" "$(cat "$TMP/out" "$TMP/err")"
[[ -d $LAB_PIN_DIR ]]
check attach_pins "$?" "$LAB_PIN_DIR is missing after attach"

# --- allowed ----------------------------------------------------------------------
expect_pass allow_partner_sip_tcp5061_v4 "$TIMEOUT_OK" net tcp-connect "$E4" 5061 --bind "$P4"
expect_pass allow_partner_sip_tcp5061_v6 "$TIMEOUT_OK" net tcp-connect "$E6" 5061 --bind "$P6"
expect_pass allow_client_sip_tcp443_v4 "$TIMEOUT_OK" net tcp-connect "$E4" 443 --bind "$S4"
expect_pass allow_client_sip_tcp443_v6 "$TIMEOUT_OK" net tcp-connect "$E6" 443 --bind "$S6"
expect_pass allow_stun_udp3478_in_v4 "$TIMEOUT_OK" net udp-send "$E4" 3478 --bind "$S4" --expect-reply
expect_pass allow_stun_udp3478_in_v6 "$TIMEOUT_OK" net udp-send "$E6" 3478 --bind "$S6" --expect-reply
expect_pass allow_edge_to_partner_tcp5061_v4 "$TIMEOUT_OK" edge tcp-connect "$P4" 5061
expect_pass allow_edge_to_partner_tcp5061_v6 "$TIMEOUT_OK" edge tcp-connect "$P6" 5061
expect_pass allow_edge_stun_udp3478_out_v4 "$TIMEOUT_OK" edge udp-send "$S4" 3478 --expect-reply
expect_pass allow_edge_stun_udp3478_out_v6 "$TIMEOUT_OK" edge udp-send "$S6" 3478 --expect-reply

# --- blocked ----------------------------------------------------------------------
expect_block block_stranger_tcp5061_v4 net tcp-connect "$E4" 5061 --bind "$S4"
expect_block block_stranger_tcp5061_v6 net tcp-connect "$E6" 5061 --bind "$S6"
expect_block block_stranger_tcp22_v4 net tcp-connect "$E4" 22 --bind "$S4"
expect_block block_stranger_tcp22_v6 net tcp-connect "$E6" 22 --bind "$S6"
expect_block block_stranger_udp5000_v4 net udp-send "$E4" 5000 --bind "$S4" --expect-reply
expect_block block_stranger_udp5000_v6 net udp-send "$E6" 5000 --bind "$S6" --expect-reply
expect_block block_partner_udp5061_v4 net udp-send "$E4" 5061 --bind "$P4" --expect-reply
expect_block block_partner_udp5061_v6 net udp-send "$E6" 5061 --bind "$P6" --expect-reply

# --- counters ---------------------------------------------------------------------
N=20
PAYLOAD=100
ROW_STUN_IN="a-v-stun-msturn-udp-3478-in"
ROW_SIP_IN="access-sip-mtls-tcp-5061-in"

if stats "$TMP/c0.json"; then
	ok stats_json
	if jq -e --arg i "$LAB_IFACE" '.interface == $i and (.rows | type == "array") and
		(.reasons.no_match.packets | type == "number") and .mode == "enforce" and
		.replies == "tracked" and .unprotected == "pass"' "$TMP/c0.json" >/dev/null; then
		ok stats_json_fields
	else
		not_ok stats_json_fields "stats --json lacks interface/rows/reasons.no_match/mode/replies/unprotected"
		diag_file "$TMP/c0.json"
	fi
else
	not_ok stats_json "picfw stats $LAB_IFACE --json failed or is not JSON" "$(cat "$TMP/err")"
	diag_file "$TMP/out"
fi

# Exactly N datagrams of PAYLOAD bytes, each echoed: the row counts N frames
# of Ethernet + IPv4 + UDP + payload.
ex net udp-send "$E4" 3478 --bind "$S4" --count "$N" --size "$PAYLOAD" --expect-reply \
	--timeout "$TIMEOUT_OK"
rc=$?
if [[ $rc -ne 0 ]]; then
	not_ok counters_stun_row_exact "the $N STUN datagrams were not all echoed" \
		"$(cat "$TMP/peer.err")"
elif ! stats "$TMP/c1.json"; then
	not_ok counters_stun_row_exact "picfw stats failed" "$(cat "$TMP/err")"
else
	p0=$(row_val "$TMP/c0.json" "$ROW_STUN_IN" packets)
	p1=$(row_val "$TMP/c1.json" "$ROW_STUN_IN" packets)
	b0=$(row_val "$TMP/c0.json" "$ROW_STUN_IN" bytes)
	b1=$(row_val "$TMP/c1.json" "$ROW_STUN_IN" bytes)
	want_b=$((N * (14 + 20 + 8 + PAYLOAD)))
	if [[ $p0$p1$b0$b1 =~ ^[0-9]+$ ]] && ((p1 - p0 == N && b1 - b0 == want_b)); then
		ok counters_stun_row_exact
	else
		not_ok counters_stun_row_exact \
			"$ROW_STUN_IN: packets $p0 -> $p1 (want +$N), bytes $b0 -> $b1 (want +$want_b)"
	fi
fi

# N datagrams that no row allows: reasons.no_match grows by exactly N.
if stats "$TMP/c2.json"; then
	ex net udp-send "$E4" 5000 --bind "$S4" --count "$N" --size "$PAYLOAD"
	rc=$?
	wait_reason "$TMP/c2.json" no_match "$N"
	sleep 0.2 # anything late would show up now
	if [[ $rc -ne 0 ]]; then
		not_ok counters_no_match_exact "sending to UDP 5000 failed" "$(cat "$TMP/peer.err")"
	elif stats "$TMP/c3.json"; then
		n0=$(reason_val "$TMP/c2.json" no_match packets)
		n1=$(reason_val "$TMP/c3.json" no_match packets)
		if [[ $n0$n1 =~ ^[0-9]+$ ]] && ((n1 - n0 == N)); then
			ok counters_no_match_exact
		else
			not_ok counters_no_match_exact "reasons.no_match.packets $n0 -> $n1 (want +$N)"
		fi
	else
		not_ok counters_no_match_exact "picfw stats failed" "$(cat "$TMP/err")"
	fi
else
	not_ok counters_no_match_exact "picfw stats failed" "$(cat "$TMP/err")"
fi

# A TCP exchange from the partner: SYN, ACK, data, FIN at least.
if stats "$TMP/c4.json" && ex net tcp-connect "$E4" 5061 --bind "$P4" --timeout "$TIMEOUT_OK" &&
	stats "$TMP/c5.json"; then
	t0=$(row_val "$TMP/c4.json" "$ROW_SIP_IN" packets)
	t1=$(row_val "$TMP/c5.json" "$ROW_SIP_IN" packets)
	if [[ $t0$t1 =~ ^[0-9]+$ ]] && ((t1 - t0 >= 3)); then
		ok counters_sip_tcp5061_in
	else
		not_ok counters_sip_tcp5061_in "$ROW_SIP_IN packets $t0 -> $t1 (want +3 or more)"
	fi
else
	not_ok counters_sip_tcp5061_in "exchange or stats failed" "$(cat "$TMP/peer.err" "$TMP/err")"
fi

# No counter ever went down between two successive reads.
decreased=
prev=
for f in "$TMP"/stats.*; do
	[[ -e $f ]] || continue
	if [[ -n $prev ]]; then
		d=$(monotonic "$prev" "$f")
		[[ -n $d ]] && decreased+="$(basename "$prev")->$(basename "$f"): $d; "
	fi
	prev=$f
done
if [[ -z $prev ]]; then
	not_ok counters_monotonic "no stats were read"
elif [[ -z $decreased ]]; then
	ok counters_monotonic
else
	not_ok counters_monotonic "counters went down: ${decreased//$'\n'/, }"
fi

# --- tracked replies vs the stateless rule -----------------------------------------
# The Edge's connections above are in the flow table, on their outbound rows.
pf flows "$LAB_IFACE" --json
n=$(jq '[.flows[] | select(.remote_port == 5061 and .row == "access-sip-mtls-tcp-5061-out")]
	| length' "$TMP/out" 2>/dev/null)
check flows_lists_edge_sip_flows "$([[ ${n:-0} -ge 2 ]]; echo $?)" \
	"picfw flows shows ${n:-no} SIP flows to partners (want >= 2)" "$(cat "$TMP/out")"
# A stranger sending from the STUN port to another Edge port: the stateless rule
# took it for a reply; tracking knows the Edge never opened that flow.
expect_block tracked_stranger_udp_from_3478_v4 net udp-send "$E4" 5000 --bind "$S4,3478" \
	--expect-reply
expect_block tracked_stranger_udp_from_3478_v6 net udp-send "$E6" 5000 --bind "$S6,3478" \
	--expect-reply
STATELESS=$TMP/stateless.policy
{ echo "replies stateless"; cat "$POLICY"; } >"$STATELESS"
pf apply "$LAB_IFACE" "$STATELESS"
check stateless_apply "$?" "apply of the stateless policy failed" "$(cat "$TMP/err")"
expect_pass stateless_stranger_udp_from_3478_v4 "$TIMEOUT_OK" net udp-send "$E4" 5000 --bind "$S4,3478" \
	--expect-reply
pf apply "$LAB_IFACE" "$POLICY"
check tracked_apply_back "$?" "apply back to tracking failed" "$(cat "$TMP/err")"
expect_block tracked_again_stranger_udp_from_3478_v4 net udp-send "$E4" 5000 --bind "$S4,3478" \
	--expect-reply

# --- detach -----------------------------------------------------------------------
pf detach "$LAB_IFACE"
rc=$?
check detach "$rc" "picfw detach exited $rc" "$(cat "$TMP/err")"
[[ ! -e $LAB_PIN_DIR ]]
check detach_pins_removed "$?" "$LAB_PIN_DIR is still there"
! attached_xdp
check detach_no_xdp "$?" "ip link still shows XDP on $LAB_IFACE"
expect_pass detach_stranger_tcp22_v4 "$TIMEOUT_OK" net tcp-connect "$E4" 22 --bind "$S4"
expect_pass detach_stranger_tcp22_v6 "$TIMEOUT_OK" net tcp-connect "$E6" 22 --bind "$S6"

# --- errors -----------------------------------------------------------------------
pf attach pf-nope0 "$POLICY"
rc=$?
if [[ $rc -eq 1 ]] && one_line_err && [[ ! -e $LAB_BPFFS/picfw/pf-nope0 ]]; then
	ok error_attach_no_such_iface
else
	not_ok error_attach_no_such_iface "exit $rc (want 1), stderr:" "$(cat "$TMP/err")"
	[[ -e $LAB_BPFFS/picfw/pf-nope0 ]] && echo "# pins left in $LAB_BPFFS/picfw/pf-nope0"
fi

if pf attach "$LAB_IFACE" "$POLICY"; then
	pf attach "$LAB_IFACE" "$POLICY"
	rc=$?
	if [[ $rc -eq 1 ]] && one_line_err; then
		ok error_attach_twice
	else
		not_ok error_attach_twice "second attach: exit $rc (want 1), stderr:" "$(cat "$TMP/err")"
	fi
	# The first attachment must survive the refused second one.
	expect_block error_attach_twice_still_filters net tcp-connect "$E4" 22 --bind "$S4"
	pf detach "$LAB_IFACE"
	check error_attach_twice_detach "$?" "detach after the double attach failed" \
		"$(cat "$TMP/err")"
else
	not_ok error_attach_twice "first attach failed" "$(cat "$TMP/err")"
fi

BAD_POLICY=$TMP/bad.policy
sed 's|^Access/SIP(TLS)/TCP/443 |Access/SIP(TLS)/TPC/443 |' "$POLICY" >"$BAD_POLICY"
if cmp -s "$POLICY" "$BAD_POLICY"; then
	not_ok error_attach_bad_policy "could not make a bad policy from $POLICY"
else
	pf attach "$LAB_IFACE" "$BAD_POLICY"
	rc=$?
	if [[ $rc -eq 1 ]] && [[ ! -e $LAB_PIN_DIR ]] && ! attached_xdp &&
		grep -q 'bad.policy:' "$TMP/err"; then
		ok error_attach_bad_policy
	else
		not_ok error_attach_bad_policy "exit $rc (want 1, FILE:LINE:COL message, nothing left)" \
			"$(cat "$TMP/err")"
		[[ -e $LAB_PIN_DIR ]] && echo "# pins left in $LAB_PIN_DIR"
		attached_xdp && echo "# XDP left on $LAB_IFACE"
		pf detach "$LAB_IFACE"
	fi
fi

pf detach "$LAB_IFACE"
rc=$?
if [[ $rc -eq 1 ]] && one_line_err; then
	ok error_detach_not_attached
else
	not_ok error_detach_not_attached "exit $rc (want 1), stderr:" "$(cat "$TMP/err")"
fi

# Without root's capabilities: a clear one-line refusal, nothing attached.
if command -v setpriv >/dev/null; then
	timeout 20 nsenter --net="/run/netns/$LAB_EDGE_NS" -- setpriv --reuid=65534 --regid=65534 \
		--clear-groups --inh-caps=-all --bounding-set=-all "$PICFW" attach "$LAB_IFACE" \
		"$POLICY" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [[ $rc -eq 1 ]] && one_line_err && grep -q 'root' "$TMP/err" &&
		[[ ! -e $LAB_PIN_DIR ]] && ! attached_xdp; then
		ok error_attach_not_root
	else
		not_ok error_attach_not_root "exit $rc (want 1, one line naming root)" \
			"$(cat "$TMP/err")"
	fi
else
	skip error_attach_not_root "setpriv (util-linux) not installed"
fi

# A policy anyone may write is refused, like sshd's StrictModes.
OPEN_POLICY=$TMP/open.policy
cp "$POLICY" "$OPEN_POLICY" && chmod 0666 "$OPEN_POLICY"
pf attach "$LAB_IFACE" "$OPEN_POLICY"
rc=$?
if [[ $rc -eq 1 ]] && one_line_err && grep -q 'writable by everyone' "$TMP/err" &&
	[[ ! -e $LAB_PIN_DIR ]] && ! attached_xdp; then
	ok error_attach_world_writable_policy
else
	not_ok error_attach_world_writable_policy "exit $rc (want 1, one line, nothing attached)" \
		"$(cat "$TMP/err")"
fi

# Bad usage: exit 2.
pf attach "$LAB_IFACE"
rc=$?
check error_usage_exit_2 "$([[ $rc -eq 2 ]]; echo $?)" "attach with one argument exited $rc (want 2)"

# --- generic XDP ----------------------------------------------------------------------
pf attach "$LAB_IFACE" "$POLICY" --mode generic
rc=$?
check generic_attach "$rc" "attach --mode generic exited $rc" "$(cat "$TMP/err")"
if [[ $rc -eq 0 ]]; then
	in_edge ip link show dev "$LAB_IFACE" | grep -q xdpgeneric
	check generic_is_xdpgeneric "$?" "ip link does not show xdpgeneric on $LAB_IFACE"
	expect_pass generic_allow_client_tcp443_v4 "$TIMEOUT_OK" net tcp-connect "$E4" 443 --bind "$S4"
	expect_block generic_block_stranger_tcp22_v4 net tcp-connect "$E4" 22 --bind "$S4"
	pf detach "$LAB_IFACE"
	rc=$?
	if [[ $rc -eq 0 && ! -e $LAB_PIN_DIR ]] && ! attached_xdp; then
		ok generic_detach
	else
		not_ok generic_detach "exit $rc, or pins or XDP left" "$(cat "$TMP/err")"
	fi
fi

echo "# e2e: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
