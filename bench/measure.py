#!/usr/bin/env python3
"""measure.py --meshc BIN --reference BIN [options] -- meshc against a fixed reference, in one run.

Called by bench/run.sh (which builds both first); see bench/README.md. For each N it generates
`gen-mesh.py N --shape hello-chain`, checks that meshc and the reference program
(bench/lower-bound) print the same bytes, then times both in one interleaved loop (meshc,
reference, reference, meshc, ...) so that the machine's other load hits both alike, and reports
the ratio of the two, peak RSS and the load average. Optionally a second meshc binary
(--baseline, e.g. an older build) runs in the same loop. The stage split (parse, check, emit,
write, freeing) comes from callgrind's instruction counts, which the load does not change.
Two stress cases (100 000 unknown `calls`, 100 000 `env` lines) are timed on their own.
With --folders N,... it instead times the output folder against a plain build: `build FILE` to
/dev/null, `build --check -o DIR FILE` on an up-to-date DIR and `build -o NEW FILE` into a new
folder (removed, untimed, before each run), alternating, and counts their instructions.
With a Pkl binary (--pkl, or `pkl` on PATH), bench/pkl/hello-chain.pkl, which writes the same
objects, is timed against meshc too (up to N = 10 000; fewer rounds: it is slow).
"""
import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# N -> timed repetitions of each program (after one warm-up run of each).
RUNS = {10: 60, 1000: 20, 10000: 7, 100000: 2}
STRESS = ('unknown-calls', 'env-lines')
# Pkl: the largest N it is timed at, and the largest N whose objects are compared with meshc's
# (by PyYAML, slow on large streams).
PKL_MAX, PKL_COMPARE_MAX = 10000, 1000


def human(n):
    for unit in ('B', 'KiB', 'MiB', 'GiB'):
        if n < 1024 or unit == 'GiB':
            return f'{n:.0f} {unit}' if unit == 'B' else f'{n:.1f} {unit}'
        n /= 1024


def load():
    with open('/proc/loadavg') as f:
        return f.read().split()[0]


def generate(workdir, shape, n):
    path = os.path.join(workdir, f'{shape}-{n}.mesh')
    subprocess.run([sys.executable, os.path.join(HERE, 'gen-mesh.py'), str(n), '--shape', shape, '-o', path], check=True)
    return path


def digest(cmd):
    """(exit status, bytes printed, sha256 of them) of one run."""
    h, total = hashlib.sha256(), 0
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    while chunk := p.stdout.read(1 << 20):
        h.update(chunk)
        total += len(chunk)
    return p.wait(), total, h.hexdigest()


def timed(cmd):
    """(wall ms, cpu ms, exit status) of one run, output to /dev/null."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    return wall, (usage.ru_utime + usage.ru_stime) * 1000, os.waitstatus_to_exitcode(status)


def peak_rss_mib(cmd):
    """Peak RSS of one run, by GNU time (a child of this Python process would report the
    resident size it inherited at fork), or None without /usr/bin/time."""
    if not os.access('/usr/bin/time', os.X_OK):
        return None
    p = subprocess.run(['/usr/bin/time', '-f', '%M', *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(p.stderr.split()[-1]) / 1024


def interleaved(commands, runs, warmup=True):
    """Times every command `runs` times, rotating the order each round. name -> list of runs."""
    names = list(commands)
    for name in names if warmup else ():  # page cache, binary in memory
        timed(commands[name])
    results = {name: [] for name in names}
    for i in range(runs):
        order = names[i % len(names):] + names[:i % len(names)]
        if i % 2:
            order.reverse()
        for name in order:
            results[name].append(timed(commands[name]))
    return results


def same_objects(a, b):
    """Whether the YAML streams two commands print hold the same documents (None without
    PyYAML): the Pkl program writes the same objects as meshc, not the same bytes."""
    try:
        import yaml
    except ImportError:
        return None
    docs = [[d for d in yaml.safe_load_all(subprocess.run(cmd, capture_output=True, check=True).stdout) if d is not None]
            for cmd in (a, b)]
    return docs[0] == docs[1]


def summary(runs, cmd):
    walls = [r[0] for r in runs]
    return dict(median_ms=statistics.median(walls), min_ms=min(walls),
                cpu_ms=statistics.median(r[1] for r in runs), peak_rss_mib=peak_rss_mib(cmd), times_ms=walls)


def mib(value):
    return '?' if value is None else f'{value:.1f}'



def pair_ratio(a, b, column=0):
    """Median of the per-round ratios a/b (column 0: wall clock, 1: CPU time): both ran back
    to back under the same load."""
    return statistics.median(x[column] / max(y[column], 1e-3) for x, y in zip(a, b))


# Stage split from callgrind: the functions whose inclusive counts are read (the first of
# several names that callgrind lists; the stages are differences of these).
STAGE_FUNCTIONS = {
    'total': ('PROGRAM TOTALS',),
    'build': ('meshc::cli::build::run', 'meshc::cli::build'),
    # `build` to stdout: `compile_to`, which plans (`plan_recording`), then writes each object
    # (`emit::write`) and hands each document out (`write_document`). Before the plan/write
    # split: `emit_recording` and `write_stream`; before `compile_to`, `compile` and the CLI's
    # `write_documents`.
    'compile': ('meshc::compile_to', 'meshc::compile'),
    'analyze': ('meshc::check_sources', 'meshc::analyze'),
    'parse': ('meshc::syntax::parse',),
    'pest': ('meshc::syntax::parse_tree',),
    'drop_ast': ('core::ptr::drop_in_place<meshc::ast::File>',),
    'emit': ('meshc::emit::plan_recording', 'meshc::emit::emit', 'meshc::emit::emit_recording'),
    'emit_write': ('meshc::emit::write',),
    'write': ('meshc::write_document', 'meshc::write_stream', 'meshc::cli::output::write_documents'),
}


def stages(meshc, mesh, workdir):
    """Instruction counts per stage of one `meshc build` under callgrind, or None."""
    if not shutil.which('valgrind') or not shutil.which('callgrind_annotate'):
        return None
    out = os.path.join(workdir, 'callgrind.out')
    subprocess.run(['valgrind', '--tool=callgrind', f'--callgrind-out-file={out}', meshc, 'build', mesh],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    text = subprocess.run(['callgrind_annotate', '--inclusive=yes', '--threshold=100', out],
                          capture_output=True, text=True, check=True).stdout
    os.remove(out)
    counts = {}
    for label, functions in STAGE_FUNCTIONS.items():
        for function in functions:
            pattern = re.escape(function) + (r'\s*$' if function == 'PROGRAM TOTALS' else r' \[')
            found = [int(m.group(1).replace(',', '')) for m in
                     re.finditer(r'^\s*([\d,]+) \([^)]*\)\s+(?:\?\?\?:)?' + pattern, text, re.M)]
            if found:
                counts[label] = max(found)
                break
        else:
            if label in ('drop_ast', 'emit_write'):  # inlined (counted with the check), or older
                counts[label] = 0
                continue
            print(f'measure: callgrind lists none of {functions}; the stage split is left out', file=sys.stderr)
            return None
    c = counts
    split = {
        'parse: pest': c['pest'],
        'parse: lowering': c['parse'] - c['pest'],
        # Parsing and checking without the parser: the checker (whatever of it is inlined).
        'check': c['analyze'] - c['parse'] - c['drop_ast'],
    }
    if c['emit_write']:  # plan, then write each kind (the document's hand-over inside)
        split.update({
            'emit: plan': c['emit'],
            'emit: write objects': c['emit_write'] - c['write'],
            'write': c['write'],
            'free AST, model, output': c['drop_ast'] + (c['compile'] - c['analyze'] - c['emit'] - c['emit_write'])
                                       + (c['build'] - c['compile']),
        })
    else:
        split.update({
            'emit': c['emit'],
            'write': c['write'],
            'free AST, model, output': c['drop_ast'] + (c['compile'] - c['analyze'] - c['emit'])
                                       + (c['build'] - c['compile'] - c['write']),
        })
    split['rest (start, read, exit)'] = c['total'] - c['build']
    return c['total'], split


def callgrind_total(cmd, workdir):
    """Instructions of one run under callgrind (output to /dev/null), or None."""
    if not shutil.which('valgrind'):
        return None
    out = os.path.join(workdir, 'callgrind.folder.out')
    subprocess.run(['valgrind', '--tool=callgrind', f'--callgrind-out-file={out}', *cmd],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total = None
    with open(out) as f:
        for line in f:
            if line.startswith('summary:') or line.startswith('totals:'):
                total = int(line.split()[1])
    os.remove(out)
    return total


def folders(binaries, sizes, runs, workdir, callgrind_sizes):
    """`build -o DIR` and `build --check -o DIR` against a plain build, for each binary
    (name -> path): wall and CPU medians of `runs` alternating rounds, and the median of the
    per-round ratios to the plain build of the same binary. Returns Markdown lines."""
    lines = ['| meshc | N | files | runs | plain wall ms | plain CPU ms | --check -o wall ms | --check -o CPU ms '
             '| fresh -o wall ms | fresh -o CPU ms | --check / plain CPU | fresh / plain CPU | --check / plain wall '
             '| fresh / plain wall | load |',
             '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|']
    instructions = []
    for n in sizes:
        mesh = generate(workdir, 'hello-chain', n)
        commands, fresh_dirs = {}, {}
        for name, meshc in binaries.items():
            up_to_date = os.path.join(workdir, f'folder-{name}-{n}')
            fresh = os.path.join(workdir, f'folder-{name}-{n}-fresh')
            shutil.rmtree(up_to_date, ignore_errors=True)
            subprocess.run([meshc, 'build', '-o', up_to_date, mesh], check=True, stderr=subprocess.DEVNULL)
            commands[f'{name} plain'] = [meshc, 'build', mesh]
            commands[f'{name} check'] = [meshc, 'build', '--check', '-o', up_to_date, mesh]
            commands[f'{name} fresh'] = [meshc, 'build', '-o', fresh, mesh]
            fresh_dirs[f'{name} fresh'] = fresh
        files = sum(len(f) for _, _, f in os.walk(os.path.join(workdir, f'folder-{next(iter(binaries))}-{n}')))
        before = load()
        print(f'folders N={n}: {files} files, {runs} alternating rounds', file=sys.stderr)
        names = list(commands)
        results = {name: [] for name in names}
        for i in range(runs + 1):  # round 0 warms up
            order = names[i % len(names):] + names[:i % len(names)]
            if i % 2:
                order.reverse()
            for name in order:
                if name in fresh_dirs:
                    shutil.rmtree(fresh_dirs[name], ignore_errors=True)
                    os.sync()
                r = timed(commands[name])
                if r[2] != 0:
                    sys.exit(f'measure: {" ".join(commands[name])} exited {r[2]}')
                if i:
                    results[name].append(r)
        for name in binaries:
            plain, check, fresh = (results[f'{name} {k}'] for k in ('plain', 'check', 'fresh'))
            med = lambda rs, c: statistics.median(r[c] for r in rs)
            lines.append(f'| {name} | {n} | {files} | {runs} | {med(plain, 0):.0f} | {med(plain, 1):.0f} '
                         f'| {med(check, 0):.0f} | {med(check, 1):.0f} | {med(fresh, 0):.0f} | {med(fresh, 1):.0f} '
                         f'| {pair_ratio(check, plain, 1):.2f}× | {pair_ratio(fresh, plain, 1):.2f}× '
                         f'| {pair_ratio(check, plain):.2f}× | {pair_ratio(fresh, plain):.2f}× | {before}–{load()} |')
            print(lines[-1], file=sys.stderr)
        if n in callgrind_sizes:
            for name in binaries:
                shutil.rmtree(fresh_dirs[f'{name} fresh'], ignore_errors=True)
                counts = [callgrind_total(commands[f'{name} {k}'], workdir) for k in ('plain', 'check', 'fresh')]
                if None not in counts:
                    instructions.append(f'| {name} | {n} | {counts[0] / 1e6:.0f} M | {counts[1] / 1e6:.0f} M '
                                        f'| {counts[2] / 1e6:.0f} M | {counts[1] / counts[0]:.2f}× | {counts[2] / counts[0]:.2f}× |')
                    print(instructions[-1], file=sys.stderr)
        for name in binaries:
            shutil.rmtree(os.path.join(workdir, f'folder-{name}-{n}'), ignore_errors=True)
            shutil.rmtree(fresh_dirs[f'{name} fresh'], ignore_errors=True)
    if instructions:
        lines += ['', 'Instructions (callgrind, one run each):', '',
                  '| meshc | N | plain | --check -o | fresh -o | --check / plain | fresh / plain |',
                  '|---|---:|---:|---:|---:|---:|---:|', *instructions]
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--meshc', default=os.path.join(ROOT, 'target', 'release', 'meshc'))
    ap.add_argument('--reference', default=os.path.join(ROOT, 'target', 'lower-bound', 'release', 'lower-bound'))
    ap.add_argument('--baseline', help='another meshc binary timed in the same loop (e.g. an older build)')
    ap.add_argument('--sizes', default='10,1000,10000,100000')
    ap.add_argument('--stages', default='1000,10000', help='sizes to split into stages under callgrind ("" for none)')
    ap.add_argument('--stress', type=int, default=100000, help='N of the stress cases (0 to skip them)')
    ap.add_argument('--workdir', default=os.path.join(ROOT, 'target', 'bench'))
    ap.add_argument('--pkl', default=shutil.which('pkl'),
                    help='a Pkl binary: also time bench/pkl/hello-chain.pkl against meshc (default: pkl on PATH)')
    ap.add_argument('--folders', help='sizes to time `build -o DIR` and `build --check -o DIR` at (only that)')
    ap.add_argument('--folder-runs', type=int, default=5, help='alternating rounds of --folders')
    args = ap.parse_args()
    if args.folders:
        os.makedirs(args.workdir, exist_ok=True)
        binaries = {'meshc': args.meshc, **({'baseline': args.baseline} if args.baseline else {})}
        stage_sizes = {int(s) for s in args.stages.split(',') if s.strip()}
        lines = folders(binaries, sorted({int(s) for s in args.folders.split(',') if s.strip()}),
                        args.folder_runs, args.workdir, stage_sizes)
        table = '\n'.join(lines) + '\n'
        print(table, end='')
        with open(os.path.join(args.workdir, 'folders.md'), 'w') as f:
            f.write(table)
        return
    sizes = sorted({int(s) for s in args.sizes.split(',') if s.strip()})
    stage_sizes = {int(s) for s in args.stages.split(',') if s.strip()}
    os.makedirs(args.workdir, exist_ok=True)

    commit = subprocess.run(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
    cpu = next((line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name')), platform.processor())
    head = f'meshc at commit {commit or "?"}, {os.cpu_count()} CPUs ({cpu}), load average {load()} at the start'
    print(head, file=sys.stderr)

    rows, stage_rows, stress_rows = [], [], []
    for n in sizes:
        mesh = generate(args.workdir, 'hello-chain', n)
        commands = {'meshc': [args.meshc, 'build', mesh], 'reference': [args.reference, str(n), mesh]}
        if args.baseline:
            commands['baseline'] = [args.baseline, 'build', mesh]
        printed = {name: digest(cmd) for name, cmd in commands.items()}
        for name, (status, size, sha) in printed.items():
            if status != 0:
                sys.exit(f'measure: {" ".join(commands[name])} exited {status}')
            if sha != printed['meshc'][2]:
                sys.exit(f'measure: N={n}: {name} printed other bytes than meshc ({size} vs {printed["meshc"][1]})')
        runs = RUNS.get(n, 10 if n <= 10000 else 2)
        before = load()
        print(f'N={n}: {human(os.path.getsize(mesh))} of .mesh, {human(printed["meshc"][1])} of identical output; '
              f'{runs} interleaved runs each', file=sys.stderr)
        results = interleaved(commands, runs)
        row = dict(n=n, mesh_bytes=os.path.getsize(mesh), output_bytes=printed['meshc'][1], runs=runs,
                   load=f'{before}–{load()}', **{name: summary(r, commands[name]) for name, r in results.items()},
                   ratio=pair_ratio(results['meshc'], results['reference']),
                   cpu_ratio=pair_ratio(results['meshc'], results['reference'], 1))
        if args.baseline:
            row['baseline_ratio'] = pair_ratio(results['baseline'], results['reference'])
            row['speedup'] = pair_ratio(results['baseline'], results['meshc'])
            row['cpu_speedup'] = pair_ratio(results['baseline'], results['meshc'], 1)
        if args.pkl and n <= PKL_MAX:
            pkl = [args.pkl, 'eval', '-p', f'n={n}', os.path.join(HERE, 'pkl', 'hello-chain.pkl')]
            same = same_objects(commands['meshc'], pkl) if n <= PKL_COMPARE_MAX else None
            if same is False:
                sys.exit(f'measure: N={n}: bench/pkl/hello-chain.pkl writes other objects than meshc')
            r = interleaved({'meshc': commands['meshc'], 'pkl': pkl}, min(runs, 3))
            row['pkl'] = dict(**summary(r['pkl'], pkl), same=same, runs=min(runs, 3),
                              ratio=pair_ratio(r['pkl'], r['meshc']), cpu_ratio=pair_ratio(r['pkl'], r['meshc'], 1))
        rows.append(row)
        print(f'N={n}: meshc {row["meshc"]["median_ms"]:.1f} ms, reference {row["reference"]["median_ms"]:.1f} ms, '
              f'ratio {row["ratio"]:.1f}, peak RSS {mib(row["meshc"]["peak_rss_mib"])} MiB', file=sys.stderr)
        if n in stage_sizes:
            split = stages(args.meshc, mesh, args.workdir)
            if split:
                stage_rows.append((n, *split))
        if n > 10000:
            os.remove(mesh)

    for shape in STRESS if args.stress else ():
        mesh = generate(args.workdir, shape, args.stress)
        cmd = [args.meshc, 'build', mesh]
        r = interleaved({shape: cmd}, 2, warmup=False)[shape]
        stress_rows.append(dict(shape=shape, n=args.stress, status=r[0][2], **summary(r, cmd)))
        print(f'{shape} {args.stress}: {stress_rows[-1]["median_ms"]:.0f} ms (exit {r[0][2]})', file=sys.stderr)
        os.remove(mesh)

    lines = [head + f', {load()} at the end.', '',
             'Wall: median wall clock of interleaved runs; CPU: median user + system time; ratios: median of '
             'the per-round ratios meshc / reference (bench/lower-bound, same output bytes).', '']
    baseline = ' | baseline wall ms | baseline ratio | speed-up wall, CPU' if args.baseline else ''
    lines += [f'| N | .mesh | output | runs | meshc wall ms | meshc CPU ms | reference wall ms | ratio wall | ratio CPU'
              f'{baseline} | meshc peak RSS MiB | reference peak RSS MiB | load |',
              '|---:|---:|---:|---:|---:|---:|---:|---:|---:|' + ('---:|---:|---:|' if args.baseline else '') + '---:|---:|---|']
    for r in rows:
        extra = (f' | {r["baseline"]["median_ms"]:.1f} | {r["baseline_ratio"]:.1f}× | {r["speedup"]:.2f}×, {r["cpu_speedup"]:.2f}×'
                 if args.baseline else '')
        lines.append(f'| {r["n"]} | {human(r["mesh_bytes"])} | {human(r["output_bytes"])} | {r["runs"]} '
                     f'| {r["meshc"]["median_ms"]:.1f} | {r["meshc"]["cpu_ms"]:.1f} | {r["reference"]["median_ms"]:.1f} '
                     f'| {r["ratio"]:.1f}× | {r["cpu_ratio"]:.1f}×{extra} '
                     f'| {mib(r["meshc"]["peak_rss_mib"])} | {mib(r["reference"]["peak_rss_mib"])} | {r["load"]} |')
    pkl_rows = [r for r in rows if 'pkl' in r]
    if pkl_rows:
        lines += ['', 'Pkl (bench/pkl/hello-chain.pkl, the same objects; "same": compared document by document):', '',
                  '| N | runs | Pkl wall ms | Pkl CPU ms | Pkl peak RSS MiB | Pkl / meshc wall | Pkl / meshc CPU | same |',
                  '|---:|---:|---:|---:|---:|---:|---:|---|']
        for r in pkl_rows:
            p = r['pkl']
            same = {True: 'yes', None: 'not compared'}[p['same']]
            lines.append(f'| {r["n"]} | {p["runs"]} | {p["median_ms"]:.0f} | {p["cpu_ms"]:.0f} | {mib(p["peak_rss_mib"])} '
                         f'| {p["ratio"]:.1f}× | {p["cpu_ratio"]:.1f}× | {same} |')
    if stage_rows:
        labels = list(stage_rows[0][2])
        lines += ['', 'Stage split of meshc (callgrind instructions, % of the whole process):', '',
                  '| N | instructions | ' + ' | '.join(labels) + ' |', '|---:|---:|' + '---:|' * len(labels)]
        for n, total, split in stage_rows:
            lines.append(f'| {n} | {total / 1e6:.0f} M | ' + ' | '.join(f'{100 * split[k] / total:.1f} %' for k in labels) + ' |')
    if stress_rows:
        lines += ['', '| stress case | N | exit | wall ms | CPU ms | peak RSS MiB |', '|---|---:|---:|---:|---:|---:|']
        for s in stress_rows:
            lines.append(f'| {s["shape"]} | {s["n"]} | {s["status"]} | {s["median_ms"]:.0f} | {s["cpu_ms"]:.0f} '
                         f'| {mib(s["peak_rss_mib"])} |')
    table = '\n'.join(lines) + '\n'
    print()
    print(table, end='')
    with open(os.path.join(args.workdir, 'results.md'), 'w') as f:
        f.write(table)
    with open(os.path.join(args.workdir, 'results.json'), 'w') as f:
        json.dump({'commit': commit, 'cpus': os.cpu_count(), 'cpu': cpu, 'results': rows,
                   'stages': stage_rows, 'stress': stress_rows}, f, indent=1)
    print(f'\n(written to {args.workdir}/results.md and results.json)', file=sys.stderr)


if __name__ == '__main__':
    main()
