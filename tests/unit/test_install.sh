#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# `make install DESTDIR=$(mktemp -d)` installs the expected files, `man -l`
# renders both pages, `systemd-analyze verify` accepts the units, the bash
# completion loads, and `make uninstall` removes what install put there.
# Usage: tests/unit/test_install.sh BUILD_DIR
set -u
BUILD=${1:?usage: $0 BUILD_DIR}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
failed=0
n=0
ok() { n=$((n + 1)); echo "ok $n - test_install_$1"; }
skip() { n=$((n + 1)); echo "ok $n - test_install_$1 # SKIP $2"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - test_install_$1"; shift; printf '# %s\n' "$@" | head -20; }
# check NAME RC [DIAGNOSTIC...]: ok if RC is 0.
check() { local name=$1 rc=$2; shift 2; if [[ $rc -eq 0 ]]; then ok "$name"; else not_ok "$name" "$@"; fi; }

D=$(mktemp -d /tmp/p10-install.XXXXXX) || exit 1
trap 'rm -rf -- "$D"' EXIT
# The build it was given, as it was built: a sanitizer build stays one.
MK=(make -C "$ROOT" --no-print-directory BUILD="$BUILD" DESTDIR="$D" PREFIX=/usr)
nm -u "$BUILD/picfw" 2>/dev/null | grep -q __asan_init && MK+=(SANITIZE=1)
if ! out=$("${MK[@]}" install 2>&1); then
	not_ok make_install "$out"
	exit 1
fi
ok make_install
for f in usr/sbin/picfw usr/share/man/man8/picfw.8 usr/share/man/man5/picfw.policy.5 \
	usr/lib/systemd/system/picfw@.service usr/lib/systemd/system/picfw-exporter.service \
	usr/share/bash-completion/completions/picfw usr/share/doc/picfw/examples/pic.policy; do
	[[ -s $D/$f ]]
	check "installs_${f##*/}" $? "$D/$f is missing"
done
# Every shipped example (etc/ but the units and the completion), the pool's
# hosts and the monitoring files included, its scripts still executable.
missing=()
while IFS= read -r f; do
	[[ -s $D/usr/share/doc/picfw/examples/${f#etc/} ]] || missing+=("$f")
	[[ ! -x $ROOT/$f || -x $D/usr/share/doc/picfw/examples/${f#etc/} ]] || missing+=("$f (mode)")
done < <(cd "$ROOT" && find etc -type f ! -path 'etc/systemd/*' ! -path 'etc/bash-completion/*')
[[ ${#missing[@]} -eq 0 ]]
check installs_every_example $? "not installed: ${missing[*]}"
[[ -x $D/usr/sbin/picfw ]] && "$D/usr/sbin/picfw" --version >/dev/null
check binary_runs $?
grep -q '^ExecStart=/usr/sbin/picfw run %i /etc/picfw/%i.policy$' "$D/usr/lib/systemd/system/picfw@.service"
check unit_names_prefix $? "$(grep ExecStart "$D"/usr/lib/systemd/system/*)"

if command -v man >/dev/null; then
	for page in man8/picfw.8 man5/picfw.policy.5; do
		err=$(MANWIDTH=100 man -l "$D/usr/share/man/$page" 2>&1 >"$D/rendered")
		if [[ -z $err && $(wc -l <"$D/rendered") -gt 50 ]]; then
			ok "man_renders_${page#*/}"
		else
			not_ok "man_renders_${page#*/}" "$err"
		fi
	done
else
	skip man_renders "man is missing (scripts/deps.sh installs man-db)"
fi

if command -v systemd-analyze >/dev/null; then
	# verify checks that ExecStart's binary exists: point the units at the installed one.
	U=$D/verify
	mkdir -p "$U"
	sed "s|/usr/sbin/picfw|$D/usr/sbin/picfw|" "$D/usr/lib/systemd/system/picfw@.service" \
		>"$U/picfw@p10-eth0.service"
	sed "s|/usr/sbin/picfw|$D/usr/sbin/picfw|" "$D/usr/lib/systemd/system/picfw-exporter.service" \
		>"$U/picfw-exporter.service"
	out=$(systemd-analyze verify --man=no "$U/picfw@p10-eth0.service" "$U/picfw-exporter.service" 2>&1)
	rc=$?
	[[ $rc -eq 0 && -z $out ]]
	check systemd_analyze_verify $? "exit $rc" "$out"
	# And it fails on a broken unit: the check can fail.
	sed 's/^Type=notify$/Type=nonsense/' "$U/picfw@p10-eth0.service" >"$U/picfw@p10-bad.service"
	# (verify exits 0 on a bad setting, but says so: its silence is what passes above)
	out=$(systemd-analyze verify --man=no "$U/picfw@p10-bad.service" 2>&1)
	[[ $out == *nonsense* ]]
	check systemd_analyze_catches_a_bad_unit $? "$out"
	! grep -q '^ProtectKernelTunables' "$U/picfw@p10-eth0.service"
	check no_protect_kernel_tunables $? "it makes /sys/fs/bpf read-only"
else
	skip systemd_analyze_verify "systemd-analyze is missing (scripts/deps.sh installs systemd)"
fi

out=$(bash -c "source '$D/usr/share/bash-completion/completions/picfw' &&
	COMP_WORDS=(picfw r); COMP_CWORD=1; _picfw; echo \${COMPREPLY[*]}" 2>&1)
[[ $out == run ]]
check completion_commands $? "$out"
out=$(bash -c "source '$D/usr/share/bash-completion/completions/picfw' &&
	COMP_WORDS=(picfw run --d); COMP_CWORD=2; _picfw; echo \${COMPREPLY[*]}" 2>&1)
[[ $out == --detach-on-exit ]]
check completion_options $? "$out"

"${MK[@]}" uninstall >/dev/null 2>&1
left=$(find "$D/usr" -type f 2>/dev/null)
[[ -z $left ]]
check uninstall_removes_all $? "$left"
echo "# $((n - failed)) passed, $failed failed"
[[ $failed -eq 0 ]]
