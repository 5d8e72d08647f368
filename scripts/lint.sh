#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# Static analysis of user/ and bpf/: clang-tidy with the committed .clang-tidy,
# cppcheck with the committed .cppcheck-suppressions. Exits 1 on any finding
# that is not listed below as known (a false positive, or reported and
# waiting for its fix), each with the reason.
#
# Usage: scripts/lint.sh [BUILD_DIR]     (default build; `make lint`)
# Needs clang-tidy and cppcheck (Debian: apt-get install clang-tidy cppcheck).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
build=${1:-build}

for tool in clang-tidy cppcheck; do
	if ! command -v "$tool" >/dev/null; then
		echo "lint: $tool is missing (Debian: apt-get install clang-tidy cppcheck)" >&2
		exit 1
	fi
done

# user/ includes the skeleton: generate it.
make -s --no-print-directory BUILD="$build" "$build/picfw.skel.h" || exit 1
build_abs=$(cd "$build" && pwd)
multiarch=$(${CC:-cc} -print-multiarch 2>/dev/null)

USER_FLAGS=(-std=gnu11 -Iinclude -Iuser -isystem "$build" '-DPICFW_VERSION="lint"')
BPF_FLAGS=(-target bpf -O2 -Iinclude -I/usr/include/"$multiarch")

# Known findings: FILE|CHECK|SOURCE LINE (trimmed). Matched on the text of the
# flagged line, not its number, so that edits elsewhere keep the match; an
# edit of the line itself brings the finding back, to be looked at again.
KNOWN=$(cat <<'EOF'
user/compile.c|bugprone-sizeof-expression|stack = calloc(n ? n : 1, sizeof(*stack));
user/policy.c|clang-analyzer-core.uninitialized.Assign|r.col = t[0].col;
user/policy.c|clang-analyzer-core.NullDereference|if (pos->src_named) {
user/maps.c|legacyUninitvar|while (!bpf_map_get_next_key(fd, have_prev ? prev : NULL, cur)) {
user/policy.c|knownConditionTrueFalse|if (n && line[n - 1] == '\r')
user/policy.c|nullPointerArithmeticRedundantCheck|r = read(fd, buf + len, cap - len);
EOF
)
# False positives, checked by hand:
#  - compile.c: stack is an array of pointers; sizeof(*stack) is a pointer's size, as meant.
#  - policy.c parse_row(): parse_line() calls it only for a line with a
#    non-blank, non-comment character, so tokenize() always fills t[0].
#  - policy.c resolve(): ps->pos is allocated with p->rows, before p->nrows can be non-zero.
#  - maps.c lpm_clear(): prev is read only once have_prev is set.
#  - policy.c policy_parse(): n is 0 for an empty line.
#  - policy.c policy_load(): buf is allocated on the loop's first pass, before read().
# Reported, to be fixed (then remove the line):
#  - stats.c: PICFW_MAX_FLOWS, an int constant, printed with %u.
#  - compile.c image_trie_lookup(): `v = 0` is never read.
#  - parsing.h, picfw.bpf.c: `void *ip_end` only read: const void *.
# Findings in the build directory (bpftool's skeleton: the analyzer loses
# `obj->skeleton = s` and calls it a leak) are not ours and are skipped.

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
new=0 known=0

# report TOOL < lines of "FILE:LINE:COL: SEVERITY: MESSAGE [CHECK...]" (COL optional)
report() {
	local tool=$1 line path file lno check src
	while IFS= read -r line; do
		[[ $line =~ ^([^:]+):([0-9]+):([0-9]+:)?\ [a-z]+:\ .*\[([^],]+)[],] ]] || continue
		path=${BASH_REMATCH[1]} lno=${BASH_REMATCH[2]} check=${BASH_REMATCH[4]}
		case $path in
		"$build_abs"/* | "$build"/*)
			known=$((known + 1))
			continue
			;;
		esac
		file=${path#"$top"/}
		src=$(sed -n "${lno}p" "$file" 2>/dev/null | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
		if grep -qxF "$file|$check|$src" <<<"$KNOWN"; then
			known=$((known + 1))
		else
			echo "$tool: $line"
			new=$((new + 1))
		fi
	done
}

echo "lint: clang-tidy on user/*.c and bpf/picfw.bpf.c"
jobs=$(nproc 2>/dev/null || echo 2)
printf '%s\n' user/*.c | xargs -P "$jobs" -I{} sh -c \
	'clang-tidy -quiet "$1" -- "$@" >"$0/$(basename "$1").tidy" 2>/dev/null' \
	"$out" {} "${USER_FLAGS[@]}"
# `(void *)(long)ctx->data` is how every XDP program reaches its packet.
clang-tidy -quiet --checks=-performance-no-int-to-ptr bpf/picfw.bpf.c -- "${BPF_FLAGS[@]}" \
	>"$out/picfw.bpf.c.tidy" 2>/dev/null
report clang-tidy < <(cat "$out"/*.tidy)

echo "lint: cppcheck on user/ and bpf/"
CPPCHECK=(cppcheck -q --std=c11 --enable=warning,style,performance,portability
	--inline-suppr --suppressions-list=.cppcheck-suppressions
	--template='{file}:{line}: {severity}: {message} [{id}]')
"${CPPCHECK[@]}" -Iinclude -Iuser -I"$build" '-DPICFW_VERSION="lint"' \
	'-DLIBBPF_OPTS(TYPE,NAME,...)=struct TYPE NAME = { 0 }' user/ 2>"$out/cppcheck"
# The BPF program: SEC() places code in ELF sections, nothing cppcheck needs to see.
"${CPPCHECK[@]}" -Iinclude -Ibpf -D__bpf__ '-DSEC(x)=' -D__always_inline=inline \
	bpf/picfw.bpf.c 2>>"$out/cppcheck"
report cppcheck <"$out/cppcheck"

echo "lint: $new findings ($known known, listed in scripts/lint.sh)"
[ "$new" -eq 0 ]
