#!/usr/bin/env bash
# Builds the fuzzers, prepares their corpora and runs them. See Fuzz/README.md.
#
#   Fuzz/run.sh                     every target, FUZZ_SECONDS each (default 60), FUZZ_JOBS at once (default 2)
#   Fuzz/run.sh FuzzGreeting ...    only these targets
#   Fuzz/run.sh --list              the targets
#   Fuzz/run.sh --repro FILE        replay one input: a libFuzzer artifact (give the target too:
#                                   --repro FILE TARGET) or a Vectors/regressions/*.json file
#   Fuzz/run.sh --merge [TARGET...] minimise the committed corpora Fuzz/Corpus/<Target>/ with
#                                   what the last runs found (Fuzz/corpus-<Target>/), libFuzzer
#                                   -set_cover_merge=1
#
# Every run reads the committed corpus Corpus/<Target>/ and writes what it finds to corpus-<Target>/
# (not in git). The summary is also written as a Markdown table to logs/summary.md (RESULTS.md).
#
# Exits non-zero if the build fails or any target crashes, hangs (-timeout) or runs out of
# memory; each such input is copied to Vectors/regressions/ as a "fuzz-regression" vector.
set -uo pipefail

CALLER_DIR=$(pwd)
cd "$(dirname "$0")"
FUZZ_DIR=$(pwd)
ROOT=$(cd .. && pwd)
REGRESSIONS="$ROOT/Vectors/regressions"
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-2}

ALL_TARGETS=(
    FuzzGreeting
    FuzzFrameDecoderV3 FuzzFrameDecoderV2 FuzzFrameDecoderV1
    FuzzCommand
    FuzzZ85
    FuzzPlainServer
    FuzzCurveServer FuzzCurveClient
    FuzzConnection
    FuzzZAP
    FuzzPGMDecoder
)

FUZZ_CONFIG=${FUZZ_CONFIG:-release}

# The only correct flags (see /work/shared/reference/swift-notes.md, "Fuzzing under SwiftPM"):
# --sanitize=fuzzer makes SwiftPM leave main to libFuzzer; the combined -sanitize=fuzzer,address
# gives coverage AND ASan. Never pass --sanitize twice: the driver keeps only the last one.
# Release (-O) runs 5-7x more inputs per second than debug and keeps what the harnesses rely on:
# they fail through fatalError, and -O keeps preconditions, bounds and overflow checks (only
# assert() goes, and no harness uses it). FUZZ_CONFIG=debug for a build that is quicker to make.
BUILD=(swift build -c "$FUZZ_CONFIG" --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld
       --package-path "$FUZZ_DIR" --scratch-path "$FUZZ_DIR/.build")

# The Swift runtime's backtracer hangs under ASan; LeakSanitizer reports false leaks for state
# kept across inputs (Swift packs enum tags into pointer bits, which LSan does not recognise).
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

max_len() {
    case $1 in
        FuzzGreeting) echo 128 ;;
        FuzzZ85) echo 512 ;;
        FuzzCommand) echo 1024 ;;
        FuzzFrameDecoderV*) echo 2048 ;;
        *) echo 2048 ;;
    esac
}

build() {
    echo "== building fuzzers (swift build -c $FUZZ_CONFIG --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)"
    local start=$SECONDS
    mkdir -p "$FUZZ_DIR/logs"
    # SwiftPM keeps the build description of the path dependency (the library) and misses sources
    # added to or removed from it since; dropping it makes the build plan again (seconds).
    rm -f "$FUZZ_DIR"/.build/*/"$FUZZ_CONFIG"/description.json
    if ! "${BUILD[@]}" > "$FUZZ_DIR/logs/build.log" 2>&1; then
        grep -E "error" "$FUZZ_DIR/logs/build.log" | head -40
        echo "build failed; full log: Fuzz/logs/build.log" >&2
        exit 1
    fi
    BIN=$("${BUILD[@]}" --show-bin-path)
    echo "   built in $((SECONDS - start)) s: $BIN"
}

# Usage: repro FILE [TARGET]
repro() {
    local file=${1:?usage: run.sh --repro FILE [TARGET]} target=${2:-}
    [[ $file == /* ]] || file="$CALLER_DIR/$file"
    build
    if [[ $file == *.json ]]; then
        local tmp
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        python3 "$FUZZ_DIR/seeds.py" unhex "$file" "$tmp" > /dev/null || exit 1
        local status=0
        for input in "$tmp"/*; do
            local t=${target:-$(basename "$input" | sed 's/-[0-9]*$//')}
            echo "== $t < $input"
            "$BIN/$t" "$input" || status=$?
        done
        exit $status
    fi
    [[ -n $target ]] || { echo "usage: run.sh --repro ARTIFACT TARGET" >&2; exit 2; }
    exec "$BIN/$target" "$file"
}

# Usage: merge [TARGET...]. Keeps, of the committed corpus and the working one, a small set of
# inputs that reaches the same coverage, and makes it the committed corpus. -set_cover_merge
# (a greedy set cover) keeps about half the files -merge=1 keeps for the same features.
merge() {
    local targets=("$@")
    [[ ${#targets[@]} -gt 0 ]] || targets=("${ALL_TARGETS[@]}")
    build
    for t in "${targets[@]}"; do
        local committed="$FUZZ_DIR/Corpus/$t" merged="$FUZZ_DIR/Corpus/.$t.merging"
        mkdir -p "$committed" "$FUZZ_DIR/corpus-$t"
        rm -rf "$merged"
        mkdir -p "$merged"
        if ! "$BIN/$t" -set_cover_merge=1 -max_len="$(max_len "$t")" -rss_limit_mb=4096 -timeout=10 -detect_leaks=0 \
                "$merged" "$committed" "$FUZZ_DIR/corpus-$t" > "$FUZZ_DIR/logs/$t.merge.log" 2>&1; then
            echo "$t: merge failed; log: Fuzz/logs/$t.merge.log" >&2
            tail -5 "$FUZZ_DIR/logs/$t.merge.log" >&2
            rm -rf "$merged"
            exit 1
        fi
        rm -rf "$committed"
        mv "$merged" "$committed"
        echo "   $t: $(find "$committed" -type f | wc -l) inputs, $(cat "$committed"/* 2> /dev/null | wc -c) bytes in Fuzz/Corpus/$t"
    done
    exit 0
}

case ${1:-} in
    --list) printf '%s\n' "${ALL_TARGETS[@]}"; exit 0 ;;
    --repro) shift; repro "$@" ;;
    --merge) shift; merge "$@" ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
esac

TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("${ALL_TARGETS[@]}")
for t in "${TARGETS[@]}"; do
    [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || { echo "unknown target $t (run.sh --list)" >&2; exit 2; }
done

build
mkdir -p "$FUZZ_DIR/logs"

echo "== corpora (Vectors/ hex strings + generated seeds)"
for t in "${TARGETS[@]}"; do
    corpus="$FUZZ_DIR/corpus-$t"
    mkdir -p "$corpus"
    python3 "$FUZZ_DIR/seeds.py" corpus "$t" "$corpus" 2> "$FUZZ_DIR/logs/$t.seeds.log" \
        || { cat "$FUZZ_DIR/logs/$t.seeds.log"; exit 1; }
    FUZZ_WRITE_SEEDS="$corpus" "$BIN/$t" >> "$FUZZ_DIR/logs/$t.seeds.log" 2>&1 \
        || { echo "$t: writing generated seeds failed:"; tail -20 "$FUZZ_DIR/logs/$t.seeds.log"; exit 1; }
    mkdir -p "$FUZZ_DIR/Corpus/$t"
    echo "   $t: $(find "$corpus" -type f | wc -l) inputs + $(find "$FUZZ_DIR/Corpus/$t" -type f | wc -l) committed"
done

run_target() {
    local t=$1
    local artifacts="$FUZZ_DIR/artifacts/$t"
    rm -rf "$artifacts"
    mkdir -p "$artifacts"
    "$BIN/$t" "$FUZZ_DIR/corpus-$t" "$FUZZ_DIR/Corpus/$t" \
        -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=4096 -timeout=10 -print_final_stats=1 \
        -max_len="$(max_len "$t")" -dict="$FUZZ_DIR/zmtp.dict" -detect_leaks=0 \
        -artifact_prefix="$artifacts/" > "$FUZZ_DIR/logs/$t.log" 2>&1
    echo $? > "$FUZZ_DIR/logs/$t.rc"
}

echo "== fuzzing ${#TARGETS[@]} targets, $FUZZ_SECONDS s each, $FUZZ_JOBS at a time (logs in Fuzz/logs/)"
start=$SECONDS
running=0
for t in "${TARGETS[@]}"; do
    rm -f "$FUZZ_DIR/logs/$t.rc"
    run_target "$t" &
    running=$((running + 1))
    if (( running >= FUZZ_JOBS )); then
        wait -n
        running=$((running - 1))
    fi
done
wait
echo "   done in $((SECONDS - start)) s"

# Sets `found` to the target's artifacts that are findings, and `slow` to its slow-unit-* files:
# libFuzzer saves an input that took over 10 s as a slow unit but exits 0 (an input that hangs
# hits -timeout, exits non-zero and is saved as timeout-*). On a shared machine a slow unit is
# usually a stall of the process; replay it (--repro) to tell.
classify_artifacts() {
    shopt -s nullglob
    found=() slow=()
    local f
    for f in "$FUZZ_DIR/artifacts/$1"/*; do
        if [[ $(basename "$f") == slow-unit-* ]]; then slow+=("$f"); else found+=("$f"); fi
    done
    shopt -u nullglob
}

failed=0
summary="$FUZZ_DIR/logs/summary.md"
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: *//')
{
    echo "### $(date -u '+%Y-%m-%d %H:%M') UTC, $(git -C "$ROOT" rev-parse --short HEAD 2> /dev/null || echo '?')"
    echo
    echo "$(nproc) cores ($cpu), load $(cut -d' ' -f1-3 /proc/loadavg) at the end; -c $FUZZ_CONFIG, ASan;" \
         "$FUZZ_SECONDS s per target, $FUZZ_JOBS at a time."
    echo
    echo "| Target | Seconds | Executions | Exec/s | Coverage | Features | Corpus | Findings |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
} > "$summary"
printf '\n%-20s %14s %8s %9s  %s\n' target executions exec/s coverage result
for t in "${TARGETS[@]}"; do
    log="$FUZZ_DIR/logs/$t.log"
    rc=$(cat "$FUZZ_DIR/logs/$t.rc" 2> /dev/null || echo "?")
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -oE '(DONE|pulse|NEW|REDUCE|INITED) +cov: [0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    classify_artifacts "$t"
    result=ok
    if [[ $rc != 0 || ${#found[@]} -gt 0 ]]; then
        result="FAILED (exit $rc)"
        failed=1
    fi
    (( ${#slow[@]} )) && result="$result (${#slow[@]} slow unit: Fuzz/artifacts/$t/$(basename "${slow[0]}"))"
    printf '%-20s %14s %8s %9s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$result"
    ft=$(grep -oE '(DONE|pulse|NEW|REDUCE|INITED) +cov: [0-9]+ ft: [0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    corpus=$(grep -oE '(DONE|pulse|NEW|REDUCE|INITED) +cov: .* corp: [0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    findings=none
    (( ${#found[@]} )) && findings="${#found[@]} ($(for f in "${found[@]}"; do basename "$f" | cut -d- -f1; done | sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $2; sep=", "}'))"
    [[ $rc != 0 && ${#found[@]} -eq 0 ]] && findings="exit $rc"
    (( ${#slow[@]} )) && findings="$findings; ${#slow[@]} slow unit"
    echo "| $t | $FUZZ_SECONDS | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corpus:-?} | $findings |" >> "$summary"
done
echo
echo "Markdown summary (for Fuzz/RESULTS.md): Fuzz/logs/summary.md"

if (( failed )); then
    echo
    for t in "${TARGETS[@]}"; do
        classify_artifacts "$t"
        rc=$(cat "$FUZZ_DIR/logs/$t.rc" 2> /dev/null || echo "?")
        [[ $rc == 0 && ${#found[@]} -eq 0 ]] && continue
        echo "== $t failed (exit $rc); log: Fuzz/logs/$t.log"
        grep -E "FUZZ FINDING|Fatal error|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY" "$FUZZ_DIR/logs/$t.log" | head -5 | sed 's/^/   /'
        finding=$(grep -m1 -oE "FUZZ FINDING: .*|ERROR: (AddressSanitizer|libFuzzer): .*|Fatal error: .*" "$FUZZ_DIR/logs/$t.log")
        for artifact in "${found[@]}"; do
            stream=""
            case $t in
                FuzzPlainServer|FuzzCurveServer|FuzzCurveClient|FuzzConnection)
                    stream=$(FUZZ_DESCRIBE="$artifact" "$BIN/$t" 2> /dev/null) ;;
            esac
            vector=$(python3 "$FUZZ_DIR/seeds.py" regression "$t" "$artifact" "$REGRESSIONS" \
                --stream "$stream" --finding "$finding")
            echo "   input:      Fuzz/artifacts/$t/$(basename "$artifact")"
            echo "   regression: ${vector#"$ROOT"/}"
            echo "   reproduce (from the repository root):"
            echo "               Fuzz/run.sh --repro Fuzz/artifacts/$t/$(basename "$artifact") $t"
            echo "               Fuzz/run.sh --repro ${vector#"$ROOT"/}"
        done
    done
    exit 1
fi
