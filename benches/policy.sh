#!/bin/sh
# What a segmentation policy costs (issue 15): the generated benchmark capture replayed
# with the default rule pack, without a policy and with one of 500 zones and 2,000
# conduits (every poll of the capture allowed, so this is the cost of resolving zones
# per flow and deciding per function class), alternated, ROUNDS times; packets/s and
# peak RSS for each, beside the read floor (tcpdump). With CALLGRIND=1 it also counts
# instructions once each (valgrind).
#
#   benches/policy.sh [FILE] [ROUNDS]     (default: the 1,000,000-packet capture, 3 rounds)
set -eu
cd "$(dirname "$0")/.."
. benches/prelude.sh
POLICY=$TMP/policy.yaml
# The capture's masters are in 10.1.0.0/24, its outstations and PLCs in 10.2.X.0/24:
# one zone for the masters, 256 cells, 243 more zones elsewhere; a conduit from the
# masters to each cell, and 1,744 between the others.
awk 'BEGIN {
    print "zones:"
    print "  - name: masters\n    level: 2\n    networks: [10.1.0.0/24]"
    for (x = 0; x < 256; x++) printf "  - name: cell-%d\n    level: 1\n    networks: [10.2.%d.0/24]\n", x, x
    for (x = 0; x < 243; x++) printf "  - name: other-%d\n    level: 3\n    networks: [10.%d.%d.0/24]\n", x, 100 + int(x / 200), x % 200
    print "conduits:"
    for (x = 0; x < 256; x++) printf "  - from: masters\n    to: cell-%d\n    protocols: [modbus, dnp3, s7comm]\n    functions: [read, write, control]\n", x
    n = 0
    for (a = 0; a < 243 && n < 1744; a++) for (b = 0; b < 243 && n < 1744; b++) if (a != b) {
        printf "  - from: other-%d\n    to: other-%d\n    protocols: [https, ssh]\n", a, b
        n++
    }
}' > "$POLICY"
"$BIN" rules check --policy "$POLICY" 2>&1 | head -n 1

i=1
while [ "$i" -le "$ROUNDS" ]; do
    echo "round $i"
    if [ -n "$TCPDUMP" ]; then
        timed "tcpdump -r FILE -w /dev/null" $TCPDUMP -r "$FILE" -w /dev/null
    fi
    timed "no policy" "$BIN" replay -q "$FILE"
    timed "500 zones, 2,000 conduits" "$BIN" replay -q --policy "$POLICY" "$FILE"
    i=$((i + 1))
done
"$BIN" replay -q --policy "$POLICY" --summary-json - "$FILE" | sed -n 's/.*"segmentation":{"conversations":\(\[[^]]*\]\).*/  forbidden: \1/p' | head -c 300
echo
if [ "${CALLGRIND:-}" = 1 ]; then
    for p in none policy; do
        if [ $p = none ]; then set -- ; else set -- --policy "$POLICY"; fi
        valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.$p" "$BIN" replay -q "$@" "$FILE" 2>&1 | sed -n "s/.*Collected : \([0-9]*\)/  instructions, $p: \1/p"
    done
fi
