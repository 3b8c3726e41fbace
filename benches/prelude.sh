# Sourced by the bench scripts (from the repository's top directory): FILE (the
# capture, generated if absent) and ROUNDS from the arguments, the shipping build in
# BIN, a scratch directory TMP removed on exit.
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
