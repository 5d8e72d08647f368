#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# Every command and option picfw accepts (its option tables, as `picfw help`
# and `picfw COMMAND --help` print them) appears in picfw(8) and in the bash
# completion, and every command and option picfw(8) names is one picfw accepts;
# every statement of the policy language has its entry in picfw.policy(5).
# Usage: tests/unit/test_cli_man.sh BUILD_DIR
set -u
BUILD=${1:?usage: $0 BUILD_DIR}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PICFW=$BUILD/picfw
MAN=$ROOT/doc/picfw.8
COMPL=$ROOT/etc/bash-completion/picfw
failed=0
n=0

ok() { n=$((n + 1)); echo "ok $n - test_cli_man_$1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - test_cli_man_$1"; shift; printf '# %s\n' "$@"; }
# check NAME RC [DIAGNOSTIC...]: ok if RC is 0.
check() { local name=$1 rc=$2; shift 2; if [[ $rc -eq 0 ]]; then ok "$name"; else not_ok "$name" "$@"; fi; }

if [[ ! -x $PICFW ]]; then
	not_ok all "$PICFW is missing: make"
	exit 1
fi
if ! command -v man >/dev/null; then
	echo "ok 1 - test_cli_man_all # SKIP man is missing (scripts/deps.sh installs man-db)"
	exit 0
fi
text=$(MANWIDTH=200 man -l "$MAN" 2>/dev/null | col -b)

# The commands, from `picfw help`: the lines after "Commands:" up to a blank one.
mapfile -t cmds < <("$PICFW" help | sed -n '/^Commands:/,/^$/p' | awk '/^  [a-z]/ {print $1}')
[[ ${#cmds[@]} -ge 8 ]]
check help_lists_commands $? "${cmds[*]}"

declare -A accepted=([--version]=1 [--help]=1 [--verbose]=1)
for c in "${cmds[@]}"; do
	grep -qE "^ +picfw $c( |$)" <<<"$text"
	check "man_synopsis_has_$c" $? "picfw(8) has no 'picfw $c' in its SYNOPSIS"
	grep -qw "$c" "$COMPL"
	check "completion_has_$c" $?
	help=$("$PICFW" "$c" --help 2>&1)
	rc=$?
	[[ $rc -eq 0 && $help == "Usage: picfw "* ]]
	check "help_of_$c" $? "exit $rc" "$help"
	# Option lines: "  -X, --long[ ARG]  text".
	mapfile -t opts < <(sed -nE 's/^  -[a-zA-Z], (--[a-z-]+).*/\1/p' <<<"$help")
	for o in "${opts[@]}"; do
		accepted[$o]=1
		[[ $o == --help || $o == --verbose ]] && continue
		grep -qF -- "$o" <<<"$text"
		check "man_has_${c}_$o" $? "picfw(8) does not mention $o of '$c'"
		grep -qF -- "$o" "$COMPL"
		check "completion_has_${c}_$o" $?
		# The option is really accepted: with --help after it, the usage, exit 0.
		arg=
		# A value each option accepts (its argument is checked when parsed).
		if grep -qE "^  -[a-zA-Z], $o [A-Z]" <<<"$help"; then
			case $o in
			--reason) arg=no_match ;;
			--count | --rate) arg=1 ;;
			--write) arg=- ;;
			--listen) arg=127.0.0.1:9724 ;;
			*) arg=native ;;
			esac
		fi
		if "$PICFW" "$c" "$o" $arg --help >/dev/null 2>&1; then
			ok "accepts_${c}_$o"
		else
			not_ok "accepts_${c}_$o" "picfw $c $o $arg --help failed"
		fi
	done
done

# The other way round: what picfw(8) names exists.
mapfile -t man_cmds < <(sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' <<<"$text" |
	sed -nE 's/^ +picfw ([a-z]+)( .*)?$/\1/p' | sort -u)
for c in "${man_cmds[@]}"; do
	printf '%s\n' "${cmds[@]}" | grep -qx "$c"
	check "man_command_${c}_exists" $? "picfw(8) names 'picfw $c', picfw has no such command"
done
mapfile -t man_opts < <(grep -oE -- '(^|[^a-z-])--[a-z][a-z-]+' <<<"$text" | sed -E 's/^[^-]//' | sort -u)
for o in "${man_opts[@]}"; do
	[[ -n ${accepted[$o]:-} ]]
	check "man_option_${o#--}_accepted" $? "picfw(8) names $o, which no command accepts"
done
# Every statement the parser takes (user/policy_statements.c) has its entry in picfw.policy(5).
ptext=$(MANWIDTH=200 man -l "$ROOT/doc/picfw.policy.5" 2>/dev/null | col -b)
mapfile -t stmts < <(grep -oE 'if \(tok_is\(line \+ i, w - i, "[a-z-]+"\)\)$' "$ROOT/user/policy_statements.c" |
	sed -E 's/.*"([a-z-]+)".*/\1/' | sort -u)
[[ ${#stmts[@]} -ge 5 ]]
check policy_statements_found $? "${stmts[*]}"
for st in "${stmts[@]}"; do
	grep -qE "^ {7}$st( |$)" <<<"$ptext"
	check "policy_man_has_statement_$st" $? "picfw.policy(5) has no entry for '$st'"
done
echo "# $((n - failed)) passed, $failed failed"
[[ $failed -eq 0 ]]
