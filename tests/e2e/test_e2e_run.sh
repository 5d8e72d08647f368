#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# End-to-end tests of `picfw run IFACE POLICY`, the service, in the namespace
# lab of tests/e2e/lib.sh (its own names: p10-*):
#   1. run attaches; an edit by rewrite and one by rename (editor-style)
#      change the verdicts (the time from the edit to the apply is printed:
#      well under a second here; the bound asserted is APPLY_WAIT, as no test
#      asserts a time on a shared machine); a broken edit keeps the old
#      verdicts and logs its FILE:LINE:COL error; SIGHUP applies again;
#   2. SIGTERM stops it and leaves the filter attached with its counters; a
#      second run adopts it without losing a count, its log lines carry
#      journal priorities when stderr is the journal (JOURNAL_STREAM);
#   3. the interface deleted and re-created is attached again;
#   4. --detach-on-exit detaches; sd_notify READY=1, RELOADING=1 with
#      MONOTONIC_USEC and STATUS= reach $NOTIFY_SOCKET (python3 listens);
#   5. the files the policy includes are followed too: a partners file in its
#      own directory, edited in place and by rename, changes who passes; a
#      broken one is refused with its own FILE:LINE:COL and the old policy
#      keeps enforcing, then its fix applies; deleted, it changes nothing; an
#      include added by an edit (of a file not there yet) is followed once
#      made, and an include removed no longer is (its directory's watch goes:
#      /proc/PID/fdinfo counts the watches).
#
# Usage: tests/e2e/test_e2e_run.sh BUILD_DIR  (BUILD_DIR holds picfw and tests/peer)
# Exit: 0 if no test failed, 1 otherwise. Needs root; SKIPs without it.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAP_PREFIX=test_e2e_run_
# shellcheck source=tests/e2e/tap.sh
source "$ROOT/tests/e2e/tap.sh"
e2e_args "$@"
e2e_need_root "(network namespaces, XDP)"
e2e_need_tools ip nsenter ss jq timeout
e2e_need_bins

# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
LAB_IFACE=p10-edge0
LAB_NET_IFACE=p10-net0
LAB_PIN_DIR=$LAB_BPFFS/picfw/$LAB_IFACE
LAB_NS_PREFIX=p10
TMP=
TIMEOUT_BLOCK=1
RUN_PID=
ATTACH_WAIT=60 # seconds an attach may take (the verifier, on a loaded machine)
APPLY_WAIT=5   # seconds from an edit to its apply (measured: see the "# ... ms" lines)

cleanup()
{
	lab_down
	[[ -n $TMP ]] && rm -rf -- "$TMP"
	TMP=
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMP=$(mktemp -d /tmp/p10-e2e-run.XXXXXX) || exit 1
chmod 0700 "$TMP"
POL=$TMP/p10.policy

if ! lab_up run; then
	not_ok lab_up "could not build the namespace lab"
	exit 1
fi

# policy PORT [NAME]: one inbound UDP row to the Edge on PORT.
policy()
{
	cat <<EOF
set edge-access = $LAB_EDGE4, $LAB_EDGE6
set clients = any
protect edge-access
${2:-p10-in}: A/V/STUN/UDP/$1   clients   edge-access   "p10 test row"
EOF
}

# UDP echo servers on the Edge for both ports, for the whole test (bounded).
for port in 3478 3479; do
	lab_bg edge "$PEER" udp-echo "$LAB_EDGE4" "$port" --count 100000 --timeout 400
done
lab_wait_listen edge udp 3478 && lab_wait_listen edge udp 3479

# passes PORT: one datagram from the Internet to the Edge on PORT comes back.
passes()
{
	ex net udp-send "$LAB_EDGE4" "$1" --expect-reply --count 1 --timeout "$TIMEOUT_BLOCK"
}

# expect_verdicts NAME PASS_PORT BLOCKED_PORT
expect_verdicts()
{
	local p=0 b=0
	passes "$2" && p=1
	passes "$3" && b=1
	if [[ $p -eq 1 && $b -eq 0 ]]; then
		ok "$1"
	else
		not_ok "$1" "want $2 passing ($p) and $3 blocked (passed: $b)" "$(tail -5 "$RUN_LOG")"
	fi
}

# run_start LOG [ENV...] -- [OPTIONS]: picfw run in the background, bounded by timeout.
run_start()
{
	RUN_LOG=$1
	shift
	lab_bg edge env "$@" timeout 300 "$PICFW" run "$LAB_IFACE" "$POL" "${RUN_OPTS[@]}" \
		2>>"$RUN_LOG"
	RUN_PID=
	# picfw itself, not timeout: timeout passes a signal on to its whole process group.
	for ((i = 0; i < 40; i++)); do
		RUN_PID=$(pgrep -P "$LAB_LAST_PID" -x picfw) && break
		sleep 0.05
	done
	RUN_WRAPPER=$LAB_LAST_PID
}

# wait_log PATTERN [SECONDS [AFTER]]: until the run's log has a line matching PATTERN
# (ERE); with AFTER, a line after its first AFTER lines.
wait_log()
{
	local i n=$((${2:-3} * 20))
	for ((i = 0; i < n; i++)); do
		tail -n +$((${3:-0} + 1)) -- "$RUN_LOG" | grep -qE -- "$1" && return 0
		sleep 0.05
	done
	return 1
}

# timed_wait_log WHAT PATTERN: wait_log for APPLY_WAIT s, for a line written after the
# edit just made (an apply is at least a debounce after it: a line already there, or
# written meanwhile by an apply the edit did not cause, is not the edit's), and print
# how long it took.
timed_wait_log()
{
	local t0 rc from
	from=$(wc -l <"$RUN_LOG")
	t0=$(date +%s%N)
	wait_log "$2" "$APPLY_WAIT" "$from"
	rc=$?
	echo "# $1: applied $((($(date +%s%N) - t0) / 1000000)) ms after the edit (debounce 200 ms)"
	return $rc
}

# row_packets NAME: the row's packets in `stats --json`.
row_packets()
{
	pf stats "$LAB_IFACE" --json &&
		jq -r --arg n "$1" '.rows[] | select(.name == $n) | .packets' "$TMP/out"
}

# run_stop: SIGTERM, and its exit status (<= 5 s).
run_stop()
{
	local i
	kill -TERM "$RUN_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$RUN_WRAPPER" 2>/dev/null || break
		sleep 0.05
	done
	wait "$RUN_WRAPPER"
}

# --- 1. attach, follow the file ---------------------------------------------------------
policy 3478 >"$POL"
RUN_OPTS=()
run_start "$TMP/run1.log" PICFW_P10=1
wait_log "^picfw run: attached .* to $LAB_IFACE" "$ATTACH_WAIT"
check run_attaches "$?" "$(cat "$RUN_LOG")"
expect_verdicts verdicts_first_policy 3478 3479

policy 3479 p10-alt >"$POL" # a rewrite in place (IN_CLOSE_WRITE)
timed_wait_log rewrite "applied $POL to $LAB_IFACE: generation 2"
check rewrite_applied "$?" "$(cat "$RUN_LOG")"
expect_verdicts verdicts_after_rewrite 3479 3478

policy 3478 >"$POL.tmp" && mv "$POL.tmp" "$POL" # an editor's save (IN_MOVED_TO)
timed_wait_log rename "applied $POL to $LAB_IFACE: generation 3"
check rename_applied "$?" "$(cat "$RUN_LOG")"
expect_verdicts verdicts_after_rename 3478 3479

{ policy 3479 p10-alt; echo "p10-bad: A/V/STUN/UDP/99999 clients edge-access"; } >"$POL.tmp"
mv "$POL.tmp" "$POL"
wait_log "refused .*generation 3 keeps enforcing" "$APPLY_WAIT"
check broken_edit_refused "$?" "$(cat "$RUN_LOG")"
grep -qE "^$POL:5:[0-9]+: error: " "$RUN_LOG"
check broken_edit_logs_file_line_col "$?" "$(cat "$RUN_LOG")"
expect_verdicts verdicts_kept_after_broken_edit 3478 3479
pf status "$LAB_IFACE" && grep -q "generation  3 " "$TMP/out"
check broken_edit_generation_kept "$?" "$(cat "$TMP/out")"
# Counted refused where the exporter reads it, as `picfw apply` counts its own.
pf stats "$LAB_IFACE" --prometheus &&
	grep -qE "^picfw_policy_applies_total\{interface=\"$LAB_IFACE\",result=\"refused\"\} 1\$" "$TMP/out"
check broken_edit_counted_refused "$?" "$(grep applies_total "$TMP/out")"

rm -f "$POL"
wait_log "$POL was deleted; the policy in force stays" "$APPLY_WAIT"
check deleted_file_logged "$?" "$(cat "$RUN_LOG")"
expect_verdicts verdicts_kept_after_delete 3478 3479

policy 3478 >"$POL.tmp" && mv "$POL.tmp" "$POL"
wait_log "generation 4" "$APPLY_WAIT"
kill -HUP "$RUN_PID"
wait_log "SIGHUP: applying $POL" "$APPLY_WAIT" &&
	wait_log "applied $POL to $LAB_IFACE: generation 5" "$APPLY_WAIT"
check sighup_reapplies "$?" "$(cat "$RUN_LOG")"

# --- 2. SIGTERM leaves the filter; a second run adopts it -------------------------------
for _ in 1 2 3; do passes 3478; done
before=$(row_packets p10-in)
run_stop
rc=$?
check sigterm_exit_0 "$rc" "exit status $rc" "$(tail -3 "$RUN_LOG")"
grep -q "stopped; the filter stays attached to $LAB_IFACE" "$RUN_LOG"
check sigterm_says_filter_stays "$?" "$(tail -3 "$RUN_LOG")"
pf status "$LAB_IFACE" && grep -q "attached, native XDP" "$TMP/out"
check filter_attached_after_sigterm "$?" "$(cat "$TMP/out" "$TMP/err")"
after=$(row_packets p10-in)
[[ -n $before && $before -ge 3 && $after == "$before" ]]
check counters_kept_after_sigterm "$?" "before $before, after $after"
expect_verdicts verdicts_enforced_without_service 3478 3479
count=$(row_packets p10-in)

# The journal: stderr a file whose device and inode JOURNAL_STREAM names.
LOG2=$TMP/run2.log
: >"$LOG2"
run_start "$LOG2" "JOURNAL_STREAM=$(stat -c '%d:%i' "$LOG2")"
wait_log "adopting the filter attached to $LAB_IFACE" "$ATTACH_WAIT"
check second_run_adopts "$?" "$(cat "$RUN_LOG")"
wait_log "enforces $POL already" "$APPLY_WAIT"
check second_run_same_policy_not_reapplied "$?" "$(cat "$RUN_LOG")"
after=$(row_packets p10-in)
[[ -n $count && $after == "$count" ]]
check adopt_loses_no_count "$?" "before $count, after adopt $after"
grep -q "^<6>picfw run: adopting" "$RUN_LOG" && ! grep -qv '^<[0-7]>' "$RUN_LOG"
check journal_priorities "$?" "$(cat "$RUN_LOG")"
{ policy 3478; echo "p10-bad2: A/V/STUN/UDP/0 clients edge-access"; } >"$POL.tmp"
mv "$POL.tmp" "$POL"
wait_log "^<3>$POL:5:[0-9]+: error: " "$APPLY_WAIT"
check journal_error_priority "$?" "$(cat "$RUN_LOG")"
policy 3478 >"$POL.tmp" && mv "$POL.tmp" "$POL"
wait_log "^<6>picfw run: applied $POL" "$APPLY_WAIT"
check journal_apply_after_fix "$?" "$(cat "$RUN_LOG")"

# --- 3. the interface deleted and re-created ---------------------------------------------
in_edge ip link del "$LAB_IFACE"
wait_log "$LAB_IFACE is gone; waiting" "$APPLY_WAIT"
check iface_gone_logged "$?" "$(tail -3 "$RUN_LOG")"
in_net ip link del "$LAB_NET_IFACE" 2>/dev/null # gone with its peer already
ip link add "$LAB_IFACE" netns "$LAB_EDGE_NS" type veth peer name "$LAB_NET_IFACE" \
	netns "$LAB_NET_NS" &&
	in_edge ip addr add "$LAB_EDGE4/24" dev "$LAB_IFACE" &&
	in_net ip addr add "$LAB_GW4/24" dev "$LAB_NET_IFACE" &&
	in_edge ip link set "$LAB_IFACE" up && in_net ip link set "$LAB_NET_IFACE" up &&
	# Gone with the pair, and section 5 sends from them: the partner's and the
	# stranger's addresses, and the Edge's routes back to them.
	in_net ip addr add "$LAB_PARTNER4/32" dev "$LAB_NET_IFACE" &&
	in_net ip addr add "$LAB_STRANGER4/32" dev "$LAB_NET_IFACE" &&
	in_edge ip route add 198.51.100.0/24 via "$LAB_GW4" &&
	in_edge ip route add 192.0.2.0/24 via "$LAB_GW4"
check iface_recreated "$?"
wait_log "picfw run: attached .* to $LAB_IFACE" "$ATTACH_WAIT"
check iface_back_attached_again "$?" "$(tail -12 "$RUN_LOG")"
pf status "$LAB_IFACE" && grep -q "attached, native XDP" "$TMP/out"
check status_attached_after_recreate "$?" "$(cat "$TMP/out" "$TMP/err")"
for ((i = 0; i < 40; i++)); do # the veth's carrier, bounded (2 s)
	in_edge ip -o link show dev "$LAB_IFACE" | grep -q "state UP" && break
	sleep 0.05
done
expect_verdicts verdicts_after_recreate 3478 3479
run_stop
check second_run_stops "$?"

# --- 4. --detach-on-exit; sd_notify ------------------------------------------------------
RUN_OPTS=(--detach-on-exit)
if command -v python3 >/dev/null; then
	SOCK=$TMP/notify.sock
	python3 - "$SOCK" "$TMP/notify.txt" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.5)
end = time.monotonic() + 15
with open(sys.argv[2], "w") as out:
    while time.monotonic() < end:
        try:
            out.write(s.recv(4096).decode() + "\n--\n")
            out.flush()
        except socket.timeout:
            pass
EOF
	LISTENER=$!
	LAB_PIDS+=("$LISTENER")
	for ((i = 0; i < 40; i++)); do [[ -S $SOCK ]] && break; sleep 0.05; done
	run_start "$TMP/run3.log" "NOTIFY_SOCKET=$SOCK"
else
	run_start "$TMP/run3.log" PICFW_P10=1
fi
wait_log "enforces $POL already" "$ATTACH_WAIT"
check third_run_adopts "$?" "$(cat "$RUN_LOG")"
kill -HUP "$RUN_PID"
wait_log "applied $POL to $LAB_IFACE" "$APPLY_WAIT"
run_stop
check detach_on_exit_stops "$?" "$(tail -3 "$RUN_LOG")"
[[ ! -e $LAB_PIN_DIR ]] && ! in_edge ip link show dev "$LAB_IFACE" | grep -q xdp
check detach_on_exit_detaches "$?" "$(ls "$LAB_PIN_DIR" 2>&1)"
if [[ -n ${LISTENER:-} ]]; then
	sleep 0.6
	N=$TMP/notify.txt
	grep -q '^READY=1$' "$N" && grep -q '^STATUS=p10-edge0: generation [0-9]*, 1 rows' "$N"
	check notify_ready_status "$?" "$(cat "$N")"
	grep -q '^RELOADING=1$' "$N" && grep -q '^MONOTONIC_USEC=[0-9]*$' "$N"
	check notify_reloading "$?" "$(cat "$N")"
	grep -q '^STOPPING=1$' "$N"
	check notify_stopping "$?" "$(cat "$N")"
else
	skip notify "python3 is missing (it listens on NOTIFY_SOCKET)"
fi

# Bad usage and a bad policy with nothing to adopt: exit 2 and 1.
pf run "$LAB_IFACE"
check run_usage_exit_2 "$(($? == 2 ? 0 : 1))" "$(cat "$TMP/err")"
echo "p10 nonsense" >"$POL"
RUN_OPTS=()
timeout 10 nsenter --net="/run/netns/$LAB_EDGE_NS" -- "$PICFW" run "$LAB_IFACE" "$POL" \
	>"$TMP/out" 2>"$TMP/err"
rc=$?
[[ $rc -eq 1 ]] && grep -q "refused; nothing attached" "$TMP/err" && [[ ! -e $LAB_PIN_DIR ]]
check bad_policy_nothing_attached_exit_1 "$?" "exit $rc" "$(cat "$TMP/err")"

# --- 5. the files the policy includes ---------------------------------------------------
INC=$TMP/inc                           # the main policy's directory
MAIN=$INC/p10-main.policy
PART=$INC/partners/p10-partners.policy # included, in a directory of its own
MORE=$TMP/more/p10-more.policy         # included later, by an edit, from elsewhere
mkdir -p "$INC/partners" "$TMP/more"
POL=$MAIN

# main_policy [LINE...]: the Edge's set and the partners' row, LINEs (include ...) between.
main_policy()
{
	echo "set edge-access = $LAB_EDGE4, $LAB_EDGE6"
	echo "protect edge-access"
	[[ $# -gt 0 ]] && printf '%s\n' "$@"
	echo "p10-partners-in: A/V/STUN/UDP/3478   partners   edge-access   \"p10 partners\""
}

# from_passes SRC PORT: one datagram from SRC (an address of the Internet's side) comes back.
from_passes()
{
	ex net udp-send "$LAB_EDGE4" "$2" --bind "$1" --expect-reply --count 1 \
		--timeout "$TIMEOUT_BLOCK"
}

# expect_from NAME PORT PASSING_SRC BLOCKED_SRC
expect_from()
{
	local p=0 b=0
	from_passes "$3" "$2" && p=1
	from_passes "$4" "$2" && b=1
	if [[ $p -eq 1 && $b -eq 0 ]]; then
		ok "$1"
	else
		not_ok "$1" "port $2: want $3 passing ($p) and $4 blocked (passed: $b)" \
			"$(tail -5 "$RUN_LOG")"
	fi
}

# applies: how many applies the run has started (its "applying" lines).
applies()
{
	grep -c "applying $MAIN\$" "$RUN_LOG"
}

# watches: the inotify watches the run holds (its fdinfo lists one line per watch).
watches()
{
	cat /proc/"$RUN_PID"/fdinfo/* 2>/dev/null | grep -c '^inotify wd:'
}

# generation_is N: `picfw status` shows generation N.
generation_is()
{
	pf status "$LAB_IFACE" && grep -q "generation  $1 " "$TMP/out"
}

echo "set partners = $LAB_PARTNER4" >"$PART"
main_policy "include partners/p10-partners.policy" >"$MAIN"
RUN_OPTS=(--detach-on-exit)
run_start "$TMP/run5.log" PICFW_P10=1
wait_log "^picfw run: attached $MAIN to $LAB_IFACE" "$ATTACH_WAIT"
check include_run_attaches "$?" "$(cat "$RUN_LOG")"
expect_from include_verdicts_first 3478 "$LAB_PARTNER4" "$LAB_STRANGER4"
n=$(watches) # (read after the verdicts: the watches follow the log line closely, not before it)
[[ $n -eq 2 ]]
check include_dirs_watched "$?" "want 2 inotify watches (the main file's and the partners' \
directory), got $n"
# No edit yet, so no apply (over a second after the attach: the blocked datagram's
# timeout). The partners' directory is watched only after the attach read its file, whose
# ctime is then near: a change of it is assumed, and its apply must not make a generation.
generation_is 1
check include_no_generation_before_edit "$?" "$(cat "$TMP/out")" "$(cat "$RUN_LOG")"

echo "set partners = $LAB_STRANGER4" >"$PART" # in place (IN_CLOSE_WRITE)
timed_wait_log "included, in place" "applied $MAIN to $LAB_IFACE: generation 2"
check include_edit_in_place_applied "$?" "$(cat "$RUN_LOG")"
grep -q "^picfw run: $PART changed: applying $MAIN\$" "$RUN_LOG"
check include_edit_names_the_file "$?" "$(tail -5 "$RUN_LOG")"
expect_from include_verdicts_after_edit 3478 "$LAB_STRANGER4" "$LAB_PARTNER4"

echo "set partners = $LAB_PARTNER4" >"$PART.tmp" && mv "$PART.tmp" "$PART" # IN_MOVED_TO
timed_wait_log "included, by rename" "applied $MAIN to $LAB_IFACE: generation 3"
check include_edit_by_rename_applied "$?" "$(cat "$RUN_LOG")"
expect_from include_verdicts_after_rename 3478 "$LAB_PARTNER4" "$LAB_STRANGER4"

echo "set partners = $LAB_STRANGER4, 198.51.100.300" >"$PART.tmp" && mv "$PART.tmp" "$PART"
wait_log "refused .*generation 3 keeps enforcing" "$APPLY_WAIT"
check include_broken_refused "$?" "$(cat "$RUN_LOG")"
grep -qE "^$PART:1:[0-9]+: error: " "$RUN_LOG"
check include_broken_logs_its_file_line_col "$?" "$(tail -5 "$RUN_LOG")"
expect_from include_verdicts_kept_after_broken 3478 "$LAB_PARTNER4" "$LAB_STRANGER4"
generation_is 3
check include_broken_generation_kept "$?" "$(cat "$TMP/out")"

echo "set partners = $LAB_STRANGER4" >"$PART" # the fix, in place
timed_wait_log "included, fixed" "applied $MAIN to $LAB_IFACE: generation 4"
check include_fix_applied "$?" "$(tail -8 "$RUN_LOG")"
expect_from include_verdicts_after_fix 3478 "$LAB_STRANGER4" "$LAB_PARTNER4"

before=$(applies)
rm -f "$PART"
wait_log "$PART was deleted; the policy in force stays \(generation 4\)" "$APPLY_WAIT"
check include_deleted_logged "$?" "$(tail -5 "$RUN_LOG")"
sleep 0.5 # past the debounce: nothing more comes of it
[[ $(applies) == "$before" ]] && generation_is 4
check include_deleted_changes_nothing "$?" "applies $before -> $(applies)" "$(cat "$TMP/out")"
expect_from include_verdicts_kept_after_delete 3478 "$LAB_STRANGER4" "$LAB_PARTNER4"
echo "set partners = $LAB_PARTNER4" >"$PART" # made again
timed_wait_log "included, made again" "applied $MAIN to $LAB_IFACE: generation 5"
check include_made_again_applied "$?" "$(tail -5 "$RUN_LOG")"

# An include added, of a file not made yet: refused; made, it is followed.
main_policy "include partners/p10-partners.policy" "include $MORE" >"$MAIN.tmp"
mv "$MAIN.tmp" "$MAIN"
wait_log "refused .*generation 5 keeps enforcing" "$APPLY_WAIT"
check include_missing_file_refused "$?" "$(tail -5 "$RUN_LOG")"
grep -qE "^$MAIN:4:9: error: refusing the included file: " "$RUN_LOG"
check include_missing_file_at_its_include "$?" "$(tail -5 "$RUN_LOG")"
echo "p10-more-in: A/V/STUN/UDP/3479   partners   edge-access   \"p10 more\"" >"$MORE"
timed_wait_log "include added, made" "applied $MAIN to $LAB_IFACE: generation 6"
check include_added_file_followed "$?" "$(tail -8 "$RUN_LOG")"
expect_from include_added_row_passes 3479 "$LAB_PARTNER4" "$LAB_STRANGER4"
n=$(watches)
[[ $n -eq 3 ]]
check include_added_dir_watched "$?" "want 3 inotify watches, got $n"

# Both includes removed (the set written in the main file): their directories are let go.
main_policy "set partners = $LAB_PARTNER4" >"$MAIN.tmp" && mv "$MAIN.tmp" "$MAIN"
timed_wait_log "includes removed" "applied $MAIN to $LAB_IFACE: generation 7"
check include_removed_applied "$?" "$(tail -5 "$RUN_LOG")"
! from_passes "$LAB_PARTNER4" 3479
check include_removed_row_gone "$?"
n=$(watches)
[[ $n -eq 1 ]]
check include_removed_dirs_unwatched "$?" "want 1 inotify watch (the main file's directory), \
got $n"
before=$(applies)
echo "set partners = 198.51.100.300" >"$PART"
echo "set partners = $LAB_STRANGER4" >"$MORE.tmp" && mv "$MORE.tmp" "$MORE"
sleep 1 # five debounces: an apply would have started
[[ $(applies) == "$before" ]] && generation_is 7
check include_removed_file_no_longer_matters "$?" "applies $before -> $(applies)" \
	"$(tail -5 "$RUN_LOG")"
expect_from include_verdicts_after_removal 3478 "$LAB_PARTNER4" "$LAB_STRANGER4"
run_stop
check include_run_stops "$?" "$(tail -3 "$RUN_LOG")"

echo "# $PASSED passed, $FAILED failed, $SKIPPED skipped"
[[ $FAILED -eq 0 ]]
