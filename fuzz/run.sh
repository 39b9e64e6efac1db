#!/usr/bin/env bash
# Runs the `compile` fuzz target for N seconds (default 60), with the corpus seeded from the
# examples and the test fixtures. Prints libFuzzer's final statistics.
set -euo pipefail
seconds=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
corpus="$here/corpus/compile"
mkdir -p "$corpus"
for f in "$here"/../examples/*.mesh "$here"/../tests/cases/*/*/input.mesh; do
  [ -f "$f" ] && cp "$f" "$corpus/$(echo "$f" | sha1sum | cut -c1-16).mesh"
done
cd "$here/.."
RUSTC_BOOTSTRAP=1 cargo fuzz run compile "$corpus" -- \
  -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
