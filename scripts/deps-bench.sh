#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# Install the Debian 12 packages that only `make bench` needs: the peers it
# measures picfw against (xdp-filter from xdp-tools, nftables), gnuplot for
# the plot, bpftool for the kernel's own map accounting. Idempotent and
# quick when everything is there: apt-get runs only for what is missing.
# (scripts/deps.sh installs what the build needs.)
set -eu

PACKAGES=(
	xdp-tools   # xdp-filter, the XDP peer
	nftables    # nft, the netfilter peer
	gnuplot-nox # the plot (PNG, no X)
	bpftool     # map memory, program dumps
)

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps-bench.sh: missing packages: ${missing[*]}; run as root (sudo make bench) to install them" >&2
	exit 1
fi
echo "deps-bench.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
