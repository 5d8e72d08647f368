#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# Hostile names and files (issue 13), through the built binary:
#  - interface names that are paths, on every command that takes IFACE, with
#    canary files planted outside the pin root (nothing may be touched);
#  - detach of a directory that is not picfw's (nothing removed);
#  - the policy trust check: a symlink flipped by another user (nobody) while
#    root applies must never make root parse that user's file; FIFOs and
#    devices refused at once; group-writable files and directories refused;
# Needs no network: PICFW_BPFFS points into a scratch directory.
# Usage: tests/e2e/test_e2e_hostile.sh BUILD_DIR   (root; TAP lines on stdout)
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAP_PREFIX=test_e2e_hostile_
# shellcheck source=tests/e2e/tap.sh
source "$ROOT/tests/e2e/tap.sh"
e2e_args "$@"
e2e_need_root ""

TMP=
cleanup()
{
	[[ -n $TMP ]] && rm -rf -- "$TMP"
}
e2e_begin h13-hostile
chmod 755 "$TMP"

# p ARGS...: picfw with the pin root in the scratch directory.
p()
{
	PICFW_BPFFS=$TMP/F timeout 20 "$PICFW" "$@" >"$TMP/out" 2>"$TMP/err"
}

# --- interface names that are paths -------------------------------------------------
# F/picfw is the pin root; V, F/V, F/picfw.gen0.policy and /run/picfw's
# neighbours are canaries. Every name below would reach one of them if it
# were used as a path.
mkdir -p "$TMP/F/picfw" "$TMP/V" "$TMP/F/V"
for f in "$TMP/V/passwd" "$TMP/V/shadow" "$TMP/F/V/map" "$TMP/V.gen0.policy" \
	"$TMP/F/picfw.gen0.policy"; do
	echo "canary $f" >"$f"
done
canaries()
{
	(cd "$TMP" && find V F V.gen0.policy -printf '%p %s %T@ %m\n' 2>/dev/null | sort |
		sha256sum)
}
before=$(canaries)
names=("../../V" "../V" ".." "." "/$TMP/V" "../../../../../../../$TMP/V" "V/.." "a:b" \
	"" $'h13\n' $'h13\033[2J' "abcdefghijklmnopq")
verbs=(detach "apply POLICY" "apply --dry-run POLICY" status stats flows "attach POLICY")
for v in "${verbs[@]}"; do
	for i in "${!names[@]}"; do
		n=${names[$i]}
		# shellcheck disable=SC2086
		set -- ${v/POLICY/}
		verb=$1
		shift
		if [[ $v == *POLICY* ]]; then
			p "$verb" "$@" "$n" "$POLICY"
		else
			p "$verb" "$@" "$n"
		fi
		rc=$?
		tag="name_${verb}${1:+_dry}_$i"
		if [[ $rc -eq 2 ]] && one_line_err && grep -q 'bad interface name' "$TMP/err" &&
			[[ $(canaries) == "$before" ]]; then
			ok "$tag"
		else
			not_ok "$tag" "picfw $v '$n': exit $rc (want 2), or canaries touched" \
				"$(cat "$TMP/err")"
		fi
	done
done
[[ -d $TMP/V && -f $TMP/V/passwd && -f $TMP/V.gen0.policy ]]
check name_canaries_intact "$?" "a canary is gone"

# --- detach of a directory that is not picfw's ---------------------------------------
mkdir -p "$TMP/F/picfw/h13-other"
echo keep >"$TMP/F/picfw/h13-other/prog"
p detach h13-other
rc=$?
if [[ $rc -eq 1 ]] && one_line_err && grep -q 'not a picfw pin directory' "$TMP/err" &&
	grep -q 'nothing removed' "$TMP/err" && [[ -f $TMP/F/picfw/h13-other/prog ]]; then
	ok detach_foreign_dir_untouched
else
	not_ok detach_foreign_dir_untouched "exit $rc (want 1, nothing removed)" "$(cat "$TMP/err")"
fi
# A pin directory with picfw's names and a stranger: only picfw's names go.
mkdir -p "$TMP/F/picfw/h13-mixed"
echo x >"$TMP/F/picfw/h13-mixed/link"
echo keep >"$TMP/F/picfw/h13-mixed/other-tool"
p detach h13-mixed
[[ ! -e $TMP/F/picfw/h13-mixed/link && -f $TMP/F/picfw/h13-mixed/other-tool ]]
check detach_only_picfw_pins "$?" "detach removed a file that is not picfw's" "$(cat "$TMP/err")"

# --- the policy trust check ----------------------------------------------------------
RACE_RUNS=${H13_RACE_RUNS:-500}
# $TMP (root, 0755) / race (root, 1777 like /tmp) / link (nobody's) -> good or evil.
good=$TMP/good.policy
cp "$POLICY" "$good"
chmod 644 "$good"
mkdir -m 1777 "$TMP/race"
evil=$TMP/race/evil.policy
# If root ever parses this file, the error names the marker.
printf 'set edge = 203.0.113.10\nset h13-evil = h13-evil-marker\nprotect edge\n%s\n' \
	'A/X/TCP/1 any edge' >"$evil"
chown nobody "$evil"
chmod 644 "$evil"
as_nobody()
{
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "$@"
}
if ! as_nobody ln -sfn "$good" "$TMP/race/link" 2>/dev/null; then
	skip trust_race "cannot run as user nobody (setpriv)"
else
	# The racer: nobody flips its link between root's file and its own, bounded.
	as_nobody timeout 120 bash -c '
		for ((i = 0; i < 2000000; i++)); do
			ln -sfn "$1" "$3/l.new" && mv -Tf "$3/l.new" "$3/link"
			ln -sfn "$2" "$3/l.new" && mv -Tf "$3/l.new" "$3/link"
			[[ -e $3/stop ]] && exit 0
		done' racer "$good" "$evil" "$TMP/race" &
	racer=$!
	parsed_evil=0 refused=0 applied_good=0 other=0
	t0=$(date +%s%N)
	for ((run = 0; run < RACE_RUNS; run++)); do
		p apply h13-race "$TMP/race/link"
		if grep -q h13-evil "$TMP/err" "$TMP/out"; then
			parsed_evil=$((parsed_evil + 1))
		elif grep -q 'refusing the policy' "$TMP/err"; then
			refused=$((refused + 1))
		elif grep -q 'not attached to h13-race' "$TMP/err"; then
			applied_good=$((applied_good + 1)) # parsed root's file, then no pins
		else
			other=$((other + 1))
			[[ $other -eq 1 ]] && cp "$TMP/err" "$TMP/other.err"
		fi
	done
	t1=$(date +%s%N)
	touch "$TMP/race/stop"
	wait "$racer" 2>/dev/null
	echo "# race: $RACE_RUNS runs in $(((t1 - t0) / 1000000)) ms: root's file $applied_good," \
		"refused $refused, nobody's file parsed $parsed_evil, other $other"
	if [[ $parsed_evil -eq 0 && $other -eq 0 && $applied_good -gt 0 && $refused -gt 0 ]]; then
		ok trust_race_never_parses_other_users_file
	elif [[ $parsed_evil -eq 0 && $other -eq 0 ]]; then
		skip trust_race_never_parses_other_users_file "the race did not hit both sides"
	else
		not_ok trust_race_never_parses_other_users_file \
			"root parsed nobody's file $parsed_evil times in $RACE_RUNS runs" \
			"$(cat "$TMP/other.err" 2>/dev/null)"
	fi
fi

# Refused at once, without a hang: a FIFO (nobody writes to it), a device.
mkfifo "$TMP/fifo.policy"
for f in "$TMP/fifo.policy" /dev/zero; do
	for v in check "attach h13-none" "apply h13-none"; do
		t0=$(date +%s%N)
		# shellcheck disable=SC2086
		p $v "$f"
		rc=$?
		ms=$((($(date +%s%N) - t0) / 1000000))
		tag="trust_${f##*/}_${v%% *}_refused_quickly"
		tag=${tag//./_}
		if [[ $rc -eq 1 ]] && one_line_err && grep -q 'not a regular file' "$TMP/err" &&
			[[ $ms -lt 2000 ]]; then
			ok "$tag"
		else
			not_ok "$tag" "exit $rc after $ms ms (want 1, at once)" "$(cat "$TMP/err")"
		fi
	done
done

# Group-writable file, group-writable directory, another user's directory; a
# sticky world-writable directory stays fine.
mkdir -m 755 "$TMP/gw" "$TMP/other"
cp "$POLICY" "$TMP/gw/file.policy"
chmod 664 "$TMP/gw/file.policy"
p check "$TMP/gw/file.policy"
rc=$?
[[ $rc -eq 1 ]] && grep -q 'writable by its group' "$TMP/err"
check trust_group_writable_file "$?" "exit $rc" "$(cat "$TMP/err")"
chmod 644 "$TMP/gw/file.policy"
chmod 775 "$TMP/gw"
p check "$TMP/gw/file.policy"
rc=$?
[[ $rc -eq 1 ]] && grep -q "directory $TMP/gw is writable by its group" "$TMP/err"
check trust_group_writable_dir "$?" "exit $rc" "$(cat "$TMP/err")"
cp "$POLICY" "$TMP/other/file.policy"
chown nobody "$TMP/other"
p check "$TMP/other/file.policy"
rc=$?
[[ $rc -eq 1 ]] && grep -q "directory $TMP/other belongs to uid" "$TMP/err"
check trust_other_users_dir "$?" "exit $rc" "$(cat "$TMP/err")"
cp "$POLICY" "$TMP/race/root.policy"
p check "$TMP/race/root.policy"
check trust_sticky_dir_fine "$?" "a root file in a sticky directory refused" "$(cat "$TMP/err")"
ln -s "$TMP/race/root.policy" "$TMP/gw/link.policy"
chmod 755 "$TMP/gw"
p check "$TMP/gw/link.policy"
check trust_symlink_resolved_once "$?" "a symlink to a good file refused" "$(cat "$TMP/err")"
p check ''
rc=$?
[[ $rc -eq 2 ]] && one_line_err && grep -q '^picfw check: no policy file given' "$TMP/err"
check check_empty_name "$?" "exit $rc" "$(cat "$TMP/err")"
p check --no-such-option "$POLICY"
rc=$?
[[ $rc -eq 2 ]] && grep -q "^picfw check: unrecognized option '--no-such-option'" "$TMP/err"
check getopt_error_names_picfw "$?" "exit $rc" "$(cat "$TMP/err")"

# A compile limit points at a set: FILE:LINE:COL: error: set 'NAME': ...
awk 'BEGIN {
	print "set edge = 203.0.113.10"
	for (s = 0; s < 2; s++) {
		printf "set big%d = ", s
		for (i = 0; i < 70000; i++)
			printf "%d.%d.%d.%d%s", 10 + s, int(i / 65536), int(i / 256) % 256, i % 256,
				i == 69999 ? "\n" : (i % 200 == 199 ? ",\n" : ",")
	}
	print "protect edge\nA/X/TCP/1 big0 edge\nA/X/TCP/2 big1 edge"
}' >"$TMP/big.policy"
p check "$TMP/big.policy"
rc=$?
[[ $rc -eq 1 ]] && one_line_err &&
	grep -q "^$TMP/big.policy:2:5: error: set 'big0': 140000 IPv4 prefixes" "$TMP/err"
check compile_limit_points_at_set "$?" "exit $rc" "$(cat "$TMP/err")"

echo "# e2e hostile: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[[ $FAILED -eq 0 ]]
