#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# End-to-end tests of `picfw log` (the drop log), in the namespace lab of
# tests/e2e/lib.sh with etc/pic.policy attached on the Edge's interface:
#   1. blocked UDP from a stranger shows up in --json with the right fields
#      (and as text), --count stops the reader;
#   2. -w FILE writes a pcap file that tcpdump reads back with the expected
#      packet count; -w - | tcpdump -r - works;
#   3. a flood above --rate is capped: what the reader got plus what was
#      counted lost (stats --json) is every datagram sent;
#   4. a second reader is refused, naming the first;
#   5. a reader killed with SIGKILL leaves the log off: its lease runs out and
#      the program clears it at the next drop; a new reader may start at once;
#   6. the nearest row of a no_match drop (issue 9): a stranger's SYN to the
#      partners' SIP port names that row and "source" in --json, IPv4 and
#      IPv6, and as text; a partner's SYN to an unlisted port names it with
#      "port"; after an apply the new policy's row names come with the new
#      epoch; a copy in /run/picfw that is not the enforced policy names no
#      row (null), never its own.
#
# Usage: tests/e2e/test_e2e_droplog.sh BUILD_DIR  (BUILD_DIR holds picfw and tests/peer)
# Output: `ok - test_e2e_droplog_NAME`, `not ok - ...`, `# diagnostics`.
# Exit: 0 if no test failed, 1 otherwise. Needs root; SKIPs without it.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAP_PREFIX=test_e2e_droplog_
# shellcheck source=tests/e2e/tap.sh
source "$ROOT/tests/e2e/tap.sh"
e2e_args "$@"
e2e_need_root "(network namespaces, XDP)"
e2e_need_tools ip nsenter ss jq timeout tcpdump bpftool
e2e_need_bins

# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
# Our own names (pins are named by interface, host-wide).
LAB_IFACE=xlog-edge0
LAB_NET_IFACE=xlog-net0
LAB_PIN_DIR=$LAB_BPFFS/picfw/$LAB_IFACE
LAB_NS_PREFIX=xlog

BLOCKED_PORT=9999 # no row of etc/pic.policy names it
TMP=
WAIT_RC=none
READER=
LOG_PID=

cleanup()
{
	lab_down
	[[ -n $TMP ]] && rm -rf -- "$TMP"
	TMP=
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMP=$(mktemp -d /tmp/xlog-e2e-droplog.XXXXXX) || exit 1

if ! lab_up droplog; then
	not_ok lab_up "could not build the namespace lab"
	exit 1
fi
if ! pf attach "$LAB_IFACE" "$POLICY"; then
	not_ok attach "$(cat "$TMP/err")"
	exit 1
fi

# reader_pid: the drop log's reader as stats --json says (0: none).
reader_pid()
{
	pf stats "$LAB_IFACE" --json && jq -r '.drop_log.reader_pid' "$TMP/out"
}

# lost: samples lost so far (rate limit + ring full).
lost()
{
	pf stats "$LAB_IFACE" --json && jq -r '.drop_log.lost_rate_limit + .drop_log.lost_ring_full' "$TMP/out"
}

# no_match: packets dropped for no_match so far.
no_match()
{
	pf stats "$LAB_IFACE" --json && jq -r '.reasons.no_match.packets' "$TMP/out"
}

# descends PID ANCESTOR: is PID ANCESTOR or below it (at most 4 levels)?
descends()
{
	local pid=$1 i
	for ((i = 0; i < 5; i++)); do
		[[ $pid == "$2" ]] && return 0
		pid=$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')
		[[ -n $pid && $pid != 0 && $pid != 1 ]] || return 1
	done
	return 1
}

# wait_reader BGPID: until stats shows BGPID's reader (<= 5 s); its pid in
# READER (timeout's child, not BGPID). Not a reader that is going away, whose
# lease is still there (a killed one, one that reached --count). On failure
# BGPID is killed.
wait_reader()
{
	local i
	for ((i = 0; i < 50; i++)); do
		READER=$(reader_pid)
		[[ -n $READER && $READER != 0 ]] && descends "$READER" "$1" && return 0
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 1
}

# wait_exit PID SECONDS: until PID is gone; its status in WAIT_RC (124 on timeout).
wait_exit()
{
	local pid=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			WAIT_RC=$?
			return 0
		fi
		sleep 0.1
	done
	WAIT_RC=124
	return 1
}

# blocked N SPORT [SIZE]: N datagrams from the stranger to the Edge's blocked port.
blocked()
{
	ex net udp-send "$LAB_EDGE4" "$BLOCKED_PORT" --bind "$LAB_STRANGER4,$2" --count "$1" \
		--size "${3:-16}" --timeout 5
}

# --- 1. JSON lines and text -----------------------------------------------------------------
lab_bg edge timeout 20 "$PICFW" log "$LAB_IFACE" --json --count 3 >"$TMP/log.json" 2>"$TMP/log.err"
pid=$LAB_LAST_PID
if ! wait_reader "$pid"; then
	not_ok json "the reader did not take the lease" "$(cat "$TMP/log.err")"
else
	blocked 3 40001 16
	wait_exit "$pid" 10
	n=$(grep -c . "$TMP/log.json")
	# 14 Ethernet + 20 IPv4 + 8 UDP + 16 payload
	good=$(jq -c 'select(.reason == "no_match" and .verdict == "drop" and .family == 4
		and .transport == "udp" and .src == "192.0.2.66" and .sport == 40001
		and .dst == "203.0.113.10" and .dport == 9999 and .length == 58
		and .captured == 58 and .interface == "xlog-edge0"
		and .nearest == {"row": "a-v-stun-msturn-udp-3478-in", "missing": ["port"]})' "$TMP/log.json" | grep -c .)
	if [[ $WAIT_RC -eq 0 && $n -eq 3 && $good -eq 3 ]]; then
		ok json
	else
		not_ok json "exit $WAIT_RC, $n lines, $good with the expected fields" \
			"$(cat "$TMP/log.json" "$TMP/log.err")"
	fi
fi

lab_bg edge timeout 20 "$PICFW" log "$LAB_IFACE" --count 1 >"$TMP/log.txt" 2>"$TMP/log.err"
pid=$LAB_LAST_PID
if wait_reader "$pid"; then
	blocked 1 40002 16
	wait_exit "$pid" 10
fi
# The nearest row: both 3478 rows match two fields of three (the inbound one is named).
if grep -Eq '^[0-9-]{10}T[0-9:.]{15}Z drop no_match 192\.0\.2\.66:40002 -> 203\.0\.113\.10:9999 udp len 58 nearest a-v-stun-msturn-udp-3478-in: port 9999 not 3478$' \
	"$TMP/log.txt"; then
	ok text
else
	not_ok text "$(cat "$TMP/log.txt" "$TMP/log.err")"
fi

# --reason: a filter that matches nothing here writes nothing; --count is not reached.
lab_bg edge timeout 20 "$PICFW" log "$LAB_IFACE" --json --reason fragment >"$TMP/log.r" 2>"$TMP/log.err"
pid=$LAB_LAST_PID
if wait_reader "$pid"; then
	blocked 2 40009 16
	sleep 0.5
	kill -TERM "$pid"
	wait_exit "$pid" 5
fi
if [[ $WAIT_RC -eq 0 && ! -s $TMP/log.r ]]; then
	ok reason_filter
else
	not_ok reason_filter "exit $WAIT_RC" "$(cat "$TMP/log.r" "$TMP/log.err")"
fi

# --- 2. pcap: a file, and a pipe ----------------------------------------------------------------
lab_bg edge timeout 20 "$PICFW" log "$LAB_IFACE" -w "$TMP/drops.pcap" --count 5 2>"$TMP/log.err"
pid=$LAB_LAST_PID
if wait_reader "$pid"; then
	blocked 5 40003 300
	wait_exit "$pid" 10
fi
tcpdump -n -r "$TMP/drops.pcap" >"$TMP/td.out" 2>"$TMP/td.err"
rc=$?
n=$(grep -c '192\.0\.2\.66\.40003 > 203\.0\.113\.10\.9999: UDP, length 300' "$TMP/td.out")
# snaplen 128, original length 14 + 20 + 8 + 300
caps=$(tcpdump -n -v -r "$TMP/drops.pcap" 2>/dev/null | grep -c .)
hdr=$(od -An -tu4 -j32 -N8 "$TMP/drops.pcap" | tr -s ' ')
if [[ $rc -eq 0 && $n -eq 5 && $(grep -c . "$TMP/td.out") -eq 5 && $hdr == " 128 342" ]]; then
	ok pcap_file
else
	not_ok pcap_file "tcpdump rc $rc, $n of 5 packets, first record caplen/len '$hdr' ($caps lines -v)" \
		"$(cat "$TMP/td.out" "$TMP/td.err" "$TMP/log.err")"
fi

# `picfw log IFACE -w - | tcpdump -r -`
# shellcheck disable=SC2016 # the inner shell expands its own arguments
lab_bg edge timeout 20 bash -c '"$1" log "$2" -w - --count 4 2>"$3/pipe.err" | tcpdump -n -r - >"$3/pipe.out" 2>/dev/null' \
	_ "$PICFW" "$LAB_IFACE" "$TMP"
pid=$LAB_LAST_PID
wait_reader "$pid"
blocked 4 40004 16
wait_exit "$pid" 10
n=$(grep -c '192\.0\.2\.66\.40004 > 203\.0\.113\.10\.9999: UDP' "$TMP/pipe.out")
if [[ $WAIT_RC -eq 0 && $n -eq 4 ]]; then
	ok pcap_pipe
else
	not_ok pcap_pipe "exit $WAIT_RC, $n of 4 packets" "$(cat "$TMP/pipe.out" "$TMP/pipe.err")"
fi

# --- 3. a flood above the rate limit -------------------------------------------------------------
RATE=50
SENT=2000
lost0=$(lost)
drops0=$(no_match)
lab_bg edge timeout 30 "$PICFW" log "$LAB_IFACE" --json --rate "$RATE" >"$TMP/flood.json" 2>"$TMP/flood.err"
pid=$LAB_LAST_PID
if wait_reader "$pid"; then
	t0=$(date +%s%N)
	blocked "$SENT" 40005 16
	t1=$(date +%s%N)
	sleep 0.5
	kill -TERM "$pid"
	wait_exit "$pid" 5
	got=$(grep -c . "$TMP/flood.json")
	lost1=$(lost)
	lost=$((lost1 - lost0))
	# What reached the program (a veth may drop some of a burst before XDP).
	drops=$(($(no_match) - drops0))
	ncpu=$(nproc --all)
	# per CPU at most RATE per started second of the flood (windows start at the first sample)
	cap=$((RATE * ncpu * ((t1 - t0) / 1000000000 + 2)))
	echo "# flood: $SENT sent, $drops dropped, $got sampled, $lost lost (cap $cap)"
	if [[ $WAIT_RC -eq 0 && $((got + lost)) -eq $drops && $drops -gt $cap && $lost -gt 0 &&
		$got -le $cap && $got -gt 0 ]]; then
		ok flood_capped
	else
		not_ok flood_capped "exit $WAIT_RC: $got samples + $lost lost != $drops dropped, or lost 0, or over $cap" \
			"$(cat "$TMP/flood.err")"
	fi
	pf stats "$LAB_IFACE" --prometheus
	if grep -q "^picfw_drop_log_lost_total{interface=\"$LAB_IFACE\",cause=\"rate_limit\"} [1-9]" "$TMP/out"; then
		ok flood_prometheus
	else
		not_ok flood_prometheus "$(grep drop_log "$TMP/out")"
	fi
else
	not_ok flood_capped "the reader did not take the lease" "$(cat "$TMP/flood.err")"
fi

# A file that cannot be written: one line, libpcap's reason with the path.
pf log "$LAB_IFACE" -w "$TMP/no-such-dir/drops.pcap"
rc=$?
if [[ $rc -eq 1 ]] && one_line_err && grep -q "cannot write $TMP/no-such-dir/drops.pcap: No such file" "$TMP/err"; then
	ok write_unwritable_one_line
else
	not_ok write_unwritable_one_line "exit $rc (want 1, one line)" "$(cat "$TMP/err")"
fi

# --- 4. two readers --------------------------------------------------------------------------------
lab_bg edge timeout 20 "$PICFW" log "$LAB_IFACE" >/dev/null 2>"$TMP/first.err"
pid=$LAB_LAST_PID
if wait_reader "$pid"; then
	pf log "$LAB_IFACE"
	rc=$?
	if [[ $rc -eq 1 ]] && one_line_err && grep -q "another picfw log (pid $READER)" "$TMP/err"; then
		ok second_reader_refused
	else
		not_ok second_reader_refused "exit $rc" "$(cat "$TMP/err")"
	fi
else
	not_ok second_reader_refused "the first reader did not take the lease"
fi

# --- 5. SIGKILL leaves the log off -------------------------------------------------------------------
{
	kill -KILL "$READER"
	wait_exit "$pid" 5
} 2>/dev/null # no "Killed" line from bash
# The lease (3 s) runs out; the next drop makes the program clear it.
sleep 3.5
blocked 1 40006 16
lease=$(bpftool -j map dump pinned "$LAB_PIN_DIR/picfw_droplog_ctl" 2>"$TMP/bt.err" |
	jq -r '.[0].formatted.value.lease_until // .[0].value.lease_until // "?"')
rp=$(reader_pid)
if [[ $lease == 0 && $rp == 0 ]]; then
	ok sigkill_leaves_log_off
else
	not_ok sigkill_leaves_log_off "lease_until '$lease', reader '$rp'" "$(cat "$TMP/bt.err")"
fi

# A reader killed a moment ago does not block the next one.
lab_bg edge timeout 20 "$PICFW" log "$LAB_IFACE" --count 1 >/dev/null 2>"$TMP/k.err"
pid=$LAB_LAST_PID
if wait_reader "$pid"; then
	{
		kill -KILL "$READER"
		wait_exit "$pid" 5
	} 2>/dev/null
	lab_bg edge timeout 20 "$PICFW" log "$LAB_IFACE" --json --count 1 >"$TMP/after.json" 2>"$TMP/after.err"
	pid=$LAB_LAST_PID
	if wait_reader "$pid"; then
		blocked 1 40007 16
		wait_exit "$pid" 10
	fi
	if [[ $(jq -r .sport "$TMP/after.json" 2>/dev/null) == 40007 ]]; then
		ok reader_after_sigkill
	else
		not_ok reader_after_sigkill "$(cat "$TMP/after.json" "$TMP/after.err")"
	fi
else
	not_ok reader_after_sigkill "the reader did not take the lease" "$(cat "$TMP/k.err")"
fi

# --- 6. the nearest row ---------------------------------------------------------------------------
# syn FAMILY SRC SPORT PORT: one connect from SRC, whose SYN is dropped (the
# kernel may retransmit it once before the 1 s timeout).
syn()
{
	local dst=$LAB_EDGE4
	[[ $1 == 6 ]] && dst=$LAB_EDGE6
	ex net tcp-connect "$dst" "$4" --bind "$2,$3" --timeout 1
}

# nearest_of FILE SPORT: the nearest object of the first record from SPORT, compact JSON.
nearest_of()
{
	jq -c --argjson p "$2" 'select(.sport == $p) | .nearest' "$1" 2>/dev/null | head -n 1
}

# log_json FILE: a --json reader in the background until stop_log; false if it took no lease.
log_json()
{
	lab_bg edge timeout 30 "$PICFW" log "$LAB_IFACE" --json --reason no_match >"$1" 2>"$1.err"
	LOG_PID=$LAB_LAST_PID
	wait_reader "$LOG_PID"
}

stop_log()
{
	sleep 0.3 # the last samples out of the ring
	kill -TERM "$LOG_PID" 2>/dev/null
	wait_exit "$LOG_PID" 5
}

SIP_IN='{"row":"access-sip-mtls-tcp-5061-in","missing":["source"]}'
SIP_PORT='{"row":"access-sip-mtls-tcp-5061-in","missing":["port"]}'
if log_json "$TMP/near.json"; then
	syn 4 "$LAB_STRANGER4" 40010 5061
	syn 6 "$LAB_STRANGER6" 40011 5061
	syn 4 "$LAB_PARTNER4" 40012 22
	stop_log
	for c in "40010 $SIP_IN source_v4" "40011 $SIP_IN source_v6" "40012 $SIP_PORT port"; do
		read -r sport want name <<<"$c"
		got=$(nearest_of "$TMP/near.json" "$sport")
		if [[ $got == "$want" ]]; then
			ok "nearest_$name"
		else
			not_ok "nearest_$name" "sport $sport: nearest '$got', want '$want'" \
				"$(cat "$TMP/near.json" "$TMP/near.json.err")"
		fi
	done
else
	not_ok nearest_source_v4 "the reader did not take the lease" "$(cat "$TMP/near.json.err")"
fi

lab_bg edge timeout 20 "$PICFW" log "$LAB_IFACE" --count 1 >"$TMP/near.txt" 2>"$TMP/near.err"
pid=$LAB_LAST_PID
if wait_reader "$pid"; then
	syn 4 "$LAB_STRANGER4" 40013 5061
	wait_exit "$pid" 10
fi
if grep -Eq '^[0-9-]{10}T[0-9:.]{15}Z drop no_match 192\.0\.2\.66:40013 -> 203\.0\.113\.10:5061 tcp len [0-9]+ nearest access-sip-mtls-tcp-5061-in: source not in pic-partners$' \
	"$TMP/near.txt"; then
	ok nearest_text
else
	not_ok nearest_text "$(cat "$TMP/near.txt" "$TMP/near.err")"
fi

# An apply while the reader runs: the records of the new epoch name the new policy's rows.
sed 's|^Access/SIP(MTLS)/TCP/5061         pic-partners        edge-access|partner-sip: &|' \
	"$POLICY" >"$TMP/renamed.policy"
if ! grep -q '^partner-sip: ' "$TMP/renamed.policy"; then
	not_ok nearest_after_apply "could not rename the row in a copy of $POLICY"
elif log_json "$TMP/apply.json"; then
	syn 4 "$LAB_STRANGER4" 40014 5061
	sleep 0.3
	pf apply "$LAB_IFACE" "$TMP/renamed.policy"
	rc=$?
	syn 4 "$LAB_STRANGER4" 40015 5061
	stop_log
	before=$(nearest_of "$TMP/apply.json" 40014)
	after=$(nearest_of "$TMP/apply.json" 40015)
	if [[ $rc -eq 0 && $before == "$SIP_IN" && $after == '{"row":"partner-sip","missing":["source"]}' ]]; then
		ok nearest_after_apply
	else
		not_ok nearest_after_apply "apply exit $rc; before '$before', after '$after'" \
			"$(cat "$TMP/err" "$TMP/apply.json" "$TMP/apply.json.err")"
	fi
else
	not_ok nearest_after_apply "the reader did not take the lease" "$(cat "$TMP/apply.json.err")"
fi

# A copy in /run/picfw that is not the policy enforced (edited by hand here; an
# apply whose copy could not be saved leaves an old one): no row, never the copy's.
copies=$(find /run/picfw -maxdepth 1 -name "$LAB_IFACE:*.gen[01].policy" 2>/dev/null)
if [[ -z $copies ]]; then
	not_ok nearest_wrong_copy_names_none "no copy of $LAB_IFACE's policy in /run/picfw"
else
	# shellcheck disable=SC2086 # one name per copy, no blanks (interface:inode)
	sed -i 's/^partner-sip: /tampered-sip: /; s/^access-sip-mtls-tcp-5061-in: /tampered-sip: /' $copies
	if log_json "$TMP/tamper.json"; then
		syn 4 "$LAB_STRANGER4" 40016 5061
		stop_log
		got=$(nearest_of "$TMP/tamper.json" 40016)
		if [[ $got == null ]] && grep -q 'warning: no nearest rows: .* is not the policy' "$TMP/tamper.json.err"; then
			ok nearest_wrong_copy_names_none
		else
			not_ok nearest_wrong_copy_names_none "nearest '$got'" \
				"$(cat "$TMP/tamper.json" "$TMP/tamper.json.err")"
		fi
	else
		not_ok nearest_wrong_copy_names_none "the reader did not take the lease" \
			"$(cat "$TMP/tamper.json.err")"
	fi
fi

echo "# $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
