#!/usr/bin/env bash
# Builds the `compile` fuzz target with libFuzzer's coverage instrumentation and runs it for
# N seconds (default 60), the corpus seeded from the examples and the test fixtures. Any
# crash stops the run and leaves the input in ARTIFACTS (default fuzz/artifacts/).
#
# This is what `cargo fuzz run compile` does, without needing cargo-fuzz: the stable toolchain
# accepts the sanitizer-coverage flags with RUSTC_BOOTSTRAP=1. `run.sh --build` only builds
# (CI builds it in the background while other steps run). `run.sh --empty N` starts from an
# empty corpus instead (in a temporary folder, inputs up to 4 KiB): libFuzzer then builds its
# inputs up from bytes, and reaches inputs no example resembles (it found a formatter bug in
# 15 seconds that the seeded corpus had not).
set -euo pipefail
build_only=false
empty=false
[ "${1:-}" = --build ] && { build_only=true; shift; }
[ "${1:-}" = --empty ] && { empty=true; shift; }
seconds=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
artifacts=${ARTIFACTS:-$here/artifacts}
corpus=$here/corpus/compile
mkdir -p "$corpus" "$artifacts"
if ! $empty; then
  for f in "$root"/examples/*.mesh "$root"/tests/cases/*/*/input.mesh; do
    [ -f "$f" ] && cp "$f" "$corpus/$(echo "$f" | sha1sum | cut -c1-16).mesh"
  done
fi
host=$(rustc -vV | sed -n 's/^host: //p')
# opt-level 1: the build from scratch takes 142 s instead of 174 s on 2 cores, for 9 % fewer
# runs a second.
CARGO_PROFILE_RELEASE_OPT_LEVEL=1 RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
  cargo build --release --manifest-path "$here/Cargo.toml" --target-dir "$root/target/fuzz" \
  --bin compile --target "$host"
$build_only && exit 0
max_len=65536
if $empty; then
  corpus=$(mktemp -d "${TMPDIR:-/tmp}/meshc-fuzz-empty.XXXXXX")
  trap 'rm -rf "$corpus"' EXIT
  max_len=4096
fi
"$root/target/fuzz/$host/release/compile" "$corpus" -max_total_time="$seconds" -max_len="$max_len" \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/"
