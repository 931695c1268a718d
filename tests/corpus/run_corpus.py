#!/usr/bin/python3
"""Runs the real-model corpus (tests/corpus/models.tsv) through dfgpar and
compares the emitted PyTorch modules with ONNX Runtime.

    /usr/bin/python3 tests/corpus/run_corpus.py DFGPAR [NAME...]
        [--cache DIR] [--workers P] [--work DIR] [--json FILE]
        [--timeout S] [--pep8-strict]

DFGPAR is the built CLI (build/dfgpar). Models come from
DIR/corpus/NAME.onnx (scripts/fetch_corpus.py puts them there; DIR is
$DFGPAR_CACHE, else ~/.cache/dfgpar); a model that is not cached is
skipped. For each model:

  1. a seeded input (numpy, seed = crc32 of the name; floats uniform in
     [-1, 1), integers in [0, 10), or the value models.tsv gives), with the
     shapes models.tsv gives for symbolic dimensions;
  2. ONNX Runtime's output on it (scripts/ort_run.js, npm onnxruntime-node,
     CPU, all graph optimisations);
  3. `dfgpar analyze MODEL --workers P` and
     `dfgpar emit MODEL -o DIR --workers P --fork always`, with
     `--input-shape NAME=d0,d1,...` for the symbolic inputs when the CLI's
     help mentions that option;
  4. the emitted model.py, scripted with TorchScript, run forked
     (`forward`, every region forked) and serial (`forward_serial`), each
     output compared with ONNX Runtime's: |got - want| <= 1e-4 + 1e-3 |want|
     elementwise. Where that fails, the module also runs in float64, and the
     output still passes when it is no further from that than ONNX
     Runtime's own fp32 output (x 1.5), as tests/pytorch/compare.py does.
     Failing that too, the translation is checked in float64, where kernel
     rounding cannot hide a mistake: the float64 module must equal ONNX
     Runtime's fp32 output within 1e-4 + 1e-3 max|want|, and the fp32
     module must stay within 1e-2 max|want| of it. Such a pass is labelled
     'PyTorch kernel rounding' with both distances (M-LSD: PyTorch's fp32
     convolutions round 5x more than ONNX Runtime's).

It prints one line per model: PASS/FAIL/SKIP, analyze, emit (with the first
error line, and the pycodestyle count of the emitted code), match (with the
largest absolute difference), then the line 'N passed, N failed' (', N
skipped'). Exit status: 0 every cached model passed, 1 a model failed, 2
usage or no ONNX Runtime. PEP 8 problems are reported, and fail a model
only with --pep8-strict. Needs Debian's python3-torch, python3-onnx,
python3-numpy (pycodestyle optional), node and onnxruntime-node in the
repository's node_modules (`npm install --ignore-scripts`).
"""

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
ORT_RUN = os.path.join(ROOT, 'scripts', 'ort_run.js')
sys.path.insert(0, os.path.join(ROOT, 'scripts'))

ATOL = 1e-4
RTOL = 1e-3


# ------------------------------------------------------------------ inputs

def parse_assignments(text, what):
    """'a=1,2;b=3' -> {'a': [1, 2], 'b': [3]} ('-' is empty)."""
    out = {}
    text = text.strip()
    if text in ('', '-'):
        return out
    for item in text.split(';'):
        name, sep, value = item.strip().rpartition('=')
        if not sep or not name:
            raise ValueError('bad %s entry %r (NAME=...)' % (what, item))
        out[name] = [float(v) if '.' in v or 'e' in v.lower() else int(v)
                     for v in value.split(',')] if value else []
    return out


def graph_inputs(model):
    inits = set(t.name for t in model.graph.initializer)
    return [v for v in model.graph.input if v.name not in inits]


def make_inputs(model, name, shapes, values):
    """Seeded arrays for the model's inputs, in graph order."""
    import numpy as np
    import onnx
    from onnx import helper
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    arrays = []
    for v in graph_inputs(model):
        tt = v.type.tensor_type
        dtype = helper.tensor_dtype_to_np_dtype(tt.elem_type) \
            if hasattr(helper, 'tensor_dtype_to_np_dtype') \
            else onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[tt.elem_type]
        if v.name in shapes:
            shape = list(shapes[v.name])
        else:
            shape = []
            for d in tt.shape.dim:
                if not d.HasField('dim_value'):
                    if v.name in values:
                        shape = None  # a value-only input keeps the scalar
                        break
                    raise ValueError(
                        'input %r has a symbolic dimension; give its shape '
                        'in models.tsv (input_shapes)' % v.name)
                shape.append(d.dim_value)
            if shape is None:
                shape = []
        if v.name in values:
            vals = values[v.name]
            arr = np.full(shape, vals[0] if len(vals) == 1 else vals,
                          dtype=dtype)
        elif np.issubdtype(dtype, np.floating):
            arr = rng.uniform(-1.0, 1.0, size=shape).astype(dtype)
        elif dtype == np.bool_:
            arr = rng.integers(0, 2, size=shape).astype(dtype)
        else:
            arr = rng.integers(0, 10, size=shape).astype(dtype)
        arrays.append((v.name, arr))
    return arrays


def save_pb(path, name, arr):
    from onnx import numpy_helper
    with open(path, 'wb') as f:
        f.write(numpy_helper.from_array(arr, name).SerializeToString())


def load_pb(path):
    import onnx
    from onnx import numpy_helper
    t = onnx.TensorProto()
    with open(path, 'rb') as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


# ------------------------------------------------------------------ steps

def run(cmd, timeout, cwd=None):
    """(returncode, stdout, stderr); a timeout is returncode 124."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout, cwd=cwd)
        return r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        def text(x):
            return x.decode(errors='replace') if isinstance(x, bytes) \
                else (x or '')
        return 124, text(e.stdout), text(e.stderr) + \
            '\ntimed out after %d s' % timeout


def first_error(stderr, stdout='', rc=None):
    lines = [ln.strip() for ln in (stderr + '\n' + stdout).splitlines()
             if ln.strip()]
    for ln in lines:
        if 'error' in ln.lower() or 'timed out' in ln:
            return ln
    for ln in lines:
        if 'warning' not in ln.lower():
            return ln
    return lines[-1] if lines else 'exit status %s' % rc


def count_warnings(stderr):
    return sum(1 for ln in stderr.splitlines() if 'warning' in ln.lower())


def cli_help(dfgpar, command):
    _, out, err = run([dfgpar, command, '--help'], 60)
    return out + err


def pep8_count(path):
    """({code: count}, longest line) of pycodestyle, or (None, n)."""
    longest = 0
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            longest = max(longest, len(line.rstrip('\n')))
    try:
        import pycodestyle
    except ImportError:
        return None, longest
    style = pycodestyle.Checker(path, quiet=True)
    style.check_all()
    counts = {k: v for k, v in style.report.counters.items()
              if k in style.report.messages}
    return counts, longest


# ------------------------------------------------------------------ compare

def compare_main(argv):
    """Child process: runs DIR/model.py on the inputs, compares with the
    references, prints one JSON object (a crash stays in this process)."""
    p = argparse.ArgumentParser(prog='run_corpus.py --compare')
    p.add_argument('dir')
    p.add_argument('--inputs', nargs='+', required=True)
    p.add_argument('--refs', nargs='+', required=True)
    a = p.parse_args(argv)
    import numpy as np
    import torch
    torch.set_num_threads(1)
    torch.set_num_interop_threads(2)
    res = {'ok': False, 'max_abs': None, 'error': ''}
    try:
        spec = importlib.util.spec_from_file_location(
            'emitted_model', os.path.join(a.dir, 'model.py'))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        model = torch.jit.script(mod.Model().eval())
    except Exception as e:  # noqa: BLE001 (any failure is the result)
        res['error'] = 'compile: %s' % one_line(e)
        print(json.dumps(res))
        return 0
    ins = [load_pb(f) for f in a.inputs]
    wants = [load_pb(f) for f in a.refs]
    xs = [torch.from_numpy(np.array(x)) for x in ins]  # writable copies
    worst = 0.0
    failures = []
    exact = None
    for label, fn in (('forked', model.forward),
                      ('serial', model.forward_serial)):
        try:
            with torch.no_grad():
                got = fn(*xs)
        except Exception as e:  # noqa: BLE001
            res['error'] = '%s run: %s' % (label, one_line(e))
            print(json.dumps(res))
            return 0
        if isinstance(got, torch.Tensor):
            got = (got,)
        if len(got) != len(wants):
            failures.append('%s: %d outputs, ORT has %d'
                            % (label, len(got), len(wants)))
            continue
        for k, (g, w) in enumerate(zip(got, wants)):
            g = g.numpy()
            if g.shape != w.shape:
                failures.append('%s output %d: shape %s, ORT %s'
                                % (label, k, list(g.shape), list(w.shape)))
                continue
            if g.dtype == np.bool_ or w.dtype == np.bool_:
                bad = g != w
                err = float(bad.sum())
            else:
                diff = np.abs(g.astype(np.float64) - w.astype(np.float64))
                err = float(np.nanmax(diff)) if diff.size else 0.0
                bad = ~(diff <= ATOL + RTOL * np.abs(w.astype(np.float64)))
                bad &= ~(np.isnan(g) & np.isnan(w))
            worst = max(worst, err)
            if not bad.any():
                continue
            # fp32 rounding of the model itself: accept what is as close to
            # the float64 result as ONNX Runtime's own fp32 output is.
            if exact is None:
                exact = float64_outputs(model, mod, xs)
            if isinstance(exact, list) and k < len(exact) and \
                    exact[k].shape == w.shape:
                mine = float(np.abs(g - exact[k]).max())
                theirs = float(np.abs(w - exact[k]).max())
                if mine <= 1.5 * theirs:
                    res.setdefault('fp64', []).append(
                        '%s output %d: %.3g vs ORT %.3g from float64'
                        % (label, k, mine, theirs))
                    continue
                # The translation itself, checked where kernel rounding
                # cannot hide a mistake: the module in float64 must equal
                # ONNX Runtime's fp32 output up to the tolerance taken
                # relative to the output's magnitude, and its own fp32 run
                # must stay within 1e-2 of that magnitude. Reported apart
                # ('kernel rounding'): PyTorch's fp32 convolutions round
                # more than ONNX Runtime's on some models (M-LSD).
                scale = float(np.abs(w).max()) if w.size else 0.0
                if theirs <= ATOL + RTOL * scale and \
                        mine <= 1e-2 * max(scale, 1.0):
                    res.setdefault('rounding', []).append(
                        '%s output %d: fp32 %.3g vs ORT %.3g from float64 '
                        '(|output| <= %.3g)' % (label, k, mine, theirs, scale))
                    continue
            failures.append('%s output %d: %d of %d elements off, max abs '
                            '%.3g' % (label, k, int(bad.sum()), bad.size,
                                      err))
    res['max_abs'] = worst
    res['ok'] = not failures
    res['error'] = '; '.join(failures[:2])
    print(json.dumps(res))
    return 0


def float64_outputs(model, mod, xs):
    """The module's outputs in float64 (a list of arrays), or None."""
    import torch
    try:
        m64 = torch.jit.script(mod.Model().eval().double())
        with torch.no_grad():
            out = m64.forward_serial(*[x.double() if x.is_floating_point()
                                       else x for x in xs])
        if isinstance(out, torch.Tensor):
            out = (out,)
        return [o.numpy().astype('float64') for o in out]
    except Exception:  # noqa: BLE001 (float64 is a fallback only)
        return None


def one_line(e):
    text = str(e).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return type(e).__name__
    # The TorchScript interpreter starts with a generic line and a trace
    # and ends with the error that was raised: keep that one.
    raised = [ln for ln in lines if re.match(r'^[A-Za-z_.]*(Error|Exception):',
                                             ln)]
    if 'TorchScript interpreter' in lines[0] and raised:
        return raised[-1][:300]
    return ('%s: %s' % (type(e).__name__, lines[0]))[:300]


# ------------------------------------------------------------------ driver

def check_ort():
    if shutil.which('node') is None:
        return 'node is not installed'
    rc, _, err = run(['node', '-e', 'require("onnxruntime-node")'], 120,
                     cwd=ROOT)
    if rc != 0:
        return ('cannot load onnxruntime-node from %s/node_modules '
                '(npm install --ignore-scripts): %s'
                % (ROOT, first_error(err)))
    return ''


def analyze_summary(out):
    nodes = re.search(r'^nodes\s+(\d+) loaded, (\d+) after', out, re.M)
    work = re.search(r'^work W\s+([\d.]+ \S+)', out, re.M)
    parts = []
    if nodes:
        parts.append('%s nodes, %s after folding' % nodes.groups())
    if work:
        parts.append('W %s' % work.group(1))
    return ', '.join(parts), (int(nodes.group(1)) if nodes else None)


def run_model(row, a, dfgpar, caps, workroot, path=None, extra=()):
    """One model through the steps; path overrides the cached model that
    dfgpar reads (ONNX Runtime and the inputs always use the cached one),
    extra are more options for both dfgpar commands."""
    import onnx
    name = row['name']
    res = {'name': name, 'package': row['package'], 'status': 'FAIL',
           'analyze': '-', 'emit': '-', 'match': '-', 'pep8': None}
    ref_path = os.path.join(a.cache, 'corpus', name + '.onnx')
    path = path or ref_path
    if not os.path.isfile(ref_path):
        res['status'] = 'SKIP'
        res['analyze'] = 'not cached (scripts/fetch_corpus.py %s)' % name
        return res
    res['size'] = os.path.getsize(ref_path)
    work = os.path.join(workroot, name)
    os.makedirs(work, exist_ok=True)
    try:
        shapes = parse_assignments(row['input_shapes'], 'input_shapes')
        values = parse_assignments(row['input_values'], 'input_values')
        model = onnx.load(ref_path)
        arrays = make_inputs(model, name, shapes, values)
    except Exception as e:  # noqa: BLE001
        res['analyze'] = 'inputs: %s' % one_line(e)
        return res
    in_files = []
    for i, (iname, arr) in enumerate(arrays):
        f = os.path.join(work, 'input_%d.pb' % i)
        save_pb(f, iname, arr)
        in_files.append(f)
    shape_args = []
    for iname, dims in shapes.items():
        shape_args += ['--input-shape',
                       '%s=%s' % (iname, ','.join(str(d) for d in dims))]
    ok = True

    # dfgpar analyze
    cmd = [dfgpar, 'analyze', path, '--workers', str(a.workers)] + \
        list(extra)
    if caps['analyze_shapes']:
        cmd += shape_args
    rc, out, err = run(cmd, a.timeout)
    summary, res['nodes'] = analyze_summary(out)
    warn = count_warnings(err)
    if rc == 0:
        res['analyze'] = 'ok (%s%s)' % (summary, ', %d warning%s' % (
            warn, '' if warn == 1 else 's') if warn else '')
    else:
        res['analyze'] = 'FAIL: %s' % first_error(err, out, rc)
        ok = False

    # dfgpar emit
    emitted = os.path.join(work, 'emitted')
    shutil.rmtree(emitted, ignore_errors=True)
    cmd = [dfgpar, 'emit', path, '-o', emitted, '--workers',
           str(a.workers)] + list(extra)
    if caps['fork']:
        cmd += ['--fork', 'always']
    if caps['emit_shapes']:
        cmd += shape_args
    rc, out, err = run(cmd, a.timeout)
    model_py = os.path.join(emitted, 'model.py')
    if rc != 0 or not os.path.isfile(model_py):
        res['emit'] = 'FAIL: %s' % first_error(err, out, rc)
        res['status'] = 'FAIL'
        return res
    counts, longest = pep8_count(model_py)
    res['pep8'] = counts
    with open(model_py, encoding='utf-8', errors='replace') as f:
        res['lines'] = sum(1 for _ in f)
    if counts is None:
        pep = 'pycodestyle not installed'
    elif counts:
        pep = 'pep8 %s, longest line %d' % (' '.join(
            '%d %s' % (n, c) for c, n in sorted(counts.items())), longest)
        if a.pep8_strict:
            ok = False
    else:
        pep = 'pep8 clean'
    res['emit'] = 'ok (%d lines, %s)' % (res['lines'], pep)

    # ONNX Runtime reference
    rc, out, err = run(['node', ORT_RUN, ref_path] + in_files +
                       ['--runs', '1', '--warmup', '0', '--out',
                        os.path.join(work, 'ort_')], a.timeout, cwd=ROOT)
    if rc != 0:
        res['match'] = 'FAIL: ONNX Runtime: %s' % first_error(err, out, rc)
        return res
    n_out = len(model.graph.output)
    refs = [os.path.join(work, 'ort_%d.pb' % i) for i in range(n_out)]

    # emitted module, forked and serial, vs ONNX Runtime
    rc, out, err = run([sys.executable, os.path.abspath(__file__),
                        '--compare', emitted, '--inputs'] + in_files +
                       ['--refs'] + refs, a.timeout)
    try:
        cmp = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        cmp = {'ok': False, 'max_abs': None,
               'error': 'crashed (exit %d): %s' % (rc, first_error(err))}
    if cmp['ok']:
        notes = ''
        if cmp.get('fp64'):
            notes += '; within fp32 rounding: ' + '; '.join(cmp['fp64'])
        if cmp.get('rounding'):
            notes += ('; exact in float64, PyTorch kernel rounding: ' +
                      '; '.join(cmp['rounding'][:2]))
        res['match'] = 'ok (max abs %.2g%s)' % (cmp['max_abs'], notes)
    else:
        res['match'] = 'FAIL: %s%s' % (cmp['error'], ' (max abs %.2g)' % (
            cmp['max_abs']) if cmp.get('max_abs') is not None else '')
        ok = False
    res['max_abs'] = cmp.get('max_abs')
    res['status'] = 'PASS' if ok else 'FAIL'
    return res


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--compare':
        return compare_main(sys.argv[2:])
    import fetch_corpus
    p = argparse.ArgumentParser(
        description='Runs the real-model corpus through dfgpar and '
                    'compares with ONNX Runtime (see the module doc).')
    p.add_argument('dfgpar', help='the built CLI (build/dfgpar)')
    p.add_argument('names', nargs='*', help='models (default all)')
    p.add_argument('--cache', default=fetch_corpus.default_cache())
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--work', default='',
                   help='keep inputs, references and emitted code here '
                        '(default: a temporary directory, removed)')
    p.add_argument('--json', default='', help='write the results here')
    p.add_argument('--timeout', type=int, default=600,
                   help='seconds per command (default 600)')
    p.add_argument('--pep8-strict', action='store_true',
                   help='fail a model whose emitted code is not PEP 8 clean')
    a = p.parse_args()
    dfgpar = os.path.abspath(a.dfgpar)
    if not os.access(dfgpar, os.X_OK):
        print('run_corpus: %s is not an executable' % a.dfgpar,
              file=sys.stderr)
        return 2
    rows = fetch_corpus.read_list()
    unknown = set(a.names) - {r['name'] for r in rows}
    if unknown:
        print('run_corpus: unknown model(s) %s' % ', '.join(sorted(unknown)),
              file=sys.stderr)
        return 2
    if a.names:
        rows = [r for r in rows if r['name'] in a.names]
    why = check_ort()
    if why:
        print('run_corpus: no ONNX Runtime: %s' % why, file=sys.stderr)
        return 2
    caps = {'analyze_shapes': '--input-shape' in cli_help(dfgpar, 'analyze'),
            'emit_shapes': '--input-shape' in cli_help(dfgpar, 'emit'),
            'fork': '--fork' in cli_help(dfgpar, 'emit')}
    if not caps['analyze_shapes']:
        print('note: %s analyze has no --input-shape; symbolic dimensions '
              'are left to the CLI' % a.dfgpar)
    workroot = a.work or tempfile.mkdtemp(prefix='dfgpar-corpus-')
    os.makedirs(workroot, exist_ok=True)
    results = []
    width = max(len(r['name']) for r in rows) if rows else 0
    try:
        for row in rows:
            r = run_model(row, a, dfgpar, caps, workroot)
            results.append(r)
            if r['status'] == 'SKIP':
                print('SKIP %-*s  %s' % (width, r['name'], r['analyze']))
                continue
            print('%-4s %-*s  analyze %s | emit %s | match %s'
                  % (r['status'], width, r['name'], r['analyze'], r['emit'],
                     r['match']), flush=True)
    finally:
        if not a.work:
            shutil.rmtree(workroot, ignore_errors=True)
    if a.json:
        with open(a.json, 'w', encoding='utf-8') as f:
            json.dump(results, f, indent=1)
    n = {s: sum(1 for r in results if r['status'] == s)
         for s in ('PASS', 'FAIL', 'SKIP')}
    print('%d passed, %d failed%s' % (n['PASS'], n['FAIL'], ', %d skipped'
                                      % n['SKIP'] if n['SKIP'] else ''))
    return 1 if n['FAIL'] else 0


if __name__ == '__main__':
    status = main()
    # PyTorch 1.13 can abort while the interpreter tears down after
    # torch.jit.fork ran; everything is printed by now, so skip the teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
