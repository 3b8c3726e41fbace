# Sourced by the bench scripts (from the repository's top directory): FILE (the
# capture, generated if absent) and ROUNDS from the arguments, the shipping build in
# BIN, a scratch directory TMP removed on exit, and the capture's packet count PACKETS.
FILE=${1:-target/tmp/plant-1000000.pcap}
ROUNDS=${2:-3}
if [ ! -f "$FILE" ]; then
    mkdir -p "$(dirname "$FILE")"
    cargo run -q --release -p otsentry-pcapgen --bin gen-bench-capture -- "$FILE"
fi
cargo build -q --profile dist -p otsentry
BIN=target/dist/otsentry
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PACKETS=$("$BIN" replay -q --no-rules --summary-json - "$FILE" | sed -n 's/.*"packets":\([0-9]*\).*/\1/p' | head -n 1)
echo "capture: $FILE, $PACKETS packets"
# The read floor, `tcpdump -r FILE -w /dev/null`, as a command (empty without tcpdump).
# As root, tcpdump would hand its output file (here /dev/null) to its own user.
TCPDUMP=""
if command -v tcpdump > /dev/null; then
    if [ "$(id -u)" = 0 ]; then TCPDUMP="tcpdump -Z root"; else TCPDUMP=tcpdump; fi
fi

# `timed NAME COMMAND...`: runs COMMAND and prints its seconds, packets/s (of PACKETS,
# which the script sets) and peak RSS.
timed() {
    name=$1
    shift
    /usr/bin/time -f '%e %M' -o "$TMP/time" "$@" > "$TMP/out" 2> "$TMP/err" || { cat "$TMP/err" >&2; return 1; }
    set -- $(cat "$TMP/time")
    awk -v n="$name" -v s="$1" -v kb="$2" -v p="$PACKETS" \
        'BEGIN { printf "  %-40s %6.2f s %7.2f M pkt/s %6.1f MiB RSS\n", n, s, (s > 0 ? p / s / 1e6 : 0), kb / 1024 }'
}
