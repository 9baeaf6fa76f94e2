#!/usr/bin/env bash
# Builds the DocC documentation of every public library module and fails on any DocC warning
# (a broken link, an unknown parameter, a topic that names nothing) and on any public symbol
# without a doc comment.
#
# How, and why not swift-docc-plugin: the plugin only runs as a dependency of Package.swift,
# and every package that depends on swift-zeromq would then resolve and fetch it too. The
# toolchain already ships the two pieces the plugin drives, so this script drives them itself:
#   1. `swift package dump-symbol-graph` builds the package in debug (the build CI has just made,
#      so little is rebuilt) and extracts every module's public symbols and doc comments.
#   2. `docc convert` per module, in dependency order, each with `--dependency` on the archives of
#      the modules below it, so that ``ZMTP/Message`` in ZeroMQ's pages resolves to ZMTP's page.
#      That is what the plugin's `--enable-experimental-combined-documentation` does.
#   3. `docc merge` joins the seven archives into one site, with a landing page listing them.
# Output: .build/docs/<Module>.doccarchive and .build/docs/swift-zeromq.doccarchive (preview it
# with any static file server; pass DOCS_HOSTING_BASE_PATH to host it under a sub-path).
set -euo pipefail
cd "$(dirname "$0")/.."

# The public library modules, each after the modules it imports.
modules=(ZMTP ZMTPSodium ZeroMQTransport ZeroMQPGM ZeroMQ ZeroMQMetrics ZeroMQNIO)

out=.build/docs
graphs=$out/symbol-graphs
rm -rf "$out"
mkdir -p "$graphs"

# Its exit status is not the test: it also tries the package's test modules, which it cannot
# load on Linux, and fails for them after writing every library's graph. So it is judged by the
# graphs it wrote for the modules documented here.
dump_log=$out/dump-symbol-graph.log
touch "$out/dump-started"
swift package --enable-all-traits dump-symbol-graph --minimum-access-level public --skip-synthesized-members \
    --emit-extension-block-symbols >"$dump_log" 2>&1 || true
dumped=$(sed -n 's/^Files written to //p' "$dump_log" | tail -n 1)
dumped=${dumped:-$(swift build --enable-all-traits --show-bin-path)/../symbolgraph}
for module in "${modules[@]}"; do
    if [[ ! -f "$dumped/$module.symbols.json" || "$dumped/$module.symbols.json" -ot "$out/dump-started" ]]; then
        echo "docs: no fresh symbol graph for $module in $dumped" >&2
        cat "$dump_log" >&2
        exit 1
    fi
done

hosting=()
if [[ -n "${DOCS_HOSTING_BASE_PATH:-}" ]]; then
    hosting=(--hosting-base-path "$DOCS_HOSTING_BASE_PATH")
fi

status=0
dependencies=()
archives=()
for module in "${modules[@]}"; do
    # A module's graphs: its own symbols, and its extensions of other modules' types.
    mkdir -p "$graphs/$module"
    cp "$dumped/$module.symbols.json" "$graphs/$module/"
    for extension in "$dumped/$module@"*.symbols.json; do
        [[ -e "$extension" ]] && cp "$extension" "$graphs/$module/"
    done
    log=$out/$module.log
    if [[ ! -d "Sources/$module/$module.docc" ]]; then
        echo "docs: $module has no catalog (Sources/$module/$module.docc): every library module needs a landing page"
        status=1
        continue
    fi
    docc convert "Sources/$module/$module.docc" \
        --additional-symbol-graph-dir "$graphs/$module" \
        --output-path "$out/$module.doccarchive" \
        --fallback-display-name "$module" \
        --fallback-bundle-identifier "org.swift-zeromq.$module" \
        --enable-experimental-external-link-support \
        "${dependencies[@]}" "${hosting[@]}" \
        --diagnostic-filter warning >"$log" 2>&1 || status=1
    warnings=$(grep -cE '^warning:' "$log" || true)
    errors=$(grep -cE '^error:' "$log" || true)
    echo "docs: $module: $warnings warnings, $errors errors"
    if (( warnings + errors > 0 )); then
        cat "$log"
        status=1
    fi
    dependencies+=(--dependency "$out/$module.doccarchive")
    archives+=("$out/$module.doccarchive")
done

# Every public symbol documented: those the compiler gave no doc comment, and no protocol they
# implement lends one to.
python3 scripts/undocumented.py "$graphs" "${modules[@]}" || status=1

if (( status == 0 )); then
    docc merge "${archives[@]}" --output-path "$out/swift-zeromq.doccarchive" \
        --synthesized-landing-page-name swift-zeromq >"$out/merge.log" 2>&1 || { cat "$out/merge.log"; status=1; }
fi
exit "$status"
