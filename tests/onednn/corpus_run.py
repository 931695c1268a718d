#!/usr/bin/python3
"""Runs the real-model corpus (tests/corpus/models.tsv) through the native
runtime and compares it with ONNX Runtime: for each cached model, the
seeded inputs of tests/corpus/run_corpus.py (its make_inputs: one
definition), ONNX Runtime's outputs (scripts/ort_run.js), then
`dfgpar run MODEL --workers 2 --threads 1 --iters 1 --warmup 0 --check
--input NAME=... --reference NAME=ort_i.pb` (abs 1e-4 / rel 1e-3).
Prints one line per model: ok / refused (the load error, naming the
operator) / FAIL (wrong or crashed).

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
               '--iters', '1', '--warmup', '0', '--check']
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
            print('%-20s FAIL wrong: %s' % (name, '; '.join(bad[:2])),
                  flush=True)
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
