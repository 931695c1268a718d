#!/usr/bin/python3
"""Sweeps the ONNX backend test suite through the native runtime: each case
runs as `dfgpar run MODEL --iters 1 --warmup 0 --workers 2 --threads 1
--check --input NAME=input_i.pb ... --reference NAME=output_i.pb ...
--atol 1e-7 --rtol 1e-3` (the tolerance of onnx.backend.test), once per
test_data_set, and is classified:

  pass     every data set ran, parallel == serial, outputs within tolerance
  refused  `dfgpar run` refused the model when loading it (its one-line
           error, prefixed by the model's path, names the node and operator),
           or refused a test-data input whose type or shape differs from
           the model's declared input (counted apart: "test data: ...")
  FAIL     it ran but a result is wrong, or it crashed, timed out, or failed
           after loading

    /usr/bin/python3 tests/onednn/backend_suite_run.py DFGPAR [--data DIR ...]
        [--filter REGEX] [--verbose] [--timeout S] [--min-eligible-pass PCT]

DIRs default to Debian libonnx-testdata's node and simple cases. Cases are
eligible or excluded by the rules of tests/pytorch/backend_suite.py (its
exclusion_of, imported: one definition); cases without .pb inputs and
outputs are skipped. Prints totals (all and eligible cases), per operator
family and per operator. Exit status 1 when an eligible case FAILs (or the
eligible pass rate is below --min-eligible-pass), 2 on bad usage.
"""

import argparse
import collections
import concurrent.futures
import glob
import importlib.util
import os
import re
import subprocess
import sys

import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    'backend_suite', os.path.join(HERE, '..', 'pytorch', 'backend_suite.py'))
backend_suite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(backend_suite)

DATA = '/usr/share/libonnx-testdata/data'

FAMILIES = [
    ('conv/pool', 'Conv ConvInteger ConvTranspose DeformConv AveragePool '
     'MaxPool GlobalAveragePool GlobalMaxPool LpPool GlobalLpPool MaxUnpool '
     'MaxRoiPool RoiAlign Col2Im'),
    ('normalisation', 'BatchNormalization InstanceNormalization '
     'LayerNormalization GroupNormalization LRN MeanVarianceNormalization '
     'LpNormalization'),
    ('matmul', 'Gemm MatMul MatMulInteger QLinearMatMul Einsum'),
    ('softmax', 'Softmax LogSoftmax Hardmax SoftmaxCrossEntropyLoss '
     'NegativeLogLikelihoodLoss'),
    ('reduction', 'ReduceMax ReduceMin ReduceMean ReduceSum ReduceProd '
     'ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceSumSquare ArgMax '
     'ArgMin'),
    ('activation', 'Relu LeakyRelu PRelu Elu Selu Celu Gelu Sigmoid '
     'HardSigmoid HardSwish Softplus Softsign Tanh ThresholdedRelu Mish '
     'Clip Shrink'),
    ('unary math', 'Abs Neg Exp Log Sqrt Reciprocal Floor Ceil Round Sign '
     'Sin Cos Tan Asin Acos Atan Sinh Cosh Tanh Asinh Acosh Atanh Erf Not '
     'IsNaN IsInf BitwiseNot'),
    ('binary/variadic', 'Add Sub Mul Div Pow Mod Max Min Sum Mean And Or Xor '
     'Equal Greater Less GreaterOrEqual LessOrEqual BitShift BitwiseAnd '
     'BitwiseOr BitwiseXor Where'),
    ('recurrent', 'LSTM GRU RNN'),
    ('control flow', 'If Loop Scan'),
    ('quantisation', 'QuantizeLinear DequantizeLinear DynamicQuantizeLinear '
     'QLinearConv'),
    ('cast', 'Cast CastLike'),
]
FAMILY_OF = {op: fam for fam, ops in FAMILIES for op in ops.split()}
KINDS = ('pass', 'refused', 'fail')


def family_of(op):
    return FAMILY_OF.get(op, 'tensor/shape/other')


def run_case(dfgpar, case, model, timeout):
    """('pass'|'refused'|'fail'|None, message); None: no .pb data."""
    g = model.graph
    inits = set(t.name for t in g.initializer)
    in_names = [v.name for v in g.input if v.name not in inits]
    out_names = [v.name for v in g.output]
    path = os.path.join(case, 'model.onnx')
    sets = sorted(glob.glob(os.path.join(case, 'test_data_set_*')))
    ran = False
    for ds in sets:
        ins = sorted(glob.glob(os.path.join(ds, 'input_*.pb')))
        outs = sorted(glob.glob(os.path.join(ds, 'output_*.pb')))
        if not outs or len(ins) > len(in_names) or len(outs) != len(
                out_names):
            continue
        ran = True
        cmd = [dfgpar, 'run', path, '--iters', '1', '--warmup', '0',
               '--workers', '2', '--threads', '1', '--check',
               '--atol', '1e-7', '--rtol', '1e-3']
        for i in range(len(ins)):
            cmd += ['--input', '%s=%s' % (
                in_names[i], os.path.join(ds, 'input_%d.pb' % i))]
        for i in range(len(outs)):
            cmd += ['--reference', '%s=%s' % (
                out_names[i], os.path.join(ds, 'output_%d.pb' % i))]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            return 'fail', 'timed out after %g s' % timeout
        if r.returncode < 0:
            return 'fail', 'crashed (signal %d)' % -r.returncode
        if r.returncode == 0:
            continue
        err = r.stderr.strip().splitlines()
        last = err[-1] if err else ''
        if re.search(r'^check +FAILED', r.stdout, re.M):
            bad = [ln.split(None, 1)[1] for ln in r.stdout.splitlines()
                   if ln.startswith('check') and
                   re.search(r'outside|got |serial: max', ln)]
            return 'fail', 'wrong: ' + ('; '.join(bad[:2]) or 'check failed')
        # errors while loading are prefixed by the model's path
        text = re.sub(r'^dfgpar: (error: )?', '', last)
        if text.startswith(path + ': '):
            return 'refused', text[len(path) + 2:]
        # a data file that does not match the model's declared input (the
        # runtime refuses it, as it must: see the README)
        m = re.match(r"(\S+\.pb): (input '.*' must be .*)", text)
        if m:
            return 'refused', 'test data: ' + m.group(2)
        return 'fail', 'error: ' + (last or 'exit %d' % r.returncode)
    if not ran:
        return None, 'no .pb data sets'
    return 'pass', ''


def line(label, c):
    n = sum(c[k] for k in KINDS)
    return '%-30s %6d %8d %6d   (%d cases, %.1f%% passed)' % (
        label, c['pass'], c['refused'], c['fail'], n,
        100.0 * c['pass'] / n if n else 0.0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('dfgpar')
    p.add_argument('--data', action='append', default=None)
    p.add_argument('--filter', default='')
    p.add_argument('--timeout', type=float, default=120)
    p.add_argument('--verbose', action='store_true')
    p.add_argument('--jobs', type=int, default=os.cpu_count() or 1,
                   help='cases run at once (default: the cores; each case '
                   'is a short process, mostly loading and JIT compiling)')
    p.add_argument('--min-eligible-pass', type=float, default=None,
                   metavar='PCT')
    a = p.parse_args()
    dirs = a.data or [os.path.join(DATA, 'node'), os.path.join(DATA, 'simple')]
    cases = sorted(c for d in dirs for c in glob.glob(os.path.join(d, 'test_*'))
                   if os.path.isfile(os.path.join(c, 'model.onnx'))
                   and re.search(a.filter, os.path.basename(c)))
    if not cases:
        print('no cases in %s' % ', '.join(dirs), file=sys.stderr)
        return 2
    per_op = collections.defaultdict(collections.Counter)
    per_family = collections.defaultdict(collections.Counter)
    total, eligible, excluded = (collections.Counter() for _ in range(3))
    refusals = collections.Counter()
    skipped = 0
    def load(case):
        m = onnx.load(os.path.join(case, 'model.onnx'),
                      load_external_data=False)
        return m, backend_suite.op_of(m), backend_suite.exclusion_of(m)

    def one(case):
        try:
            m, op, why = load(case)
        except Exception as e:  # noqa: BLE001
            return None, None, None, str(e)
        kind, msg = run_case(a.dfgpar, case, m, a.timeout)
        return op, why, kind, msg

    # results are taken in the cases' order, so the output does not depend
    # on --jobs
    with concurrent.futures.ThreadPoolExecutor(max(1, a.jobs)) as pool:
        results = list(pool.map(one, cases))
    for case, (op, why, kind, msg) in zip(cases, results):
        name = os.path.basename(case)
        if op is None:
            print('skipped %s: %s' % (name, msg), file=sys.stderr)
            skipped += 1
            continue
        if kind is None:
            skipped += 1
            continue
        total[kind] += 1
        if why is not None:
            excluded[why] += 1
            continue
        eligible[kind] += 1
        per_op[op][kind] += 1
        per_family[family_of(op)][kind] += 1
        if kind == 'refused':
            refusals[re.sub(r"'[^']*'", "'...'", msg)[:110]] += 1
        if a.verbose or kind == 'fail':
            print('%-8s %s: %s' % (kind.upper(), name, msg), flush=True)
    hdr = '%-30s %6s %8s %6s' % ('', 'passed', 'refused', 'FAIL')
    print('\neligible cases per operator (the case\'s last node)')
    print(hdr)
    for op in sorted(per_op):
        print(line(op, per_op[op]))
    print('\neligible cases per operator family')
    print(hdr)
    for fam in sorted(per_family):
        print(line(fam, per_family[fam]))
    if a.verbose:
        print('\nrefusals (most common first)')
        for msg, n in refusals.most_common():
            print('%5d  %s' % (n, msg))
    print()
    print(hdr)
    print(line('TOTAL (all cases)', total))
    print(line('TOTAL (eligible cases)', eligible))
    print('excluded: %d (%s); skipped (no .pb data): %d' % (
        sum(excluded.values()), ', '.join(
            '%s: %d' % (r, excluded[r]) for r in backend_suite.EXCLUSIONS),
        skipped))
    n = sum(eligible[k] for k in KINDS)
    rate = 100.0 * eligible['pass'] / n if n else 0.0
    status = 0
    if eligible['fail']:
        print('%d eligible case(s) FAIL' % eligible['fail'], file=sys.stderr)
        status = 1
    if a.min_eligible_pass is not None and rate < a.min_eligible_pass:
        print('eligible pass rate %.1f%% is below %.1f%%' % (
            rate, a.min_eligible_pass), file=sys.stderr)
        status = 1
    return status


if __name__ == '__main__':
    sys.exit(main())
