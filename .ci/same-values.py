#!/usr/bin/env python3
"""same-values.py [--label TEXT] [--hostile MESH] MESHC.yaml KUSTOMIZE.yaml

Proves that a round trip through `kubectl kustomize` changed no value in meshc's output.

Both files are read with PyYAML's `safe_load_all`, a YAML 1.1 reader: an unquoted `on`, `yes`,
`y`, `no`, `2021-01-01`, `12:30`, `0777`, `1e3`, `null` or `~` comes back as a bool, date, int,
float or None, which is exactly the hazard for manifests read by sigs.k8s.io/yaml. Documents are
indexed by (apiVersion, kind, namespace, name); both sides must hold the same set of documents,
each key once, with identical parsed content: types are compared strictly (`1` is not `true`,
`"1"` is not `1`, a date is not a string), except that an int and a float of the same value are
the same JSON number (kustomize writes meshc's `100.0` as `100`; the API server sees no
difference), which the summary counts; mapping key order is ignored, list order is not.

With --hostile MESH (the CI fixture .ci/yaml-hostile.mesh), every `env NAME "value"` and
`annotation KEY "value"` of that .mesh file must also be read back, on both sides, as exactly that
string wherever meshc puts it (container env of Deployments; annotations on a pod template or on
an object's metadata), and the fixture must cover every value in HOSTILE.

Prints one summary line; exits 0 when everything matches, 1 on a difference, 2 on bad input.
"""
import argparse
import re
import sys

try:
    import yaml
except ImportError:
    sys.exit('same-values: PyYAML is missing (pip install PyYAML)')

# Values that YAML 1.1 readers turn into something else unless quoted. The fixture must use
# every one of them, as an env value and as an annotation value.
HOSTILE = ['on', 'yes', 'no', 'y', '2021-01-01', '12:30', '0777', '1e3', 'null', '~', '*',
           '{{ x }}', ' leading space', 'a\nnewline']

MAX_REPORTED = 20


def load(path):
    """The documents of a multi-document YAML file, empty ones dropped."""
    try:
        with open(path, encoding='utf-8') as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        print(f'same-values: cannot read {path}: {e}', file=sys.stderr)
        sys.exit(2)
    return docs


def key_of(doc):
    if not isinstance(doc, dict):
        return ('?', type(doc).__name__, None, repr(doc)[:40])
    meta = doc.get('metadata') if isinstance(doc.get('metadata'), dict) else {}
    return (doc.get('apiVersion'), doc.get('kind'), meta.get('namespace'), meta.get('name'))


def show_key(key):
    api, kind, ns, name = key
    return f'{api} {kind} {ns + "/" if ns else ""}{name}'


def index(docs, path, problems):
    out = {}
    for i, doc in enumerate(docs):
        key = key_of(doc)
        if key in out:
            problems.append(f'{path}: document {i} {show_key(key)} appears more than once')
        out[key] = doc
    return out


def typed(v):
    return f'{v!r} ({type(v).__name__})'


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def differences(a, b, path, out, respelled):
    """Appends to `out` every place where `a` (meshc) and `b` (kustomize) differ; appends to
    `respelled` the places where an int and a float hold the same number."""
    if len(out) > MAX_REPORTED:
        return
    if is_number(a) and is_number(b) and type(a) is not type(b) and a == b:
        respelled.append(path)
    elif type(a) is not type(b):
        out.append(f'{path or "/"}: meshc {typed(a)} vs kustomize {typed(b)}')
    elif isinstance(a, dict):
        for k in a.keys() | b.keys():
            sub = f'{path}/{k}'
            if k not in b:
                out.append(f'{sub}: dropped by kustomize (was {typed(a[k])})')
            elif k not in a:
                out.append(f'{sub}: added by kustomize ({typed(b[k])})')
            else:
                differences(a[k], b[k], sub, out, respelled)
    elif isinstance(a, list):
        if len(a) != len(b):
            out.append(f'{path}: list of {len(a)} items became {len(b)} items')
        for i, (x, y) in enumerate(zip(a, b)):
            differences(x, y, f'{path}/{i}', out, respelled)
    elif a != b and not (a != a and b != b):  # NaN equals NaN here
        out.append(f'{path}: meshc {typed(a)} vs kustomize {typed(b)}')


# ------------------------------------------------------------------ the hostile fixture

MESH_VALUE = re.compile(r'^\s*(env|annotation)\s+(\S+)\s+"((?:[^"\\]|\\.)*)"', re.M)
ESCAPES = {'n': '\n', 't': '\t', 'r': '\r', '"': '"', '\\': '\\', '$': '$'}


def unescape(raw):
    def one(m):
        c = m.group(1)
        if c.startswith('u{'):
            return chr(int(c[2:-1], 16))
        return ESCAPES.get(c, m.group(0))
    return re.sub(r'\\(u\{[0-9a-fA-F]+\}|.)', one, raw)


def fixture_values(mesh_path):
    """{'env': {NAME: value}, 'annotation': {key: value}} as declared in the .mesh file."""
    try:
        with open(mesh_path, encoding='utf-8') as f:
            text = f.read()
    except OSError as e:
        print(f'same-values: cannot read {mesh_path}: {e}', file=sys.stderr)
        sys.exit(2)
    found = {'env': {}, 'annotation': {}}
    for kind, name, raw in MESH_VALUE.findall(text):
        value = unescape(raw)
        previous = found[kind].setdefault(name, value)
        if previous != value:
            print(f'same-values: {mesh_path}: {kind} {name} has two values', file=sys.stderr)
            sys.exit(2)
    return found


def read_back(docs):
    """Every (env name -> [values]) of Deployments and (annotation key -> [values]) anywhere."""
    env, annotations = {}, {}
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        spec = doc.get('spec') if isinstance(doc.get('spec'), dict) else {}
        template = spec.get('template') if isinstance(spec.get('template'), dict) else {}
        metas = [doc.get('metadata'), template.get('metadata')]
        for meta in metas:
            if isinstance(meta, dict) and isinstance(meta.get('annotations'), dict):
                for k, v in meta['annotations'].items():
                    annotations.setdefault(k, []).append(v)
        pod = template.get('spec') if isinstance(template.get('spec'), dict) else {}
        for container in pod.get('containers') or []:
            for var in container.get('env') or []:
                if isinstance(var, dict) and 'name' in var:
                    env.setdefault(var['name'], []).append(var.get('value'))
    return {'env': env, 'annotation': annotations}


def check_hostile(mesh_path, sides, problems):
    """Returns how many (value, place, side) readings were checked."""
    declared = fixture_values(mesh_path)
    for kind in ('env', 'annotation'):
        missing = [v for v in HOSTILE if v not in declared[kind].values()]
        if missing:
            problems.append(f'{mesh_path}: no {kind} carries the hostile value(s) {missing!r}')
    checked = 0
    for side, docs in sides:
        got = read_back(docs)
        for kind in ('env', 'annotation'):
            for name, want in declared[kind].items():
                values = got[kind].get(name)
                if not values:
                    problems.append(f'{side}: {kind} {name} (declared {want!r}) is not in the output')
                    continue
                for v in values:
                    checked += 1
                    if type(v) is not str or v != want:
                        problems.append(f'{side}: {kind} {name} was read back as {typed(v)}, '
                                        f'not the string {want!r}')
    return checked


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--label', help='what the files are, for the summary line')
    ap.add_argument('--hostile', metavar='MESH', help='also check the hostile string values of this fixture')
    ap.add_argument('meshc')
    ap.add_argument('kustomize')
    args = ap.parse_args()
    label = args.label or args.meshc

    problems = []
    ours, theirs = load(args.meshc), load(args.kustomize)
    a, b = index(ours, args.meshc, problems), index(theirs, args.kustomize, problems)
    if not a:
        problems.append(f'{args.meshc}: no documents')
    for key in sorted(a.keys() - b.keys(), key=str):
        problems.append(f'{show_key(key)}: missing from kustomize output')
    for key in sorted(b.keys() - a.keys(), key=str):
        problems.append(f'{show_key(key)}: only in kustomize output')
    changed = 0
    respelled = []
    for key in sorted(a.keys() & b.keys(), key=str):
        diffs = []
        differences(a[key], b[key], '', diffs, respelled)
        if diffs:
            changed += 1
            problems += [f'{show_key(key)}: {d}' for d in diffs]

    extra = ''
    if respelled:
        extra += f' ({len(respelled)} number(s) respelled int<->float with the same value)'
    if args.hostile:
        n = check_hostile(args.hostile, [('meshc', ours), ('kustomize', theirs)], problems)
        extra += f', {n} hostile string readings exact'

    for p in problems[:MAX_REPORTED * 5]:
        print(f'same-values: {label}: {p}')
    if problems:
        print(f'same-values: {label}: FAILED: {len(problems)} problem(s); {changed} of {len(a)} '
              f'documents changed by the kustomize round trip')
        return 1
    print(f'same-values: {label}: {len(a)} documents identical after the kustomize round trip{extra}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
