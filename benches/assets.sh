#!/usr/bin/env bash
# What asset records cost: the benchmark capture replayed into an EVE file with every
# record type (A) against every type but `asset` (B: the asset book is not kept at all),
# paired runs of the shipping build, and how many asset records the capture gives.
# Usage: benches/assets.sh [FILE] [RUNS]   (RUNS: paired runs, default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/prelude.sh
RUNS=${2:-7}
ALL_BUT_ASSET=alert,anomaly,flow,modbus,dnp3,s7comm,s7comm_plus,cotp,segmentation,stats
echo "== replay --eve with asset records (A) against without (B)"
farm-bench -n "$RUNS" --vs "$BIN replay -q --eve $TMP/b.json --eve-types $ALL_BUT_ASSET $FILE" -- \
    "$BIN" replay -q --eve "$TMP/a.json" "$FILE" | tail -n 14
echo "== records"
printf "  asset records %s of %s\n" "$(grep -c '"event_type":"asset"' "$TMP/a.json")" "$(wc -l < "$TMP/a.json")"
[ -n "$TCPDUMP" ] && timed "tcpdump -r FILE -w /dev/null" $TCPDUMP -r "$FILE" -w /dev/null
