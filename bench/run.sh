#!/usr/bin/env bash
# bench/run.sh [--sizes 10,1000,10000,100000] [--stages 1000,10000] [--stress 100000] [--baseline BIN]
#
# Builds meshc and the reference program bench/lower-bound in release mode, then runs
# bench/measure.py: for each N it generates `gen-mesh.py N --shape hello-chain`, checks that
# both print the same bytes, times them in one interleaved loop, and reports the ratio, peak
# RSS, the load average and (under callgrind) meshc's stage split. Prints a table and writes
# target/bench/results.md and results.json. Not part of CI; see bench/README.md.
#
# Uses /usr/bin/time for peak RSS and valgrind's callgrind for the stage split when they are
# installed (the columns stay empty otherwise), and times bench/pkl/hello-chain.pkl against meshc
# when a Pkl binary is found (--pkl BIN, or pkl on PATH). Extra arguments go to bench/measure.py.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

echo "bench: cargo build --release (meshc, bench/lower-bound)" >&2
cargo build --release >&2
cargo build --release --manifest-path bench/lower-bound/Cargo.toml --target-dir "$root/target/lower-bound" >&2

exec python3 bench/measure.py --meshc "$root/target/release/meshc" \
    --reference "$root/target/lower-bound/release/lower-bound" "$@"
