#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# End-to-end tests of picfw on a live Edge, in the namespace lab of
# tests/e2e/lib.sh:
#   1. sessions the Edge opened before `attach` (TCP to a partner's 5061 in
#      both families, a connected UDP socket to STUN) are seeded from its
#      sockets and keep exchanging data; a session to a stranger is not seeded;
#   2. `detach` removes only picfw's TC filter: another tool's filter (ingress
#      or egress) survives with its clsact qdisc; alone, the qdisc attach
#      made goes;
#   3. a second address on the Edge's interface: attach warns about it and it
#      is reachable under the default `unprotected pass`; after applying
#      `unprotected drop` it is unreachable while the protected address works,
#      and `status` lists it.
#
# Usage: tests/e2e/test_e2e_live.sh BUILD_DIR  (BUILD_DIR holds picfw and tests/peer)
# Output: `ok - test_e2e_live_NAME`, `not ok - test_e2e_live_NAME`, `# diagnostics`.
# Exit: 0 if no test failed, 1 otherwise. Needs root; SKIPs without it.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAP_PREFIX=test_e2e_live_
# shellcheck source=tests/e2e/tap.sh
source "$ROOT/tests/e2e/tap.sh"
e2e_args "$@"
e2e_need_root "(network namespaces, XDP)"
e2e_need_tools ip nsenter ss jq tc timeout
e2e_need_bins

# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
# Our own names (pins and policy copies are named by interface, host-wide).
lab_names pfl
LAB_NS_PREFIX=pfl

EDGE2_4=203.0.113.99 # the Edge's second address, outside `protect`
EDGE2_6=2001:db8:e::99
TMP=
TIMEOUT_BLOCK=1 # seconds a blocked exchange waits before calling it blocked

cleanup()
{
	lab_down
	[[ -n $TMP ]] && rm -rf -- "$TMP"
	TMP=
}
e2e_begin picfw-e2e-live

if ! lab_up live; then
	not_ok lab_up "could not build the namespace lab"
	exit 1
fi

# wait_established N: until the Edge has N established sockets (<= 3 s).
wait_established()
{
	local i
	for ((i = 0; i < 60; i++)); do
		[[ $(in_edge ss -Htn state established | wc -l) -ge $1 ]] && return 0
		sleep 0.05
	done
	return 1
}

# flows_with ORIGIN TRANSPORT REMOTE REMOTE_PORT LOCAL: how many such flows `flows --json` lists.
flows_with()
{
	jq -r --arg o "$1" --arg t "$2" --arg r "$3" --argjson rp "$4" --arg l "$5" \
		'[.flows[] | select(.origin == $o and .transport == $t and .remote == $r and
		  .remote_port == $rp and .local == $l)] | length' "$TMP/flows.json"
}

# filters_on DIRECTION: the filters `tc` lists on the lab interface's clsact in that direction.
filters_on()
{
	in_edge tc filter show dev "$LAB_IFACE" "$1" 2>/dev/null
}

has_clsact()
{
	in_edge tc qdisc show dev "$LAB_IFACE" 2>/dev/null | grep -q clsact
}

# --- 1. sessions open before attach are seeded and keep working ---------------------------
GO=$TMP/go
lab_bg net "$PEER" tcp-listen "$LAB_PARTNER4" 5061 --timeout 20
lab_bg net "$PEER" tcp-listen "$LAB_PARTNER6" 5061 --timeout 20
lab_bg net "$PEER" tcp-listen "$LAB_STRANGER4" 5061 --timeout 20 2>/dev/null
stranger_srv=$LAB_LAST_PID
lab_bg net "$PEER" udp-echo "$LAB_STRANGER4" 3478 --count 3 --timeout 20
lab_wait_listen net tcp 5061 && lab_wait_listen net udp 3478
lab_bg edge "$PEER" tcp-connect "$LAB_PARTNER4" 5061 --bytes 200000 --wait-for "$GO" --timeout 10
sess4=$LAB_LAST_PID
lab_bg edge "$PEER" tcp-connect "$LAB_PARTNER6" 5061 --bytes 200000 --wait-for "$GO" --timeout 10
sess6=$LAB_LAST_PID
lab_bg edge "$PEER" udp-send "$LAB_STRANGER4" 3478 --expect-reply --count 3 --wait-for "$GO" \
	--timeout 10
sessu=$LAB_LAST_PID
# Not a partner: no outbound row allows it, so it is no flow (its client just waits).
lab_bg edge "$PEER" tcp-connect "$LAB_STRANGER4" 5061 --wait-for "$TMP/never" --timeout 20 \
	2>/dev/null
stranger_cli=$LAB_LAST_PID
wait_established 3
check sessions_established_before_attach "$?" "$(in_edge ss -Htn state established)"

pf attach "$LAB_IFACE" "$POLICY"
check attach "$?" "$(cat "$TMP/err")"
grep -q "^picfw attach: kept 3 established sessions (tcp 2, udp 1)$" "$TMP/err"
check attach_says_kept "$?" "want 'kept 3 established sessions (tcp 2, udp 1)' on stderr:" \
	"$(cat "$TMP/err")"

if pf flows "$LAB_IFACE" --json && cp "$TMP/out" "$TMP/flows.json"; then
	[[ $(flows_with seeded tcp "$LAB_PARTNER4" 5061 "$LAB_EDGE4") == 1 ]]
	check seeded_flow_tcp4 "$?" "$(cat "$TMP/flows.json")"
	[[ $(flows_with seeded tcp "$LAB_PARTNER6" 5061 "$LAB_EDGE6") == 1 ]]
	check seeded_flow_tcp6 "$?" "$(cat "$TMP/flows.json")"
	[[ $(flows_with seeded udp "$LAB_STRANGER4" 3478 "$LAB_EDGE4") == 1 ]]
	check seeded_flow_udp4 "$?" "$(cat "$TMP/flows.json")"
	[[ $(jq --arg s "$LAB_STRANGER4" '[.flows[] | select(.remote == $s and .remote_port == 5061)]
		| length' "$TMP/flows.json") == 0 ]]
	check stranger_session_not_seeded "$?" "$(cat "$TMP/flows.json")"
else
	not_ok flows_json "$(cat "$TMP/err")"
fi

kill "$stranger_cli" "$stranger_srv" 2>/dev/null

# The sessions talk again: the Edge sends 200 kB each way, the replies must pass.
touch "$GO"
wait "$sess4"
check seeded_session_tcp4_exchanges "$?" "$(cat "$TMP/peer.err" 2>/dev/null)"
wait "$sess6"
check seeded_session_tcp6_exchanges "$?"
wait "$sessu"
check seeded_session_udp4_exchanges "$?"
# Their replies found the seeded flows: the egress program had nothing to pick up.
if pf stats "$LAB_IFACE" --json; then
	picked=$(jq -r '.flows.picked_up' "$TMP/out")
	[[ $picked == 0 ]]
	check replies_used_seeded_flows "$?" "flows picked up: $picked (want 0)"
	# ... and the seeding is counted, per table.
	seeded=$(jq -r '[.flows.seeded, .flows.tables.tcp4.seeded, .flows.tables.tcp6.seeded,
		.flows.tables.udp4.seeded] | map(tostring) | join(" ")' "$TMP/out")
	[[ $seeded == "3 1 1 1" ]]
	check seeded_counted "$?" "flows seeded (total tcp4 tcp6 udp4): $seeded (want 3 1 1 1)"
else
	not_ok replies_used_seeded_flows "$(cat "$TMP/err")"
fi

# --- 2. detach removes only picfw's own TC filter ---------------------------------------
# Another tool's filter (u32: built into most kernels, unlike matchall), added after
# attach, on the clsact qdisc attach made.
in_edge tc filter add dev "$LAB_IFACE" ingress prio 7 protocol all u32 match u32 0 0 2>"$TMP/tc.err"
check other_filter_added "$?" "$(cat "$TMP/tc.err")"
pf detach "$LAB_IFACE"
check detach_with_other_filter "$?" "$(cat "$TMP/err")"
filters_on ingress | grep -q u32
check other_ingress_filter_survives_detach "$?" "$(filters_on ingress)"
has_clsact
check clsact_stays_under_other_filter "$?"
! filters_on egress | grep -q .
check picfw_egress_filter_gone "$?" "$(filters_on egress)"
in_edge tc qdisc del dev "$LAB_IFACE" clsact

# The same with the other tool's filter on egress, beside picfw's own.
pf attach "$LAB_IFACE" "$POLICY"
check attach_again "$?" "$(cat "$TMP/err")"
in_edge tc filter add dev "$LAB_IFACE" egress prio 7 protocol all u32 match u32 0 0 2>"$TMP/tc.err"
check other_egress_filter_added "$?" "$(cat "$TMP/tc.err")"
pf detach "$LAB_IFACE"
check detach_with_other_egress_filter "$?" "$(cat "$TMP/err")"
filters_on egress | grep -q u32 && ! filters_on egress | grep -q bpf
check other_egress_filter_survives_detach "$?" "$(filters_on egress)"
has_clsact
check clsact_stays_under_other_egress_filter "$?"
in_edge tc qdisc del dev "$LAB_IFACE" clsact

# Nothing else on it: the qdisc attach made goes with detach.
pf attach "$LAB_IFACE" "$POLICY"
check attach_third "$?" "$(cat "$TMP/err")"
has_clsact
check attach_made_clsact "$?"
pf detach "$LAB_IFACE"
check detach_alone "$?" "$(cat "$TMP/err")"
! has_clsact
check detach_removes_own_clsact "$?" "$(in_edge tc qdisc show dev "$LAB_IFACE")"

# --- 3. an address on the Edge's interface outside `protect` ----------------------------
in_edge ip addr add "$EDGE2_4/24" dev "$LAB_IFACE" &&
	in_edge ip addr add "$EDGE2_6/64" dev "$LAB_IFACE" nodad
check second_address_added "$?"
lab_bg edge "$PEER" tcp-listen "$EDGE2_4" 8080 --count 1 --timeout 20
lab_bg edge "$PEER" tcp-listen "$EDGE2_6" 8080 --count 1 --timeout 20
lab_bg edge "$PEER" tcp-listen "$LAB_EDGE4" 5061 --count 1 --timeout 20
lab_wait_listen edge tcp 8080 && lab_wait_listen edge tcp 5061

pf attach "$LAB_IFACE" "$POLICY"
check attach_with_second_address "$?" "$(cat "$TMP/err")"
want="picfw attach: warning: $EDGE2_4 on $LAB_IFACE is not protected: traffic to it is not filtered (unprotected pass)"
grep -qxF "$want" "$TMP/err"
check attach_warns_unprotected_v4 "$?" "want: $want" "$(cat "$TMP/err")"
want="picfw attach: warning: $EDGE2_6 on $LAB_IFACE is not protected: traffic to it is not filtered (unprotected pass)"
grep -qxF "$want" "$TMP/err"
check attach_warns_unprotected_v6 "$?" "want: $want" "$(cat "$TMP/err")"
! grep -qE "warning: ($LAB_EDGE4|$LAB_EDGE6|fe80)" "$TMP/err"
check attach_warns_only_unprotected "$?" "$(cat "$TMP/err")"
pf status "$LAB_IFACE"
grep -qE "^  unprotected $EDGE2_4, $EDGE2_6 \(unprotected pass\)$" "$TMP/out"
check status_lists_unprotected "$?" "$(cat "$TMP/out")"

# Under `unprotected pass` nothing filters it: a port no row names is reachable.
ex net tcp-connect "$EDGE2_4" 8080 --timeout 2
check unprotected_pass_reachable_v4 "$?" "$(cat "$TMP/peer.err")"
ex net tcp-connect "$EDGE2_6" 8080 --timeout 2
check unprotected_pass_reachable_v6 "$?" "$(cat "$TMP/peer.err")"

lab_bg edge "$PEER" tcp-listen "$EDGE2_4" 8080 --count 1 --timeout 20
lab_bg edge "$PEER" tcp-listen "$EDGE2_6" 8080 --count 1 --timeout 20
lab_wait_listen edge tcp 8080
{
	cat "$POLICY"
	echo "unprotected drop"
} >"$TMP/drop.policy"
pf apply "$LAB_IFACE" "$TMP/drop.policy"
check apply_unprotected_drop "$?" "$(cat "$TMP/err")"
want="picfw apply: warning: $EDGE2_4 on $LAB_IFACE is not protected: traffic to it is dropped (unprotected drop)"
grep -qxF "$want" "$TMP/err"
check apply_warns_unprotected_drop "$?" "want: $want" "$(cat "$TMP/err")"
expect_block unprotected_drop_unreachable_v4 net tcp-connect "$EDGE2_4" 8080
expect_block unprotected_drop_unreachable_v6 net tcp-connect "$EDGE2_6" 8080
ex net tcp-connect "$LAB_EDGE4" 5061 --bind "$LAB_PARTNER4" --timeout 2
check protected_address_still_works "$?" "$(cat "$TMP/peer.err")"
pf status "$LAB_IFACE"
grep -qE "^  unprotected $EDGE2_4, $EDGE2_6 \(unprotected drop\)$" "$TMP/out"
check status_lists_unprotected_drop "$?" "$(cat "$TMP/out")"

pf detach "$LAB_IFACE"
check detach_end "$?" "$(cat "$TMP/err")"

echo "# $PASSED passed, $FAILED failed, $SKIPPED skipped"
[[ $FAILED -eq 0 ]]
