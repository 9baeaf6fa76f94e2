#!/usr/bin/env bash
# The README's demo: two ZMTP cores handshake CURVE over a real socket pair, then the core
# talks to a real libzmq peer (pyzmq), printing what happened.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --product zmtp-demo
exec .build/debug/zmtp-demo "$@"
