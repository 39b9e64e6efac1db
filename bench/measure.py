#!/usr/bin/env python3
"""measure.py --meshc BIN [--sizes 10,1000,...] [--workdir DIR] -- time `meshc build` end to end.

Called by bench/run.sh (which builds meshc first); see bench/README.md. For each N it generates
a .mesh file with bench/gen-mesh.py, checks that meshc compiles it, measures the output size,
times `meshc build FILE > /dev/null` (hyperfine with its JSON export when on PATH, else a
Python loop), and measures peak RSS (/usr/bin/time -f %M when present, else wait4's rusage).
Prints a Markdown table and writes it, with the raw numbers, under the work folder.
"""
import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# N -> (runs, warmup runs); sizes not listed get 10 runs (3 when N > 10000).
RUNS = {10: (100, 5), 1000: (30, 3), 10000: (10, 1), 100000: (3, 0)}
# Targets on a 2-core machine: N -> (median ms, peak RSS MiB or None).
TARGETS = {10: (3, None), 1000: (30, None), 10000: (200, 150)}


def human(n):
    for unit in ('B', 'KiB', 'MiB', 'GiB'):
        if n < 1024 or unit == 'GiB':
            return f'{n:.0f} {unit}' if unit == 'B' else f'{n:.1f} {unit}'
        n /= 1024


def output_size(cmd):
    """Runs cmd once, counting its stdout; fails loudly if meshc rejects the input."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    total = 0
    while chunk := p.stdout.read(1 << 20):
        total += len(chunk)
    err = p.stderr.read()
    if p.wait() != 0:
        sys.exit(f'measure: {shlex.join(cmd)} exited {p.returncode}:\n{err.decode(errors="replace")}')
    return total


def time_hyperfine(cmd, runs, warmup, json_path):
    subprocess.run(['hyperfine', '-N', '--style', 'basic', '--warmup', str(warmup), '--runs', str(runs),
                    '--export-json', json_path, shlex.join(cmd)], check=True, stdout=sys.stderr)
    with open(json_path) as f:
        return [t * 1000 for t in json.load(f)['results'][0]['times']]


def time_loop(cmd, runs, warmup):
    times = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    return times


def peak_rss_kib(cmd, gnu_time):
    """Peak RSS of one run of cmd, in KiB."""
    if gnu_time:
        with tempfile.NamedTemporaryFile('r') as out:
            subprocess.run([gnu_time, '-f', '%M', '-o', out.name, *cmd], stdout=subprocess.DEVNULL, check=True)
            return int(out.read().split()[-1])
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f'measure: {shlex.join(cmd)} exited {p.returncode}')
    return usage.ru_maxrss  # KiB on Linux


def verdict(n, median, rss_mib):
    if n not in TARGETS:
        return ''
    t_ms, t_mib = TARGETS[n]
    goal = f'< {t_ms} ms' + (f', < {t_mib} MiB' if t_mib else '')
    ok = median < t_ms and (t_mib is None or rss_mib < t_mib)
    return f'{goal}: {"met" if ok else "MISSED"}'


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--meshc', default=os.path.join(ROOT, 'target', 'release', 'meshc'))
    ap.add_argument('--sizes', default='10,1000,10000,100000',
                    help='comma-separated N; the largest is skipped when its predicted run time is too long')
    ap.add_argument('--workdir', default=os.path.join(ROOT, 'target', 'bench'))
    ap.add_argument('--max-run-seconds', type=float, default=float(os.environ.get('BENCH_MAX_RUN_SECONDS', 30)),
                    help='skip an N whose single run is predicted (linearly, x1.5) to take longer than this')
    ap.add_argument('--api', default='v1', help='the --api passed to meshc build')
    args = ap.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(',') if s.strip()})
    os.makedirs(args.workdir, exist_ok=True)

    hyperfine = shutil.which('hyperfine')
    gnu_time = '/usr/bin/time' if os.access('/usr/bin/time', os.X_OK) else None
    timer = 'hyperfine -N (JSON export)' if hyperfine else 'Python subprocess loop (no hyperfine on PATH)'
    rss_tool = '/usr/bin/time -f %M' if gnu_time else 'os.wait4 rusage (no /usr/bin/time)'
    commit = subprocess.run(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
    cpu = next((line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name')), platform.processor())
    print(f'meshc {args.meshc} (commit {commit or "?"}), {os.cpu_count()} CPUs: {cpu}', file=sys.stderr)
    print(f'timing: {timer}; peak RSS: {rss_tool}', file=sys.stderr)

    rows, raw = [], []
    last = None  # (n, median ms) of the previous size, for the skip prediction
    for n in sizes:
        if last and n > last[0]:
            predicted = last[1] * n / last[0] * 1.5 / 1000
            if predicted > args.max_run_seconds:
                print(f'N={n}: skipped, a run is predicted to take ~{predicted:.0f} s '
                      f'(> --max-run-seconds {args.max_run_seconds:g})', file=sys.stderr)
                continue
        runs, warmup = RUNS.get(n, (10 if n <= 10000 else 3, 1 if n <= 10000 else 0))
        mesh = os.path.join(args.workdir, f'bench-{n}.mesh')
        subprocess.run([sys.executable, os.path.join(HERE, 'gen-mesh.py'), str(n), '-o', mesh], check=True)
        cmd = [args.meshc, 'build', mesh, '--api', args.api]
        print(f'N={n}: {human(os.path.getsize(mesh))} of .mesh, {runs} runs', file=sys.stderr)
        out_bytes = output_size(cmd)
        if hyperfine:
            times = time_hyperfine(cmd, runs, warmup, os.path.join(args.workdir, f'hyperfine-{n}.json'))
        else:
            times = time_loop(cmd, runs, warmup)
        rss = max(peak_rss_kib(cmd, gnu_time) for _ in range(1 if n > 10000 else 3)) / 1024
        median = statistics.median(times)
        last = (n, median)
        row = dict(n=n, mesh_bytes=os.path.getsize(mesh), output_bytes=out_bytes, runs=len(times),
                   median_ms=median, min_ms=min(times), mean_ms=statistics.fmean(times), peak_rss_mib=rss,
                   target=verdict(n, median, rss))
        raw.append({**row, 'times_ms': times})
        rows.append(row)
        print(f'N={n}: median {median:.2f} ms, min {min(times):.2f} ms, peak RSS {rss:.1f} MiB', file=sys.stderr)
        if n > 10000:
            os.remove(mesh)  # large; regenerate with bench/gen-mesh.py

    lines = [
        f'meshc build, commit {commit or "?"}, {os.cpu_count()} CPUs ({cpu}); timing: {timer}; peak RSS: {rss_tool}',
        '',
        '| N | .mesh size | output size | runs | median ms | min ms | peak RSS MiB | target |',
        '|---:|---:|---:|---:|---:|---:|---:|---|',
    ]
    for r in rows:
        lines.append(f'| {r["n"]} | {human(r["mesh_bytes"])} | {human(r["output_bytes"])} | {r["runs"]} '
                     f'| {r["median_ms"]:.2f} | {r["min_ms"]:.2f} | {r["peak_rss_mib"]:.1f} | {r["target"]} |')
    table = '\n'.join(lines) + '\n'
    print()
    print(table, end='')
    with open(os.path.join(args.workdir, 'results.md'), 'w') as f:
        f.write(table)
    with open(os.path.join(args.workdir, 'results.json'), 'w') as f:
        json.dump({'commit': commit, 'cpus': os.cpu_count(), 'cpu': cpu, 'timer': timer, 'rss': rss_tool,
                   'results': raw}, f, indent=1)
    print(f'\n(written to {args.workdir}/results.md and results.json)', file=sys.stderr)


if __name__ == '__main__':
    main()
