#!/usr/bin/env bash
# The README's test command: installs what it needs, builds (with every trait, and the first-hour
# package), runs every test (unit, vectors, libzmq interop, the first-hour programs against
# pyzmq), builds the documentation, then the fault and hostile-load suite on its own (its floods
# would load the machine under the other tests), then builds every fuzz target (release, ASan) and runs each for
# FUZZ_SECONDS (default 45), then the benchmarks' quick mode side by side with libzmq.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
start=$(date +%s)
swift build --enable-all-traits --build-tests
# Examples/FirstHour, a user's package over the library (its own build of it, without traits, as
# a user's is): built here, so that Tests/FirstHourTests finds it built and only runs it.
first_hour=$(date +%s)
swift build --package-path Examples/FirstHour
echo "first-hour package built in $(( $(date +%s) - first_hour )) s"
# Examples/HTTPGateway (Hummingbird and ZeroMQNIO), likewise for Tests/FirstHourTests.
gateway=$(date +%s)
swift build --package-path Examples/HTTPGateway
echo "http-gateway package built in $(( $(date +%s) - gateway )) s"
swift test --enable-all-traits --skip-build --skip FaultTests
# The documentation of every library module, from the build above: fails on any DocC warning or
# undocumented public symbol.
scripts/docs.sh
scripts/faults.sh
FUZZ_SECONDS="${FUZZ_SECONDS:-45}" Fuzz/run.sh
# The benchmarks build and run against libzmq (quick mode; never fails on speed, only on a
# program that does not run).
Benchmarks/run --quick
echo "total time: $(( $(date +%s) - start )) s"
