#!/bin/bash
# run-fuzzers.sh BIN_DIR SECONDS [HARNESS...]
#
# Runs each libFuzzer harness of BIN_DIR (all fuzz_* by default) for SECONDS,
# starting from its seed corpus tests/fuzz/corpus/<harness>/, then merges the
# inputs that added coverage back into that directory (-merge=1 keeps only
# the interesting ones).  A crash, leak or sanitizer report writes the input
# to tests/fuzz/corpus/<harness>/crash-<sha1> (so it becomes a regression
# test of `make check`) and makes this script fail at the end.
# FUZZ_JOBS=N runs N harnesses at once (default 1).  FUZZ_MINIMIZE=1 then
# shrinks each corpus to a minimal set with the same coverage (seed-* and
# crash-* files are always kept) and drops kept inputs above
# FUZZ_KEEP_MAX_BYTES (default 8192), so the directory in the repo stays small.
set -u
bin=${1:?usage: run-fuzzers.sh BIN_DIR SECONDS [HARNESS...]}
secs=${2:?usage: run-fuzzers.sh BIN_DIR SECONDS [HARNESS...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
corpus_root=$here/corpus
work=$(mktemp -d /tmp/hdm-fuzz-run.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ $# -eq 0 ]; then
    set -- $(cd "$bin" && ls fuzz_* 2>/dev/null)
fi
[ $# -gt 0 ] || { echo "no harnesses in $bin (build target fuzz_all with -DHDM_FUZZ=ON)" >&2; exit 2; }

run_one() {
    h=$1
    corpus=$corpus_root/$h
    new=$work/$h
    mkdir -p "$corpus" "$new"
    log=$work/$h.log
    echo "== $h: fuzzing for ${secs}s"
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bin/$h" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2560 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$corpus/" "$new" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    # libFuzzer names artifacts crash-*, leak-*, timeout-*, oom-*: keep them
    # all as crash-* so the regression runner replays them.
    for a in "$corpus"/leak-* "$corpus"/timeout-* "$corpus"/oom-*; do
        [ -e "$a" ] && mv "$a" "$corpus/crash-${a##*-}"
    done
    "$bin/$h" -merge=1 -max_len=65536 "$corpus" "$new" >"$work/$h.merge.log" 2>&1
    if [ "${FUZZ_MINIMIZE:-0}" = 1 ]; then
        min=$work/$h.min
        mkdir -p "$min"
        if "$bin/$h" -merge=1 -max_len=65536 "$min" "$corpus" >"$work/$h.min.log" 2>&1; then
            kept=" "
            for f in "$corpus"/*; do
                case ${f##*/} in
                    seed-*|crash-*) kept="$kept$(sha1sum < "$f" | cut -c1-40) " ;;
                    *) rm -f "$f" ;;
                esac
            done
            for f in "$min"/*; do
                [ -e "$f" ] || continue
                # libFuzzer names inputs by their SHA-1: skip copies of kept files
                case $kept in *" ${f##*/} "*) continue ;; esac
                [ "$(wc -c < "$f")" -le "${FUZZ_KEEP_MAX_BYTES:-8192}" ] || continue
                cp -n "$f" "$corpus/"
            done
        fi
    fi
    if [ $rc -ne 0 ]; then
        echo "== $h: FAILED (exit $rc) after ${execs:-?} executions; log follows"
        grep -A40 -m1 -E "ERROR: |runtime error|deadly signal|Test unit written" "$log" | head -60
        return 1
    fi
    echo "== $h: ${execs:-?} executions, no crash; corpus now $(ls "$corpus" | wc -l) files"
    return 0
}

jobs=${FUZZ_JOBS:-1}
failed=0
running=0
for h in "$@"; do
    if [ "$jobs" -le 1 ]; then
        run_one "$h" || failed=1
    else
        ( run_one "$h" ) > "$work/$h.out" 2>&1 &
        running=$((running + 1))
        if [ $running -ge "$jobs" ]; then
            wait -n 2>/dev/null || wait
            running=$((running - 1))
        fi
    fi
done
if [ "$jobs" -gt 1 ]; then
    wait
    for h in "$@"; do
        cat "$work/$h.out"
        grep -q "FAILED" "$work/$h.out" && failed=1
    done
fi
exit $failed
