#!/usr/bin/env bash
# The report at scale: the benchmark capture's report (about 4,000 assets) made by the
# shipping build against its replay (paired runs, farm-bench alternating the two), the
# page's size, and Chromium's time to load and draw it and to filter its inventory
# (headless, through the DevTools protocol; a fresh profile each run).
# Usage: benches/report.sh [FILE] [RUNS]   (RUNS: runs per measure, default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/prelude.sh
RUNS=${2:-7}
cargo build -q --profile dist -p otsentry-pcapgen --bin report-timing
echo "== report --html (A) against replay (B), both with the built-in rules"
farm-bench -n "$RUNS" --vs "$BIN replay -q $FILE" -- "$BIN" report -q "$FILE" --html "$TMP/report.html" --json "$TMP/report.json" | tail -n 14
"$BIN" report -q "$FILE" --html "$TMP/report.html" --json "$TMP/report.json"
echo "== sizes"
printf "  page %s bytes, data %s bytes, assets %s\n" "$(stat -c %s "$TMP/report.html")" "$(stat -c %s "$TMP/report.json")" \
    "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["assets"]))' "$TMP/report.json")"
echo "== Chromium: load and draw, filter the inventory (ms)"
target/dist/report-timing "$TMP/report.html" "$RUNS"
[ -n "$TCPDUMP" ] && timed "tcpdump -r FILE -w /dev/null" $TCPDUMP -r "$FILE" -w /dev/null
