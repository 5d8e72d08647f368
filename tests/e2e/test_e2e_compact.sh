#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# End-to-end: the compact XDP program (picfw_xdp_compact), which `picfw
# attach` loads when the kernel's verifier refuses picfw_xdp (Debian 12's
# 6.1 runs past its million instructions on it). This kernel takes both, so
# the test forces it: the differential test judges with it
# (PICFW_DIFF_COMPACT=1, against the reference classifier), and
# build/picfw-test, whose loading of picfw_xdp is made to fail with E2BIG
# (PICFW_TEST_XDP_E2BIG=1), falls back to it as on such a kernel: attached to
# a veth in a namespace, real datagrams and connections count on their rows.
#
# Names: namespaces pce-a (the Edge, 203.0.113.10) and pce-b (a PIC partner,
# 198.51.100.7), veth pce0 / pce1, all made here and removed on exit, also on
# failure. Nothing touches the host's interfaces; no packet leaves them.
#
# Usage: tests/e2e/test_e2e_compact.sh BUILD_DIR
# Output: `ok - test_e2e_compact_NAME`, `not ok - ...`, `# diagnostics`.
# Exit: 0 if no test failed, 1 otherwise. Needs root; SKIPs without it.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAP_PREFIX=test_e2e_compact_
# shellcheck source=tests/e2e/tap.sh
source "$ROOT/tests/e2e/tap.sh"
e2e_args "$@"
BUILD=$(realpath -m "$BUILD")
PICFW=$BUILD/picfw-test
DIFF=$BUILD/tests/test_differential
e2e_need_root "(network namespaces, XDP)"
e2e_need_tools ip nsenter jq bpftool timeout
e2e_need_bins "$PICFW" "$DIFF"

NS_A=pce-a
NS_B=pce-b
EDGE4=203.0.113.10
PARTNER4=198.51.100.7

cleanup()
{
	local ino
	if [[ -e /run/netns/$NS_A ]]; then
		timeout 10 nsenter --net="/run/netns/$NS_A" -- "$PICFW" detach pce0 >/dev/null 2>&1
		ino=$(stat -L -c %i "/run/netns/$NS_A" 2>/dev/null)
		[[ -n $ino ]] && rm -rf "/sys/fs/bpf/picfw/pce0:$ino" "/run/picfw/pce0:$ino".gen*.policy
	fi
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -rf "${TMP:-}"
}
e2e_begin pce-compact

in_a() { timeout 20 nsenter --net="/run/netns/$NS_A" -- "$@"; }
in_b() { timeout 20 nsenter --net="/run/netns/$NS_B" -- "$@"; }

# 1. The differential test, judged by the compact program.
PICFW_DIFF_COMPACT=1 PICFW_DIFF_SECONDS=4 PICFW_DIFF_QUIET=1 timeout 300 "$DIFF" \
	>"$TMP/diff.out" 2>&1
rc=$?
grep -q '^# judging with picfw_xdp_compact' "$TMP/diff.out" && ! grep -q '^not ok' "$TMP/diff.out"
check differential_matches_reference $((rc | $?)) "test_differential with PICFW_DIFF_COMPACT=1:" \
	"$(grep -E '^(not ok|DIFF-STATS|# judging)' "$TMP/diff.out")"

# 2. Attached: the Edge and a partner on a veth pair.
ip netns add "$NS_A" && ip netns add "$NS_B" &&
	ip link add pce0 netns "$NS_A" type veth peer name pce1 netns "$NS_B" &&
	in_a ip addr add "$EDGE4/24" dev pce0 && in_b ip addr add "$PARTNER4/24" dev pce1 &&
	in_a ip link set pce0 up && in_b ip link set pce1 up &&
	in_a ip link set lo up && in_b ip link set lo up &&
	in_a ip route add 198.51.100.0/24 dev pce0 && in_b ip route add 203.0.113.0/24 dev pce1
check lab_up $? "making the namespaces and the veth pair failed"

PICFW_TEST_XDP_E2BIG=1 in_a "$PICFW" attach pce0 "$ROOT/etc/pic.policy" --mode generic \
	>"$TMP/attach.out" 2>&1
check attach $? "$(cat "$TMP/attach.out")"
grep -q "refused the XDP program (more than its million instructions); loading its compact variant" \
	"$TMP/attach.out"
check attach_says_compact $? "$(cat "$TMP/attach.out")"

id=$(in_a ip -j link show pce0 | sed -n 's/.*"prog":{[^}]*"id":\([0-9]*\).*/\1/p')
[[ -z $id ]] && id=$(in_a ip -d link show pce0 | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
name=$(bpftool prog show id "${id:-0}" 2>/dev/null | sed -n 's/^[0-9]*: xdp  *name \([^ ]*\).*/\1/p')
[[ $name == picfw_xdp_compa* ]]
check attached_program_is_compact $? "the XDP program on pce0: id '${id:-}', name '${name:-}'"

row_packets() # ROW: its packets in `picfw stats --json`
{
	in_a "$PICFW" stats pce0 --json 2>/dev/null |
		jq -r --arg r "$1" '.rows[] | select(.name == $r) | .packets'
}

# A STUN-port datagram (any remote, UDP 3478 in) and a partner's SYN to 5061
# (no listener: the Edge answers RST) each counted on its row.
udp0=$(row_packets a-v-stun-msturn-udp-3478-in)
sip0=$(row_packets access-sip-mtls-tcp-5061-in)
in_b bash -c "echo stun > /dev/udp/$EDGE4/3478" 2>/dev/null
in_b timeout 3 bash -c "exec 3<>/dev/tcp/$EDGE4/5061" 2>/dev/null
udp1=$(row_packets a-v-stun-msturn-udp-3478-in)
sip1=$(row_packets access-sip-mtls-tcp-5061-in)
[[ -n $udp0 && -n $udp1 && $udp1 -gt $udp0 ]]
check udp_3478_counted_on_its_row $? "a-v-stun-msturn-udp-3478-in: $udp0 -> $udp1" \
	"$(in_a "$PICFW" stats pce0 2>&1 | head -12)"
[[ -n $sip0 && -n $sip1 && $sip1 -gt $sip0 ]]
check partner_syn_5061_counted_on_its_row $? "access-sip-mtls-tcp-5061-in: $sip0 -> $sip1"

in_a "$PICFW" detach pce0 >"$TMP/detach.out" 2>&1
check detach $? "$(cat "$TMP/detach.out")"

echo "# e2e compact: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[[ $FAILED -eq 0 ]]
