#!/usr/bin/env bash
# The live sensor's speed: the highest rate at which tcpreplay can send the benchmark
# capture that one `otsentry sense` (the default pack, no output, default capture
# settings) holds with zero kernel drops, across a veth pair between two network
# namespaces this script makes; beside replay's rate of the same file and
# `tcpdump -r FILE -w /dev/null`, from the same run. As root.
# Usage: [SENSE_ARGS="--workers 2 --fanout"] benches/sense.sh [FILE] [ROUNDS]
#        (ROUNDS: bisection steps, default 3; SENSE_ARGS: the sensor's capture design,
#        default --workers 1)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/prelude.sh
S=ots-bench-s P=ots-bench-p
cleanup() { ip netns del $S 2>/dev/null || true; ip netns del $P 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
cleanup
mkdir -p "$TMP"
ip netns add $S
ip netns add $P
ip link add ots-bs type veth peer name ots-bp
ip link set ots-bs netns $S
ip link set ots-bp netns $P
for ns in $S $P; do ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
ip netns exec $S ip link set ots-bs mtu 9000 up
ip netns exec $P ip link set ots-bp mtu 9000 up

echo "on the same file, in this run:"
timed "otsentry replay (default pack)" "$BIN" replay -q "$FILE"
[ -n "$TCPDUMP" ] && timed "tcpdump -r FILE -w /dev/null" $TCPDUMP -r "$FILE" -w /dev/null

# `attempt RATE`: tcpreplay at RATE packets/s (or "top") into a fresh sensor; prints
# "sent pps mbps drops cpu" (tcpreplay's achieved rate, the kernel's drops, and the
# sensor's CPU time over the wall time from its start to the end of sending, in %).
attempt() {
    # shellcheck disable=SC2086 # SENSE_ARGS is a list of flags.
    ip netns exec $S "$BIN" --log-level info sense -q -i ots-bs --allow-root --stats-interval 0 ${SENSE_ARGS:---workers 1} \
        --summary-json "$TMP/summary.json" > /dev/null 2> "$TMP/sense.log" &
    pid=$!
    until grep -q "capture started" "$TMP/sense.log"; do sleep 0.05; done
    start=$(date +%s.%N)
    if [ "$1" = top ]; then speed=--topspeed; else speed="--pps=$1"; fi
    # ${2:-1} senders at once (their rates add up).
    for n in $(seq "${2:-1}"); do
        ip netns exec $P tcpreplay $speed -i ots-bp "$FILE" > "$TMP/replay.$n.txt" 2>&1 &
    done
    wait $(jobs -p | grep -v "^$pid$")
    end=$(date +%s.%N)
    cat "$TMP"/replay.*.txt > "$TMP/replay.txt"
    rm -f "$TMP"/replay.*.txt
    sleep 1
    # utime + stime, in clock ticks: the sensor is idle after the sending ended.
    ticks=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
    cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", t / hz / (e - s) * 100 }')
    kill -TERM $pid
    wait $pid
    sent=$(sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' "$TMP/replay.txt" | awk '{ s += $1 } END { print s }')
    # Rates of senders that ran side by side add up.
    read -r mbps pps < <(sed -n 's/.*Rated: [0-9.]* Bps, \([0-9.]*\) Mbps, \([0-9.]*\) pps.*/\1 \2/p' "$TMP/replay.txt" | awk '{ m += $1; p += $2 } END { print m, p }')
    drops=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); c=s["capture"]; print(c["kernel_drops"] + c["kernel_ifdrops"] + (c["kernel_packets"] - s["packets"]))' "$TMP/summary.json")
    echo "$sent $pps $mbps $drops $cpu"
}

echo "live: tcpreplay into one sensor (${SENSE_ARGS:---workers 1}; requested rate: packets sent, achieved rate, drops)"
report() { printf "  %-10s %8s sent %10.0f pkt/s %8.1f Mbit/s  %s drops  sensor CPU %s%% of a core\n" "$@"; }
set -- $(attempt top); report top "$1" "$2" "$3" "$4" "$5"
top_pps=${2%.*}
good=0 good_line="" bad=$top_pps
if [ "$4" = 0 ]; then good=$top_pps; good_line="$*"; fi
rate=100000
while [ "$good" = 0 ] && [ "$rate" -lt "$bad" ]; do
    set -- $(attempt $rate); report "$rate" "$1" "$2" "$3" "$4" "$5"
    if [ "$4" = 0 ]; then good=$rate; good_line="$*"; rate=$((rate * 2)); else bad=$rate; break; fi
done
for _ in $(seq "$ROUNDS"); do
    [ "$good" -gt 0 ] && [ "$bad" -gt "$good" ] || break
    mid=$(((good + bad) / 2))
    set -- $(attempt $mid); report "$mid" "$1" "$2" "$3" "$4" "$5"
    if [ "$4" = 0 ]; then good=$mid; good_line="$*"; else bad=$mid; fi
done
set -- $good_line
if [ "$good" = "$top_pps" ]; then
    # What one tcpreplay sends is not the sensor's limit: two at once, on this machine's
    # two cores shared with the sensor (the second copy's TCP segments are
    # retransmissions to the sensor, so it is no harder to analyse).
    set -- $(attempt top 2); report "top x2" "$1" "$2" "$3" "$4" "$5"
    if [ "$4" = 0 ]; then good_line="$*"; fi
    set -- $good_line
    echo "held with zero drops at the most tcpreplay sends here: ${2:-none} pkt/s, ${3:-?} Mbit/s (sensor CPU ${5:-?}% of a core)"
else
    set -- $good_line
    echo "highest rate held with zero drops: ${2:-none} pkt/s, ${3:-?} Mbit/s (tcpreplay --pps=$good)"
fi
