#!/usr/bin/python3
"""Runs the real-model corpus (tests/corpus/models.tsv) through the native
runtime and compares it with ONNX Runtime: for each cached model, the
seeded inputs of tests/corpus/run_corpus.py (its make_inputs: one
definition), ONNX Runtime's outputs (scripts/ort_run.js), then
`dfgpar run MODEL --workers 2 --threads 1 --iters 1 --warmup 0 --check
--input NAME=... --reference NAME=ort_i.pb` (abs 1e-4 / rel 1e-3).
Prints one line per model: ok / refused (the load error, naming the
operator) / FAIL (wrong or crashed).

Where an output is outside that tolerance, the rule of
tests/corpus/run_corpus.py decides, with the same float64 reference (the
model emitted by `dfgpar emit` and run in float64 by PyTorch): the output
passes when it is no further from float64 than 1.5x ONNX Runtime's own
fp32 output ('ok, fp32 rounding'), or, reported apart as 'kernel
rounding' with both distances, when ONNX Runtime is within the tolerance
of float64 (relative to the output's magnitude) and dfgpar's output is
within 1e-2 of that magnitude. M-LSD needs the second: oneDNN's blocked
direct convolutions round about 5x more than ONNX Runtime's on it, as
PyTorch's do (the same rule passes the emitted module there).

    /usr/bin/python3 tests/onednn/corpus_run.py DFGPAR [--cache DIR]
        [--work DIR] [--filter REGEX] [--timeout S]

Exit status 1 when a model FAILs.
"""

import argparse
import importlib.util
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
_spec = importlib.util.spec_from_file_location(
    'run_corpus', os.path.join(ROOT, 'tests', 'corpus', 'run_corpus.py'))
rc_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rc_mod)
sys.path.insert(0, os.path.join(ROOT, 'scripts'))
import fetch_corpus  # noqa: E402


def float64_rule(dfgpar, path, model, shapes, ins, d, n_out, timeout):
    """(passed, text) by the float64 rule of the module docstring, or None
    when no float64 reference can be made."""
    import numpy as np
    emit_dir = os.path.join(d, 'emit')
    cmd = [dfgpar, 'emit', path, '-o', emit_dir, '--workers', '1']
    for iname, dims in shapes.items():
        cmd += ['--input-shape', '%s=%s' % (
            iname, ','.join(str(x) for x in dims))]
    code, out, err = rc_mod.run(cmd, timeout)
    if code != 0:
        return None
    import torch
    spec = importlib.util.spec_from_file_location(
        'emitted_model', os.path.join(emit_dir, 'model.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    xs = [torch.from_numpy(np.array(rc_mod.load_pb(f))) for _, f in ins]
    exact = rc_mod.float64_outputs(None, mod, xs)
    if not exact or len(exact) != n_out:
        return None
    notes = []
    kind = 'fp32 rounding'
    for k in range(n_out):
        w = rc_mod.load_pb(os.path.join(d, 'ort_%d.pb' % k))
        w = w.astype(np.float64)
        g = np.load(os.path.join(d, 'out', 'output_%d.npy' % k))
        g = g.astype(np.float64)
        if g.shape != w.shape or exact[k].shape != w.shape:
            return False, 'output %d: shapes differ' % k
        mine = float(np.abs(g - exact[k]).max()) if g.size else 0.0
        theirs = float(np.abs(w - exact[k]).max()) if w.size else 0.0
        scale = float(np.abs(w).max()) if w.size else 0.0
        text = 'output %d: %.3g vs ORT %.3g from float64' % (
            k, mine, theirs)
        if mine <= 1.5 * theirs:
            notes.append(text)
        elif theirs <= rc_mod.ATOL + rc_mod.RTOL * scale and \
                mine <= 1e-2 * max(scale, 1.0):
            kind = 'kernel rounding'
            notes.append(text + ' (|output| <= %.3g)' % scale)
        else:
            return False, text
    return True, '%s: %s' % (kind, '; '.join(notes))


def main():
    import onnx
    p = argparse.ArgumentParser()
    p.add_argument('dfgpar')
    p.add_argument('--cache', default=os.environ.get(
        'DFGPAR_CACHE', os.path.expanduser('~/.cache/dfgpar')))
    p.add_argument('--work', default='')
    p.add_argument('--filter', default='')
    p.add_argument('--timeout', type=float, default=600)
    a = p.parse_args()
    dfgpar = os.path.abspath(a.dfgpar)
    work = a.work or tempfile.mkdtemp(prefix='dfgpar-onednn-corpus-')
    failed = 0
    for row in fetch_corpus.read_list():
        name = row['name']
        if not re.search(a.filter, name):
            continue
        path = os.path.join(a.cache, 'corpus', name + '.onnx')
        if not os.path.isfile(path):
            print('%-20s SKIP (not cached)' % name, flush=True)
            continue
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        shapes = rc_mod.parse_assignments(row['input_shapes'], 'input_shapes')
        values = rc_mod.parse_assignments(row['input_values'], 'input_values')
        model = onnx.load(path)
        ins = []
        for i, (iname, arr) in enumerate(
                rc_mod.make_inputs(model, name, shapes, values)):
            f = os.path.join(d, 'input_%d.pb' % i)
            rc_mod.save_pb(f, iname, arr)
            ins.append((iname, f))
        code, out, err = rc_mod.run(
            ['node', rc_mod.ORT_RUN, path] + [f for _, f in ins] +
            ['--runs', '1', '--warmup', '0', '--out',
             os.path.join(d, 'ort_')], a.timeout, cwd=ROOT)
        if code != 0:
            print('%-20s FAIL ONNX Runtime: %s' % (
                name, rc_mod.first_error(err, out, code)), flush=True)
            failed += 1
            continue
        cmd = [dfgpar, 'run', path, '--workers', '2', '--threads', '1',
               '--iters', '1', '--warmup', '0', '--check',
               '--output', os.path.join(d, 'out') + '/']
        for iname, dims in shapes.items():
            cmd += ['--input-shape', '%s=%s' % (
                iname, ','.join(str(x) for x in dims))]
        for iname, f in ins:
            cmd += ['--input', '%s=%s' % (iname, f)]
        for i, o in enumerate(model.graph.output):
            cmd += ['--reference', '%s=%s' % (
                o.name, os.path.join(d, 'ort_%d.pb' % i))]
        code, out, err = rc_mod.run(cmd, a.timeout)
        last = re.sub(r'^dfgpar: (error: )?', '',
                      (err.strip().splitlines() or [''])[-1])
        if code == 0:
            diffs = re.findall(r'max abs diff (\S+),', out)
            print('%-20s ok (max abs diff vs ONNX Runtime %s; %s)' % (
                name, max(diffs, key=float) if diffs else '-',
                (re.search(r'^kernels +(.*)$', out, re.M) or
                 re.search('(.*)', '')).group(1)), flush=True)
        elif re.search(r'^check +FAILED', out, re.M):
            bad = [ln for ln in out.splitlines()
                   if ln.startswith('check') and 'outside' in ln]
            verdict = float64_rule(dfgpar, path, model, shapes, ins, d,
                                   len(model.graph.output), a.timeout)
            if verdict is not None and verdict[0]:
                print('%-20s ok, %s' % (name, verdict[1]), flush=True)
            else:
                print('%-20s FAIL wrong: %s%s' % (
                    name, '; '.join(bad[:2]),
                    '; ' + verdict[1] if verdict else ''), flush=True)
                failed += 1
        elif code > 0 and last.startswith(path + ': '):
            print('%-20s refused: %s' % (name, last[len(path) + 2:]),
                  flush=True)
        else:
            print('%-20s FAIL (exit %d): %s' % (name, code, last),
                  flush=True)
            failed += 1
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
