#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# Hostile names and files (issue 13), through the built binary:
#  - interface names that are paths, on every command that takes IFACE, with
#    canary files planted outside the pin root (nothing may be touched);
#  - detach of a directory that is not picfw's (nothing removed);
# Needs no network: PICFW_BPFFS points into a scratch directory.
# Usage: tests/e2e/test_e2e_hostile.sh BUILD_DIR   (root; TAP lines on stdout)
set -u

if [[ $# -ne 1 ]]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
BUILD=$1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PICFW=$(realpath -m "$BUILD/picfw")
POLICY=$ROOT/etc/pic.policy
TAP_PREFIX=test_e2e_hostile_
# shellcheck source=tests/e2e/tap.sh
source "$ROOT/tests/e2e/tap.sh"

if [[ $EUID -ne 0 ]]; then
	echo "ok - ${TAP_PREFIX}all # SKIP needs root"
	exit 0
fi

TMP=
cleanup()
{
	[[ -n $TMP ]] && rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
TMP=$(mktemp -d /tmp/h13-hostile.XXXXXX) || exit 1
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

echo "# e2e hostile: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[[ $FAILED -eq 0 ]]
