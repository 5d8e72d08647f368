#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# picfw in a box: an Edge server, a PIC partner and a stranger in two network
# namespaces (tests/e2e/lib.sh), the PIC port table (etc/pic.policy) attached
# to the Edge's Access interface, then real traffic, allowed and refused.
#
# Usage: scripts/demo.sh BUILD_DIR      (as root; `make demo` runs it)
# BUILD_DIR holds picfw and tests/peer; the path of picfw itself also works.
# Exit 0 only if every exchange behaved as the policy says it should.

set -u

if [[ $# -ne 1 ]]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
BUILD=$1
[[ -f $BUILD ]] && BUILD=$(dirname "$BUILD")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PICFW=$(realpath -m "$BUILD/picfw")
PEER=$(realpath -m "$BUILD/tests/peer")
POLICY=etc/pic.policy

if [[ $EUID -ne 0 ]]; then
	echo "demo: needs root (network namespaces, XDP): sudo make demo" >&2
	exit 1
fi
for bin in "$PICFW" "$PEER"; do
	if [[ ! -x $bin ]]; then
		echo "demo: $bin is missing: make all $BUILD/tests/peer" >&2
		exit 1
	fi
done
cd "$ROOT" || exit 1

# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"

DEMO_TMP=$(mktemp -d /tmp/picfw-demo.XXXXXX) || exit 1
trap 'lab_down; rm -rf "$DEMO_TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

GOOD=0
BAD=0

say()
{
	printf '%s\n' "$*"
}

step()
{
	printf '\n== %s\n' "$*"
}

# run CMD...: run it, its output indented under the narration; CMD's status.
run()
{
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	[[ -n $out ]] && printf '%s\n' "$out" | sed 's/^/    /'
	return "$rc"
}

# exchange WANT WHO WHAT edge|net PEER-ARGS...: run one exchange, print
# PASSED/BLOCKED and whether that is what the policy says.
exchange()
{
	local want=$1 who=$2 what=$3 where=$4 got verdict timeout=2 rc
	shift 4
	[[ $want == BLOCKED ]] && timeout=1
	if [[ $where == edge ]]; then
		in_edge "$PEER" "$@" --timeout "$timeout" 2>/dev/null
		rc=$?
	else
		in_net "$PEER" "$@" --timeout "$timeout" 2>/dev/null
		rc=$?
	fi
	if [[ $rc -eq 0 ]]; then
		got=PASSED
	else
		got=BLOCKED
	fi
	if [[ $got == "$want" ]]; then
		verdict="as expected"
		GOOD=$((GOOD + 1))
	else
		verdict="UNEXPECTED: should be $want"
		BAD=$((BAD + 1))
	fi
	printf '  %-26s %-34s %-8s (%s)\n' "$who" "$what" "$got" "$verdict"
}

say "picfw demo: the Access interface of a Lync / Skype for Business Edge server,"
say "guarded by Microsoft's Public IM Connectivity (PIC) port table."

step "1. The lab"
if ! lab_up demo; then
	say "demo: could not build the namespace lab" >&2
	exit 1
fi
say "  Edge server     ns $LAB_EDGE_NS, $LAB_IFACE $LAB_EDGE4 $LAB_EDGE6"
say "  the Internet    ns $LAB_NET_NS, behind the Edge's veth peer:"
say "    PIC partner   $LAB_PARTNER4 $LAB_PARTNER6"
say "    stranger      $LAB_STRANGER4 $LAB_STRANGER6 (a client from anywhere)"

# Servers that answer everything when nothing is in the way.
for port in 22 443 5061; do
	lab_bg edge "$PEER" tcp-listen :: "$port" --count 100 --timeout 60
done
# --fragment: a big echo leaves in fragments, as a big STUN datagram would.
for port in 3478 5000; do
	lab_bg edge "$PEER" udp-echo :: "$port" --count 100 --timeout 60 --fragment
done
lab_bg net "$PEER" tcp-listen "$LAB_PARTNER4" 5061 --count 100 --timeout 60
lab_bg net "$PEER" udp-echo "$LAB_STRANGER4" 3478 --count 100 --timeout 60 --fragment
ready=1
for port in 22 443 5061; do lab_wait_listen edge tcp "$port" || ready=0; done
for port in 3478 5000; do lab_wait_listen edge udp "$port" || ready=0; done
lab_wait_listen net tcp 5061 || ready=0
lab_wait_listen net udp 3478 || ready=0
if [[ $ready -ne 1 ]]; then
	say "demo: the lab's servers did not start" >&2
	exit 1
fi
say "  The Edge runs servers on TCP 22, 443, 5061 and UDP 3478, 5000;"
say "  the partner listens on TCP 5061, the stranger echoes UDP 3478."

step "2. The policy: picfw check $POLICY"
if ! run "$PICFW" check "$POLICY"; then
	say "demo: $POLICY does not check" >&2
	exit 1
fi

step "3. Attach: picfw attach $LAB_IFACE $POLICY"
if ! run in_edge "$PICFW" attach "$LAB_IFACE" "$POLICY" ||
	! in_edge "$PICFW" status "$LAB_IFACE" >/dev/null 2>&1; then
	say "demo: attach failed" >&2
	exit 1
fi
say "  attached; the filter lives on in $LAB_PIN_DIR after the command exits."

step "4. Traffic the PIC table allows"
exchange PASSED "partner $LAB_PARTNER4" "-> Edge TCP 5061 (SIP/MTLS)" \
	net tcp-connect "$LAB_EDGE4" 5061 --bind "$LAB_PARTNER4"
exchange PASSED "partner $LAB_PARTNER6" "-> Edge TCP 5061 (SIP/MTLS)" \
	net tcp-connect "$LAB_EDGE6" 5061 --bind "$LAB_PARTNER6"
exchange PASSED "client $LAB_STRANGER4" "-> Edge TCP 443 (SIP/TLS)" \
	net tcp-connect "$LAB_EDGE4" 443 --bind "$LAB_STRANGER4"
exchange PASSED "client $LAB_STRANGER4" "-> Edge UDP 3478 (STUN), echoed" \
	net udp-send "$LAB_EDGE4" 3478 --bind "$LAB_STRANGER4" --count 3 --size 64 --expect-reply
exchange PASSED "Edge $LAB_EDGE4" "-> client UDP 3478 (STUN), echoed" \
	edge udp-send "$LAB_STRANGER4" 3478 --count 3 --size 64 --expect-reply
exchange PASSED "Edge $LAB_EDGE4" "-> partner TCP 5061, replies in" \
	edge tcp-connect "$LAB_PARTNER4" 5061
exchange PASSED "client $LAB_STRANGER4" "-> Edge UDP 3478, 3,000 B in fragments" \
	net udp-send "$LAB_EDGE4" 3478 --bind "$LAB_STRANGER4" --size 3000 --fragment --expect-reply
exchange PASSED "Edge $LAB_EDGE4:50000" "-> client UDP 3478 (a STUN flow)" \
	edge udp-send "$LAB_STRANGER4" 3478 --bind "$LAB_EDGE4,50000" --count 3 --size 64 --expect-reply

step "5. Traffic the PIC table refuses (dropped in XDP; 1 s timeout each)"
exchange BLOCKED "stranger $LAB_STRANGER4" "-> Edge TCP 5061 (not a partner)" \
	net tcp-connect "$LAB_EDGE4" 5061 --bind "$LAB_STRANGER4"
exchange BLOCKED "stranger $LAB_STRANGER6" "-> Edge TCP 5061 (not a partner)" \
	net tcp-connect "$LAB_EDGE6" 5061 --bind "$LAB_STRANGER6"
exchange BLOCKED "stranger $LAB_STRANGER4" "-> Edge TCP 22 (ssh: no row)" \
	net tcp-connect "$LAB_EDGE4" 22 --bind "$LAB_STRANGER4"
exchange BLOCKED "stranger $LAB_STRANGER4" "-> Edge UDP 5000 (no row)" \
	net udp-send "$LAB_EDGE4" 5000 --bind "$LAB_STRANGER4" --expect-reply
exchange BLOCKED "stranger $LAB_STRANGER4" "from UDP 3478 -> Edge UDP 5000 (no flow)" \
	net udp-send "$LAB_EDGE4" 5000 --bind "$LAB_STRANGER4,3478" --expect-reply
exchange BLOCKED "stranger $LAB_STRANGER4" "-> Edge UDP 5000, 3,000 B in fragments" \
	net udp-send "$LAB_EDGE4" 5000 --bind "$LAB_STRANGER4" --size 3000 --fragment --expect-reply

step "6. A live update: picfw apply renames the STUN-out row (stun-out:)"
sed 's|^A/V/STUN,MSTURN/UDP/3478          edge-access|stun-out: &|' "$POLICY" >"$DEMO_TMP/pic.policy"
run in_edge "$PICFW" apply "$LAB_IFACE" "$DEMO_TMP/pic.policy"
say "  The Edge's STUN flow from :50000 keeps working; its replies now count on stun-out."
exchange PASSED "Edge $LAB_EDGE4:50000" "-> client UDP 3478, same flow" \
	edge udp-send "$LAB_STRANGER4" 3478 --bind "$LAB_EDGE4,50000" --count 3 --size 64 --expect-reply

step "7. picfw status"
run in_edge "$PICFW" status

step "8. picfw stats $LAB_IFACE (per-row and per-reason counters)"
run in_edge "$PICFW" stats "$LAB_IFACE"

step "9. picfw flows $LAB_IFACE (flows the Edge opened; their replies come back in)"
run in_edge "$PICFW" flows "$LAB_IFACE"

step "10. Detach and clean up"
if run in_edge "$PICFW" detach "$LAB_IFACE" && [[ ! -e $LAB_PIN_DIR ]]; then
	say "  detached; $LAB_PIN_DIR is gone."
else
	say "  detach failed; the cleanup removes what is left."
	BAD=$((BAD + 1))
fi
lab_down
say "  namespaces removed."

printf '\n'
if [[ $BAD -eq 0 ]]; then
	say "Result: all $GOOD exchanges behaved as the PIC table says."
	exit 0
fi
say "Result: $BAD of $((GOOD + BAD)) checks did NOT behave as expected."
exit 1
