#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# run.sh - picfw under another kernel: Debian 12's own (6.1, from the
# linux-image-amd64 package of the machine's apt sources) unless KERNEL_DEB
# names a linux-image .deb. Boots it in qemu (TCG: no KVM needed) with an
# initramfs holding busybox, this build's picfw, tests/peer, iproute2's ip
# and bpftool (with their libraries) and tests/kernel/guest.sh as /init,
# which attaches picfw to a veth between two network namespaces inside the
# VM and sends real traffic. Prints the guest's TAP lines; exit 0 when all
# passed. Takes 3 to 5 minutes (the verifier under emulation).
# Usage: tests/kernel/run.sh BUILD_DIR          (root: apt-get download)
set -euo pipefail
build=$(realpath "${1:?usage: tests/kernel/run.sh BUILD_DIR}")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
for b in picfw tests/peer; do
	[ -x "$build/$b" ] || { echo "run.sh: $build/$b is missing (make all tests-build)" >&2; exit 1; }
done
for t in qemu-system-x86_64 cpio gzip ip bpftool; do
	command -v "$t" >/dev/null || { echo "run.sh: $t is missing (sudo scripts/deps.sh kernel)" >&2; exit 1; }
done
busybox=/bin/busybox
applets=$("$busybox" --list 2>/dev/null || true)
grep -qx nsenter <<<"$applets" ||
	{ echo "run.sh: busybox-static is missing (sudo scripts/deps.sh kernel)" >&2; exit 1; }

work=$(mktemp -d /tmp/picfw-kernel.XXXXXX)
trap 'rm -rf "$work"' EXIT
cache=${KERNEL_CACHE:-/var/cache/picfw-kernel-test}
deb=${KERNEL_DEB:-}
if [ -z "$deb" ]; then
	# The kernel linux-image-amd64 depends on, from the machine's apt sources.
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
	[ -n "$pkg" ] || { echo "run.sh: no linux-image-amd64 in the apt sources; set KERNEL_DEB" >&2; exit 1; }
	mkdir -p "$cache"
	deb=$(ls "$cache/${pkg}_"*.deb 2>/dev/null | head -1 || true)
	if [ -z "$deb" ]; then
		(cd "$cache" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
			{ echo "run.sh: apt-get download $pkg failed" >&2; exit 1; }
		deb=$(ls "$cache/${pkg}_"*.deb | head -1)
	fi
fi
echo "# kernel package: $deb"
dpkg-deb -x "$deb" "$work/k"
vmlinuz=$(ls "$work"/k/boot/vmlinuz-* | head -1)
mods=$(ls -d "$work"/k/lib/modules/* | head -1)/kernel

R=$work/root
mkdir -p "$R"/{bin,usr/sbin,dev,proc,sys,tmp,run,var,lib/modules}
ln -s ../run "$R/var/run"
cp "$busybox" "$R/bin/busybox"
for b in "$build/picfw" "$build/tests/peer" "$(command -v ip)" "$(command -v bpftool)"; do
	cp "$b" "$R/usr/sbin/"
	for l in $(ldd "$b" | grep -o '/[^ ]*'); do
		mkdir -p "$R$(dirname "$l")"
		cp -L "$l" "$R$l"
	done
done
# The modules picfw's setup needs, in load order (veth; clsact and cls_bpf
# for the egress program; sock_diag's inet, tcp and udp modules for seeding).
: >"$R/modules.order"
for m in drivers/net/veth net/sched/sch_ingress net/sched/cls_bpf \
	net/ipv4/inet_diag net/ipv4/tcp_diag net/ipv4/udp_diag; do
	f=$(ls "$mods/$m.ko"* 2>/dev/null | head -1 || true)
	[ -n "$f" ] || continue # built in
	case $f in
	*.xz) xz -dc "$f" >"$R/lib/modules/$(basename "$m").ko" ;;
	*.zst) zstd -qdc "$f" >"$R/lib/modules/$(basename "$m").ko" ;;
	*) cp "$f" "$R/lib/modules/" ;;
	esac
	basename "$m" >>"$R/modules.order"
done
cp "$top/etc/pic.policy" "$R/pic.policy"
cp "$here/guest.sh" "$R/init"
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc 2>/dev/null | gzip -1 >"$work/initrd.gz")

timeout 1200 qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 2048 -kernel "$vmlinuz" \
	-initrd "$work/initrd.gz" -append "console=ttyS0 panic=-1 quiet" \
	-nographic -no-reboot -nic none </dev/null >"$work/console.log" 2>&1 || true
tr -d '\r' <"$work/console.log" | sed -n 's/^.*KT //p' | tee "$work/tap"
if ! grep -q '^# done' "$work/tap"; then
	echo "not ok - the guest did not finish (console log follows)"
	tail -40 "$work/console.log" | sed 's/^/# /'
	exit 1
fi
! grep -q '^not ok' "$work/tap"
