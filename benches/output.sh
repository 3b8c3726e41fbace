#!/bin/sh
# Output at line rate (issue 14): alternates, in one run and on the same capture,
# the read floor (`tcpdump -r FILE -w /dev/null`), otsentry without output, with alerts
# only (`--eve-types alert`) and with every record, and prints packets/s, MB written
# and peak RSS for each, per round. With SURICATA=path it runs Suricata (one thread,
# its default configuration) alerts-only and logging every record too, and prints the
# ratios; Suricata cannot be installed on the development machine, so that branch has
# not been run there.
#
#   benches/output.sh [FILE] [ROUNDS]     (default: the generated 1,000,000-packet capture, 3 rounds)
set -eu
cd "$(dirname "$0")/.."
. benches/prelude.sh

# run NAME OUTPUT COMMAND...: one timed run; prints name, seconds, packets/s, MB, peak
# RSS. OUTPUT is a file under $TMP the command writes, or "-" for none.
run() {
    name=$1 out=$2
    shift 2
    case "$out" in
        "$TMP"/*) rm -f "$out" ;;
        -) ;;
        *) echo "output.sh: $out is not under $TMP" >&2; return 1 ;;
    esac
    /usr/bin/time -f '%e %M' -o "$TMP/time" "$@" > /dev/null 2> "$TMP/err" || { cat "$TMP/err" >&2; return 1; }
    set -- $(cat "$TMP/time")
    mb=0
    if [ "$out" != - ] && [ -f "$out" ]; then
        mb=$(du -m "$out" | cut -f1)
    fi
    awk -v n="$name" -v s="$1" -v kb="$2" -v p="$PACKETS" -v mb="$mb" \
        'BEGIN { printf "  %-34s %6.2f s %7.2f M pkt/s %6d MB out %6.1f MiB RSS\n", n, s, (s > 0 ? p / s / 1e6 : 0), mb, kb / 1024 }'
}

i=1
while [ "$i" -le "$ROUNDS" ]; do
    echo "round $i"
    if [ -n "$TCPDUMP" ]; then
        run "tcpdump -r FILE -w /dev/null" - $TCPDUMP -r "$FILE" -w /dev/null
    fi
    run "otsentry, no output" - "$BIN" replay -q "$FILE"
    run "otsentry --eve-types alert" "$TMP/alerts.json" "$BIN" replay -q --eve "$TMP/alerts.json" --eve-types alert "$FILE"
    run "otsentry, every record" "$TMP/all.json" "$BIN" replay -q --eve "$TMP/all.json" "$FILE"
    if [ -n "${SURICATA:-}" ]; then
        mkdir -p "$TMP/s1" "$TMP/s2"
        run "suricata, alerts only" "$TMP/s1/eve.json" "$SURICATA" -r "$FILE" -k none --runmode single -l "$TMP/s1" \
            --set outputs.1.eve-log.types.0=alert
        run "suricata, every record" "$TMP/s2/eve.json" "$SURICATA" -r "$FILE" -k none --runmode single -l "$TMP/s2"
    fi
    i=$((i + 1))
done
