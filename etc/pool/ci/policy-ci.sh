#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# The policy repository's CI: every Edge's policy (the shared edge.policy with
# that Edge's hosts/NAME.policy as its host.policy) must pass `picfw check`,
# and `picfw apply --dry-run` shows, for each Edge, what the change does
# against the last applied copy: rows added, removed, changed and kept,
# prefixes added and removed per set.
#
# Usage: policy-ci.sh NEW_DIR [LAST_DIR]
#   NEW_DIR   the checkout under review: edge.policy, hosts/*.policy
#   LAST_DIR  the same files as last applied to the pool (e.g. `git worktree
#             add` of the tag the deploy job moves); without it, check only.
# Needs root for the dry run: it attaches the last applied policy to a veth
# in a throwaway network namespace (its own, named PREFIX-ci-$$, removed on
# exit), then dry-runs the new one against it. Nothing touches the runner's
# own interfaces. Environment: PICFW (default picfw), PICFW_CI_PREFIX
# (default pci: the namespace and interface names).
# Exit: 0 all pass, 1 a check or dry run failed, 2 usage.
set -u

NEW=${1:-}
LAST=${2:-}
PICFW=${PICFW:-picfw}
PREFIX=${PICFW_CI_PREFIX:-pci}
if [[ -z $NEW || ! -f $NEW/edge.policy ]]; then
	echo "usage: $0 NEW_DIR [LAST_DIR]  (NEW_DIR holds edge.policy and hosts/*.policy)" >&2
	exit 2
fi

# picfw trusts only files of root (or the caller) in directories nobody else
# may write: copy each Edge's pair into a directory of ours.
WORK=$(mktemp -d /tmp/picfw-ci.XXXXXX)
NS=$PREFIX-ci-$$
IFACE=${PREFIX}ci0
cleanup()
{
	if [[ -e /run/netns/$NS ]]; then
		timeout 20 nsenter --net="/run/netns/$NS" -- "$PICFW" detach "$IFACE" >/dev/null 2>&1
		ip netns del "$NS"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

in_ns()
{
	timeout 60 nsenter --net="/run/netns/$NS" -- "$@"
}

# assemble SRC_DIR HOST DEST_DIR: DEST_DIR/edge.policy and DEST_DIR/host.policy.
assemble()
{
	mkdir -p "$3" && chmod 0755 "$3" &&
		install -m 0644 "$1/edge.policy" "$3/edge.policy" &&
		install -m 0644 "$1/hosts/$2.policy" "$3/host.policy"
}

failed=0
hosts=()
for h in "$NEW"/hosts/*.policy; do
	[[ -f $h ]] && hosts+=("$(basename "$h" .policy)")
done
if [[ ${#hosts[@]} -eq 0 ]]; then
	echo "policy-ci: no hosts/*.policy in $NEW" >&2
	exit 1
fi

for host in "${hosts[@]}"; do
	assemble "$NEW" "$host" "$WORK/new/$host" || exit 1
	echo "=== $host: picfw check"
	if ! "$PICFW" check "$WORK/new/$host/edge.policy" >"$WORK/check.out"; then
		echo "FAIL: $host: the policy does not pass picfw check (errors above)"
		failed=1
	fi
done
[[ $failed -eq 0 ]] || exit 1
[[ -n $LAST ]] || exit 0

if [[ $EUID -ne 0 ]]; then
	echo "policy-ci: the dry run needs root (it attaches in a namespace of its own)" >&2
	exit 1
fi
ip netns add "$NS" && ip -n "$NS" link add "$IFACE" type veth peer name "${PREFIX}ci1" &&
	ip -n "$NS" link set "$IFACE" up || exit 1
for host in "${hosts[@]}"; do
	echo "=== $host: picfw apply --dry-run, against the last applied copy"
	if [[ ! -f $LAST/hosts/$host.policy ]]; then
		echo "$host is new to the pool: nothing applied to compare with"
		continue
	fi
	assemble "$LAST" "$host" "$WORK/last/$host" || exit 1
	if ! in_ns "$PICFW" attach "$IFACE" "$WORK/last/$host/edge.policy" --mode generic \
		>/dev/null; then
		echo "FAIL: $host: the last applied copy does not attach"
		failed=1
		continue
	fi
	in_ns "$PICFW" apply --dry-run "$IFACE" "$WORK/new/$host/edge.policy" || failed=1
	in_ns "$PICFW" detach "$IFACE" >/dev/null || failed=1
done
exit "$failed"
