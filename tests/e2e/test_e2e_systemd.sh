#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# The installed units under a real systemd, hardening and all: a container
# booted with systemd-nspawn from the host's own root, read-only under a tmpfs
# overlay that `make install` fills, in its own network namespace
# (--private-network: the host's interfaces are never seen), with a bpffs of
# its own on /sys/fs/bpf (never the host's) and a veth pair pfs0/pfs1 made
# inside it. There:
#   1. `systemctl start picfw@pfs0` returns once READY=1 came (Type=notify),
#      the filter is attached, the service runs with exactly CAP_BPF
#      CAP_NET_ADMIN CAP_PERFMON and a seccomp filter, and it logged no
#      warning (the unit's sandbox refused it nothing: e.g. /run/picfw of
#      the wrong mode) and saved its policy copy in a 0700 /run/picfw;
#   2. an edit is applied (inotify), `systemctl reload` applies again (the
#      generation goes up); a broken policy is refused, the unit stays active;
#   3. `systemctl stop` leaves the filter attached; a start adopts it;
#   4. picfw-exporter.service serves /metrics on 127.0.0.1:9724.
# The container has no udev, and systemd 252 supports no device units there
# ("Starting of sys-subsystem-net-devices-pfs0.device unsupported"): the
# picfw@.service used is the installed one less its two lines naming the
# interface's device unit; everything else is as installed.
#
# SKIPs (not a failure) where no container can be booted: no root, no
# systemd-nspawn (scripts/deps.sh installs systemd-container), an ASan build,
# or nspawn failing to boot (this machine itself a container that does not
# allow it, say). Everything it made goes when it exits: the container (and
# with it its network namespace, bpffs and filter), its mount namespace, the
# cgroups it ran in, the scratch directory.
#
# Usage: tests/e2e/test_e2e_systemd.sh BUILD_DIR
# Exit: 0 if no test failed, 1 otherwise.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAP_PREFIX=test_e2e_systemd_
# shellcheck source=tests/e2e/tap.sh
source "$ROOT/tests/e2e/tap.sh"
e2e_args "$@"
e2e_need_root "(systemd-nspawn)"
e2e_need_tools systemd-nspawn unshare nsenter setsid timeout curl make
e2e_need_bins "$PICFW"
if nm -u "$PICFW" 2>/dev/null | grep -q __asan_init; then
	echo "ok - ${TAP_PREFIX}all # SKIP an ASan build: the units are tried with a plain one"
	exit 0
fi
if [[ ! -x /lib/systemd/systemd ]]; then
	echo "ok - ${TAP_PREFIX}all # SKIP no /lib/systemd/systemd to boot"
	exit 0
fi

BOOT_WAIT=40 # seconds for the container to reach its target
NSPAWN_PID=
LEADER=
CGROUPS=()

cleanup()
{
	local i cg
	if [[ -n $NSPAWN_PID ]] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
		# SIGTERM: nspawn powers the container off; then SIGKILL if it lingers.
		kill -TERM "$NSPAWN_PID" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			kill -0 "$NSPAWN_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$NSPAWN_PID" 2>/dev/null
		wait "$NSPAWN_PID" 2>/dev/null
	fi
	NSPAWN_PID=
	# The cgroups nspawn and the container's systemd made under ours.
	for cg in "${CGROUPS[@]}"; do
		[[ -d $cg ]] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	CGROUPS=()
	[[ -n ${TMP:-} ]] && rm -rf -- "$TMP"
	TMP=
}
e2e_begin picfw-nspawn

# Our own cgroup in each writable hierarchy nspawn uses, so that what it and
# the container's systemd create there can be removed (nspawn --keep-unit
# makes "supervisor" and "payload" beside itself).
name=${TMP##*/}
for h in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do
	[[ -w $h/cgroup.procs ]] && mkdir "$h/$name" 2>/dev/null && CGROUPS+=("$h/$name")
done
if [[ ${#CGROUPS[@]} -eq 0 && -f /sys/fs/cgroup/cgroup.subtree_control ]]; then
	mkdir "/sys/fs/cgroup/$name" 2>/dev/null && CGROUPS+=("/sys/fs/cgroup/$name")
fi

mkdir -p "$TMP/ovl"
cat >"$TMP/boot.sh" <<'BOOT'
# In a private mount namespace (unshare -m): nothing mounted here reaches the host.
set -eu
T=$1 SRC=$2 BUILD=$3
shift 3
echo $$ >"$T/nspawn.pid"
for cg in "$@"; do echo $$ >"$cg/cgroup.procs"; done
# nspawn keeps its locks under /run/systemd/nspawn: on a tmpfs of ours.
mount -t tmpfs -o mode=0755 picfw-nspawn-run /run
mount -t tmpfs -o mode=0755 picfw-nspawn "$T/ovl"
U=$T/ovl/upper
mkdir -p "$U" "$T/ovl/work" "$T/ovl/root" "$U/etc/systemd/system" "$U/etc/picfw"
make -C "$SRC" --no-print-directory BUILD="$BUILD" DESTDIR="$U" PREFIX=/usr/local install >/dev/null
install -m 0600 "$SRC/etc/pic.policy" "$U/etc/picfw/pfs0.policy"
# No udev in a container, so no device units: the unit less its two lines on them.
grep -v -E '^(BindsTo|After)=sys-subsystem-net-devices-%i\.device$' \
	"$U/usr/local/lib/systemd/system/picfw@.service" >"$U/etc/systemd/system/picfw@.service"
# systemd refuses a .mount unit for the API file system /sys/fs/bpf and mounts
# none in a container, and nspawn's /sys is a read-only tmpfs with sysfs's
# subtrees and no fs/bpf: a oneshot makes the directory and mounts a new bpffs.
cat >"$U/etc/systemd/system/picfw-test-bpffs.service" <<'UNIT'
[Unit]
DefaultDependencies=no
After=sysinit.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/mount -o remount,rw /sys
ExecStart=/bin/mkdir -p /sys/fs/bpf
ExecStart=/bin/mount -o remount,ro /sys
ExecStart=/bin/mount -t bpf -o mode=0700 bpf /sys/fs/bpf
UNIT
cat >"$U/etc/systemd/system/picfw-test-veth.service" <<'UNIT'
[Unit]
DefaultDependencies=no
After=sysinit.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/ip link set lo up
ExecStart=/sbin/ip link add pfs0 type veth peer name pfs1
ExecStart=/sbin/ip link set pfs0 up
ExecStart=/sbin/ip link set pfs1 up
UNIT
# Booted to this, not to the host's default target and its services.
cat >"$U/etc/systemd/system/picfw-test.target" <<'UNIT'
[Unit]
Requires=sysinit.target picfw-test-bpffs.service picfw-test-veth.service
After=sysinit.target picfw-test-bpffs.service picfw-test-veth.service
AllowIsolate=yes
UNIT
mount -t overlay picfw-nspawn-root -o "lowerdir=/,upperdir=$U,workdir=$T/ovl/work" "$T/ovl/root"
: >"$T/nspawned"
exec systemd-nspawn --quiet -D "$T/ovl/root" --private-network --register=no --keep-unit \
	--capability=all --system-call-filter=bpf --console=read-only -M picfw-test \
	-b -- systemd.unit=picfw-test.target
BOOT
setsid unshare -m --propagation private bash "$TMP/boot.sh" "$TMP" "$ROOT" "$(realpath "$BUILD")" \
	"${CGROUPS[@]}" </dev/null >"$TMP/console" 2>&1 &
NSPAWN_PID=$!

# in_ct CMD...: CMD in the container's namespaces (all of them).
in_ct()
{
	timeout 30 nsenter -t "$LEADER" -a -- "$@"
}

boot_skip()
{
	echo "ok - ${TAP_PREFIX}all # SKIP systemd-nspawn did not boot a container here ($1)"
	grep -v "^$" "$TMP/console" 2>/dev/null | tail -n 5 | sed "s/^/# /"
	exit 0
}

state=
for ((i = 0; i < BOOT_WAIT * 10; i++)); do
	if ! kill -0 "$NSPAWN_PID" 2>/dev/null && [[ ! -e $TMP/nspawned ]]; then
		# Ours, not the machine's: the install into the overlay or a mount failed.
		not_ok setup "$(tail -n 10 "$TMP/console")"
		exit 1
	fi
	kill -0 "$NSPAWN_PID" 2>/dev/null || boot_skip "it exited: $(grep -v '^$' "$TMP/console" | tail -n 1)"
	# The container's PID 1: nspawn's child, once boot.sh has become nspawn
	# (before, its children are make, mount and the like).
	if [[ -z $LEADER && $(cat "/proc/$NSPAWN_PID/comm" 2>/dev/null) == systemd-nspawn ]]; then
		LEADER=$(pgrep -P "$NSPAWN_PID" 2>/dev/null | head -n 1)
	fi
	if [[ -n $LEADER ]]; then
		state=$(timeout 5 nsenter -t "$LEADER" -a -- systemctl is-system-running 2>/dev/null)
		[[ $state == running || $state == degraded ]] && break
	fi
	sleep 0.1
done
[[ $state == running ]] || boot_skip "state '${state:-none}' after ${BOOT_WAIT}s"
# Never run a command in the host's network namespace by mistake.
if [[ ! $LEADER =~ ^[0-9]+$ || $(readlink "/proc/$LEADER/ns/net") == "$(readlink /proc/self/ns/net)" ]]; then
	not_ok all "the container's leader ($LEADER) shares the host's network namespace"
	exit 1
fi
ok boots_with_its_own_bpffs_and_veth

# gen: the generation pfs0 enforces, from `picfw status`.
gen()
{
	in_ct picfw status pfs0 2>/dev/null | awk '$1 == "generation" { print $2 }'
}
# wait_gen N: until the generation is N (5 s at most).
wait_gen()
{
	local i
	for ((i = 0; i < 50; i++)); do
		[[ $(gen) == "$1" ]] && return 0
		sleep 0.1
	done
	return 1
}
journal()
{
	in_ct journalctl -q -u "$1" --no-pager -o cat "${@:2}"
}

# 1. start: READY=1, attached, the sandbox in force, nothing refused.
out=$(in_ct systemctl start picfw@pfs0 2>&1)
check start_returns_ready $? "$out" "$(journal picfw@pfs0)"
[[ $(in_ct systemctl is-active picfw@pfs0) == active ]]
check active_running $? "$(in_ct systemctl status picfw@pfs0 --no-pager)"
st=$(in_ct systemctl show -p StatusText --value picfw@pfs0)
[[ $st == "pfs0: generation 1, "* ]]
check status_text $? "StatusText=$st"
in_ct picfw status pfs0 >"$TMP/status" 2>&1 && grep -q '^pfs0: attached' "$TMP/status" &&
	in_ct ip link show pfs0 | grep -q 'prog/xdp'
check filter_attached $? "$(cat "$TMP/status")"
pid=$(in_ct systemctl show -p MainPID --value picfw@pfs0)
# CAP_NET_ADMIN 12, CAP_PERFMON 38, CAP_BPF 39; seccomp mode 2 (a filter).
in_ct grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' "/proc/$pid/status" >"$TMP/proc" 2>&1
grep -qx $'CapEff:\t000000c000001000' "$TMP/proc" && grep -qx $'CapBnd:\t000000c000001000' "$TMP/proc" &&
	grep -qx $'Seccomp:\t2' "$TMP/proc" && grep -qx $'NoNewPrivs:\t1' "$TMP/proc"
check sandboxed $? "$(cat "$TMP/proc")"
warn=$(journal picfw@pfs0 -p warning)
[[ -z $warn ]]
check logs_no_warning $? "$warn"
perm=$(in_ct stat -c '%a %u' /run/picfw 2>&1)
[[ $perm == "700 0" ]] && in_ct sh -c 'ls /run/picfw/pfs0.gen*.policy' >/dev/null 2>&1
check policy_copy_saved $? "/run/picfw: $perm" "$(in_ct ls -la /run/picfw 2>&1)"

# 2. an edit, a reload, a broken policy.
in_ct sed -i 's|^set pic-partners = 198.51.100.0/24,|set pic-partners = 198.51.100.0/24, 192.0.2.0/24,|' \
	/etc/picfw/pfs0.policy
wait_gen 2
check edit_applied $? "generation $(gen)" "$(journal picfw@pfs0 | tail -n 5)"
in_ct systemctl reload picfw@pfs0 2>/dev/null && wait_gen 3 && journal picfw@pfs0 | grep -q 'SIGHUP: applying'
check reload_applies $? "generation $(gen)" "$(journal picfw@pfs0 | tail -n 5)"
in_ct cp /etc/picfw/pfs0.policy /root/good.policy
in_ct sh -c 'echo "this is not a rule" >>/etc/picfw/pfs0.policy'
in_ct systemctl reload picfw@pfs0 2>/dev/null
for ((i = 0; i < 50; i++)); do
	[[ $(journal picfw@pfs0 -p err | grep -c 'refused') -ge 1 ]] && break
	sleep 0.1
done
sleep 0.5
[[ $(in_ct systemctl is-active picfw@pfs0) == active && $(gen) == 3 ]] &&
	journal picfw@pfs0 -p err | grep -q 'pfs0.policy:[0-9]*:[0-9]*: error'
check broken_refused_still_active $? "generation $(gen)" "$(journal picfw@pfs0 | tail -n 5)"
in_ct cp /root/good.policy /etc/picfw/pfs0.policy
wait_gen 4
check fix_applied $? "generation $(gen)"

# 3. stop leaves the filter; start adopts it.
in_ct systemctl stop picfw@pfs0 2>/dev/null
res=$(in_ct systemctl show -p Result --value picfw@pfs0)
[[ $res == success ]] && in_ct ip link show pfs0 | grep -q 'prog/xdp' && [[ $(gen) == 4 ]]
check stop_leaves_filter $? "Result=$res" "$(in_ct picfw status 2>&1)"
in_ct systemctl start picfw@pfs0 2>/dev/null && journal picfw@pfs0 | grep -q 'adopting the filter attached to pfs0'
check start_adopts $? "$(journal picfw@pfs0 | tail -n 5)"

# 4. the exporter.
in_ct systemctl start picfw-exporter 2>/dev/null
for ((i = 0; i < 50; i++)); do
	in_ct curl -sS -m 2 http://127.0.0.1:9724/metrics >"$TMP/metrics" 2>&1 && break
	sleep 0.1
done
grep -qx 'picfw_up{interface="pfs0"} 1' "$TMP/metrics"
check exporter_serves $? "$(head -n 3 "$TMP/metrics")" "$(journal picfw-exporter)"
warn=$(journal picfw@pfs0 -p warning; journal picfw-exporter -p warning)
# The refused policy above is an error by design; nothing else may be.
warn=$(grep -v -e 'pfs0.policy:[0-9]*:[0-9]*: error' -e 'refused (see above)' <<<"$warn")
[[ -z $warn ]]
check no_other_warning $? "$warn"

echo "# $PASSED passed, $FAILED failed, $SKIPPED skipped"
[[ $FAILED -eq 0 ]]
