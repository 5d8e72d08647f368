# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
#
# The namespace lab shared by tests/e2e/test_e2e.sh and scripts/demo.sh.
#
#   [ns LAB_EDGE_NS]                          [ns LAB_NET_NS] "the Internet"
#   pf-edge0  203.0.113.10/24    <--veth-->   pf-net0  203.0.113.1/24   (gateway)
#             2001:db8:e::10/64                        2001:db8:e::1/64
#                                                      198.51.100.7/32  (PIC partner)
#                                                      2001:db8:100::7/128
#                                                      192.0.2.66/32    (stranger)
#                                                      2001:db8:bad::66/128
#
# Documentation addresses only (RFC 5737, RFC 3849), the same as etc/pic.policy.
# Nothing here touches the host's interfaces: the veth pair is created directly
# inside the two namespaces.
#
# Usage (the caller sets PICFW and PEER, the picfw and peer binaries):
#   source tests/e2e/lib.sh
#   trap lab_down EXIT; trap 'exit 130' INT; trap 'exit 143' TERM
#   lab_up PURPOSE || exit 1
#   in_edge CMD...   in_net CMD...   lab_bg edge|net CMD...   lab_down
#
# Why nsenter and not `ip netns exec`: `ip netns exec` runs the command in a new
# mount namespace with a fresh /sys, which hides the host's bpffs at
# /sys/fs/bpf. picfw pins its link and maps there so that later commands find
# them; entering only the network namespace keeps the shared bpffs in view.

LAB_IFACE=pf-edge0
LAB_NET_IFACE=pf-net0
LAB_EDGE4=203.0.113.10
LAB_EDGE6=2001:db8:e::10
LAB_GW4=203.0.113.1
LAB_GW6=2001:db8:e::1
LAB_PARTNER4=198.51.100.7
LAB_PARTNER6=2001:db8:100::7
LAB_STRANGER4=192.0.2.66
LAB_STRANGER6=2001:db8:bad::66
LAB_BPFFS=/sys/fs/bpf
LAB_PIN_DIR=$LAB_BPFFS/picfw/$LAB_IFACE

LAB_EDGE_NS=
LAB_NET_NS=
LAB_OWNS_PINS=0
LAB_PIDS=()

# lab_names PREFIX: interfaces PREFIX-edge0 and PREFIX-net0 instead of pf-*.
# picfw's pins (/sys/fs/bpf/picfw/IFACE) and policy copies
# (/run/picfw/IFACE.policy) are named by interface, host-wide whatever the
# namespace: a test that runs beside the default lab must name its own.
lab_names()
{
	LAB_IFACE=$1-edge0
	LAB_NET_IFACE=$1-net0
	LAB_PIN_DIR=$LAB_BPFFS/picfw/$LAB_IFACE
}

lab_log()
{
	printf '# lab: %s\n' "$*" >&2
}

in_edge()
{
	nsenter --net="/run/netns/$LAB_EDGE_NS" -- "$@"
}

in_net()
{
	nsenter --net="/run/netns/$LAB_NET_NS" -- "$@"
}

# lab_bg edge|net CMD...: start CMD in the background in that namespace and
# remember it for lab_down. Sets LAB_LAST_PID. nsenter execs CMD, so the pid
# is CMD's own.
lab_bg()
{
	local ns
	case $1 in
	edge) ns=$LAB_EDGE_NS ;;
	net) ns=$LAB_NET_NS ;;
	*) lab_log "lab_bg: unknown namespace '$1'"; return 1 ;;
	esac
	shift
	nsenter --net="/run/netns/$ns" -- "$@" &
	LAB_LAST_PID=$!
	LAB_PIDS+=("$LAB_LAST_PID")
}

# lab_forget PID: a background process waited for; lab_down need not kill it.
lab_forget()
{
	local p keep=()
	for p in "${LAB_PIDS[@]}"; do
		[[ $p != "$1" ]] && keep+=("$p")
	done
	LAB_PIDS=("${keep[@]}")
}

# lab_reap PID: wait for it, forget it; sets LAB_REAPED to its exit status.
lab_reap()
{
	wait "$1"
	# shellcheck disable=SC2034 # read by the caller
	LAB_REAPED=$?
	lab_forget "$1"
}

# lab_stop PID: kill and reap a background process that may still run.
lab_stop()
{
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	lab_forget "$1"
}

# lab_wait_listen edge|net tcp|udp PORT: wait (<= 3 s) until a socket is bound there.
lab_wait_listen()
{
	local where=$1 proto=$2 port=$3 flag=-Hltn i
	[[ $proto == udp ]] && flag=-Hlun
	for ((i = 0; i < 60; i++)); do
		if [[ $where == edge ]]; then
			[[ -n $(in_edge ss "$flag" "sport = :$port" 2>/dev/null) ]] && return 0
		else
			[[ -n $(in_net ss "$flag" "sport = :$port" 2>/dev/null) ]] && return 0
		fi
		sleep 0.05
	done
	lab_log "nothing listens on $where $proto $port"
	return 1
}

# picfw needs a bpffs at /sys/fs/bpf for its pins; a fresh Debian machine
# without systemd's mount may not have one.
lab_bpffs()
{
	if [[ $(stat -f -c %T "$LAB_BPFFS" 2>/dev/null) == bpf_fs ]]; then
		return 0
	fi
	lab_log "mounting bpffs on $LAB_BPFFS"
	mount -t bpf bpf "$LAB_BPFFS"
}

lab_ns_exists()
{
	[[ -n $1 && -e /run/netns/$1 ]]
}

# lab_up PURPOSE: make the two namespaces and the veth pair, addresses and routes.
lab_up()
{
	local purpose=${1:-lab} i tentative state

	for i in ip nsenter ss; do
		if ! command -v "$i" >/dev/null; then
			lab_log "missing command: $i"
			return 1
		fi
	done
	lab_bpffs || return 1

	# LAB_NS_PREFIX: a test that names its interfaces apart names its namespaces so too.
	LAB_EDGE_NS=${LAB_NS_PREFIX:-picfw}-$purpose-edge-$$
	LAB_NET_NS=${LAB_NS_PREFIX:-picfw}-$purpose-net-$$
	ip netns add "$LAB_EDGE_NS" || return 1
	# picfw keys an interface's pins by network namespace: IFACE:NETNS (the
	# namespace's inode) outside the one the commands start from.
	LAB_PIN_DIR=$LAB_BPFFS/picfw/$LAB_IFACE:$(stat -L -c %i "/run/netns/$LAB_EDGE_NS")
	# A namespace inode is reused: a stale run's pins under this one would be adopted.
	if [[ -e $LAB_PIN_DIR ]]; then
		lab_log "$LAB_PIN_DIR exists: a stale lab left it (remove it)"
		return 1
	fi
	LAB_OWNS_PINS=1
	ip netns add "$LAB_NET_NS" || return 1
	ip link add "$LAB_IFACE" netns "$LAB_EDGE_NS" type veth \
		peer name "$LAB_NET_IFACE" netns "$LAB_NET_NS" || return 1

	in_edge ip link set lo up &&
	in_net ip link set lo up &&
	in_edge ip addr add "$LAB_EDGE4/24" dev "$LAB_IFACE" &&
	in_edge ip addr add "$LAB_EDGE6/64" dev "$LAB_IFACE" nodad &&
	in_net ip addr add "$LAB_GW4/24" dev "$LAB_NET_IFACE" &&
	in_net ip addr add "$LAB_GW6/64" dev "$LAB_NET_IFACE" nodad &&
	in_net ip addr add "$LAB_PARTNER4/32" dev "$LAB_NET_IFACE" &&
	in_net ip addr add "$LAB_PARTNER6/128" dev "$LAB_NET_IFACE" nodad &&
	in_net ip addr add "$LAB_STRANGER4/32" dev "$LAB_NET_IFACE" &&
	in_net ip addr add "$LAB_STRANGER6/128" dev "$LAB_NET_IFACE" nodad &&
	in_edge ip link set "$LAB_IFACE" up &&
	in_net ip link set "$LAB_NET_IFACE" up &&
	in_edge ip route add 198.51.100.0/24 via "$LAB_GW4" &&
	in_edge ip route add 192.0.2.0/24 via "$LAB_GW4" &&
	in_edge ip -6 route add 2001:db8:100::/48 via "$LAB_GW6" &&
	in_edge ip -6 route add 2001:db8:bad::/48 via "$LAB_GW6" || return 1

	# Bounded wait: both ends up, no tentative address, link-local included.
	for ((i = 0; i < 100; i++)); do
		# (/sys/class/net is the host's here: ask netlink.)
		state=$(in_edge ip -o link show dev "$LAB_IFACE" 2>/dev/null)
		tentative=$(in_edge ip -6 addr show dev "$LAB_IFACE" tentative)
		tentative+=$(in_net ip -6 addr show dev "$LAB_NET_IFACE" tentative)
		[[ $state == *"state UP"* && -z $tentative ]] && return 0
		sleep 0.05
	done
	lab_log "addresses not usable after 5 s: $state $tentative"
	return 1
}

# lab_down: idempotent; safe at any point of lab_up, and twice.
lab_down()
{
	local pid i

	for pid in "${LAB_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${LAB_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	LAB_PIDS=()

	if lab_ns_exists "$LAB_EDGE_NS"; then
		if [[ -e $LAB_PIN_DIR ]] ||
			in_edge ip link show dev "$LAB_IFACE" 2>/dev/null | grep -q xdp; then
			if [[ -n ${PICFW:-} && -x ${PICFW:-} ]]; then
				timeout 10 nsenter --net="/run/netns/$LAB_EDGE_NS" -- \
					"$PICFW" detach "$LAB_IFACE" >/dev/null 2>&1
			fi
		fi
		ip netns del "$LAB_EDGE_NS" 2>/dev/null
	fi
	if lab_ns_exists "$LAB_NET_NS"; then
		ip netns del "$LAB_NET_NS" 2>/dev/null
	fi
	# If picfw could not detach, its pins would keep the program alive.
	if [[ $LAB_OWNS_PINS == 1 && -e $LAB_PIN_DIR ]]; then
		lab_log "removing leftover pins in $LAB_PIN_DIR"
		rm -rf -- "$LAB_PIN_DIR"
	fi
	LAB_OWNS_PINS=0
	# Namespaces go away asynchronously; wait a little so a rerun starts clean.
	for ((i = 0; i < 20; i++)); do
		lab_ns_exists "$LAB_EDGE_NS" || lab_ns_exists "$LAB_NET_NS" || break
		sleep 0.05
	done
	return 0
}
