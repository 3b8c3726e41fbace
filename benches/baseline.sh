#!/bin/sh
# What a learned baseline costs (issue 16): the benchmark capture learned (`otsentry
# learn`), the baseline padded to 10,000 assets and 100,000 written addresses (extra
# hosts and conversations the capture never touches, so its own lookups run against
# full tables), then replays without and with `--baseline` alternated, ROUNDS times,
# beside the read floor (tcpdump); packets/s and peak RSS for each. With CALLGRIND=1 it
# also counts instructions once each (valgrind).
#
#   benches/baseline.sh [FILE] [ROUNDS]     (default: the 1,000,000-packet capture, 3 rounds)
set -eu
cd "$(dirname "$0")/.."
. benches/prelude.sh
BASELINE=$TMP/baseline.json
"$BIN" learn --out "$TMP/learned.json" "$FILE"
python3 - "$TMP/learned.json" "$BASELINE" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
assets = {a["ip"] for a in b["assets"]}
n = 0
while len(b["assets"]) < 10000:
    ip = "10.250.%d.%d" % (n // 250, n % 250 + 1)
    n += 1
    if ip in assets:
        continue
    b["assets"].append({"ip": ip, "macs": [], "roles": ["plc"], "first_seen": b["learned"]["from"], "last_seen": b["learned"]["to"]})
values = sum(len(p["values"]) for p in b["pairs"])
k = 0
while values < 100000:
    server = "10.250.%d.%d" % (k // 250, k % 250 + 1)
    pair = {"client": "10.251.0.1", "server": server, "protocol": "modbus", "requests": 1000,
            "first_seen": b["learned"]["from"], "last_seen": b["learned"]["to"], "max_per_second": 10,
            "functions": [{"code": 6, "name": "write_single_register", "count": 1000}],
            "ranges": [{"function": 6, "space": "modbus/unit1/holding_registers", "start": 0, "end": 99, "write": True, "count": 1000}],
            "values": [{"space": "modbus/unit1/holding_registers", "address": a, "samples": 10, "min": 0.0, "max": 100.0} for a in range(100)]}
    b["pairs"].append(pair)
    values += 100
    k += 1
b["assets"].sort(key=lambda a: tuple(int(x) for x in a["ip"].split(".")))
json.dump(b, open(sys.argv[2], "w"), separators=(",", ":"))
PY
"$BIN" rules check --baseline "$BASELINE" 2>&1 | head -n 1

i=1
while [ "$i" -le "$ROUNDS" ]; do
    echo "round $i"
    if [ -n "$TCPDUMP" ]; then
        timed "tcpdump -r FILE -w /dev/null" $TCPDUMP -r "$FILE" -w /dev/null
    fi
    timed "no baseline" "$BIN" replay -q "$FILE"
    timed "10,000 assets, 100,000 written addresses" "$BIN" replay -q --baseline "$BASELINE" "$FILE"
    i=$((i + 1))
done
"$BIN" replay -q --baseline "$BASELINE" --summary-json - "$FILE" | sed -n 's/.*"baseline":\({[^}]*}\).*/  findings: \1/p'
if [ "${CALLGRIND:-}" = 1 ]; then
    for b in none baseline; do
        if [ $b = none ]; then set -- ; else set -- --baseline "$BASELINE"; fi
        valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.$b" "$BIN" replay -q "$@" "$FILE" 2>&1 | sed -n "s/.*Collected : \([0-9]*\)/  instructions, $b: \1/p"
    done
    # Loading, indexing and freeing the baseline alone (once per run, before the clock
    # of the summary's packets_per_sec starts).
    for b in none baseline; do
        if [ $b = none ]; then set -- ; else set -- --baseline "$BASELINE"; fi
        valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.load.$b" "$BIN" rules check "$@" 2>&1 | sed -n "s/.*Collected : \([0-9]*\)/  instructions of rules check, $b: \1/p"
    done
fi
