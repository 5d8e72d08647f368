#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# picfw exporter, end to end: the exporter on loopback inside the Edge's
# namespace, scraped with curl. Its output passes promtool and equals `stats
# --json`; counters rise by exactly what was sent; an apply between scrapes
# moves no kept row's counter backwards and counts as ok, a bad policy as
# refused; POST, unknown paths and oversized headers get HTTP errors; a slow
# client does not stall a scrape; clients trickling their headers are closed
# at the time limit of a request while scrapes beside them are answered (also
# with one address at its connection limit); killed and restarted, it shows the
# same counts. Also: the alert rules pass `promtool check rules`, and the dashboard
# is JSON whose queries parse and name only metrics the exporter serves.
# Usage: tests/e2e/test_e2e_exporter.sh BUILD_DIR   (root; TAP lines on stdout)
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAP_PREFIX=test_e2e_exporter_
# shellcheck source=tests/e2e/tap.sh
source "$ROOT/tests/e2e/tap.sh"
e2e_args "$@"
DASHBOARD=$ROOT/etc/monitoring/picfw-dashboard.json
RULES=$ROOT/etc/monitoring/picfw-alerts.yml
e2e_need_root "(network namespaces, XDP)"
e2e_need_tools curl promtool jq

# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
LAB_IFACE=p9x-edge0
LAB_NET_IFACE=p9x-net0
LAB_NS_PREFIX=p9x
LAB_PIN_DIR=$LAB_BPFFS/picfw/$LAB_IFACE

TMP=
cleanup()
{
	lab_down
	[[ -n $TMP ]] && rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
TMP=$(mktemp -d /tmp/p9x-exporter.XXXXXX) || exit 1

URL=http://127.0.0.1:9724 # the default listen address, in the Edge's namespace
N=20
PAYLOAD=100
ROW_STUN_IN=a-v-stun-msturn-udp-3478-in
SEL="interface=\"$LAB_IFACE\""

# get FILE PATH [CURL-ARGS...]: the HTTP status on stdout, the body in FILE.
get()
{
	local file=$1 path=$2
	shift 2
	in_edge curl -sS -m 5 -o "$file" -w '%{http_code}' "$@" "$URL$path" 2>"$TMP/curl.err"
}

# scrape FILE: GET /metrics into FILE; 0 if it answered 200.
scrape()
{
	[[ $(get "$1" /metrics) == 200 ]]
}

# val FILE NAME LABELS: the value of the sample NAME{LABELS} (exact label text), or "missing".
val()
{
	awk -v k="$2{$3}" '$1 == k { print $2; f = 1 } END { if (!f) print "missing" }' "$1"
}

# row FILE packets|bytes ROW: a row's counter on our interface.
row()
{
	grep -F "picfw_row_$2_total{$SEL,row=\"$3\"," "$1" | awk '{ print $NF }' | head -n 1
}

# start_exporter: in the Edge's namespace, on the default address; waits until it listens.
start_exporter()
{
	lab_bg edge "$PICFW" exporter "$@" >>"$TMP/exporter.log" 2>&1
	EXPORTER_PID=$LAB_LAST_PID
	lab_wait_listen edge tcp 9724
}

# stop_exporter SIGNAL: 0 if it exits with status 0 within 5 s.
stop_exporter()
{
	local i rc
	kill "-$1" "$EXPORTER_PID" 2>/dev/null || return 1
	for ((i = 0; i < 100; i++)); do
		kill -0 "$EXPORTER_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$EXPORTER_PID" 2>/dev/null; then
		kill -KILL "$EXPORTER_PID" 2>/dev/null
		wait "$EXPORTER_PID" 2>/dev/null
		return 1
	fi
	wait "$EXPORTER_PID"
	rc=$?
	return "$rc"
}

# --- Files checked without a lab ------------------------------------------

if promtool check rules "$RULES" >"$TMP/rules.out" 2>&1; then
	ok alert_rules_promtool
else
	not_ok alert_rules_promtool "$(cat "$TMP/rules.out")"
fi

if jq -e '.panels | length > 0' "$DASHBOARD" >/dev/null 2>"$TMP/jq.err"; then
	ok dashboard_json
else
	not_ok dashboard_json "$DASHBOARD is not JSON with panels" "$(cat "$TMP/jq.err")"
fi

# Every panel query parses as PromQL: each as a recording rule, Grafana's variables filled in.
{
	echo "groups:"
	echo "  - name: dashboard"
	echo "    rules:"
	i=0
	while IFS= read -r e; do
		i=$((i + 1))
		printf '      - record: dashboard:expr%d\n        expr: %s\n' "$i" \
			"$(jq -Rn --arg e "$e" '$e')"
	done < <(jq -r '.. | objects | .expr? | strings' "$DASHBOARD" |
		sed -e 's/\$__rate_interval/5m/g' -e 's/\$instance/.*/g' -e 's/\$interface/.*/g')
} >"$TMP/dashboard-rules.yml"
if [[ $(grep -c 'record:' "$TMP/dashboard-rules.yml") -gt 5 ]] &&
	promtool check rules "$TMP/dashboard-rules.yml" >"$TMP/rules.out" 2>&1; then
	ok dashboard_queries_parse
else
	not_ok dashboard_queries_parse "$(cat "$TMP/rules.out")"
fi

# --- The lab ----------------------------------------------------------------

lab_up exporter || {
	echo "not ok - test_e2e_exporter_lab"
	exit 1
}
lab_bg edge "$PEER" udp-echo :: 3478 --count 1000 --timeout 120
lab_wait_listen edge udp 3478 || {
	echo "not ok - test_e2e_exporter_lab"
	exit 1
}
if ! pf attach "$LAB_IFACE" "$POLICY"; then
	echo "not ok - test_e2e_exporter_attach"
	sed 's/^/# /' "$TMP/err"
	exit 1
fi

if ! start_exporter; then
	not_ok exporter_starts "nothing listens on 127.0.0.1:9724 in the Edge's namespace"
	exit 1
fi
ok exporter_starts

code=$(get "$TMP/index" /)
if [[ $code == 200 ]] && grep -q 'href="/metrics"' "$TMP/index"; then
	ok index_page
else
	not_ok index_page "GET / answered $code" "$(cat "$TMP/curl.err")"
fi

in_edge curl -sS -m 5 -D "$TMP/headers" -o "$TMP/m0" "$URL/metrics" 2>"$TMP/curl.err"
if grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/headers"; then
	ok metrics_content_type
else
	not_ok metrics_content_type "$(cat "$TMP/headers" "$TMP/curl.err")"
fi

if scrape "$TMP/m0" && promtool check metrics <"$TMP/m0" >"$TMP/promtool.out" 2>&1; then
	ok metrics_promtool
else
	not_ok metrics_promtool "$(cat "$TMP/promtool.out" "$TMP/curl.err")"
fi

if pf stats "$LAB_IFACE" --prometheus &&
	promtool check metrics <"$TMP/out" >"$TMP/promtool.out" 2>&1; then
	ok stats_prometheus_promtool
else
	not_ok stats_prometheus_promtool "$(cat "$TMP/promtool.out" "$TMP/err")"
fi

v=$(val "$TMP/m0" picfw_up "$SEL")
if [[ $v == 1 ]]; then
	ok up
else
	not_ok up "picfw_up{$SEL} is $v, want 1"
fi

missing=
for fam in picfw_up picfw_exporter_scrape_duration_seconds picfw_flow_table_fill_ratio \
	picfw_flow_table_size picfw_policy_applied_timestamp_seconds picfw_policy_applies_total \
	picfw_row_packets_total picfw_reason_packets_total picfw_policy_generation; do
	grep -q "^# TYPE $fam " "$TMP/m0" || missing+=" $fam"
done
if [[ -z $missing ]]; then
	ok families
else
	not_ok families "missing:$missing"
fi

# The same moment (nothing sent between): every row's counters equal stats --json.
scrape "$TMP/m1"
if pf stats "$LAB_IFACE" --json; then
	bad=
	nrows=0
	while IFS=$'\t' read -r name p b; do
		nrows=$((nrows + 1))
		[[ $(row "$TMP/m1" packets "$name") == "$p" && $(row "$TMP/m1" bytes "$name") == "$b" ]] ||
			bad+=" $name(json $p/$b, metrics $(row "$TMP/m1" packets "$name")/$(row "$TMP/m1" bytes "$name"))"
	done < <(jq -r '.rows[] | [.name, .packets, .bytes] | @tsv' "$TMP/out")
	if [[ $nrows -gt 0 && -z $bad ]]; then
		ok equals_stats_json
	else
		not_ok equals_stats_json "rows $nrows; differing:$bad"
	fi
else
	not_ok equals_stats_json "picfw stats --json failed" "$(cat "$TMP/err")"
fi

# Exactly N echoed STUN datagrams: the row rises by N frames of Ethernet + IPv4 + UDP + payload.
p0=$(row "$TMP/m1" packets "$ROW_STUN_IN")
b0=$(row "$TMP/m1" bytes "$ROW_STUN_IN")
if ex net udp-send "$LAB_EDGE4" 3478 --bind "$LAB_STRANGER4" --count "$N" --size "$PAYLOAD" \
	--expect-reply --timeout 5 && scrape "$TMP/m2"; then
	p1=$(row "$TMP/m2" packets "$ROW_STUN_IN")
	b1=$(row "$TMP/m2" bytes "$ROW_STUN_IN")
	want_b=$((N * (14 + 20 + 8 + PAYLOAD)))
	if [[ $p0$p1$b0$b1 =~ ^[0-9]+$ ]] && ((p1 - p0 == N && b1 - b0 == want_b)); then
		ok counters_row_exact
	else
		not_ok counters_row_exact "$ROW_STUN_IN: packets $p0 -> $p1 (want +$N)," \
			"bytes $b0 -> $b1 (want +$want_b)"
	fi
else
	not_ok counters_row_exact "sending or scraping failed" "$(cat "$TMP/peer.err" "$TMP/curl.err")"
fi

# N datagrams no row allows: no_match rises by exactly N (bounded wait for the last ones).
NM="$SEL,reason=\"no_match\",verdict=\"drop\""
n0=$(val "$TMP/m2" picfw_reason_packets_total "$NM")
ex net udp-send "$LAB_EDGE4" 5000 --bind "$LAB_STRANGER4" --count "$N" --size "$PAYLOAD"
for ((i = 0; i < 40; i++)); do
	scrape "$TMP/m3"
	n1=$(val "$TMP/m3" picfw_reason_packets_total "$NM")
	[[ $n0$n1 =~ ^[0-9]+$ ]] && ((n1 - n0 >= N)) && break
	sleep 0.05
done
sleep 0.2 # anything late would show now
scrape "$TMP/m3"
n1=$(val "$TMP/m3" picfw_reason_packets_total "$NM")
if [[ $n0$n1 =~ ^[0-9]+$ ]] && ((n1 - n0 == N)); then
	ok counters_no_match_exact
else
	not_ok counters_no_match_exact "no_match $n0 -> $n1 (want +$N)"
fi

# An apply between scrapes: no counter of ours with the same labels goes backwards.
OTHER=$TMP/other.policy
sed 's|^Access/SIP(TLS)/TCP/443 |Access/HTTP/TCP/8080 |' "$POLICY" >"$OTHER"
chmod 644 "$OTHER"
ok0=$(val "$TMP/m3" picfw_policy_applies_total "$SEL,result=\"ok\"")
t0=$(val "$TMP/m3" picfw_policy_applied_timestamp_seconds "$SEL")
if pf apply "$LAB_IFACE" "$OTHER" && scrape "$TMP/m4"; then
	grep -E "^picfw_[a-z_]+_total\{$SEL" "$TMP/m3" | sort >"$TMP/before"
	grep -E "^picfw_[a-z_]+_total\{$SEL" "$TMP/m4" | sort >"$TMP/after"
	backwards=$(join -j 1 "$TMP/before" "$TMP/after" | awk '$3 < $2')
	kept=$(join -j 1 "$TMP/before" "$TMP/after" | grep -c '^picfw_row_packets_total')
	if [[ -z $backwards && $kept -ge 5 ]]; then
		ok apply_no_counter_backwards
	else
		not_ok apply_no_counter_backwards "kept rows $kept; backwards: $backwards"
	fi
	ok1=$(val "$TMP/m4" picfw_policy_applies_total "$SEL,result=\"ok\"")
	t1=$(val "$TMP/m4" picfw_policy_applied_timestamp_seconds "$SEL")
	g1=$(val "$TMP/m4" picfw_policy_generation "$SEL")
	if [[ $ok0$ok1 =~ ^[0-9]+$ ]] && ((ok1 == ok0 + 1)) && [[ $g1 == 2 ]] &&
		[[ $t0$t1 =~ ^[0-9]+$ ]] && ((t1 >= t0)); then
		ok apply_counted_ok
	else
		not_ok apply_counted_ok "applies ok $ok0 -> $ok1, generation $g1, applied $t0 -> $t1"
	fi
else
	not_ok apply_no_counter_backwards "apply or scrape failed" "$(cat "$TMP/err")"
fi

BAD=$TMP/bad.policy
printf 'this is not a policy\n' >"$BAD"
chmod 644 "$BAD"
r0=$(val "$TMP/m4" picfw_policy_applies_total "$SEL,result=\"refused\"")
if ! pf apply "$LAB_IFACE" "$BAD" && scrape "$TMP/m5"; then
	r1=$(val "$TMP/m5" picfw_policy_applies_total "$SEL,result=\"refused\"")
	g1=$(val "$TMP/m5" picfw_policy_generation "$SEL")
	if [[ $r0$r1 =~ ^[0-9]+$ ]] && ((r1 == r0 + 1)) && [[ $g1 == 2 ]]; then
		ok apply_counted_refused
	else
		not_ok apply_counted_refused "applies refused $r0 -> $r1, generation $g1"
	fi
else
	not_ok apply_counted_refused "the bad policy was applied, or the scrape failed"
fi

# HTTP: HEAD works, other methods 405, unknown paths 404, oversized headers an error.
code=$(get "$TMP/head" /metrics -I)
if [[ $code == 200 && ! -s $TMP/head ]] || [[ $code == 200 && $(grep -c '^picfw_' "$TMP/head") == 0 ]]; then
	ok http_head
else
	not_ok http_head "HEAD /metrics answered $code"
fi
for m in POST PUT DELETE; do
	code=$(get "$TMP/body" /metrics -X "$m" -d x)
	if [[ $code == 405 ]]; then
		ok "http_${m,,}_405"
	else
		not_ok "http_${m,,}_405" "$m /metrics answered $code"
	fi
done
code=$(get "$TMP/body" /metrics/../etc/passwd --path-as-is)
code2=$(get "$TMP/body" /nope)
if [[ $code == 404 && $code2 == 404 ]]; then
	ok http_unknown_path_404
else
	not_ok http_unknown_path_404 "/metrics/../etc/passwd answered $code, /nope $code2"
fi
big=$(head -c 40000 /dev/zero | tr '\0' a)
code=$(get "$TMP/body" /metrics -H "X-Big: $big")
if [[ $code =~ ^4[0-9][0-9]$ ]]; then
	ok http_oversized_headers
else
	not_ok http_oversized_headers "40,000 bytes of headers answered '$code'" "$(cat "$TMP/curl.err")"
fi

# A client that sends half a request and waits does not stall a scrape.
lab_bg edge bash -c 'exec 3<>/dev/tcp/127.0.0.1/9724; printf "GET /metrics HTTP/1.1\r\n" >&3; exec sleep 4'
SLOW_PID=$LAB_LAST_PID
sleep 0.2
if scrape "$TMP/m6" && grep -q "^picfw_up{$SEL} 1" "$TMP/m6"; then
	ok slow_client_no_stall
else
	not_ok slow_client_no_stall "a scrape beside a slow client failed" "$(cat "$TMP/curl.err")"
fi
kill "$SLOW_PID" 2>/dev/null

# The time limit of a request (PICFW_EXPORTER_REQUEST_S): clients that trickle a
# header byte every second (which restarts libmicrohttpd's idle timeout each
# time) are closed 10 s after they connect, while scrapes beside them keep being
# answered: from their own address with 7 of them (one under the limit of 8 per
# address), from another loopback address with 8. All of it on the Edge
# namespace's loopback.
REQUEST_S=10
TRICKLE_MAX=30 # bytes a trickler sends, one a second, unless closed first
# trickle OUT MAX: send a request's first line and then one header byte a second
# until the exporter closes the connection (or MAX bytes); OUT gets "T0 T1 BYTES".
# shellcheck disable=SC2016 # expanded by the bash below
TRICKLE='trap "" PIPE
exec 3<>/dev/tcp/127.0.0.1/9724 || exit 1
t0=$EPOCHREALTIME
printf "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " >&3
for ((i = 0; i < $2; i++)); do
	printf a >&3 || break
	read -r -t 1 -u 3 _
	(($? > 128)) || break # the end of the stream (or a reply): the exporter closed it
done
echo "$t0 $EPOCHREALTIME $i" >"$1"'
TRICKLERS=()

# start_trickler N: trickler N in the background, its result in $TMP/trickle.N.
start_trickler()
{
	lab_bg edge timeout $((TRICKLE_MAX + 10)) bash -c "$TRICKLE" trickle "$TMP/trickle.$1" \
		"$TRICKLE_MAX"
	TRICKLERS+=("$LAB_LAST_PID")
}

# settled N: wait (<= 3 s) until N connections to the exporter are open, each
# seen from both ends, and nothing else is (a closed one's socket may linger in
# TIME-WAIT); then 0.1 s more, for the exporter to count a closed one out.
settled()
{
	local i
	for ((i = 0; i < 60; i++)); do
		if [[ $(in_edge ss -Htn exclude listening exclude time-wait \
			'( sport = :9724 or dport = :9724 )' | wc -l) -eq $((2 * $1)) ]]; then
			sleep 0.1
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# scrapes_ok FROM HELD: 5 scrapes from source address FROM, each once only the
# HELD connections of the tricklers are open, all 200 with our picfw_up; 0 if
# so. The slowest one's time in SLOWEST (seconds).
scrapes_ok()
{
	local i out
	for ((i = 0; i < 5; i++)); do
		settled "$2"
		out=$(in_edge curl -sS -m 5 --interface "$1" -o "$TMP/mt" \
			-w '%{http_code} %{time_total}' "$URL/metrics" 2>"$TMP/curl.err")
		[[ ${out% *} == 200 ]] && grep -q "^picfw_up{$SEL} 1" "$TMP/mt" || return 1
		SLOWEST=$(awk -v a="$SLOWEST" -v b="${out#* }" 'BEGIN { print (b > a ? b : a) }')
	done
}

SLOWEST=0
settled 0 # the slow client above gone
for n in 1 2 3 4 5 6 7; do
	start_trickler "$n"
done
if settled 7 && scrapes_ok 127.0.0.1 7; then
	ok scrape_beside_7_tricklers
else
	not_ok scrape_beside_7_tricklers "a scrape from 127.0.0.1 beside 7 tricklers failed" \
		"$(cat "$TMP/curl.err")"
fi
start_trickler 8
if settled 8; then
	# The per-address limit holds: a 9th connection from 127.0.0.1 is refused...
	code=$(in_edge curl -sS -m 5 -o /dev/null -w '%{http_code}' "$URL/metrics" 2>/dev/null)
	if [[ $code == 000 ]]; then
		ok per_address_limit
	else
		not_ok per_address_limit "a 9th connection from 127.0.0.1 answered $code"
	fi
	# ... and does not reach another address's scrapes.
	if scrapes_ok 127.0.0.2 8; then
		ok scrape_other_address_beside_8_tricklers
	else
		not_ok scrape_other_address_beside_8_tricklers \
			"a scrape from 127.0.0.2 beside 8 tricklers from 127.0.0.1 failed" \
			"$(cat "$TMP/curl.err")"
	fi
else
	not_ok per_address_limit "8 tricklers did not all connect"
fi
for pid in "${TRICKLERS[@]}"; do
	wait "$pid" 2>/dev/null # each ends by itself within TRICKLE_MAX s
done
bad=
times=
for n in 1 2 3 4 5 6 7 8; do
	read -r t0 t1 sent <"$TMP/trickle.$n" 2>/dev/null
	lasted=$(awk -v a="${t0:-0}" -v b="${t1:-0}" 'BEGIN { printf "%.2f", b - a }')
	times+=" $lasted"
	# Not before the limit, and within 1.5 s of it.
	awk -v d="$lasted" -v s="$REQUEST_S" 'BEGIN { exit !(d >= s - 0.5 && d <= s + 1.5) }' ||
		bad+=$'\n'"trickler $n: ${sent:-?} bytes, closed after $lasted s"
done
echo "# tricklers closed after (s):$times; slowest scrape beside them: $SLOWEST s"
if [[ -z $bad ]]; then
	ok request_time_limit
else
	not_ok request_time_limit "want each closed ${REQUEST_S} s after it connected:$bad"
fi
if scrapes_ok 127.0.0.1 0; then
	ok scrape_after_tricklers_closed
else
	not_ok scrape_after_tricklers_closed "$(cat "$TMP/curl.err")"
fi

# Killed and restarted: the same counts (nothing sent meanwhile).
scrape "$TMP/m7"
if stop_exporter TERM; then
	ok sigterm_clean_exit
else
	not_ok sigterm_clean_exit "the exporter did not exit 0 on SIGTERM within 5 s"
fi
if start_exporter && scrape "$TMP/m8"; then
	grep -E "^picfw_(row|reason|would_drop)_[a-z]+_total\{$SEL" "$TMP/m7" | sort >"$TMP/before"
	grep -E "^picfw_(row|reason|would_drop)_[a-z]+_total\{$SEL" "$TMP/m8" | sort >"$TMP/after"
	if [[ -s $TMP/before ]] && cmp -s "$TMP/before" "$TMP/after"; then
		ok restart_same_counts
	else
		not_ok restart_same_counts "$(diff "$TMP/before" "$TMP/after" | head -n 6)"
	fi
else
	not_ok restart_same_counts "the exporter did not come back" "$(cat "$TMP/curl.err")"
fi
if stop_exporter INT; then
	ok sigint_clean_exit
else
	not_ok sigint_clean_exit "the exporter did not exit 0 on SIGINT within 5 s"
fi

# The dashboard's and the rules' metric names are all served (Prometheus's own `up` aside).
served=$(sed -n 's/^# TYPE \([a-z_0-9]*\) .*/\1/p' "$TMP/m8" | sort -u)
used=$( {
	jq -r '.. | objects | (.expr?, .query?) | strings' "$DASHBOARD"
	grep -E '^\s*expr:|^\s{10,}' "$RULES"
} | grep -oE '\bpicfw_[a-z0-9_]+' | sort -u)
unknown=$(comm -23 <(echo "$used") <(echo "$served"))
if [[ -n $used && -z $unknown ]]; then
	ok dashboard_rules_names_served
else
	not_ok dashboard_rules_names_served "not served: ${unknown:-(no names found)}"
fi

# Bad usage; a non-loopback address is logged.
if pf exporter --listen nonsense; [[ $? -eq 2 ]]; then
	ok listen_bad_usage
else
	not_ok listen_bad_usage "--listen nonsense did not exit 2"
fi
lab_bg edge "$PICFW" exporter --listen "$LAB_EDGE4:9725" 2>"$TMP/wide.err"
EXPORTER_PID=$LAB_LAST_PID
lab_wait_listen edge tcp 9725
if grep -q 'beyond loopback' "$TMP/wide.err" && stop_exporter TERM; then
	ok listen_non_loopback_logged
else
	not_ok listen_non_loopback_logged "$(cat "$TMP/wide.err")"
fi

echo "# $PASSED passed, $FAILED failed, $SKIPPED skipped"
[[ $FAILED -eq 0 ]]
