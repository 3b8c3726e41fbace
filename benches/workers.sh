#!/usr/bin/env bash
# Replay's scaling with workers: the benchmark capture replayed with 1 and 2 workers,
# with no output and with every record (`--eve /dev/null`), as paired runs (farm-bench
# alternates the two commands, so the machine's drift hits both), then the instruction
# counts per thread (callgrind), which do not drift.
# Usage: benches/workers.sh [FILE] [RUNS]   (RUNS: farm-bench runs per command, default 11)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/prelude.sh
RUNS=${2:-11}
for mode in "" "--eve /dev/null"; do
    for warmup in "" "--warmup off"; do
        echo "== replay -q $warmup $mode: 2 workers (A) against 1 (B)"
        # shellcheck disable=SC2086 # the modes are lists of flags.
        farm-bench -n "$RUNS" --vs "$BIN replay -q $warmup $mode --workers 1 $FILE" -- "$BIN" replay -q $warmup $mode --workers 2 "$FILE" | tail -n 14
    done
done
[ -n "$TCPDUMP" ] && timed "tcpdump -r FILE -w /dev/null" $TCPDUMP -r "$FILE" -w /dev/null
if command -v valgrind > /dev/null; then
    for n in 1 2; do
        rm -f "$TMP"/cg.*
        valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$TMP/cg.out" "$BIN" replay -q --warmup off --workers $n "$FILE" 2> /dev/null
        for f in "$TMP"/cg.out-*; do
            printf "callgrind, %s worker(s), %s: " "$n" "$(basename "$f")"
            callgrind_annotate "$f" 2> /dev/null | sed -n 's/ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1 instructions/p'
        done
    done
fi
