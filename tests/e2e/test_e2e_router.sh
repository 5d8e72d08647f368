#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# End-to-end tests of the other deployment (issue 14): picfw on a Linux router
# in front of the Edge, attached to the router's external (Internet-facing)
# veth, where the TC egress program sees what the router forwards out.
#
#   [pfr-far] 198.51.100.8        (a partner behind a 1280-byte link)
#       | pfr-far0 (1500) --- pfr-isp1 (MTU 1280)
#   [pfr-inet] "the Internet": forwards; partner 198.51.100.7 2001:db8:100::7,
#       |       stranger 192.0.2.66 2001:db8:bad::66
#       | pfr-inet0 192.0.2.254/30 2001:db8:ff::2/64
#       | pfr-ext0  192.0.2.253/30 2001:db8:ff::1/64   <- picfw (XDP + TC egress)
#   [pfr-rtr] forwards; bridge pfr-br0 203.0.113.1/24 2001:db8:e::1/64
#       | pfr-dmz0                     | pfr-dmz1
#   [pfr-edge] pfr-edge0               [pfr-h2] pfr-h2e0
#     203.0.113.10 2001:db8:e::10        203.0.113.20 2001:db8:e::20 (not protected)
#
# Tests: sessions the Edge opened before attach, in which the partner talks
# first (picked up in attach's window); the PIC exchanges; replies tracked from forwarded packets; large
# TCP transfers (GRO/GSO superpackets forwarded); fragments; path MTU (the
# router's DMZ side at 1280; a 1280-byte link beyond the Internet side, whose
# ICMP comes in through picfw); the second DMZ host untouched.
#
# Usage: tests/e2e/test_e2e_router.sh BUILD_DIR  (BUILD_DIR holds picfw and tests/peer)
# Output: `ok - test_e2e_router_NAME`, `not ok - ...`, `# diagnostics`.
# Exit: 0 if no test failed, 1 otherwise. Needs root; SKIPs without it.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAP_PREFIX=test_e2e_router_
# shellcheck source=tests/e2e/tap.sh
source "$ROOT/tests/e2e/tap.sh"
e2e_args "$@"
RUN_DIR=/run/picfw
e2e_need_root "(network namespaces, XDP)"
e2e_need_tools ip nsenter ss jq timeout awk sysctl
e2e_need_bins

# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh" # LAB_BPFFS, lab_bpffs, lab_log

IFACE=pfr-ext0
PIN_DIR=$LAB_BPFFS/picfw/$IFACE
NS_INET=pfr-inet-$$
NS_FAR=pfr-far-$$
NS_RTR=pfr-rtr-$$
NS_EDGE=pfr-edge-$$
NS_H2=pfr-h2-$$
ALL_NS=("$NS_INET" "$NS_FAR" "$NS_RTR" "$NS_EDGE" "$NS_H2")
# tap.sh's pf runs picfw in LAB_EDGE_NS: here, the router.
LAB_EDGE_NS=$NS_RTR

E4=203.0.113.10
E6=2001:db8:e::10
H4=203.0.113.20
H6=2001:db8:e::20
P4=198.51.100.7
P6=2001:db8:100::7
F4=198.51.100.8 # the partner behind the 1280-byte link
F6=2001:db8:100::8
S4=192.0.2.66
S6=2001:db8:bad::66
ROW_SIP_IN=access-sip-mtls-tcp-5061-in
ROW_STUN_IN='a-v-stun-msturn-udp-3478-in'

TMP=
TIMEOUT_OK=3
TIMEOUT_BLOCK=1
OWNS_PINS=0
PIDS=()
T_SCRIPT=$(date +%s.%N)
T_SECTION=$T_SCRIPT

ns_exists()
{
	[[ -e /run/netns/$1 ]]
}

cleanup()
{
	local pid ns i
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	PIDS=()
	if ns_exists "$NS_RTR" && [[ -e $PIN_DIR ]]; then
		timeout 10 nsenter --net="/run/netns/$NS_RTR" -- "$PICFW" detach "$IFACE" \
			>/dev/null 2>&1
	fi
	for ns in "${ALL_NS[@]}"; do
		ns_exists "$ns" && ip netns del "$ns" 2>/dev/null
	done
	if [[ $OWNS_PINS == 1 ]]; then
		[[ -e $PIN_DIR ]] && rm -rf -- "$PIN_DIR"
		rm -f -- "$RUN_DIR/$IFACE.policy"
		OWNS_PINS=0
	fi
	# Namespaces go away asynchronously: a little time so a rerun starts clean.
	for ((i = 0; i < 20; i++)); do
		left_ns=0
		for ns in "${ALL_NS[@]}"; do
			ns_exists "$ns" && left_ns=1
		done
		[[ $left_ns == 0 ]] && break
		sleep 0.05
	done
	[[ -n $TMP ]] && rm -rf -- "$TMP"
	TMP=
}
e2e_begin picfw-e2e-router

in_ns() # NS CMD...
{
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# ex NS PEER-ARGS...: one exchange with the peer tool; its stderr in $TMP/peer.err.
ex()
{
	local ns=$1
	shift
	in_ns "$ns" "$PEER" "$@" 2>"$TMP/peer.err"
}

# bg NS CMD...: in the background, remembered for cleanup; sets LAST_PID.
bg()
{
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@" &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

stop()
{
	local p keep=()
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	for p in "${PIDS[@]}"; do
		[[ $p != "$1" ]] && keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

wait_listen() # NS tcp|udp PORT
{
	local flag=-Hltn i
	[[ $2 == udp ]] && flag=-Hlun
	for ((i = 0; i < 60; i++)); do
		[[ -n $(in_ns "$1" ss "$flag" "sport = :$3" 2>/dev/null) ]] && return 0
		sleep 0.05
	done
	return 1
}

# expect_pass NAME TIMEOUT NS PEER-ARGS...: tap.sh's, through the ex() above.

# expect_block NAME NS PEER-ARGS...: tap.sh's, which runs the peer through the
# ex() above, so here NS is a namespace of this lab (not edge|net).

stats() # FILE
{
	pf stats "$IFACE" --json || return 1
	jq -e 'type == "object"' "$TMP/out" >/dev/null 2>&1 || return 1
	cp "$TMP/out" "$1"
}

section_done()
{
	echo "# time: $1 $(elapsed "$T_SECTION") s"
	T_SECTION=$(date +%s.%N)
}

# --- the lab ----------------------------------------------------------------------------
lab()
{
	local ns i tentative
	if [[ -e $PIN_DIR || -e $RUN_DIR/$IFACE.policy ]]; then
		lab_log "$PIN_DIR or $RUN_DIR/$IFACE.policy exists: another run, or a stale one"
		return 1
	fi
	lab_bpffs || return 1
	OWNS_PINS=1
	for ns in "${ALL_NS[@]}"; do
		ip netns add "$ns" || return 1
		in_ns "$ns" ip link set lo up || return 1
	done
	# picfw keys pins by network namespace: IFACE:NETNS (bpffs.h, pin_dir).
	PIN_DIR=$LAB_BPFFS/picfw/$IFACE:$(stat -L -c %i "/run/netns/$NS_RTR")
	ip link add pfr-ext0 netns "$NS_RTR" type veth peer name pfr-inet0 netns "$NS_INET" &&
	ip link add pfr-isp1 netns "$NS_INET" type veth peer name pfr-far0 netns "$NS_FAR" &&
	ip link add pfr-dmz0 netns "$NS_RTR" type veth peer name pfr-edge0 netns "$NS_EDGE" &&
	ip link add pfr-dmz1 netns "$NS_RTR" type veth peer name pfr-h2e0 netns "$NS_H2" || return 1

	# The Internet: a host with many addresses, and a router to the far partner.
	in_ns "$NS_INET" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 &&
	in_ns "$NS_INET" ip addr add 192.0.2.254/30 dev pfr-inet0 &&
	in_ns "$NS_INET" ip addr add 2001:db8:ff::2/64 dev pfr-inet0 nodad &&
	for a in "$P4/32" "$S4/32"; do in_ns "$NS_INET" ip addr add "$a" dev pfr-inet0 || return 1; done &&
	for a in "$P6/128" "$S6/128"; do in_ns "$NS_INET" ip addr add "$a" dev pfr-inet0 nodad || return 1; done &&
	in_ns "$NS_INET" ip addr add 192.0.2.249/30 dev pfr-isp1 &&
	in_ns "$NS_INET" ip addr add 2001:db8:fe::1/64 dev pfr-isp1 nodad &&
	in_ns "$NS_INET" ip link set pfr-isp1 mtu 1280 &&
	in_ns "$NS_INET" ip link set pfr-inet0 up &&
	in_ns "$NS_INET" ip link set pfr-isp1 up &&
	in_ns "$NS_INET" ip route add 203.0.113.0/24 via 192.0.2.253 &&
	in_ns "$NS_INET" ip -6 route add 2001:db8:e::/64 via 2001:db8:ff::1 &&
	in_ns "$NS_INET" ip route add "$F4/32" via 192.0.2.250 &&
	in_ns "$NS_INET" ip -6 route add "$F6/128" via 2001:db8:fe::2 || return 1

	# The far partner: its link is 1500, the Internet's end of it 1280; it
	# sends at most 1280 (route mtu) but advertises a 1500-byte MSS, so the
	# Edge learns the path MTU only from the ICMP errors of pfr-inet.
	in_ns "$NS_FAR" ip addr add 192.0.2.250/30 dev pfr-far0 &&
	in_ns "$NS_FAR" ip addr add 2001:db8:fe::2/64 dev pfr-far0 nodad &&
	in_ns "$NS_FAR" ip addr add "$F4/32" dev pfr-far0 &&
	in_ns "$NS_FAR" ip addr add "$F6/128" dev pfr-far0 nodad &&
	in_ns "$NS_FAR" ip link set pfr-far0 up &&
	in_ns "$NS_FAR" ip route add default via 192.0.2.249 mtu lock 1280 advmss 1460 &&
	in_ns "$NS_FAR" ip -6 route add default via 2001:db8:fe::1 mtu lock 1280 advmss 1440 || return 1

	# The router.
	in_ns "$NS_RTR" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 &&
	in_ns "$NS_RTR" ip addr add 192.0.2.253/30 dev pfr-ext0 &&
	in_ns "$NS_RTR" ip addr add 2001:db8:ff::1/64 dev pfr-ext0 nodad &&
	in_ns "$NS_RTR" ip link add pfr-br0 type bridge &&
	in_ns "$NS_RTR" ip link set pfr-dmz0 master pfr-br0 &&
	in_ns "$NS_RTR" ip link set pfr-dmz1 master pfr-br0 &&
	in_ns "$NS_RTR" ip addr add 203.0.113.1/24 dev pfr-br0 &&
	in_ns "$NS_RTR" ip addr add 2001:db8:e::1/64 dev pfr-br0 nodad &&
	for i in pfr-ext0 pfr-dmz0 pfr-dmz1 pfr-br0; do in_ns "$NS_RTR" ip link set "$i" up || return 1; done &&
	in_ns "$NS_RTR" ip route add default via 192.0.2.254 &&
	in_ns "$NS_RTR" ip -6 route add default via 2001:db8:ff::2 || return 1

	# The DMZ hosts.
	in_ns "$NS_EDGE" ip addr add "$E4/24" dev pfr-edge0 &&
	in_ns "$NS_EDGE" ip addr add "$E6/64" dev pfr-edge0 nodad &&
	in_ns "$NS_EDGE" ip link set pfr-edge0 up &&
	in_ns "$NS_EDGE" ip route add default via 203.0.113.1 &&
	in_ns "$NS_EDGE" ip -6 route add default via 2001:db8:e::1 &&
	in_ns "$NS_H2" ip addr add "$H4/24" dev pfr-h2e0 &&
	in_ns "$NS_H2" ip addr add "$H6/64" dev pfr-h2e0 nodad &&
	in_ns "$NS_H2" ip link set pfr-h2e0 up &&
	in_ns "$NS_H2" ip route add default via 203.0.113.1 &&
	in_ns "$NS_H2" ip -6 route add default via 2001:db8:e::1 || return 1

	# Bounded: no tentative address anywhere (link-local included).
	for ((i = 0; i < 100; i++)); do
		tentative=
		for ns in "${ALL_NS[@]}"; do
			tentative+=$(in_ns "$ns" ip -6 addr show tentative)
		done
		[[ -z $tentative ]] && return 0
		sleep 0.05
	done
	lab_log "tentative addresses after 5 s: $tentative"
	return 1
}

if ! lab; then
	not_ok lab_up "could not build the router lab"
	exit 1
fi

# Servers that answer everything (dual-stack), started once.
bg "$NS_EDGE" "$PEER" tcp-listen :: 5061 --count 100 --timeout 90
bg "$NS_EDGE" "$PEER" tcp-listen :: 443 --count 100 --timeout 90
bg "$NS_H2" "$PEER" tcp-listen :: 22 --count 100 --timeout 90
bg "$NS_INET" "$PEER" tcp-listen :: 5061 --count 100 --timeout 90
bg "$NS_FAR" "$PEER" tcp-listen :: 5061 --count 100 --timeout 90
ready=1
for w in "$NS_EDGE tcp 5061" "$NS_EDGE tcp 443" "$NS_H2 tcp 22" "$NS_INET tcp 5061" "$NS_FAR tcp 5061"; do
	# shellcheck disable=SC2086
	wait_listen $w || ready=0
done
# The path works before picfw (so a later failure is picfw's).
for ((i = 0; i < 20; i++)); do
	ex "$NS_INET" tcp-connect "$E4" 5061 --bind "$P4" --timeout 0.5 &&
		ex "$NS_INET" tcp-connect "$E6" 5061 --bind "$P6" --timeout 0.5 &&
		ex "$NS_EDGE" tcp-connect "$F4" 5061 --timeout 0.5 && break
	sleep 0.1
done
if [[ $ready == 1 && $i -lt 20 ]]; then
	ok lab_routes
else
	not_ok lab_routes "the lab does not forward before picfw is attached" "$(cat "$TMP/peer.err")"
	exit 1
fi

# Sessions the Edge opened before attach in which only the partner talks after
# it (to the Edge's ephemeral port, from 50500: the rtp-out row's ports). The
# router has no socket of the Edge's to seed them from: their first reply picks
# up its flow in attach's pickup window (`timeout pickup`), or they stall.
PUSH_GO=$TMP/push-go
bg "$NS_INET" "$PEER" tcp-listen "$P4" 50500 --push --bytes 100000 --wait-for "$PUSH_GO" \
	--timeout 15
PUSH_SRV4=$LAST_PID
bg "$NS_INET" "$PEER" tcp-listen "$P6" 50500 --push --bytes 100000 --wait-for "$PUSH_GO" \
	--timeout 15
PUSH_SRV6=$LAST_PID
wait_listen "$NS_INET" tcp 50500
bg "$NS_EDGE" "$PEER" tcp-connect "$P4" 50500 --echo --timeout 15
bg "$NS_EDGE" "$PEER" tcp-connect "$P6" 50500 --echo --timeout 15
for ((i = 0; i < 40; i++)); do
	[[ $(in_ns "$NS_EDGE" ss -Htn state established '( dport = :50500 )' | wc -l) -eq 2 ]] &&
		break
	sleep 0.05
done

pf attach "$IFACE" "$POLICY"
rc=$?
check attach_router_external "$rc" "picfw attach $IFACE (router namespace) exited $rc" "$(cat "$TMP/err")"
[[ $rc -ne 0 ]] && exit 1
if in_ns "$NS_RTR" ip link show dev "$IFACE" | grep -q xdp; then
	ok attach_xdp_on_external
else
	not_ok attach_xdp_on_external "no XDP on $IFACE"
fi
pf status "$IFACE"
grep -qE "^  pickup      open, [0-9]+ s left" "$TMP/out"
check status_says_pickup_open "$?" "$(cat "$TMP/out")"
touch "$PUSH_GO"
wait "$PUSH_SRV4"
check session_before_attach_partner_talks_v4 "$?" "(the partner's 100 kB and its echo)"
wait "$PUSH_SRV6"
check session_before_attach_partner_talks_v6 "$?"
if pf flows "$IFACE" --json; then
	n=$(jq --arg p4 "$P4" --arg p6 "$P6" '[.flows[] | select(.origin == "picked-up" and
		.remote_port == 50500 and (.remote == $p4 or .remote == $p6))] | length' "$TMP/out")
	[[ $n == 2 ]]
	check session_before_attach_picked_up "$?" "picked_up flows from 50500: $n (want 2)" \
		"$(cat "$TMP/out")"
else
	not_ok session_before_attach_picked_up "$(cat "$TMP/err")"
fi
section_done setup

# --- 1. the PIC exchanges through the router -----------------------------------------------
stats "$TMP/a.0.json"
expect_pass pic_partner_sip_v4 "$TIMEOUT_OK" "$NS_INET" tcp-connect "$E4" 5061 --bind "$P4"
expect_pass pic_partner_sip_v6 "$TIMEOUT_OK" "$NS_INET" tcp-connect "$E6" 5061 --bind "$P6"
expect_block pic_stranger_sip_v4_dropped "$NS_INET" tcp-connect "$E4" 5061 --bind "$S4"
expect_block pic_stranger_sip_v6_dropped "$NS_INET" tcp-connect "$E6" 5061 --bind "$S6"
expect_pass pic_client_443_v4 "$TIMEOUT_OK" "$NS_INET" tcp-connect "$E4" 443 --bind "$S4"
expect_pass pic_client_443_v6 "$TIMEOUT_OK" "$NS_INET" tcp-connect "$E6" 443 --bind "$S6"
# STUN in: a client's to the Edge's 3478; STUN out: the Edge's to a client's 3478.
bg "$NS_EDGE" "$PEER" udp-echo :: 3478 --count 2 --timeout 5
SRV=$LAST_PID
wait_listen "$NS_EDGE" udp 3478
expect_pass pic_stun_in_v4 "$TIMEOUT_OK" "$NS_INET" udp-send "$E4" 3478 --bind "$S4" --count 1 --expect-reply
expect_pass pic_stun_in_v6 "$TIMEOUT_OK" "$NS_INET" udp-send "$E6" 3478 --bind "$S6" --count 1 --expect-reply
stop "$SRV"
# (Echo servers bound to the client's address: the echo must come from it.)
bg "$NS_INET" "$PEER" udp-echo "$S4" 3478 --count 10 --timeout 5
SRV=$LAST_PID
bg "$NS_INET" "$PEER" udp-echo "$S6" 3478 --count 10 --timeout 5
SRV2=$LAST_PID
wait_listen "$NS_INET" udp 3478
expect_pass pic_stun_out_v4 "$TIMEOUT_OK" "$NS_EDGE" udp-send "$S4" 3478 --bind "$E4,40100" --count 10 --expect-reply
expect_pass pic_stun_out_v6 "$TIMEOUT_OK" "$NS_EDGE" udp-send "$S6" 3478 --bind "$E6,40100" --count 10 --expect-reply
stop "$SRV"
stop "$SRV2"
stats "$TMP/a.1.json"
d=$(delta "$(row_val "$TMP/a.0.json" "$ROW_SIP_IN" packets)" "$(row_val "$TMP/a.1.json" "$ROW_SIP_IN" packets)")
[[ $d =~ ^[0-9]+$ && $d -gt 0 ]]
check pic_counted_on_rows "$?" "$ROW_SIP_IN +$d packets (want > 0)"
section_done pic

# --- 2. replies tracked from forwarded packets ------------------------------------------
# The Edge's SIP session to a partner: the router forwards its SYN out of
# pfr-ext0, where the TC egress program records the flow; the replies come
# in through XDP on the same interface.
expect_pass forwarded_edge_to_partner_sip_v4 "$TIMEOUT_OK" "$NS_EDGE" tcp-connect "$P4" 5061 --bind "$E4,40200" --bytes 5000
expect_pass forwarded_edge_to_partner_sip_v6 "$TIMEOUT_OK" "$NS_EDGE" tcp-connect "$P6" 5061 --bind "$E6,40200" --bytes 5000
pf flows "$IFACE" --json
n=$(jq -r --arg e "$E4" '[.flows[] | select(.local == $e and .local_port == 40200 and .remote_port == 5061)] | length' \
	"$TMP/out" 2>/dev/null)
if [[ $n == 1 ]]; then
	ok forwarded_flow_tracked
else
	not_ok forwarded_flow_tracked "picfw flows on $IFACE: $n flows $E4:40200 -> :5061 (want 1)" \
		"$(head -c 600 "$TMP/out")"
fi
# A stranger's reply-looking datagram (from 3478, the STUN-out row's port, to
# the Edge's port of a live STUN flow to someone else) is dropped.
bg "$NS_INET" "$PEER" udp-echo "$P4" 3478 --count 1 --timeout 5
SRV=$LAST_PID
wait_listen "$NS_INET" udp 3478
# The Edge's flow from 40300 to the partner's 3478; then a socket on 40300.
expect_pass forwarded_stun_flow_v4 "$TIMEOUT_OK" "$NS_EDGE" udp-send "$P4" 3478 --bind "$E4,40300" --expect-reply
stop "$SRV"
bg "$NS_EDGE" "$PEER" udp-echo "$E4" 40300 --count 1 --timeout 5 2>/dev/null
SRV2=$LAST_PID
wait_listen "$NS_EDGE" udp 40300
stats "$TMP/b.0.json"
expect_block forwarded_stranger_reply_dropped "$NS_INET" udp-send "$E4" 40300 --bind "$S4,3478" --expect-reply
stats "$TMP/b.1.json"
stop "$SRV2"
d=$(delta "$(reason_val "$TMP/b.0.json" no_match)" "$(reason_val "$TMP/b.1.json" no_match)")
[[ $d =~ ^[0-9]+$ && $d -ge 1 ]]
check forwarded_stranger_counted_no_match "$?" "no_match +$d (want >= 1)"
section_done tracked

# --- 3. large transfers: superpackets forwarded -------------------------------------------
# 4 MB each way (the partner echoes) per family: the Edge's TSO superpackets
# cross the router unsegmented and leave through pfr-ext0's TC egress; none
# of the replies may be dropped. (After a pause: a straggler of the sections
# before, dropped in this window, once made the count 1 in CI.)
sleep 1
stats "$TMP/c.0.json"
t0=$(date +%s.%N)
bg "$NS_EDGE" "$PEER" tcp-connect "$P4" 5061 --bind "$E4,40400" --bytes 4194304 --timeout 15
C4=$LAST_PID
bg "$NS_EDGE" "$PEER" tcp-connect "$P6" 5061 --bind "$E6,40400" --bytes 4194304 --timeout 15
C6=$LAST_PID
wait "$C4"
rc4=$?
wait "$C6"
rc6=$?
stop "$C4"
stop "$C6"
echo "# 2 x 4 MB echoed in $(elapsed "$t0") s"
sleep 0.2
stats "$TMP/c.1.json"
check gso_forwarded_large_tcp_v4 "$rc4" "4 MB Edge -> $P4:5061 and back: not all echoed"
check gso_forwarded_large_tcp_v6 "$rc6" "4 MB Edge -> [$P6]:5061 and back: not all echoed"
d=$(delta "$(reason_val "$TMP/c.0.json" no_match)" "$(reason_val "$TMP/c.1.json" no_match)")
[[ $d == 0 ]]
check gso_forwarded_no_reply_dropped "$?" "no_match +$d during the transfers (want 0)"
# Those flows opened on the SYN. To see the egress program take a flow from
# a forwarded superpacket: with `timeout tcp 4s`, sessions idle 6 s after
# their first 1 MB (their flows expire), then the Edge writes 1 MB more; its
# first packet, a TSO superpacket forwarded unsegmented, must pick the flow up.
# (A/V RTP/TCP to a client's 50001/50002, each with its own listener: the
# shared 5061 listener serves one connection at a time.)
POL_SHORT=$TMP/tcpshort.policy
{
	cat "$POLICY"
	echo "timeout tcp 4s"
} >"$POL_SHORT"
pf apply "$IFACE" "$POL_SHORT"
check gso_apply_short_tcp_timeout "$?" "apply $POL_SHORT failed" "$(cat "$TMP/err")"
bg "$NS_INET" "$PEER" tcp-listen "$S4" 50001 --count 1 --timeout 20
L4=$LAST_PID
bg "$NS_INET" "$PEER" tcp-listen "$S6" 50002 --count 1 --timeout 20
L6=$LAST_PID
wait_listen "$NS_INET" tcp 50001 && wait_listen "$NS_INET" tcp 50002
stats "$TMP/c.2.json"
t0=$(date +%s.%N)
bg "$NS_EDGE" "$PEER" tcp-connect "$S4" 50001 --bind "$E4,40450" --bytes 2097152 --idle 6 --timeout 8 \
	>/dev/null 2>"$TMP/c4.err"
C4=$LAST_PID
bg "$NS_EDGE" "$PEER" tcp-connect "$S6" 50002 --bind "$E6,40450" --bytes 2097152 --idle 6 --timeout 8 \
	>/dev/null 2>"$TMP/c6.err"
C6=$LAST_PID
wait "$C4"
rc4=$?
wait "$C6"
rc6=$?
stop "$C4"
stop "$C6"
stop "$L4"
stop "$L6"
t_pick=$(elapsed "$t0")
pf flows "$IFACE" --json
cp "$TMP/out" "$TMP/c.flows.json"
stats "$TMP/c.3.json"
d=$(delta "$(reason_val "$TMP/c.2.json" no_match)" "$(reason_val "$TMP/c.3.json" no_match)")
echo "# 1 MB, 6 s pause, 1 MB (both families at once): $t_pick s; no_match +$d"
check gso_forwarded_pickup_v4 "$rc4" "1 MB, 6 s pause, 1 MB: $E4:40450 -> $S4:50001 not all echoed" "$(cat "$TMP/c4.err")"
check gso_forwarded_pickup_v6 "$rc6" "1 MB, 6 s pause, 1 MB: [$E6]:40450 -> [$S6]:50002 not all echoed" "$(cat "$TMP/c6.err")"
o=$(jq -r '[.flows[] | select(.local_port == 40450 and .remote_port >= 50001 and .remote_port <= 50002)
	| .origin] | sort | join(",")' "$TMP/c.flows.json" 2>/dev/null)
[[ $o == picked-up,picked-up ]]
check gso_forwarded_flow_picked_up "$?" "flows from :40450 to :50001/:50002: origins '$o' (want picked-up,picked-up)"
pf apply "$IFACE" "$POLICY"
section_done gso

# --- 4. fragments --------------------------------------------------------------------
# 3,000 bytes to the Edge's 3478, fragmented by the client's kernel; the
# router forwards the fragments as they are; the Edge echoes the whole.
for fam in 4 6; do
	if [[ $fam == 4 ]]; then e=$E4 s=$S4; else e=$E6 s=$S6; fi
	bg "$NS_EDGE" "$PEER" udp-echo "$e" 3478 --count 1 --fragment --timeout 5
	SRV=$LAST_PID
	wait_listen "$NS_EDGE" udp 3478
	stats "$TMP/d.$fam.0.json"
	expect_pass "fragments_v${fam}_arrive_whole" "$TIMEOUT_OK" "$NS_INET" udp-send "$e" 3478 --bind "$s" \
		--size 3000 --fragment --expect-reply
	stats "$TMP/d.$fam.1.json"
	stop "$SRV"
	rowd=$(delta "$(row_val "$TMP/d.$fam.0.json" "$ROW_STUN_IN" packets)" \
		"$(row_val "$TMP/d.$fam.1.json" "$ROW_STUN_IN" packets)")
	frd=$(delta "$(reason_val "$TMP/d.$fam.0.json" fragment)" "$(reason_val "$TMP/d.$fam.1.json" fragment)")
	if [[ $rowd == 3 && $frd == 0 ]]; then
		ok "fragments_v${fam}_counted_on_row"
	else
		not_ok "fragments_v${fam}_counted_on_row" "$ROW_STUN_IN +$rowd (want 3 fragments), fragment +$frd (want 0)"
	fi
done
section_done fragments

# --- 5. path MTU ------------------------------------------------------------------------
# (a) The router's DMZ side (pfr-br0) at 1280: a partner's 1 MB to the Edge
# (DF, MSS 1460) gets the router's frag-needed / packet-too-big, sent out of
# pfr-ext0 past the TC egress program; the transfer completes.
in_ns "$NS_RTR" ip link set pfr-br0 mtu 1280
expect_pass pmtu_dmz_side_v4 8 "$NS_INET" tcp-connect "$E4" 5061 --bind "$P4" --bytes 1048576
expect_pass pmtu_dmz_side_v6 8 "$NS_INET" tcp-connect "$E6" 5061 --bind "$P6" --bytes 1048576
in_ns "$NS_RTR" ip link set pfr-br0 mtu 1500
# (b) A 1280-byte link beyond the Internet side: the Edge's 1 MB to the far
# partner (DF, its MSS 1460) gets frag-needed / packet-too-big from pfr-inet,
# which comes in through picfw (icmp_related: it quotes a tracked flow).
stats "$TMP/m.0.json"
expect_pass pmtu_internet_side_v4 8 "$NS_EDGE" tcp-connect "$F4" 5061 --bind "$E4,40500" --bytes 1048576
expect_pass pmtu_internet_side_v6 8 "$NS_EDGE" tcp-connect "$F6" 5061 --bind "$E6,40500" --bytes 1048576
stats "$TMP/m.1.json"
d=$(delta "$(reason_val "$TMP/m.0.json" icmp_related)" "$(reason_val "$TMP/m.1.json" icmp_related)")
mtu4=$(in_ns "$NS_EDGE" ip route get "$F4" | grep -o 'mtu [0-9]*')
mtu6=$(in_ns "$NS_EDGE" ip -6 route get "$F6" | grep -o 'mtu [0-9]*')
if [[ $d =~ ^[0-9]+$ && $d -ge 2 && $mtu4 == "mtu 1280" && $mtu6 == "mtu 1280" ]]; then
	ok pmtu_icmp_through_picfw
else
	not_ok pmtu_icmp_through_picfw "icmp_related +$d (want >= 2); the Edge's path MTU to $F4: '$mtu4'," \
		"to $F6: '$mtu6' (want mtu 1280)"
fi
section_done pmtu

# --- 6. the second DMZ host: not protected, untouched ---------------------------------------
stats "$TMP/h.0.json"
expect_pass host2_stranger_tcp_v4 "$TIMEOUT_OK" "$NS_INET" tcp-connect "$H4" 22 --bind "$S4"
expect_pass host2_stranger_tcp_v6 "$TIMEOUT_OK" "$NS_INET" tcp-connect "$H6" 22 --bind "$S6"
bg "$NS_H2" "$PEER" udp-echo :: 9999 --count 2 --fragment --timeout 5
SRV=$LAST_PID
wait_listen "$NS_H2" udp 9999
expect_pass host2_stranger_udp_fragmented_v4 "$TIMEOUT_OK" "$NS_INET" udp-send "$H4" 9999 --bind "$S4" --size 3000 --fragment --expect-reply
expect_pass host2_stranger_udp_v6 "$TIMEOUT_OK" "$NS_INET" udp-send "$H6" 9999 --bind "$S6" --expect-reply
stop "$SRV"
stats "$TMP/h.1.json"
d=$(delta "$(reason_val "$TMP/h.0.json" unprotected)" "$(reason_val "$TMP/h.1.json" unprotected)")
dr=$(for r in no_match fragment malformed; do
	delta "$(reason_val "$TMP/h.0.json" $r)" "$(reason_val "$TMP/h.1.json" $r)"
done | paste -sd/)
if [[ $d =~ ^[0-9]+$ && $d -ge 10 && $dr == 0/0/0 ]]; then
	ok host2_counted_unprotected
else
	not_ok host2_counted_unprotected "unprotected +$d (want >= 10), no_match/fragment/malformed +$dr (want 0/0/0)"
fi
section_done host2

# --- the end ----------------------------------------------------------------------------
pf detach "$IFACE"
check detach "$?" "picfw detach $IFACE failed" "$(cat "$TMP/err")"
all_ns=("${ALL_NS[@]}")
cleanup
left=()
for ns in "${all_ns[@]}"; do
	ip netns list | grep -qE "^$ns( |$)" && left+=("namespace $ns")
done
[[ -e $PIN_DIR ]] && left+=("$PIN_DIR")
[[ -e $RUN_DIR/$IFACE.policy ]] && left+=("$RUN_DIR/$IFACE.policy")
if [[ ${#left[@]} -eq 0 ]]; then
	ok nothing_left
else
	not_ok nothing_left "left behind: ${left[*]}"
fi
echo "# time: total $(elapsed "$T_SCRIPT") s"
echo "# e2e router: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[[ $FAILED -eq 0 ]]
