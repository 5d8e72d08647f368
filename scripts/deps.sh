#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# Install the Debian 12 packages that picfw's build, demo and tests need;
# `scripts/deps.sh bench` adds what only `make bench` needs (the peers it
# measures picfw against, gnuplot for the plot), `scripts/deps.sh kernel`
# what only `make test-kernel` needs (qemu, and busybox for the guest). Idempotent and quick when
# everything is there: only missing packages are installed, and apt-get
# update runs only then (`scripts/deps.sh update`, as CI runs it: always).
set -eu

PACKAGES=(
	make gcc libc6-dev pkg-config   # userspace build
	clang llvm                       # BPF object (clang -target bpf)
	bpftool                          # bpftool gen skeleton
	libbpf-dev libelf-dev zlib1g-dev # libbpf and what it links
	libcmocka-dev                    # unit and datapath tests
	libpcap-dev tcpdump              # picfw log -w (pcap); tcpdump reads it back in the tests
	iproute2 jq                      # namespaces, veth, JSON in the end-to-end tests
	clang-tidy cppcheck valgrind     # make lint, make valgrind (CI runs both)
	libmicrohttpd-dev                # picfw exporter's HTTP server
	prometheus curl                  # promtool check metrics/rules, scrapes in the tests
	libsystemd-dev                   # sd_notify for picfw run (Type=notify units)
	systemd man-db                   # systemd-analyze verify, man -l: the install tests
	systemd-container                # systemd-nspawn: the units under a real systemd (test_e2e_systemd)
)
if [ "${1:-}" = bench ]; then
	PACKAGES+=(xdp-tools nftables gnuplot-nox linux-perf) # xdp-filter and nft, the peers; the plot; perf for bench/profile.sh
fi
if [ "${1:-}" = kernel ]; then
	PACKAGES+=(qemu-system-x86 busybox-static cpio) # picfw under Debian 12's kernel in a VM
fi

missing=()
for p in "${PACKAGES[@]}"; do
	# installed, or installed with a trigger left to another apt run in progress
	case $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) in
	"install ok installed" | "install ok triggers-pending" | "install ok triggers-awaited") ;;
	*) missing+=("$p") ;;
	esac
done
# `scripts/deps.sh update` (CI) refreshes the package lists in any case.
[ ${#missing[@]} -eq 0 ] && [ "${1:-}" != update ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root (sudo make ...) to install them" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# apt-get that waits up to 10 minutes for another apt or dpkg run's lock
# (unattended-upgrades on a fresh machine) rather than fail on it.
apt_get() {
	local err
	err=$(mktemp)
	for _ in $(seq 60); do
		if apt-get -o DPkg::Lock::Timeout=10 "$@" 2>"$err"; then
			rm -f "$err"
			return 0
		fi
		grep -q 'Could not get lock' "$err" || break
		sleep 10
	done
	cat "$err" >&2
	rm -f "$err"
	return 1
}
apt_get update -qq
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps.sh: installing ${missing[*]}"
apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
