#!/usr/bin/env bash
# The fault and hostile-load suite (Tests/FaultTests), alone: CI's short versions (about 4 minutes
# on 2 cores; scripts/test.sh runs them too, with everything else), or with --long the long
# versions (a 30 s garbage flood, 5,000 slowloris connections, a 60 s slow consumer, a 10-minute
# soak). Every figure is printed on a line starting with FAULT, gathered again at the end.
# Root is needed for the partition tests (network namespaces, nftables); they are skipped, and say
# so, without it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--long" ]; then export SWIFT_ZEROMQ_LONG_FAULTS=1; fi
# Slowloris holds thousands of connections open at once.
ulimit -n 20000 2>/dev/null || true
log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift build --enable-all-traits --build-tests
# The Swift peers run from a release build, as libzmq's do: the figures are rates, and a debug
# build's would measure the debug build (the tests themselves stay debug).
swift build --enable-all-traits -c release --product FaultPeer
export FAULT_PEER="$PWD/.build/release/FaultPeer"
status=0
swift test --enable-all-traits --skip-build --filter FaultTests 2>&1 | tee "$log" || status=$?
echo "--- figures ---"
grep '^FAULT ' "$log" || true
exit $status
