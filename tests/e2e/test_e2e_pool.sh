#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# End-to-end: the pool of Edges of etc/pool/ (README.md, "A pool of Edges").
#   1. the shared edge.policy with each hosts/NAME.policy as its host.policy
#      passes `picfw check`, each Edge with its own addresses;
#   2. etc/pool/ci/policy-ci.sh checks a repository: a good one passes; a bad
#      host file fails with its error at host.policy:LINE:COL;
#   3. as root, policy-ci.sh dry-runs a change against the last applied copy
#      (attached in its own namespace, p1e names): the output lists the row
#      added and the prefix changed;
#   4. the Prometheus recording rules pass `promtool test rules` (their test
#      sums one row across two Edges); the playbook and the CI workflow parse
#      as YAML (ansible-playbook --syntax-check when Ansible is there).
#
# Usage: tests/e2e/test_e2e_pool.sh BUILD_DIR  (BUILD_DIR holds picfw)
# Output: `ok - test_e2e_pool_NAME`, `not ok - ...`, `# diagnostics`. Exit: 0 if
# no test failed. Without root, the dry run is a SKIP.

set -u

if [[ $# -ne 1 ]]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PICFW=$(realpath -m "$1/picfw")
POOL=$ROOT/etc/pool
if [[ ! -x $PICFW ]]; then
	echo "not ok - test_e2e_pool_all"
	echo "# $PICFW is missing: make"
	exit 1
fi

TAP_PREFIX=test_e2e_pool_
TMP=$(mktemp -d /tmp/p1e-pool.XXXXXX)
# shellcheck source=tests/e2e/tap.sh
source "$ROOT/tests/e2e/tap.sh"
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. Each Edge's pair passes picfw check, with that Edge's addresses.
for host in edge1 edge2; do
	d=$TMP/$host
	mkdir -p "$d" && chmod 0755 "$d"
	install -m 0644 "$POOL/edge.policy" "$d/edge.policy"
	install -m 0644 "$POOL/hosts/$host.policy" "$d/host.policy"
	out=$("$PICFW" check "$d/edge.policy" 2>&1)
	want=$(sed -n 's/^set edge-access = //p' "$POOL/hosts/$host.policy")
	if [[ -n $want ]] && grep -qxF "set edge-access = $want" <<<"$out"; then
		ok "check_$host"
	else
		not_ok "check_$host" "$out"
	fi
done

# A repository: edge.policy and hosts/, as the CI sees it.
repo() # DIR
{
	mkdir -p "$1/hosts"
	cp "$POOL/edge.policy" "$1/"
	cp "$POOL"/hosts/*.policy "$1/hosts/"
}

# 2. policy-ci.sh: a good repository passes, a bad host file fails at its line.
repo "$TMP/good"
out=$(PICFW=$PICFW bash "$POOL/ci/policy-ci.sh" "$TMP/good" 2>&1)
check ci_good_passes $? "$out"
repo "$TMP/bad"
printf '# edge2\nset edge-access = 203.0.113.20, 2001:db8:e::20/129\n' >"$TMP/bad/hosts/edge2.policy"
out=$(PICFW=$PICFW bash "$POOL/ci/policy-ci.sh" "$TMP/bad" 2>&1)
rc=$?
if [[ $rc -ne 0 ]] && grep -q "/edge2/host.policy:2:33: error: " <<<"$out" &&
	grep -q "FAIL: edge2" <<<"$out" && ! grep -q "FAIL: edge1" <<<"$out"; then
	ok ci_bad_host_file_fails_at_its_line
else
	not_ok ci_bad_host_file_fails_at_its_line "exit $rc" "$out"
fi

# 3. The dry run against the last applied copy (root: it attaches in a namespace).
if [[ $EUID -ne 0 ]]; then
	skip ci_dry_run "needs root (network namespaces, XDP)"
else
	repo "$TMP/new"
	echo 'Access/HTTP/TCP/80  edge-access  any  "CRL checks"' >>"$TMP/new/edge.policy"
	sed -i 's/2001:db8:e::20$/2001:db8:e::21/' "$TMP/new/hosts/edge2.policy"
	out=$(PICFW=$PICFW PICFW_CI_PREFIX=p1e bash "$POOL/ci/policy-ci.sh" "$TMP/new" \
		"$TMP/good" 2>&1)
	rc=$?
	if [[ $rc -eq 0 ]] && [[ $(grep -c "^dry run: p1eci0, nothing applied" <<<"$out") -eq 2 ]] &&
		grep -q "access-http-tcp-80-out" <<<"$out" && grep -q "2001:db8:e::21" <<<"$out" &&
		[[ ! -e /run/netns/p1e-ci-$$ ]]; then
		ok ci_dry_run_shows_the_change
	else
		not_ok ci_dry_run_shows_the_change "exit $rc" "$out"
	fi
	if compgen -G '/sys/fs/bpf/picfw/p1eci0*' >/dev/null; then
		not_ok ci_dry_run_leaves_nothing "$(ls /sys/fs/bpf/picfw)"
	else
		ok ci_dry_run_leaves_nothing
	fi
fi

# 4. The Prometheus rules, the playbook and the workflow.
if command -v promtool >/dev/null; then
	out=$(cd "$POOL/prometheus" && promtool check rules picfw-pool.rules.yml 2>&1 &&
		promtool test rules picfw-pool.rules.test.yml 2>&1)
	check prometheus_rules_sum_the_pool $? "$out"
else
	skip prometheus_rules_sum_the_pool "promtool is not installed (Debian: prometheus)"
fi
# The scrape targets' port is the exporter's default (the port it tells in its help).
port=$("$PICFW" exporter --help | grep -oE '127\.0\.0\.1:[0-9]+' | head -1 | cut -d: -f2)
targets=$(grep -oE 'targets: *\[[^]]*\]' "$POOL/prometheus/prometheus.yml")
if [[ -n $port && -n $targets ]] && ! grep -oE ':[0-9]+"' <<<"$targets" | grep -vq ":$port\""; then
	ok prometheus_targets_exporter_port
else
	not_ok prometheus_targets_exporter_port "exporter port '$port', targets: $targets"
fi
if command -v ansible-playbook >/dev/null; then
	out=$(cd "$POOL/ansible" && ansible-playbook -i inventory.example.ini --syntax-check \
		picfw-pool.yml 2>&1)
	check ansible_playbook_syntax $? "$out"
elif python3 -c 'import yaml' 2>/dev/null; then
	out=$(python3 - "$POOL/ansible/picfw-pool.yml" "$POOL/ci/github-workflow.yml" \
		"$POOL/prometheus/prometheus.yml" 2>&1 <<'PY'
import sys, yaml
for f in sys.argv[1:]:
    doc = yaml.safe_load(open(f))
    assert doc, f + " is empty"
play = yaml.safe_load(open(sys.argv[1]))[0]
names = [t["name"] for t in play["tasks"]]
assert any("picfw check" in n for n in names), names
PY
	)
	check yaml_files_parse $? "$out"
else
	skip yaml_files_parse "neither ansible-playbook nor python3-yaml is installed"
fi

echo "# $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
