#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need (idempotent; root or sudo).
#   libsodium-dev  CURVE crypto (ZMTPSodium)
#   libzmq3-dev    the reference peer for interop tests (C API), libzmq 4.3.4
#   python3-zmq    pyzmq on the same libzmq, driven by the interop tests
#   pkg-config     SwiftPM finds libsodium through it
#   gcc            builds the benchmarks' C programs against libzmq (Benchmarks/C)
#   libpgm-dev     OpenPGM for pgm:// and epgm:// (ZeroMQPGM; pkg-config openpgm-5.3)
#   iproute2       the multicast tests make their own network namespaces (ip netns, veth)
#   nftables       the multicast loss test drops packets on its veth (the kernel has no netem)
set -euo pipefail
packages=(libsodium-dev libzmq3-dev python3-zmq pkg-config gcc libpgm-dev iproute2 nftables)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "installing: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
