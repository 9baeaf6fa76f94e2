#!/usr/bin/env bash
# Runs the test suite RUNS times in a row (default 5) while a CPU-bound process keeps a core busy:
# the check that no test depends on an idle machine. Stops at the first failing run and keeps its
# log; prints one line per run.
#
#   scripts/busy-test.sh          five runs
#   scripts/busy-test.sh 10       ten
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
scripts/install-deps.sh
swift build --enable-all-traits --build-tests
# The fault suite's Swift peers run from a release build, as scripts/faults.sh runs them.
swift build --enable-all-traits -c release --product FaultPeer
# As scripts/test.sh: Tests/FirstHourTests runs the first-hour package built here.
swift build --package-path Examples/FirstHour
export FAULT_PEER="$PWD/.build/release/FaultPeer"
ulimit -n 20000 2>/dev/null || true

sh -c 'while :; do :; done' &
spinner=$!
trap 'kill "$spinner" 2>/dev/null || true' EXIT
logs=$(mktemp -d)
for run in $(seq 1 "$runs"); do
    start=$(date +%s)
    log="$logs/run-$run.log"
    status=0
    # As scripts/test.sh runs them: the fault suite after the others, on its own.
    { swift test --enable-all-traits --skip-build --skip FaultTests && swift test --enable-all-traits --skip-build --filter FaultTests; } > "$log" 2>&1 || status=$?
    summary=$(grep -E "^(✔|✘) Test run with" "$log" | sed 's/ after .*//' | paste -sd ';' - || true)
    echo "run $run/$runs: exit $status in $(( $(date +%s) - start )) s, load $(cut -d' ' -f1-3 /proc/loadavg); ${summary:-no test summary}"
    if [ "$status" -ne 0 ]; then
        grep -E "✘|error:|failed" "$log" | head -20 || true
        echo "log kept: $log"
        exit "$status"
    fi
done
rm -rf "$logs"
echo "$runs runs passed with a CPU-bound process beside them"
