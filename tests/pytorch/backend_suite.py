#!/usr/bin/python3
"""Sweeps the ONNX backend test suite through the PyTorch emitter: each case
is emitted with `dfgpar emit`, its model.py run under Debian's torch on the
case's inputs and compared with the expected outputs (rtol 1e-3, atol 1e-7,
as onnx.backend.test). Prints passed / failed / unsupported per operator and
in total.

    /usr/bin/python3 tests/pytorch/backend_suite.py DFGPAR [--data DIR]
        [--filter REGEX] [--workers P] [--verbose] [--min-eligible-pass PCT]

DIR defaults to /usr/share/libonnx-testdata/data/node (Debian
libonnx-testdata). "unsupported" = dfgpar emit refused the model (exit 1
with a message naming the operator); "failed" = emitted but wrong, or the
emitted code does not compile/run, or emit failed for another reason.
Emitted code that is not PEP 8 clean (pycodestyle, when it is installed) is
counted apart, by pycodestyle code; --pep8-strict makes it a failure.

Each case is also classified from its model as eligible or excluded (the
requirement counts eligible cases only): excluded are training cases
(ai.onnx.preview.training operators, Dropout whose training_mode is not a
constant false: random), cases with a node outside the default domain
('' / ai.onnx, subgraphs included), a default-domain opset above 17, or a
graph input/output/value_info (subgraphs included) that is not a tensor
(sequence, map, optional) or is a string tensor. The reasons are checked in
that order; a case counts under the first that applies.

Exit status 0 (the numbers are the result), 1 when --min-eligible-pass PCT
is given and the eligible pass rate is below PCT, 2 on bad usage.
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
import tempfile

import numpy as np
import onnx
import onnx.numpy_helper
import torch

try:
    import pycodestyle
except ImportError:  # the style check is skipped
    pycodestyle = None


DEFAULT_DOMAINS = ('', 'ai.onnx')
TRAINING_DOMAIN = 'ai.onnx.preview.training'
MAX_OPSET = 17
# reasons a case is excluded, in the order they are checked
EXCLUSIONS = ('training', 'non-default domain', 'opset > %d' % MAX_OPSET,
              'sequence/map/optional or string type')


def load_pb(path, elem_type=None):
    """A TensorProto file as a torch tensor. The suite stores bfloat16 values
    as their bits in a UINT16 tensor (numpy has no bfloat16): `elem_type`,
    the model's type for the value, says when to read them back."""
    t = onnx.TensorProto()
    with open(path, 'rb') as f:
        t.ParseFromString(f.read())
    a = np.array(onnx.numpy_helper.to_array(t))
    if onnx.TensorProto.BFLOAT16 in (t.data_type, elem_type) and \
            a.dtype == np.uint16:
        bits = torch.from_numpy(a.astype(np.int32) << 16)
        return bits.view(torch.float32).to(torch.bfloat16)
    return torch.from_numpy(a)


def elem_types(values):
    return [v.type.tensor_type.elem_type
            if v.type.HasField('tensor_type') else None for v in values]


def to_numpy(t):
    """numpy view of an output; bfloat16 (exact) as float32."""
    return (t.float() if t.dtype == torch.bfloat16 else t).numpy()


def graphs_of(g):
    """g and every subgraph below it (If/Loop/Scan bodies)."""
    yield g
    for n in g.node:
        for a in n.attribute:
            if a.HasField('g'):
                yield from graphs_of(a.g)
            for sub in a.graphs:
                yield from graphs_of(sub)


def is_string_or_not_tensor(type_proto):
    if not type_proto.HasField('tensor_type'):
        # sequence, map, optional, sparse: anything but a plain tensor;
        # an unset type (no field at all) says nothing
        return type_proto.WhichOneof('value') is not None
    return type_proto.tensor_type.elem_type == onnx.TensorProto.STRING


def constant_false(graph, name):
    """Whether tensor `name` is an initializer or Constant that is false."""
    for init in graph.initializer:
        if init.name == name:
            v = onnx.numpy_helper.to_array(init)
            return v.size == 1 and not bool(v.reshape(-1)[0])
    for n in graph.node:
        if n.op_type == 'Constant' and n.domain in DEFAULT_DOMAINS \
                and list(n.output) == [name]:
            for a in n.attribute:
                if a.name == 'value' and a.HasField('t'):
                    v = onnx.numpy_helper.to_array(a.t)
                    return v.size == 1 and not bool(v.reshape(-1)[0])
    return False


def exclusion_of(model):
    """None for an eligible case, else the first EXCLUSIONS reason."""
    graphs = list(graphs_of(model.graph))
    nodes = [(g, n) for g in graphs for n in g.node]
    for g, n in nodes:
        if n.domain == TRAINING_DOMAIN:
            return EXCLUSIONS[0]
        if n.op_type == 'Dropout' and n.domain in DEFAULT_DOMAINS \
                and len(n.input) > 2 and n.input[2] \
                and not constant_false(g, n.input[2]):
            return EXCLUSIONS[0]
        if n.op_type == 'Dropout' and n.domain in DEFAULT_DOMAINS and any(
                a.name == 'is_test' and a.i == 0 for a in n.attribute):
            return EXCLUSIONS[0]
    if any(n.domain not in DEFAULT_DOMAINS for _, n in nodes):
        return EXCLUSIONS[1]
    if any(o.domain in DEFAULT_DOMAINS and o.version > MAX_OPSET
           for o in model.opset_import):
        return EXCLUSIONS[2]
    for g in graphs:
        for v in list(g.input) + list(g.output) + list(g.value_info):
            if v.HasField('type') and is_string_or_not_tensor(v.type):
                return EXCLUSIONS[3]
        if any(t.data_type == onnx.TensorProto.STRING for t in g.initializer):
            return EXCLUSIONS[3]
        for n in g.node:
            for a in n.attribute:
                if a.HasField('t') and \
                        a.t.data_type == onnx.TensorProto.STRING:
                    return EXCLUSIONS[3]
    return None


# what the emitter refuses names the operator or the value it cannot
# translate, right after the file name (no prefix of its own)
REFUSED = re.compile(r": (operator '|graph (input|output) '|weight '|Constant node )")


def refused_by_emitter(msg):
    """True when `dfgpar emit`'s error line is a refusal of the PyTorch
    back end (an operator, attribute or type it cannot translate), not a
    failure to load or optimise the model."""
    return REFUSED.search(msg) is not None


def op_of(model):
    ops = [n.op_type for n in model.graph.node]
    return ops[0] if len(ops) == 1 else (ops[-1] if ops else '?')


def emit(case, out_dir, dfgpar, workers):
    """`dfgpar emit` of one case into out_dir (the CompletedProcess)."""
    return subprocess.run([dfgpar, 'emit', os.path.join(case, 'model.onnx'),
                           '-o', out_dir, '--workers', str(workers)],
                          capture_output=True, text=True)


def run_case(case, model_proto, out_dir, r, pep8, strict):
    """('pass'|'fail'|'unsupported', message) of a case emitted into out_dir
    by `r` (emit's CompletedProcess); appends (case, codes, messages) to
    pep8 when the emitted code is not PEP 8 clean."""
    if r.returncode != 0:
        msg = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ''
        kind = 'unsupported' if refused_by_emitter(msg) else 'fail'
        return kind, msg
    if pycodestyle is not None:
        style = pycodestyle.Checker(os.path.join(out_dir, 'model.py'),
                                    quiet=True)
        if style.check_all():
            codes = sorted(style.report.counters.keys() &
                           style.report.messages.keys())
            pep8.append((os.path.basename(case), codes, style.report.messages))
            if strict:
                return 'fail', 'pep8: %s' % style.report.messages
    try:
        spec = importlib.util.spec_from_file_location(
            'case_model', os.path.join(out_dir, 'model.py'))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        model = torch.jit.script(mod.Model().eval())
    except Exception as e:  # noqa: BLE001 (any failure is a result)
        return 'fail', 'compile: %s' % str(e).strip().splitlines()[0][:200]
    g = model_proto.graph
    inits = set(t.name for t in g.initializer)
    in_types = elem_types([v for v in g.input if v.name not in inits])
    out_types = elem_types(g.output)
    for ds in sorted(glob.glob(os.path.join(case, 'test_data_set_*'))):
        n_in = len(glob.glob(os.path.join(ds, 'input_*.pb')))
        n_out = len(glob.glob(os.path.join(ds, 'output_*.pb')))
        try:
            ins = [load_pb(os.path.join(ds, 'input_%d.pb' % i),
                           in_types[i] if i < len(in_types) else None)
                   for i in range(n_in)]
            wants = [load_pb(os.path.join(ds, 'output_%d.pb' % i),
                             out_types[i] if i < len(out_types) else None)
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
            if g.dtype != w.dtype:
                return 'fail', 'output %d: dtype %s, expected %s' % (
                    k, g.dtype, w.dtype)
            if g.shape != w.shape:
                return 'fail', 'output %d: shape %s, expected %s' % (
                    k, tuple(g.shape), tuple(w.shape))
            if not torch.equal(g, s) and not np.allclose(
                    to_numpy(g), to_numpy(s), equal_nan=True):
                return 'fail', 'output %d: parallel != serial' % k
            try:
                np.testing.assert_allclose(to_numpy(g), to_numpy(w),
                                           rtol=1e-3, atol=1e-7)
            except AssertionError:
                return 'fail', 'output %d: values differ' % k
    return 'pass', ''


def total_line(label, c):
    n = sum(c.values())
    return '%-28s %6d %6d %11d   (%d cases, %.1f%% passed)' % (
        label, c['pass'], c['fail'], c['unsupported'], n,
        100.0 * c['pass'] / n if n else 0.0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('dfgpar')
    p.add_argument('--data', default='/usr/share/libonnx-testdata/data/node')
    p.add_argument('--filter', default='')
    p.add_argument('--workers', type=int, default=1)
    p.add_argument('--jobs', type=int, default=os.cpu_count() or 1,
                   help='emits run at once (default: the cores)')
    p.add_argument('--verbose', action='store_true')
    p.add_argument('--pep8-strict', action='store_true',
                   help='count emitted code that is not PEP 8 clean as '
                        'failed')
    p.add_argument('--min-eligible-pass', type=float, default=None,
                   metavar='PCT',
                   help='exit 1 when fewer than PCT%% of the eligible '
                        'cases pass')
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
    eligible = collections.Counter()
    excluded = collections.Counter()
    pep8 = []
    with tempfile.TemporaryDirectory() as tmp:
        # the emits (separate processes) run --jobs at a time; the PyTorch
        # runs stay in this process, one at a time
        with concurrent.futures.ThreadPoolExecutor(max(1, a.jobs)) as pool:
            emitted = list(pool.map(
                lambda ic: emit(ic[1], os.path.join(tmp, str(ic[0])),
                                a.dfgpar, a.workers), enumerate(cases)))
        for i, case in enumerate(cases):
            name = os.path.basename(case)
            try:
                m = onnx.load(os.path.join(case, 'model.onnx'),
                              load_external_data=False)
                op, why = op_of(m), exclusion_of(m)
            except Exception:  # noqa: BLE001
                m, op, why = onnx.ModelProto(), '?', None
            try:
                kind, msg = run_case(case, m, os.path.join(tmp, str(i)),
                                     emitted[i], pep8, a.pep8_strict)
            except Exception as e:  # noqa: BLE001
                kind, msg = 'fail', 'check: %s' % str(e)[:200]
            per_op[op][kind] += 1
            total[kind] += 1
            if why is None:
                eligible[kind] += 1
            else:
                excluded[why] += 1
            if a.verbose or (kind == 'fail' and why is None):
                print('%-11s %s: %s%s' % (
                    kind.upper(), name, msg,
                    '' if why is None else '  [excluded: %s]' % why),
                    flush=True)
    print('\n%-28s %6s %6s %11s' % ('operator', 'passed', 'failed',
                                     'unsupported'))
    for op in sorted(per_op):
        c = per_op[op]
        print('%-28s %6d %6d %11d' % (op, c['pass'], c['fail'],
                                      c['unsupported']))
    print(total_line('TOTAL (all cases)', total))
    print(total_line('TOTAL (eligible cases)', eligible))
    print('excluded: %d (%s)' % (
        sum(excluded.values()),
        ', '.join('%s: %d' % (r, excluded[r]) for r in EXCLUSIONS)))
    if pycodestyle is None:
        print('pep8: not checked (pycodestyle is not installed)')
    else:
        codes = collections.Counter(c for _, cs, _ in pep8 for c in cs)
        print('pep8: %d emitted model.py not clean%s' % (
            len(pep8), ''.join(' (%s: %d)' % kv for kv in sorted(
                codes.items()))))
        if a.verbose:
            for name, _, messages in pep8:
                print('  %s: %s' % (name, messages))
    n = sum(eligible.values())
    rate = 100.0 * eligible['pass'] / n if n else 0.0
    if a.min_eligible_pass is not None and rate < a.min_eligible_pass:
        print('eligible pass rate %.1f%% is below %.1f%%' % (
            rate, a.min_eligible_pass), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    status = main()
    # PyTorch 1.13 can abort while the interpreter tears down after
    # torch.jit.fork ran; everything is printed by now, so skip the teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
