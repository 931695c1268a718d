#!/usr/bin/python3
"""Sweeps the ONNX backend test suite through the PyTorch emitter: each case
is emitted with `dfgpar emit`, its model.py run under Debian's torch on the
case's inputs and compared with the expected outputs (rtol 1e-3, atol 1e-7,
as onnx.backend.test). Prints passed / failed / unsupported per operator and
in total.

    /usr/bin/python3 tests/pytorch/backend_suite.py DFGPAR [--data DIR]
        [--filter REGEX] [--workers P] [--verbose]

DIR defaults to /usr/share/libonnx-testdata/data/node (Debian
libonnx-testdata). "unsupported" = dfgpar emit refused the model (exit 1
with a message naming the operator); "failed" = emitted but wrong, or the
emitted code does not compile/run, or emit failed for another reason.
Exit status 0 (the numbers are the result), 2 on bad usage.
"""

import argparse
import collections
import glob
import importlib.util
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.numpy_helper
import torch


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, 'rb') as f:
        t.ParseFromString(f.read())
    return onnx.numpy_helper.to_array(t)


def op_of(model_path):
    m = onnx.load(model_path, load_external_data=False)
    ops = [n.op_type for n in m.graph.node]
    return ops[0] if len(ops) == 1 else (ops[-1] if ops else '?')


def run_case(case, out_dir, dfgpar, workers):
    """('pass'|'fail'|'unsupported', message)"""
    r = subprocess.run([dfgpar, 'emit', os.path.join(case, 'model.onnx'),
                        '-o', out_dir, '--workers', str(workers)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        msg = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ''
        kind = 'unsupported' if 'pytorch:' in msg else 'fail'
        return kind, msg
    try:
        spec = importlib.util.spec_from_file_location(
            'case_model', os.path.join(out_dir, 'model.py'))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        model = torch.jit.script(mod.Model().eval())
    except Exception as e:  # noqa: BLE001 (any failure is a result)
        return 'fail', 'compile: %s' % str(e).strip().splitlines()[0][:200]
    for ds in sorted(glob.glob(os.path.join(case, 'test_data_set_*'))):
        n_in = len(glob.glob(os.path.join(ds, 'input_*.pb')))
        n_out = len(glob.glob(os.path.join(ds, 'output_*.pb')))
        try:
            ins = [torch.from_numpy(np.array(load_pb(
                os.path.join(ds, 'input_%d.pb' % i)))) for i in range(n_in)]
            wants = [load_pb(os.path.join(ds, 'output_%d.pb' % i))
                     for i in range(n_out)]
        except Exception as e:  # noqa: BLE001
            return 'fail', 'data: %s' % e
        try:
            with torch.no_grad():
                got = model(*ins)
                ser = model.forward_serial(*ins)
        except Exception as e:  # noqa: BLE001
            return 'fail', 'run: %s' % str(e).strip().splitlines()[0][:200]
        if isinstance(got, torch.Tensor):
            got, ser = (got,), (ser,)
        if len(got) != len(wants):
            return 'fail', '%d outputs, expected %d' % (len(got), len(wants))
        for k, (g, s, w) in enumerate(zip(got, ser, wants)):
            g = g.numpy()
            if g.dtype != w.dtype:
                return 'fail', 'output %d: dtype %s, expected %s' % (
                    k, g.dtype, w.dtype)
            if g.shape != w.shape:
                return 'fail', 'output %d: shape %s, expected %s' % (
                    k, g.shape, w.shape)
            if not torch.equal(torch.from_numpy(g), s) and \
                    not np.allclose(g, s.numpy(), equal_nan=True):
                return 'fail', 'output %d: parallel != serial' % k
            try:
                np.testing.assert_allclose(g, w, rtol=1e-3, atol=1e-7)
            except AssertionError:
                return 'fail', 'output %d: values differ' % k
    return 'pass', ''


def main():
    p = argparse.ArgumentParser()
    p.add_argument('dfgpar')
    p.add_argument('--data', default='/usr/share/libonnx-testdata/data/node')
    p.add_argument('--filter', default='')
    p.add_argument('--workers', type=int, default=1)
    p.add_argument('--verbose', action='store_true')
    a = p.parse_args()
    torch.set_num_threads(1)
    cases = sorted(c for c in glob.glob(os.path.join(a.data, 'test_*'))
                   if os.path.isfile(os.path.join(c, 'model.onnx'))
                   and re.search(a.filter, os.path.basename(c)))
    if not cases:
        print('no cases in %s' % a.data, file=sys.stderr)
        return 2
    per_op = collections.defaultdict(collections.Counter)
    total = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i, case in enumerate(cases):
            name = os.path.basename(case)
            try:
                op = op_of(os.path.join(case, 'model.onnx'))
            except Exception:  # noqa: BLE001
                op = '?'
            try:
                kind, msg = run_case(case, os.path.join(tmp, str(i)),
                                     a.dfgpar, a.workers)
            except Exception as e:  # noqa: BLE001
                kind, msg = 'fail', 'check: %s' % str(e)[:200]
            per_op[op][kind] += 1
            total[kind] += 1
            if a.verbose or kind == 'fail':
                print('%-11s %s: %s' % (kind.upper(), name, msg), flush=True)
    print('\n%-28s %6s %6s %11s' % ('operator', 'passed', 'failed',
                                     'unsupported'))
    for op in sorted(per_op):
        c = per_op[op]
        print('%-28s %6d %6d %11d' % (op, c['pass'], c['fail'],
                                      c['unsupported']))
    n = sum(total.values())
    print('%-28s %6d %6d %11d   (%d cases, %.1f%% passed)' % (
        'TOTAL', total['pass'], total['fail'], total['unsupported'], n,
        100.0 * total['pass'] / n))
    return 0


if __name__ == '__main__':
    sys.exit(main())
