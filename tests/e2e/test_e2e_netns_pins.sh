#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# End-to-end: two network namespaces, each with an interface of the same
# name, each attached. Pins are keyed by namespace (IFACE:NETNS under the
# bpffs root, the namespace's inode; the initial namespace keeps IFACE), so
# both attach; `status` lists both; detaching one leaves the other attached,
# with its pins, its counters and its XDP program. A namespace deleted with
# its filter attached leaves pins that `detach IFACE:NETNS` removes.
#
# Names: namespaces p1e-a and p1e-b, interface p1e0 in each (its veth peer
# p1e1), all made here and removed on exit, also on failure. Nothing touches
# the host's interfaces; no packet leaves the namespaces.
#
# Usage: tests/e2e/test_e2e_netns_pins.sh BUILD_DIR  (BUILD_DIR holds picfw)
# Output: `ok - test_e2e_netns_pins_NAME`, `not ok - ...`, `# diagnostics`.
# Exit: 0 if no test failed, 1 otherwise. Needs root; SKIPs without it.

set -u

if [[ $# -ne 1 ]]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PICFW=$(realpath -m "$1/picfw")

if [[ $EUID -ne 0 ]]; then
	echo "ok - test_e2e_netns_pins_all # SKIP needs root (network namespaces, XDP)"
	exit 0
fi
for tool in ip nsenter stat timeout; do
	if ! command -v "$tool" >/dev/null; then
		echo "ok - test_e2e_netns_pins_all # SKIP missing $tool (scripts/deps.sh installs it)"
		exit 0
	fi
done
if [[ ! -x $PICFW ]]; then
	echo "not ok - test_e2e_netns_pins_all"
	echo "# $PICFW is missing: make"
	exit 1
fi

TAP_PREFIX=test_e2e_netns_pins_
TMP=$(mktemp -d /tmp/p1e-netns.XXXXXX)
# shellcheck source=tests/e2e/tap.sh
source "$ROOT/tests/e2e/tap.sh"

NS_A=p1e-a
NS_B=p1e-b
IFACE=p1e0
PIN_ROOT=/sys/fs/bpf/picfw

INO_A=
INO_B=
RUN_PID=
cleanup()
{
	local ns ino
	[[ -n $RUN_PID ]] && kill -TERM "$RUN_PID" 2>/dev/null && sleep 0.5
	for ns in "$NS_A" "$NS_B"; do
		if [[ -e /run/netns/$ns ]]; then
			timeout 10 nsenter --net="/run/netns/$ns" -- "$PICFW" detach "$IFACE" \
				>/dev/null 2>&1
			ino=$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)
			[[ -n $ino ]] && rm -rf "${PIN_ROOT:?}/$IFACE:$ino" \
				"/run/picfw/$IFACE:$ino".gen*.policy
			ip netns del "$ns" 2>/dev/null
		fi
	done
	# A namespace the test deleted with its filter attached.
	for ino in $INO_A $INO_B; do
		rm -rf "${PIN_ROOT:?}/$IFACE:$ino" "/run/picfw/$IFACE:$ino".gen*.policy
	done
	rmdir "$PIN_ROOT" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

in_ns() # NS CMD...
{
	local ns=$1
	shift
	timeout 20 nsenter --net="/run/netns/$ns" -- "$@"
}

cat >"$TMP/edge.policy" <<'POLICY'
set edge = 203.0.113.10, 2001:db8:e::10
protect edge
Access/SIP(TLS)/TCP/443  any  edge
POLICY
chmod 0644 "$TMP/edge.policy"

for ns in "$NS_A" "$NS_B"; do
	if ! ip netns add "$ns" ||
		! ip -n "$ns" link add "$IFACE" type veth peer name p1e1 ||
		! ip -n "$ns" link set "$IFACE" up || ! ip -n "$ns" link set p1e1 up; then
		not_ok setup "could not make namespace $ns with $IFACE"
		exit 1
	fi
done
INO_A=$(stat -L -c %i "/run/netns/$NS_A")
INO_B=$(stat -L -c %i "/run/netns/$NS_B")

# 1. Both attach.
out=$(in_ns "$NS_A" "$PICFW" attach "$IFACE" "$TMP/edge.policy" --mode generic 2>&1)
check attach_first $? "$out"
out=$(in_ns "$NS_B" "$PICFW" attach "$IFACE" "$TMP/edge.policy" --mode generic 2>&1)
check attach_second_same_name $? "$out"

# 2. Each namespace's pins under IFACE:NETNS; none under the bare name for them.
if [[ -e $PIN_ROOT/$IFACE:$INO_A/link && -e $PIN_ROOT/$IFACE:$INO_B/link &&
	! -e $PIN_ROOT/$IFACE ]]; then
	ok pins_keyed_by_namespace
else
	not_ok pins_keyed_by_namespace "$(ls -la "$PIN_ROOT" 2>&1)"
fi

# 3. status from the initial namespace lists both, by namespace name.
out=$("$PICFW" status 2>&1)
if grep -q "^$IFACE (network namespace $NS_A): attached" <<<"$out" &&
	grep -q "^$IFACE (network namespace $NS_B): attached" <<<"$out"; then
	ok status_lists_both
else
	not_ok status_lists_both "$out"
fi
# ... and in a namespace, `status IFACE` is that namespace's.
out=$(in_ns "$NS_B" "$PICFW" status "$IFACE" 2>&1)
if grep -q "^$IFACE (network namespace $NS_B, this one): attached" <<<"$out" &&
	grep -q "pins        $PIN_ROOT/$IFACE:$INO_B" <<<"$out"; then
	ok status_in_namespace
else
	not_ok status_in_namespace "$out"
fi
# Under `ip netns exec` (a private /sys, the pins reached through
# /proc/PID/root of the shell outside), the path is the one that shell names.
out=$(timeout 20 ip netns exec "$NS_B" "$PICFW" status "$IFACE" 2>&1)
if grep -q "^  pins        $PIN_ROOT/$IFACE:$INO_B\$" <<<"$out"; then
	ok status_pins_path_under_ip_netns_exec
else
	not_ok status_pins_path_under_ip_netns_exec "$out"
fi

# 4. Each namespace's counters are its own: stats reads them.
out_a=$(in_ns "$NS_A" "$PICFW" stats "$IFACE" --json 2>&1)
check stats_each_namespace $? "$out_a"

# Under the units' capabilities (no CAP_SYS_PTRACE: pid 1's namespace file
# cannot be read), the pins are named as root names them: the service finds
# its namespace's filter.
CAPPED=(setpriv --bounding-set -all,+bpf,+net_admin,+perfmon --inh-caps -all)
out=$(in_ns "$NS_B" "${CAPPED[@]}" "$PICFW" status "$IFACE" 2>&1)
if grep -q "^$IFACE (network namespace $NS_B, this one): attached" <<<"$out"; then
	ok capped_status_finds_its_filter
else
	not_ok capped_status_finds_its_filter "$out"
fi

# `picfw run` under `ip netns exec` from a shell that exits (a script, '&'
# then logout): the pins stay reachable without that shell, so an edit of
# the file after it is gone is applied.
cp "$TMP/edge.policy" "$TMP/run.policy"
# No timeout(1) around it: its parent would be the shell outside that stays;
# the cleanup stops it (ip netns exec execs picfw: the pid is picfw's).
bash -c "ip netns exec '$NS_B' '$PICFW' run '$IFACE' '$TMP/run.policy' \
	>'$TMP/run.log' 2>&1 & echo \$! >'$TMP/run.pid'; sleep 1"
RUN_PID=$(cat "$TMP/run.pid")
sleep 1
printf 'Access/HTTPS/TCP/8443  any  edge\n' >>"$TMP/run.policy"
for _ in $(seq 30); do
	grep -q "applied $TMP/run.policy.*7 rows\|applied $TMP/run.policy.*2 rows" "$TMP/run.log" && break
	sleep 0.2
done
out=$(in_ns "$NS_B" "$PICFW" status "$IFACE" 2>&1)
if grep -qE "^  rows +2$" <<<"$out" && grep -q "policy      $TMP/run.policy" <<<"$out"; then
	ok run_outlives_its_shell
else
	not_ok run_outlives_its_shell "$out" "$(cat "$TMP/run.log")"
fi
kill -TERM "$RUN_PID" 2>/dev/null
for _ in $(seq 50); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
RUN_PID=

# 5. Detach in a: b stays attached, with its pins and its program.
out=$(in_ns "$NS_A" "$PICFW" detach "$IFACE" 2>&1)
check detach_first $? "$out"
# ... and an apply in a, with the units' capabilities, finds no filter there
# (it once took the bare name, another namespace's, and rewrote that one).
in_ns "$NS_A" "${CAPPED[@]}" "$PICFW" apply "$IFACE" "$TMP/edge.policy" >"$TMP/out" 2>&1
rc=$?
if [[ $rc -eq 1 ]] && grep -q "not attached" "$TMP/out" && [[ ! -e $PIN_ROOT/$IFACE ]]; then
	ok capped_apply_elsewhere_refused
else
	not_ok capped_apply_elsewhere_refused "exit $rc" "$(cat "$TMP/out")"
fi
out=$("$PICFW" status 2>&1)
if ! grep -q "^$IFACE (network namespace $NS_A)" <<<"$out" &&
	grep -q "^$IFACE (network namespace $NS_B): attached" <<<"$out" &&
	[[ ! -e $PIN_ROOT/$IFACE:$INO_A && -e $PIN_ROOT/$IFACE:$INO_B/link ]] &&
	ip -n "$NS_B" link show "$IFACE" | grep -q xdp &&
	! ip -n "$NS_A" link show "$IFACE" | grep -q xdp; then
	ok detach_one_leaves_other
else
	not_ok detach_one_leaves_other "$out" "$(ip -n "$NS_B" link show "$IFACE" 2>&1)"
fi

# 6. A namespace deleted with its filter attached: from outside, `detach
# IFACE:NETNS` is refused while the namespace lives, then removes the pins
# and policy copies once it is gone (status says how); nothing of ours is left.
"$PICFW" detach "$IFACE:$INO_B" >"$TMP/out" 2>&1
rc=$?
if [[ $rc -eq 1 && -e $PIN_ROOT/$IFACE:$INO_B/link ]] &&
	grep -q "still exists" "$TMP/out" && ip -n "$NS_B" link show "$IFACE" | grep -q xdp; then
	ok detach_gone_refused_while_namespace_lives
else
	not_ok detach_gone_refused_while_namespace_lives "exit $rc" "$(cat "$TMP/out")"
fi
"$PICFW" detach "$IFACE:x$INO_B" >"$TMP/out" 2>&1
rc=$?
if [[ $rc -eq 2 ]]; then
	ok detach_gone_bad_name
else
	not_ok detach_gone_bad_name "exit $rc" "$(cat "$TMP/out")"
fi
ip netns del "$NS_B"
out=$("$PICFW" status 2>&1)
if grep -q "^$IFACE (network namespace inode $INO_B): DEFUNCT: its network namespace is gone.*picfw detach $IFACE:$INO_B" <<<"$out"; then
	ok status_says_namespace_gone
else
	not_ok status_says_namespace_gone "$out"
fi
"$PICFW" detach "$IFACE:$INO_B" >"$TMP/out" 2>&1
check detach_gone $? "$(cat "$TMP/out")"
if [[ ! -e $PIN_ROOT/$IFACE:$INO_B ]] && ! compgen -G "/run/picfw/$IFACE:$INO_B.*" >/dev/null &&
	! "$PICFW" status 2>&1 | grep -q "^$IFACE "; then
	ok nothing_left
else
	not_ok nothing_left "$("$PICFW" status 2>&1)" "$(ls /run/picfw 2>&1)"
fi

echo "# $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
