#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# Fault injection, end to end: a failing map writer during apply and attach,
# two attaches racing, bpffs missing or read-only, the interface deleted
# under an attached filter. Each must give a clear error and leave either the
# old policy enforcing or nothing at all: no stray pins, XDP or TC filters.
# Usage: tests/e2e/test_e2e_faults.sh BUILD_DIR   (root; TAP lines on stdout)
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAP_PREFIX=test_e2e_faults_
# shellcheck source=tests/e2e/tap.sh
source "$ROOT/tests/e2e/tap.sh"
e2e_args "$@"
PICFW=$(realpath -m "$BUILD/picfw-test") # with the test hooks: PICFW_TEST_FAIL_WRITE
e2e_need_root "(network namespaces, XDP)"

# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
lab_names pff

TMP=
RO_MOUNT=
cleanup()
{
	[[ -n $RO_MOUNT ]] && umount "$RO_MOUNT" 2>/dev/null
	lab_down
	[[ -n $TMP ]] && rm -rf -- "$TMP"
}
e2e_begin picfw-faults

attached_xdp()
{
	in_edge ip link show dev "$LAB_IFACE" 2>/dev/null | grep -q 'prog/xdp'
}

tc_filter()
{
	in_edge tc filter show dev "$LAB_IFACE" egress 2>/dev/null | grep -q picfw
}

nothing_left()
{
	[[ ! -e $LAB_PIN_DIR ]] && ! attached_xdp && ! tc_filter
}

lab_up faults || {
	echo "not ok - test_e2e_faults_lab"
	exit 1
}
lab_bg edge "$PEER" tcp-listen :: 443 --count 100 --timeout 60
lab_bg edge "$PEER" tcp-listen :: 8080 --count 100 --timeout 60
lab_wait_listen edge tcp 443 && lab_wait_listen edge tcp 8080

# 443 open, 8080 closed under the PIC policy; the other policy swaps them.
OTHER=$TMP/other.policy
sed 's|^Access/SIP(TLS)/TCP/443 |Access/HTTP/TCP/8080 |' "$POLICY" >"$OTHER"
reach()
{
	in_net "$PEER" tcp-connect "$LAB_EDGE4" "$1" --bind "$LAB_STRANGER4" --timeout 1 \
		2>/dev/null
}
generation()
{
	pf stats "$LAB_IFACE" --json && jq -r .generation "$TMP/out"
}

# --- a map writer that fails half way ---------------------------------------------
pf attach "$LAB_IFACE" "$POLICY"
check attach "$?" "attach failed" "$(cat "$TMP/err")"
gen_before=$(generation)
PICFW_TEST_FAIL_WRITE=1 pf apply "$LAB_IFACE" "$OTHER"
rc=$?
if [[ $rc -eq 1 ]] && one_line_err && grep -q 'still enforced' "$TMP/err"; then
	ok writer_failure_apply_refused
else
	not_ok writer_failure_apply_refused "exit $rc (want 1, one line)" "$(cat "$TMP/err")"
fi
reach 443
check writer_failure_old_policy_443_open "$?" "443 no longer reachable after the failed apply"
! reach 8080
check writer_failure_old_policy_8080_closed "$?" "8080 reachable after the failed apply"
gen_after=$(generation)
check writer_failure_generation_unchanged "$([[ $gen_before == "$gen_after" ]]; echo $?)" \
	"generation $gen_before -> $gen_after"
pf apply "$LAB_IFACE" "$OTHER"
check writer_failure_next_apply "$?" "the next apply failed" "$(cat "$TMP/err")"
reach 8080
check writer_failure_next_apply_enforced "$?" "8080 closed after the good apply"
pf detach "$LAB_IFACE"

PICFW_TEST_FAIL_WRITE=1 pf attach "$LAB_IFACE" "$POLICY"
rc=$?
if [[ $rc -eq 1 ]] && one_line_err && nothing_left; then
	ok writer_failure_attach_leaves_nothing
else
	not_ok writer_failure_attach_leaves_nothing "exit $rc, or pins, XDP or TC left" \
		"$(cat "$TMP/err")"
fi

# --- two attaches racing ----------------------------------------------------------
for round in 1 2 3; do
	timeout 20 nsenter --net="/run/netns/$LAB_EDGE_NS" -- "$PICFW" attach "$LAB_IFACE" \
		"$POLICY" >"$TMP/a.out" 2>"$TMP/a.err" &
	a=$!
	timeout 20 nsenter --net="/run/netns/$LAB_EDGE_NS" -- "$PICFW" attach "$LAB_IFACE" \
		"$POLICY" >"$TMP/b.out" 2>"$TMP/b.err" &
	b=$!
	wait "$a"
	ra=$?
	wait "$b"
	rb=$?
	if [[ $((ra + rb)) -eq 1 && ($ra -eq 0 || $rb -eq 0) ]] &&
		[[ $(cat "$TMP/a.err" "$TMP/b.err" | grep -c .) -eq 1 ]] && attached_xdp &&
		tc_filter; then
		ok "racing_attach_one_wins_$round"
	else
		not_ok "racing_attach_one_wins_$round" "exits $ra and $rb (want one 0 and one 1)" \
			"$(cat "$TMP/a.err" "$TMP/b.err")"
	fi
	pf detach "$LAB_IFACE"
	nothing_left
	check "racing_attach_detach_clean_$round" "$?" "pins, XDP or TC left after detach"
done

# --- bpffs missing or read-only ---------------------------------------------------
mkdir -p "$TMP/plain"
PICFW_BPFFS=$TMP/plain pf attach "$LAB_IFACE" "$POLICY"
rc=$?
if [[ $rc -eq 1 ]] && one_line_err && grep -q 'not a bpffs' "$TMP/err" && nothing_left; then
	ok bpffs_missing
else
	not_ok bpffs_missing "exit $rc (want 1, one line)" "$(cat "$TMP/err")"
fi
mkdir -p "$TMP/robpf"
if mount -t bpf -o ro bpf "$TMP/robpf" 2>/dev/null; then
	RO_MOUNT=$TMP/robpf
	PICFW_BPFFS=$RO_MOUNT pf attach "$LAB_IFACE" "$POLICY"
	rc=$?
	if [[ $rc -eq 1 ]] && one_line_err && grep -qi 'read-only' "$TMP/err" && ! attached_xdp &&
		! tc_filter && [[ ! -e $RO_MOUNT/picfw ]]; then
		ok bpffs_read_only
	else
		not_ok bpffs_read_only "exit $rc (want 1, one line naming read-only)" \
			"$(cat "$TMP/err")"
	fi
	umount "$RO_MOUNT" && RO_MOUNT=
else
	skip bpffs_read_only "cannot mount a read-only bpffs here"
fi

# --- another build's program: status tells it (an upgrade keeps the old one running) ---
PICFW_TEST_OTHER_BUILD=1 pf attach "$LAB_IFACE" "$POLICY"
check other_build_attach "$?" "attach failed" "$(cat "$TMP/err")"
pf status "$LAB_IFACE"
if grep -q "^  program     ANOTHER BUILD's.*picfw detach $LAB_IFACE" "$TMP/out"; then
	ok other_build_status_tells
else
	not_ok other_build_status_tells "$(cat "$TMP/out" "$TMP/err")"
fi
pf detach "$LAB_IFACE"
pf attach "$LAB_IFACE" "$POLICY"
pf status "$LAB_IFACE"
if grep -q "^  program     this build's$" "$TMP/out"; then
	ok this_build_status_tells
else
	not_ok this_build_status_tells "$(cat "$TMP/out" "$TMP/err")"
fi
pf detach "$LAB_IFACE"

# --- the interface deleted under the filter ---------------------------------------
pf attach "$LAB_IFACE" "$POLICY"
check vanish_attach "$?" "attach failed" "$(cat "$TMP/err")"
in_edge ip link del "$LAB_IFACE"
pf status "$LAB_IFACE"
if grep -q DEFUNCT "$TMP/out"; then
	ok vanish_status_defunct
else
	not_ok vanish_status_defunct "status does not say DEFUNCT" "$(cat "$TMP/out" "$TMP/err")"
fi
pf stats "$LAB_IFACE" --json
check vanish_stats_readable "$?" "stats failed" "$(cat "$TMP/err")"
# An apply there would enforce nowhere: refused, and the maps keep their policy.
pf apply "$LAB_IFACE" "$POLICY"
rc=$?
if [[ $rc -eq 1 ]] && one_line_err && grep -q 'defunct: its interface is gone' "$TMP/err" &&
	pf stats "$LAB_IFACE" --json && [[ $(jq -r .generation "$TMP/out") == 1 ]]; then
	ok vanish_apply_refused
else
	not_ok vanish_apply_refused "exit $rc (want 1, one line)" "$(cat "$TMP/err" "$TMP/out")"
fi
pf detach "$LAB_IFACE"
rc=$?
if [[ $rc -eq 0 && ! -e $LAB_PIN_DIR ]]; then
	ok vanish_detach_cleans
else
	not_ok vanish_detach_cleans "exit $rc, or pins left" "$(cat "$TMP/err")"
fi

echo "# e2e faults: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[[ $FAILED -eq 0 ]]
