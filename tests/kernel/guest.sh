#!/bin/busybox sh
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# guest.sh - /init of the initramfs that tests/kernel/run.sh boots under
# another kernel (Debian 12's 6.1) in qemu: picfw attached to a veth between
# two network namespaces, real TCP and UDP in both families, a session open
# before attach, the drop log and the exporter, a live apply, detach. TAP lines go to the console prefixed
# "KT "; the host counts them. Everything lives in this throwaway VM.
export PATH=/usr/sbin:/bin
/bin/busybox --install -s /bin 2>/dev/null
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t bpf bpf /sys/fs/bpf
mount -t tmpfs run /run
mount -t tmpfs tmp /tmp
mkdir -p /run/netns
echo "KT # kernel $(uname -r)"
# Debian builds these as modules; a real system loads them on demand.
for m in $(cat /modules.order); do
	insmod "/lib/modules/$m.ko" || echo "KT # insmod $m failed"
done

n=0
ok() { n=$((n + 1)); echo "KT ok $n - $*"; }
notok() { n=$((n + 1)); echo "KT not ok $n - $*"; }
check() { # check NAME COMMAND...: ok when COMMAND succeeds
	name=$1
	shift
	if "$@" >/tmp/out 2>&1; then ok "$name"; else
		notok "$name"
		sed 's/^/KT #   /' /tmp/out
	fi
}
refused() { # refused NAME COMMAND...: ok when COMMAND fails
	name=$1
	shift
	if "$@" >/tmp/out 2>&1; then notok "$name (it passed)"; else ok "$name"; fi
}
IP=/usr/sbin/ip # iproute2's, not busybox's applet
E="nsenter --net=/run/netns/edge"
P="nsenter --net=/run/netns/peer"
EDGE4=203.0.113.10 EDGE6=2001:db8:e::10
PART4=198.51.100.7 PART6=2001:db8:100::7
STR4=192.0.2.99 STR6=2001:db8:99::9

$IP netns add edge
$IP netns add peer
$IP link add ve type veth peer name vp
$IP link set ve netns edge
$IP link set vp netns peer
$E $IP link set lo up
$P $IP link set lo up
$E $IP addr add $EDGE4/24 dev ve
$E $IP -6 addr add $EDGE6/64 dev ve nodad
$P $IP addr add $PART4/24 dev vp
$P $IP addr add $STR4/24 dev vp
$P $IP -6 addr add $PART6/64 dev vp nodad
$P $IP -6 addr add $STR6/64 dev vp nodad
$E $IP link set ve up
$P $IP link set vp up
$E $IP route add 198.51.100.0/24 dev ve
$E $IP route add 192.0.2.0/24 dev ve
$P $IP route add 203.0.113.0/24 dev vp
$E $IP -6 route add 2001:db8:100::/48 dev ve
$E $IP -6 route add 2001:db8:99::/48 dev ve
$P $IP -6 route add 2001:db8:e::/64 dev vp

T="--timeout 3"
# Servers: the Edge's 5061 (a row), 5062 and 22 (none) and UDP 3478; a partner's 5061 and 3478.
for a in $EDGE4 $EDGE6; do
	for port in 5061 5062 22; do $E peer tcp-listen $a $port --count 1000 --timeout 900 & done
	$E peer udp-echo $a 3478 --count 1000 --timeout 900 &
done
for a in $PART4 $PART6; do
	$P peer tcp-listen $a 5061 --count 1000 --timeout 900 &
	$P peer udp-echo $a 3478 --count 1000 --timeout 900 &
done
sleep 1
check "no filter: a stranger reaches port 22" $P peer tcp-connect $EDGE4 22 --bind $STR4 $T
# A session the Edge opened before attach: idle across the attach, then resumed.
$E peer tcp-connect $PART4 5061 --bytes 2000 --idle 60 --timeout 60 >/tmp/idle.out 2>&1 &
idle=$!
sleep 1

$E picfw attach ve /pic.policy >/tmp/attach.out 2>&1
rc=$?
sed 's/^/KT #   /' /tmp/attach.out
[ $rc -eq 0 ] && ok "picfw attach ve (exit 0)" || notok "picfw attach ve (exit $rc)"
prog=$($E bpftool net show dev ve 2>/dev/null | sed -n 's/.*driver id \([0-9]*\).*/\1/p')
name=$(bpftool prog show id "${prog:-0}" 2>/dev/null | sed -n 's/^[0-9]*: xdp *name \([^ ]*\).*/\1/p')
echo "KT # XDP program on ve: id ${prog:-none}, $name"
if grep -q "loading its compact variant" /tmp/attach.out; then
	[ "$name" = picfw_xdp_compact ] && ok "the compact program is attached after the fallback" ||
		notok "fallback announced, attached: '$name'"
else
	[ "$name" = picfw_xdp ] && ok "picfw_xdp is attached" || notok "attached: '$name'"
fi
$E bpftool net show dev ve 2>/dev/null | grep -q "clsact/egress picfw_tc_egress" &&
	ok "the egress program is on ve's clsact" || notok "no egress program on ve"

check "partner, IPv4, TCP 5061" $P peer tcp-connect $EDGE4 5061 --bind $PART4 $T
check "partner, IPv6, TCP 5061" $P peer tcp-connect $EDGE6 5061 --bind $PART6 $T
refused "partner, IPv4, TCP 5062 (no row): dropped" $P peer tcp-connect $EDGE4 5062 --bind $PART4 $T
refused "stranger, IPv4, TCP 5061: dropped" $P peer tcp-connect $EDGE4 5061 --bind $STR4 $T
refused "stranger, IPv6, TCP 5061: dropped" $P peer tcp-connect $EDGE6 5061 --bind $STR6 $T
refused "partner, IPv4, TCP 22: dropped" $P peer tcp-connect $EDGE4 22 --bind $PART4 $T
refused "partner, IPv6, TCP 22: dropped" $P peer tcp-connect $EDGE6 22 --bind $PART6 $T
check "client, IPv4, UDP 3478" $P peer udp-send $EDGE4 3478 --bind $STR4 --expect-reply $T
check "client, IPv6, UDP 3478" $P peer udp-send $EDGE6 3478 --bind $STR6 --expect-reply $T
check "the Edge to a partner's 5061, IPv4 (tracked reply)" $E peer tcp-connect $PART4 5061 --bind $EDGE4 $T
check "the Edge to a partner's 5061, IPv6 (tracked reply)" $E peer tcp-connect $PART6 5061 --bind $EDGE6 $T
check "the Edge to a partner's UDP 3478, IPv4 (tracked reply)" $E peer udp-send $PART4 3478 --bind $EDGE4 --expect-reply $T
refused "ping to the Edge: dropped (no row allows ICMP echo)" $P ping -c 1 -W 2 $EDGE4
kill -USR1 $idle
if wait $idle; then ok "a session open before attach goes on after it"; else
	notok "a session open before attach goes on after it"
	sed 's/^/KT #   /' /tmp/idle.out
fi
$E picfw flows ve >/tmp/flows 2>&1
grep -q "198.51.100.7:5061 .*access-sip-mtls-tcp-5061-out" /tmp/flows &&
	ok "picfw flows lists the Edge's IPv4 session" || notok "picfw flows: $(cat /tmp/flows)"
$E picfw stats ve --json >/tmp/stats 2>&1
grep -q '"name":"access-sip-mtls-tcp-5061-in","direction":"in","transport":"tcp","ports":"5061","packets":[1-9]' /tmp/stats &&
	ok "the 5061 inbound row counted packets" || notok "stats: $(cat /tmp/stats)"
grep -q '"no_match":{"packets":[1-9]' /tmp/stats && ok "no_match counted the drops" ||
	notok "no no_match drops counted"

# The drop log (ring buffer, bpf_xdp_load_bytes): a stranger's SYN, sampled.
$E timeout 60 picfw log ve --json --count 1 >/tmp/log.json 2>/tmp/log.err &
logpid=$!
sleep 3
$P peer tcp-connect $EDGE4 5061 --bind $STR4 --timeout 2 >/dev/null 2>&1
wait $logpid
grep -q '"reason":"no_match"' /tmp/log.json && grep -q '192.0.2.99' /tmp/log.json &&
	ok "picfw log samples the stranger's SYN" || notok "picfw log: $(cat /tmp/log.json /tmp/log.err)"
# The exporter (libmicrohttpd), scraped inside the Edge's namespace.
$E picfw exporter --listen 127.0.0.1:9724 >/tmp/exporter.log 2>&1 &
exporter=$!
sleep 2
$E wget -q -O /tmp/metrics http://127.0.0.1:9724/metrics
grep -q '^picfw_up{interface="ve"} 1$' /tmp/metrics && ok "the exporter serves picfw_up 1" ||
	notok "exporter: $(head -5 /tmp/metrics; cat /tmp/exporter.log)"
kill $exporter

# A live apply that moves the partners' row from 5061 to 5062.
sed 's#^Access/SIP(MTLS)/TCP/5061 *pic-partners#Access/SIP(MTLS)/TCP/5062 pic-partners#' \
	/pic.policy >/tmp/moved.policy
check "picfw apply (5061 -> 5062)" $E picfw apply ve /tmp/moved.policy
check "after apply: partner, IPv4, TCP 5062" $P peer tcp-connect $EDGE4 5062 --bind $PART4 $T
refused "after apply: partner, IPv4, TCP 5061: dropped" $P peer tcp-connect $EDGE4 5061 --bind $PART4 $T
refused "a policy that does not parse is refused" $E picfw apply ve /modules.order
check "after the refused apply: partner, IPv4, TCP 5062 still" $P peer tcp-connect $EDGE4 5062 --bind $PART4 $T

check "picfw detach ve" $E picfw detach ve
[ -z "$($E bpftool net show dev ve 2>/dev/null | grep -E 'driver id|picfw')" ] &&
	ok "detach left no program on ve" || notok "programs left on ve"
check "after detach: a stranger reaches port 22" $P peer tcp-connect $EDGE4 22 --bind $STR4 $T
echo "KT 1..$n"
echo "KT # done"
poweroff -f
