#!/usr/bin/env bash
# The README's demo: two ZMTP cores handshake CURVE over a real socket pair, then the core
# talks to a real libzmq peer (pyzmq), printing what happened. Arguments go to that demo.
#
# Then the zguide's classic examples, each role a separate process, over TCP on localhost:
#   Hello World       hwserver + hwclient              REQ/REP, 5 requests
#   Weather updates   wuserver + wuclient              PUB/SUB, 20 updates for one zipcode
#   Divide & conquer  tasksink + 2 taskwork + taskvent PUSH/PULL, 20 tasks
#
# Environment: SWIFT_SCRATCH  build directory (swift build --scratch-path; default: swift's own)
#              DEMO_PORT      first of the four TCP ports the examples use (default 5555)
# Exits non-zero if an example fails. Every process started in the background is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

build=(swift build --enable-all-traits)  # the same build as scripts/test.sh
[ -n "${SWIFT_SCRATCH:-}" ] && build+=(--scratch-path "$SWIFT_SCRATCH")
"${build[@]}"  # zmtp-demo and the seven examples
bin="$("${build[@]}" --show-bin-path)"

"$bin/zmtp-demo" "$@"

port=${DEMO_PORT:-5555}
hw=$port wu=$((port + 1)) vent=$((port + 2)) sink=$((port + 3))

# Background processes, by pid: stopped on exit, whatever happens.
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# start NAME [ARGS…]: runs an example in the background, its lines prefixed with $LABEL (or its
# name); its pid lands in $started.
start() {
    local name=$1; shift
    "$bin/$name" "$@" > >(sed -u "s/^/[${LABEL:-$name}] /") 2>&1 &
    started=$!
    pids+=("$started")
}

# run NAME [ARGS…]: runs an example in the foreground, its lines prefixed with its name.
run() {
    local name=$1; shift
    "$bin/$name" "$@" 2>&1 | sed -u "s/^/[$name] /"
}

# finish PID NAME: waits for a background example, failing the demo if it failed.
finish() {
    local status=0
    wait "$1" || status=$?
    if [ "$status" -ne 0 ]; then echo "$2 failed (status $status)" >&2; exit 1; fi
}

echo
echo "== Hello World (REQ/REP) =="
start hwserver --endpoint "tcp://127.0.0.1:$hw" --requests 5 --idle 30
server=$started
run hwclient --endpoint "tcp://127.0.0.1:$hw" --requests 5 --timeout 10
finish "$server" hwserver

echo
echo "== Weather updates (PUB/SUB) =="
start wuserver --endpoint "tcp://127.0.0.1:$wu" --seconds 60
server=$started
run wuclient --endpoint "tcp://127.0.0.1:$wu" --zipcode 10001 --updates 20 --timeout 10
kill "$server"  # it publishes until stopped (or for --seconds)
wait "$server" 2>/dev/null || true

echo
echo "== Divide and conquer (PUSH/PULL) =="
start tasksink --endpoint "tcp://127.0.0.1:$sink" --timeout 30
collector=$started
workers=()
for i in 1 2; do
    LABEL="taskwork $i" start taskwork --tasks "tcp://127.0.0.1:$vent" --sink "tcp://127.0.0.1:$sink" --idle 5
    workers+=("$started")
done
run taskvent --endpoint "tcp://127.0.0.1:$vent" --sink "tcp://127.0.0.1:$sink" --tasks 20 --workers 2 --timeout 30
finish "$collector" tasksink
for worker in "${workers[@]}"; do finish "$worker" taskwork; done  # each stops after 5 s idle

echo
echo "All examples passed."
