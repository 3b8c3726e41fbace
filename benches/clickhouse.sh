#!/bin/bash
# The ClickHouse feed (issue 17), on private servers started for each measurement (Debian's
# 18.16; with CURRENT=1 the current engine too), sharing this machine's cores:
# - rows/s: the capture's records (every type) sent through the sink alone, from the EVE
#   file of the same run, in the batches replay sends when the sink falls behind;
# - the replay's packets/s with --clickhouse beside --eve to a file and the read floor.
#
# The servers keep their data under DATA (default: the scratch directory, on this
# machine's disk; DATA=/dev/shm puts it in memory, leaving out the file system's costs).
#
#   benches/clickhouse.sh [FILE] [ROUNDS]     (default: the 1,000,000-packet capture, 3 rounds)
set -eu
cd "$(dirname "$0")/.."
. benches/prelude.sh
cargo build -q --release -p otsentry-pcapgen --bin test-clickhouse
cargo build -q --profile dist -p otsentry-clickhouse --example sink_rows
SERVER=target/release/test-clickhouse
ROWS=target/dist/examples/sink_rows

SRV_DIR=$(mktemp -d -p "${DATA:-$TMP}")
echo "server data: $SRV_DIR ($(stat -f -c %T "$SRV_DIR"))"

# start GENERATION: a fresh server in a new directory under $SRV_DIR, its URL in URL and
# its pid in SRV_PID. The old ones are removed at the end: ext4 searches past inodes freed
# in the last minutes when it makes files, and a server makes hundreds per insert.
n=0
start() {
    n=$((n + 1))
    coproc SRV { "$SERVER" "$1" "$SRV_DIR/srv$n"; }
    read -r URL <&"${SRV[0]}"
    "$BIN" clickhouse init --clickhouse "$URL/otsentry" > /dev/null 2>&1
}
stop() {
    if [ -n "${SRV_PID:-}" ]; then
        kill "$SRV_PID" 2> /dev/null || true
        wait "$SRV_PID" 2> /dev/null || true
    fi
    pkill -f "$SRV_DIR/srv$n" 2> /dev/null || true
}
trap 'stop; rm -rf "$TMP" "$SRV_DIR"' EXIT

generations="legacy"
[ -n "${CURRENT:-}" ] && generations="legacy current"
i=1
while [ "$i" -le "$ROUNDS" ]; do
    echo "round $i"
    [ -n "$TCPDUMP" ] && timed "tcpdump -r FILE -w /dev/null" $TCPDUMP -r "$FILE" -w /dev/null
    timed "otsentry --eve FILE (every record)" "$BIN" replay -q --no-rules --eve "$TMP/eve.json" "$FILE"
    records=$(wc -l < "$TMP/eve.json")
    for g in $generations; do
        start "$g"
        timed "otsentry --clickhouse ($g)" "$BIN" replay -q --no-rules --clickhouse "$URL/otsentry" "$FILE"
        stop
        start "$g"
        echo "    sink alone ($g): $("$ROWS" "$URL/otsentry" "$TMP/eve.json")"
        stop
    done
    echo "    ($records records)"
    i=$((i + 1))
done
