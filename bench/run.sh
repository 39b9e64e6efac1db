#!/usr/bin/env bash
# bench/run.sh [--sizes 10,1000,10000,100000] [--max-run-seconds S] [--api v1]
#
# Builds meshc in release mode, generates .mesh files of N services with bench/gen-mesh.py, and
# times `target/release/meshc build FILE > /dev/null` end to end, plus peak RSS. Prints a table
# and writes target/bench/results.md and results.json. Not part of CI; see bench/README.md.
#
# Installs Debian's hyperfine and time packages when missing and running as root with apt-get
# (set BENCH_NO_INSTALL=1 to skip; measure.py then falls back to a Python timing loop and to
# wait4's rusage for peak RSS). Extra arguments go to bench/measure.py.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
if [ "${#missing[@]}" -gt 0 ] && [ -z "${BENCH_NO_INSTALL:-}" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "bench: installing ${missing[*]} from Debian" >&2
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
        echo "bench: could not install ${missing[*]}; using the Python fallbacks" >&2
    fi
fi

echo "bench: cargo build --release" >&2
cargo build --release >&2

exec python3 bench/measure.py --meshc "$root/target/release/meshc" "$@"
