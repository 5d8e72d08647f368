#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# End-to-end tests of one service's address per row (etc/edge/lync2013-edge.policy:
# access-edge, webconf-edge, av-edge inside the protected set `edge`), picfw on
# the Edge's own veth (the "Edge host" deployment) in the namespace lab of
# tests/e2e/lib.sh, the Edge holding its three addresses, with real traffic
# through the real kernel:
#   1. inbound: TCP 5061 reaches the Access Edge address only (the others'
#      SYNs are no_match); TCP 443 reaches all three, each connection counted
#      on its own service's row; UDP 3478 reaches the A/V Edge, not the Access Edge.
#   2. outbound, tracked replies: the A/V Edge address opens RTP (UDP to a
#      remote's 50000) and gets its echo, the Access Edge address does not
#      (and no flow is recorded for it); the Access Edge opens HTTP (TCP 80),
#      the A/V Edge cannot.
#   3. `apply` under live traffic moves 5061 to the Web Conferencing address:
#      5061 then opens on .11 and closes on .10; a UDP stream to the A/V Edge
#      loses nothing; an idle A/V TCP 443 session opened before goes on; an idle
#      5061 session to the Access Edge opened before is cut (inbound rows are
#      judged packet by packet).
# Both families throughout.
#
# Usage: tests/e2e/test_e2e_edge_services.sh BUILD_DIR  (BUILD_DIR holds picfw and tests/peer)
# Output: `ok - test_e2e_edge_services_NAME`, `not ok - ...`, `# diagnostics`.
# Exit: 0 if no test failed, 1 otherwise. Needs root; SKIPs without it.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAP_PREFIX=test_e2e_edge_services_
# shellcheck source=tests/e2e/tap.sh
source "$ROOT/tests/e2e/tap.sh"
e2e_args "$@"
RUN_DIR=/run/picfw # picfw's copies of the active policies
EDGE_POLICY=$ROOT/etc/edge/lync2013-edge.policy
e2e_need_root "(network namespaces, XDP)"
e2e_need_tools ip nsenter ss jq timeout awk sed
e2e_need_bins

# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
# Our own names (pins and policy copies are named by interface, host-wide).
lab_names pfv
LAB_NS_PREFIX=pfv

TMP=
TIMEOUT_OK=2    # seconds an allowed exchange may take
TIMEOUT_BLOCK=1 # seconds a blocked exchange waits before calling it blocked
NETNS_INO=      # the Edge namespace's inode: picfw's key for our pins and copies
T_SCRIPT=$(date +%s.%N)

cleanup()
{
	lab_down
	# lab_down detaches (which removes picfw's copies); a failed detach leaves them.
	if [[ -n $NETNS_INO ]]; then
		rm -f -- "$RUN_DIR/$LAB_IFACE:$NETNS_INO".gen*.policy
	fi
	[[ -n $TMP ]] && rm -rf -- "$TMP"
	TMP=
}
e2e_begin picfw-e2e-edge-services

T_SECTION=$T_SCRIPT
section_done() # NAME
{
	echo "# time: $1 $(elapsed "$T_SECTION") s"
	T_SECTION=$(date +%s.%N)
}

# The Edge's three addresses (Access is the lab's own), and the remote.
ACC4=$LAB_EDGE4
ACC6=$LAB_EDGE6
WEB4=203.0.113.11
WEB6=2001:db8:e::11
AV4=203.0.113.12
AV6=2001:db8:e::12
S4=$LAB_STRANGER4
S6=$LAB_STRANGER6

# The rows of etc/edge/lync2013-edge.policy, by derived name.
ROW_SIP_IN='access-sip-mtls-tcp-5061-in'
ROW_443_ACC='access-sip-tls-tcp-443-in'
ROW_443_WEB='web-conferencing-psom-tls-tcp-443-in'
ROW_443_AV='a-v-stun-msturn-tcp-443-in'
ROW_STUN_IN='a-v-stun-msturn-udp-3478-in'
ROW_RTP_UDP_OUT='a-v-rtp-udp-50000-59999-out'
ROW_HTTP_OUT='access-http-tcp-80-out'

# Client ports: each exchange its own, so that no 4-tuple is reused (TIME_WAIT)
# and no ephemeral port lands in a row's range by chance.
NEXT_PORT=41000
# cport: sets CPORT to the next client port.
cport()
{
	NEXT_PORT=$((NEXT_PORT + 1))
	CPORT=$NEXT_PORT
}

# flows FILE: `picfw flows --json` into FILE.
flows()
{
	pf flows "$LAB_IFACE" --json || return 1
	jq -e '.flows | type == "array"' "$TMP/out" >/dev/null 2>&1 || return 1
	cp "$TMP/out" "$1"
}

# flow_row FILE LOCAL LOCAL_PORT: the row of the flow from LOCAL:LOCAL_PORT,
# "none" if there is none, "many" if more than one.
flow_row()
{
	jq -r --arg l "$2" --argjson lp "$3" \
		'[.flows[] | select(.local == $l and .local_port == $lp) | .row]
		 | if length == 0 then "none" elif length == 1 then .[0] else "many" end' "$1" 2>/dev/null
}

# row_delta A B ROW: ROW's packets in B minus in A.
row_delta()
{
	delta "$(row_val "$1" "$3" packets)" "$(row_val "$2" "$3" packets)"
}

# closed edge|net PORT: wait (<= 2 s) until the client socket on local port
# PORT is in TIME_WAIT: it closed first, so once the server's FIN has come
# and its own last ACK gone, no packet of that connection is still on its
# way to the Edge (a late one would count in the next snapshot's window).
closed()
{
	local i
	for ((i = 0; i < 40; i++)); do
		if [[ $1 == edge ]]; then
			[[ -n $(in_edge ss -Htn state time-wait "sport = :$2" 2>/dev/null) ]] && break
		else
			[[ -n $(in_net ss -Htn state time-wait "sport = :$2" 2>/dev/null) ]] && break
		fi
		sleep 0.05
	done
	sleep 0.05 # the last packet through the veth's receive path
	((i < 40)) || echo "# the connection from port $2 ($1) did not reach TIME_WAIT within 2 s"
}

# wait_line FILE TEXT SECONDS: until FILE holds a line TEXT (bounded).
wait_line()
{
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -qx "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# --- the lab: the Edge with its three addresses ----------------------------------------
if ! lab_up services; then
	not_ok lab_up "could not build the namespace lab"
	exit 1
fi
NETNS_INO=$(stat -L -c %i "/run/netns/$LAB_EDGE_NS")
if ! { in_edge ip addr add "$WEB4/24" dev "$LAB_IFACE" &&
	in_edge ip addr add "$AV4/24" dev "$LAB_IFACE" &&
	in_edge ip addr add "$WEB6/64" dev "$LAB_IFACE" nodad &&
	in_edge ip addr add "$AV6/64" dev "$LAB_IFACE" nodad; }; then
	not_ok lab_up "could not add the Web Conferencing and A/V Edge addresses"
	exit 1
fi
ok lab_up

# The shipped policy as it is (its addresses are the lab's), a copy picfw
# trusts (root's, 0644, in root's 0700 directory); MOVED: the inbound 5061
# row on the Web Conferencing address instead of the Access Edge's.
POL=$TMP/lync2013-edge.policy
POL_MOVED=$TMP/moved.policy
install -m 0644 "$EDGE_POLICY" "$POL"
sed -E 's|^(Access/SIP\(MTLS\)/TCP/5061 +any +)access-edge( +)|\1webconf-edge\2|' "$POL" >"$POL_MOVED"
chmod 0644 "$POL_MOVED"
# The moved row must really be the only change (a typo in the sed would make
# the apply test vacuous).
pol_bad=()
"$PICFW" check "$POL" >"$TMP/check.out" 2>"$TMP/err" || pol_bad+=("check $POL: $(head -n 3 "$TMP/err")")
"$PICFW" check "$POL_MOVED" >"$TMP/check.moved" 2>"$TMP/err" ||
	pol_bad+=("check $POL_MOVED: $(head -n 3 "$TMP/err")")
for row in "$ROW_SIP_IN|access-edge|$TMP/check.out" "$ROW_SIP_IN|webconf-edge|$TMP/check.moved" \
	"$ROW_443_ACC|access-edge|$TMP/check.out" "$ROW_443_WEB|webconf-edge|$TMP/check.out" \
	"$ROW_443_AV|av-edge|$TMP/check.out" "$ROW_STUN_IN|av-edge|$TMP/check.out"; do
	IFS='|' read -r name dst file <<<"$row"
	got=$(awk -v n="$name" '$1 == n { print $6 }' "$file")
	[[ $got == "$dst" ]] || pol_bad+=("$(basename "$file"): row $name's Destination is '$got' (want $dst)")
done
[[ $(diff "$TMP/check.out" "$TMP/check.moved" | grep -c '^[<>]') == 2 ]] ||
	pol_bad+=("the moved policy differs in more than the one row:" "$(diff "$TMP/check.out" "$TMP/check.moved")")
if [[ ${#pol_bad[@]} -eq 0 ]]; then
	ok policies
else
	not_ok policies "${pol_bad[@]}"
	exit 1
fi

pf attach "$LAB_IFACE" "$POL"
rc=$?
check attach "$rc" "picfw attach $LAB_IFACE $POL exited $rc" "$(cat "$TMP/err")"
if [[ $rc -ne 0 ]]; then
	echo "# not attached: nothing else can run"
	exit 1
fi

# Servers on each of the Edge's six addresses (each its own socket: a UDP
# echo answers from the address it was sent to, and a serial TCP server busy
# with one session does not hold up another address): TCP 443 and 5061
# echoed, UDP 3478 echoed. A server answers whatever reaches it: only picfw
# decides what does.
srv_bad=0
for a in "$ACC4" "$ACC6" "$WEB4" "$WEB6" "$AV4" "$AV6"; do
	for port in 443 5061; do
		lab_bg edge "$PEER" tcp-listen "$a" "$port" --count 100 --timeout 90 2>/dev/null
	done
	lab_bg edge "$PEER" udp-echo "$a" 3478 --count 1000 --timeout 90 2>/dev/null
done
# The remote's servers for the Edge's outbound flows: RTP (UDP 50000), HTTP (TCP 80).
for a in "$S4" "$S6"; do
	lab_bg net "$PEER" udp-echo "$a" 50000 --count 100 --timeout 90 2>/dev/null
	lab_bg net "$PEER" tcp-listen "$a" 80 --count 100 --timeout 90 2>/dev/null
done
for i in 443 5061; do
	lab_wait_listen edge tcp "$i" || srv_bad=1
done
lab_wait_listen edge udp 3478 || srv_bad=1
lab_wait_listen net udp 50000 || srv_bad=1
lab_wait_listen net tcp 80 || srv_bad=1
# All of them (lab_wait_listen sees the first of a port): wait <= 3 s.
for ((i = 0; i < 60; i++)); do
	n_tcp=$(in_edge ss -Hltn | grep -cE ':(443|5061)\b')
	n_udp=$(in_edge ss -Hlun | grep -cE ':3478\b')
	n_net=$(in_net ss -Hlutn | grep -cE ':(80|50000)\b')
	[[ $n_tcp == 12 && $n_udp == 6 && $n_net == 4 ]] && break
	sleep 0.05
done
if [[ $srv_bad == 0 && $n_tcp == 12 && $n_udp == 6 && $n_net == 4 ]]; then
	ok servers
else
	not_ok servers "servers listening: Edge TCP $n_tcp of 12, Edge UDP $n_udp of 6, remote $n_net of 4"
	exit 1
fi
section_done setup

# --- 1. inbound: each port on its own service's address -----------------------------------
# TCP 5061 (Access/SIP(MTLS) in): the Access Edge address only.
for fam in 4 6; do
	if [[ $fam == 4 ]]; then s=$S4 acc=$ACC4 web=$WEB4 av=$AV4; else s=$S6 acc=$ACC6 web=$WEB6 av=$AV6; fi
	stats "$TMP/a.$fam.0.json"
	cport
	expect_pass "sip_5061_v${fam}_access_connects" "$TIMEOUT_OK" net tcp-connect "$acc" 5061 --bind "$s,$CPORT"
	closed net "$CPORT"
	stats "$TMP/a.$fam.1.json"
	d=$(row_delta "$TMP/a.$fam.0.json" "$TMP/a.$fam.1.json" "$ROW_SIP_IN")
	[[ $d =~ ^[0-9]+$ && $d -gt 0 ]]
	check "sip_5061_v${fam}_access_counted" "$?" "$ROW_SIP_IN +$d packets (want > 0)"
	for pair in "webconf|$web" "av|$av"; do
		IFS='|' read -r svc a <<<"$pair"
		stats "$TMP/a.$fam.$svc.0.json"
		cport
		expect_block "sip_5061_v${fam}_${svc}_dropped" net tcp-connect "$a" 5061 --bind "$s,$CPORT"
		stats "$TMP/a.$fam.$svc.1.json"
		nm=$(delta "$(reason_val "$TMP/a.$fam.$svc.0.json" no_match)" \
			"$(reason_val "$TMP/a.$fam.$svc.1.json" no_match)")
		d=$(row_delta "$TMP/a.$fam.$svc.0.json" "$TMP/a.$fam.$svc.1.json" "$ROW_SIP_IN")
		if [[ $nm =~ ^[0-9]+$ && $nm -ge 1 && $d == 0 ]]; then
			ok "sip_5061_v${fam}_${svc}_counted_no_match"
		else
			not_ok "sip_5061_v${fam}_${svc}_counted_no_match" \
				"SYNs to $a:5061: no_match +$nm (want >= 1), $ROW_SIP_IN +$d (want 0)"
		fi
	done
done
section_done sip_5061

# TCP 443: open on all three, each connection counted on its own service's row only.
for fam in 4 6; do
	if [[ $fam == 4 ]]; then s=$S4 acc=$ACC4 web=$WEB4 av=$AV4; else s=$S6 acc=$ACC6 web=$WEB6 av=$AV6; fi
	for triple in "access|$acc|$ROW_443_ACC" "webconf|$web|$ROW_443_WEB" "av|$av|$ROW_443_AV"; do
		IFS='|' read -r svc a own <<<"$triple"
		stats "$TMP/b.$fam.$svc.0.json"
		cport
		expect_pass "tls_443_v${fam}_${svc}_connects" "$TIMEOUT_OK" net tcp-connect "$a" 443 --bind "$s,$CPORT"
		closed net "$CPORT"
		stats "$TMP/b.$fam.$svc.1.json"
		msg=()
		for row in "$ROW_443_ACC" "$ROW_443_WEB" "$ROW_443_AV"; do
			d=$(row_delta "$TMP/b.$fam.$svc.0.json" "$TMP/b.$fam.$svc.1.json" "$row")
			if [[ $row == "$own" ]]; then
				[[ $d =~ ^[0-9]+$ && $d -gt 0 ]] || msg+=("$row +$d packets (want > 0: its own service's)")
			else
				[[ $d == 0 ]] || msg+=("$row +$d packets (want 0: another service's address)")
			fi
		done
		if [[ ${#msg[@]} -eq 0 ]]; then
			ok "tls_443_v${fam}_${svc}_counted_on_own_row"
		else
			not_ok "tls_443_v${fam}_${svc}_counted_on_own_row" "connection to $a:443:" "${msg[@]}"
		fi
	done
done
section_done tls_443

# UDP 3478 (A/V STUN/MSTURN in): echoed by the A/V Edge address; dropped to the Access Edge's.
for fam in 4 6; do
	if [[ $fam == 4 ]]; then s=$S4 acc=$ACC4 av=$AV4; else s=$S6 acc=$ACC6 av=$AV6; fi
	stats "$TMP/c.$fam.0.json"
	cport
	expect_pass "stun_3478_v${fam}_av_echoed" "$TIMEOUT_OK" net udp-send "$av" 3478 --bind "$s,$CPORT" \
		--count 3 --size 100 --expect-reply
	stats "$TMP/c.$fam.1.json"
	d=$(row_delta "$TMP/c.$fam.0.json" "$TMP/c.$fam.1.json" "$ROW_STUN_IN")
	cport
	expect_block "stun_3478_v${fam}_access_dropped" net udp-send "$acc" 3478 --bind "$s,$CPORT" \
		--size 100 --expect-reply
	stats "$TMP/c.$fam.2.json"
	d2=$(row_delta "$TMP/c.$fam.1.json" "$TMP/c.$fam.2.json" "$ROW_STUN_IN")
	nm=$(delta "$(reason_val "$TMP/c.$fam.1.json" no_match)" "$(reason_val "$TMP/c.$fam.2.json" no_match)")
	if [[ $d == 3 && $d2 == 0 && $nm == 1 ]]; then
		ok "stun_3478_v${fam}_counted"
	else
		not_ok "stun_3478_v${fam}_counted" \
			"to $av: $ROW_STUN_IN +$d (want 3); to $acc: $ROW_STUN_IN +$d2 (want 0), no_match +$nm (want 1)"
	fi
done
section_done stun_3478

# --- 2. outbound: flows the Edge opens from one service's address ---------------------------
# RTP (A/V/RTP/UDP/50,000-59,999 out, av-edge -> any): the A/V Edge address
# gets its echo; the Access Edge address opens nothing, its echo is no_match.
for fam in 4 6; do
	if [[ $fam == 4 ]]; then s=$S4 acc=$ACC4 av=$AV4; else s=$S6 acc=$ACC6 av=$AV6; fi
	stats "$TMP/d.$fam.0.json"
	cport
	av_port=$CPORT
	expect_pass "rtp_udp_v${fam}_av_gets_reply" "$TIMEOUT_OK" edge udp-send "$s" 50000 --bind "$av,$av_port" \
		--count 3 --size 172 --expect-reply
	stats "$TMP/d.$fam.1.json"
	cport
	acc_port=$CPORT
	expect_block "rtp_udp_v${fam}_access_reply_dropped" edge udp-send "$s" 50000 --bind "$acc,$acc_port" \
		--size 172 --expect-reply
	stats "$TMP/d.$fam.2.json"
	flows "$TMP/d.$fam.flows.json"
	d=$(row_delta "$TMP/d.$fam.0.json" "$TMP/d.$fam.1.json" "$ROW_RTP_UDP_OUT")
	d2=$(row_delta "$TMP/d.$fam.1.json" "$TMP/d.$fam.2.json" "$ROW_RTP_UDP_OUT")
	nm=$(delta "$(reason_val "$TMP/d.$fam.1.json" no_match)" "$(reason_val "$TMP/d.$fam.2.json" no_match)")
	if [[ $d == 3 && $d2 == 0 && $nm == 1 ]]; then
		ok "rtp_udp_v${fam}_counted"
	else
		not_ok "rtp_udp_v${fam}_counted" \
			"echoes to $av: $ROW_RTP_UDP_OUT +$d (want 3); to $acc: $ROW_RTP_UDP_OUT +$d2 (want 0)," \
			"no_match +$nm (want 1)"
	fi
	r_av=$(flow_row "$TMP/d.$fam.flows.json" "$av" "$av_port")
	r_acc=$(flow_row "$TMP/d.$fam.flows.json" "$acc" "$acc_port")
	if [[ $r_av == "$ROW_RTP_UDP_OUT" && $r_acc == none ]]; then
		ok "rtp_udp_v${fam}_flows"
	else
		not_ok "rtp_udp_v${fam}_flows" "flow from $av:$av_port on row '$r_av' (want $ROW_RTP_UDP_OUT)," \
			"from $acc:$acc_port on '$r_acc' (want none: no row lets the Access Edge open RTP)"
	fi
done
section_done rtp_udp

# HTTP (Access/HTTP/TCP/80 out, access-edge -> any): the Access Edge address
# connects; the A/V Edge address's SYN-ACK is no_match.
for fam in 4 6; do
	if [[ $fam == 4 ]]; then s=$S4 acc=$ACC4 av=$AV4; else s=$S6 acc=$ACC6 av=$AV6; fi
	stats "$TMP/e.$fam.0.json"
	cport
	acc_port=$CPORT
	expect_pass "http_tcp_v${fam}_access_connects" "$TIMEOUT_OK" edge tcp-connect "$s" 80 --bind "$acc,$acc_port"
	closed edge "$acc_port"
	stats "$TMP/e.$fam.1.json"
	flows "$TMP/e.$fam.flows.json"
	d=$(row_delta "$TMP/e.$fam.0.json" "$TMP/e.$fam.1.json" "$ROW_HTTP_OUT")
	r_acc=$(flow_row "$TMP/e.$fam.flows.json" "$acc" "$acc_port")
	if [[ $d =~ ^[0-9]+$ && $d -gt 0 && $r_acc == "$ROW_HTTP_OUT" ]]; then
		ok "http_tcp_v${fam}_access_counted"
	else
		not_ok "http_tcp_v${fam}_access_counted" \
			"$ROW_HTTP_OUT +$d packets (want > 0), flow from $acc:$acc_port on row '$r_acc' (want $ROW_HTTP_OUT)"
	fi
	cport
	av_port=$CPORT
	expect_block "http_tcp_v${fam}_av_dropped" edge tcp-connect "$s" 80 --bind "$av,$av_port"
	stats "$TMP/e.$fam.2.json"
	flows "$TMP/e.$fam.flows2.json"
	d=$(row_delta "$TMP/e.$fam.1.json" "$TMP/e.$fam.2.json" "$ROW_HTTP_OUT")
	nm=$(delta "$(reason_val "$TMP/e.$fam.1.json" no_match)" "$(reason_val "$TMP/e.$fam.2.json" no_match)")
	r_av=$(flow_row "$TMP/e.$fam.flows2.json" "$av" "$av_port")
	if [[ $d == 0 && $nm =~ ^[0-9]+$ && $nm -ge 1 && $r_av == none ]]; then
		ok "http_tcp_v${fam}_av_counted_no_match"
	else
		not_ok "http_tcp_v${fam}_av_counted_no_match" \
			"SYN-ACKs to $av:$av_port: no_match +$nm (want >= 1), $ROW_HTTP_OUT +$d (want 0)," \
			"flow on row '$r_av' (want none)"
	fi
done
# The remote's half-open connections would go on sending SYN-ACKs: end them.
in_net ss -K -tn "sport = :80" >/dev/null 2>&1
section_done http_tcp

# --- 3. apply under live traffic: 5061 moves to the Web Conferencing address ---------------
# Before: an idle A/V TCP 443 session (its row does not change) and an idle
# Access 5061 session (its row moves away), both families' UDP STUN streams
# to the A/V Edge running through the apply.
N_UDP=200
UDP_RATE=100 # datagrams/s: 2 s
declare -A SESS_PID SESS_OUT SESS_ERR SESS_PORT
for fam in 4 6; do
	if [[ $fam == 4 ]]; then s=$S4 acc=$ACC4 av=$AV4; else s=$S6 acc=$ACC6 av=$AV6; fi
	for triple in "av443|$av|443" "acc5061|$acc|5061"; do
		IFS='|' read -r key a port <<<"$triple"
		key=${key}_v$fam
		cport
		SESS_PORT[$key]=$CPORT
		SESS_OUT[$key]=$TMP/s.$key.out
		SESS_ERR[$key]=$TMP/s.$key.err
		lab_bg net "$PEER" tcp-connect "$a" "$port" --bind "$s,$CPORT" --bytes 2000 --idle 15 \
			--timeout 2 >"${SESS_OUT[$key]}" 2>"${SESS_ERR[$key]}"
		SESS_PID[$key]=$LAB_LAST_PID
	done
done
sess_open=()
for key in av443_v4 acc5061_v4 av443_v6 acc5061_v6; do
	wait_line "${SESS_OUT[$key]}" idle 3 || sess_open+=("$key: $(cat "${SESS_ERR[$key]}")")
done
if [[ ${#sess_open[@]} -eq 0 ]]; then
	ok apply_sessions_open
else
	not_ok apply_sessions_open "the sessions did not exchange their first half:" "${sess_open[@]}"
fi
cport
lab_bg net "$PEER" udp-send "$AV4" 3478 --bind "$S4,$CPORT" --count "$N_UDP" --rate "$UDP_RATE" \
	--size 100 --expect-reply --timeout 2 2>"$TMP/s.u4.err"
CLI_U4=$LAB_LAST_PID
cport
lab_bg net "$PEER" udp-send "$AV6" 3478 --bind "$S6,$CPORT" --count "$N_UDP" --rate "$UDP_RATE" \
	--size 100 --expect-reply --timeout 2 2>"$TMP/s.u6.err"
CLI_U6=$LAB_LAST_PID
sleep 0.7 # the streams run under the old policy
stats "$TMP/f.0.json"
pf apply "$LAB_IFACE" "$POL_MOVED"
check apply_moved "$?" "apply $(basename "$POL_MOVED") failed" "$(cat "$TMP/err")"

# 5061 now on the Web Conferencing address, no longer on the Access Edge's.
for fam in 4 6; do
	if [[ $fam == 4 ]]; then s=$S4 acc=$ACC4 web=$WEB4; else s=$S6 acc=$ACC6 web=$WEB6; fi
	stats "$TMP/f.$fam.0.json"
	cport
	expect_pass "apply_5061_v${fam}_webconf_connects" "$TIMEOUT_OK" net tcp-connect "$web" 5061 --bind "$s,$CPORT"
	closed net "$CPORT"
	stats "$TMP/f.$fam.1.json"
	d=$(row_delta "$TMP/f.$fam.0.json" "$TMP/f.$fam.1.json" "$ROW_SIP_IN")
	cport
	expect_block "apply_5061_v${fam}_access_dropped" net tcp-connect "$acc" 5061 --bind "$s,$CPORT"
	stats "$TMP/f.$fam.2.json"
	d2=$(row_delta "$TMP/f.$fam.1.json" "$TMP/f.$fam.2.json" "$ROW_SIP_IN")
	if [[ $d =~ ^[0-9]+$ && $d -gt 0 && $d2 == 0 ]]; then
		ok "apply_5061_v${fam}_counted"
	else
		not_ok "apply_5061_v${fam}_counted" \
			"$ROW_SIP_IN: +$d for $web (want > 0), +$d2 for $acc (want 0)"
	fi
done

# The streams: every datagram echoed across the apply.
lab_reap "$CLI_U4"
check apply_stream_v4_zero_loss "$LAB_REAPED" "STUN $S4 -> $AV4:3478 across the apply:" "$(cat "$TMP/s.u4.err")"
lab_reap "$CLI_U6"
check apply_stream_v6_zero_loss "$LAB_REAPED" "STUN $S6 -> [$AV6]:3478 across the apply:" "$(cat "$TMP/s.u6.err")"

# The sessions' second halves: the A/V 443 ones go on, the Access 5061 ones
# are cut (no row opens 5061 on the Access Edge address any more).
for key in av443_v4 av443_v6 acc5061_v4 acc5061_v6; do
	kill -USR1 "${SESS_PID[$key]}" 2>/dev/null
done
for fam in 4 6; do
	lab_reap "${SESS_PID[av443_v$fam]}"
	check "apply_session_v${fam}_av_443_goes_on" "$LAB_REAPED" \
		"an idle session to the A/V Edge's 443 opened before the apply failed after it:" \
		"$(cat "${SESS_ERR[av443_v$fam]}")"
	lab_reap "${SESS_PID[acc5061_v$fam]}"
	rc=$LAB_REAPED
	got=$(sed -n 's/.*got back \([0-9]*\) of .*/\1/p' "${SESS_ERR[acc5061_v$fam]}")
	if [[ $rc -ne 0 && $got == 1000 ]]; then
		ok "apply_session_v${fam}_access_5061_cut"
	else
		not_ok "apply_session_v${fam}_access_5061_cut" \
			"an idle session to the Access Edge's 5061 opened before the apply: exit $rc, got back" \
			"'$got' bytes (want exactly the first half, 1000: the rest is no_match)" \
			"$(cat "${SESS_ERR[acc5061_v$fam]}")"
	fi
done
# The cut sessions' ends would go on retransmitting: end them.
for key in acc5061_v4 acc5061_v6; do
	in_net ss -K -tn "sport = :${SESS_PORT[$key]}" >/dev/null 2>&1
	in_edge ss -K -tn "dport = :${SESS_PORT[$key]}" >/dev/null 2>&1
done
section_done apply

# --- the end: nothing left ------------------------------------------------------------
ns_edge=$LAB_EDGE_NS
ns_net=$LAB_NET_NS
pin_dir=$LAB_PIN_DIR
ino=$NETNS_INO
cleanup
left=()
ip netns list | grep -qE "^($ns_edge|$ns_net)( |$)" && left+=("namespaces")
[[ -e $pin_dir ]] && left+=("$pin_dir")
compgen -G "$RUN_DIR/$LAB_IFACE:$ino.gen*.policy" >/dev/null && left+=("$RUN_DIR/$LAB_IFACE:$ino.gen*.policy")
if [[ ${#left[@]} -eq 0 ]]; then
	ok nothing_left
else
	not_ok nothing_left "left behind: ${left[*]}"
fi
echo "# time: total $(elapsed "$T_SCRIPT") s"
echo "# e2e edge services: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[[ $FAILED -eq 0 ]]
