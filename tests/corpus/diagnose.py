#!/usr/bin/python3
"""Finds what stops a corpus model behind its first error, by doing by hand
what issue 9 asks dfgpar to do, one workaround at a time.

    /usr/bin/python3 tests/corpus/diagnose.py DFGPAR [NAME...]
        [--cache DIR] [--rounds N] [--extra "OPTIONS"] [--work DIR]

For each model (default: all cached ones) it runs the steps of
run_corpus.py on successive variants of the model and prints one line per
variant:

  as-is    the cached model;
  static   its symbolic input dimensions replaced by the shapes of
           models.tsv (what `--input-shape` will do), and the value_info
           and output shapes that mention a symbolic dimension dropped so
           that dfgpar infers them again;
  if       then (models with input_values) those inputs read as constants
           and every If whose condition is constant replaced by the branch
           it takes, also before each fold round below (what constant If
           folding will do);
  split    then every Split of an initializer folded into initializers
           (only where the model has one);
  foldK    the static variant passed K times through
           `dfgpar analyze --save-optimized` (folding to a fixed point by
           hand), K = 1..N, stopping early when the node count and the
           unknown-shape warning no longer change.

ONNX Runtime always runs the cached model, so a variant that matches is
equivalent to the original. --extra adds options to every dfgpar command
(e.g. --extra=--no-optimize). Exit status 0 (it reports, it does not judge).
"""

import argparse
import os
import re
import shlex
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', '..', 'scripts'))

import fetch_corpus  # noqa: E402
import run_corpus  # noqa: E402


def static_variant(src, dst, shapes):
    """Writes src with the input dimensions of `shapes` fixed."""
    import onnx
    m = onnx.load(src)
    inits = set(t.name for t in m.graph.initializer)
    for v in m.graph.input:
        if v.name in inits or v.name not in shapes:
            continue
        dims = v.type.tensor_type.shape.dim
        want = shapes[v.name]
        if len(dims) != len(want):
            raise ValueError('input %r has rank %d, models.tsv gives %d dims'
                             % (v.name, len(dims), len(want)))
        for d, n in zip(dims, want):
            d.Clear()
            d.dim_value = int(n)

    def symbolic(vi):
        t = vi.type.tensor_type
        return t.HasField('shape') and any(
            not d.HasField('dim_value') for d in t.shape.dim)
    keep = [vi for vi in m.graph.value_info if not symbolic(vi)]
    del m.graph.value_info[:]
    m.graph.value_info.extend(keep)
    for o in m.graph.output:  # keep the rank, forget the symbolic values
        for d in o.type.tensor_type.shape.dim:
            if not d.HasField('dim_value'):
                d.Clear()
    onnx.save(m, dst)


def fold_split(src, dst):
    """Writes src with every Split of an initializer replaced by its pieces
    as initializers (issue 9: dfgpar does not fold Split); returns how many
    Split nodes it folded."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    m = onnx.load(src)
    g = m.graph
    consts = {t.name: t for t in g.initializer}
    folded = 0
    keep = []
    for n in g.node:
        if n.op_type != 'Split' or n.input[0] not in consts or \
                (len(n.input) > 1 and n.input[1] and
                 n.input[1] not in consts):
            keep.append(n)
            continue
        x = numpy_helper.to_array(consts[n.input[0]])
        attrs = {a.name: onnx.helper.get_attribute_value(a)
                 for a in n.attribute}
        axis = attrs.get('axis', 0)
        sizes = attrs.get('split')
        if len(n.input) > 1 and n.input[1]:
            sizes = numpy_helper.to_array(consts[n.input[1]]).tolist()
        if sizes is None:
            sizes = [x.shape[axis] // len(n.output)] * len(n.output)
        pieces = np.split(x, np.cumsum(sizes)[:-1], axis=axis)
        for name, piece in zip(n.output, pieces):
            t = numpy_helper.from_array(np.ascontiguousarray(piece), name)
            g.initializer.append(t)
            consts[name] = t
        folded += 1
    del g.node[:]
    g.node.extend(keep)
    onnx.save(m, dst)
    return folded


def rename_uses(graph, old, new):
    """Renames every read of `old` in graph and its subgraphs."""
    import onnx
    for n in graph.node:
        for i, x in enumerate(n.input):
            if x == old:
                n.input[i] = new
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                rename_uses(a.g, old, new)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for g in a.graphs:
                    rename_uses(g, old, new)


def inline_ifs(src, dst, values):
    """Writes src with the inputs of `values` read as constants (the graph
    input stays, unread) and every top-level If whose condition is an
    initializer, a Constant or a comparison of them replaced by the branch
    it takes (issue 9: dfgpar does not fold constant If conditions);
    returns the number of changes."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper
    m = onnx.load(src)
    g = m.graph
    changes = 0
    for v in g.input:
        if v.name in values:
            dtype = helper.tensor_dtype_to_np_dtype(
                v.type.tensor_type.elem_type) \
                if hasattr(helper, 'tensor_dtype_to_np_dtype') \
                else onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[
                    v.type.tensor_type.elem_type]
            vals = values[v.name]
            const = v.name + '__value'
            if any(t.name == const for t in g.initializer):
                continue
            g.initializer.append(numpy_helper.from_array(
                np.array(vals[0] if len(vals) == 1 else vals, dtype=dtype),
                const))
            rename_uses(g, v.name, const)
            changes += 1
    consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for n in g.node:
        if n.op_type == 'Constant':
            for a in n.attribute:
                if a.name == 'value':
                    consts[n.output[0]] = numpy_helper.to_array(a.t)
    compare = {'Equal': np.equal, 'Greater': np.greater, 'Less': np.less,
               'Not': np.logical_not}
    nodes = []
    for n in g.node:
        if n.op_type in compare and all(x in consts for x in n.input):
            consts[n.output[0]] = compare[n.op_type](
                *[consts[x] for x in n.input])
        if n.op_type != 'If' or n.input[0] not in consts:
            nodes.append(n)
            continue
        taken = 'then_branch' if bool(np.asarray(consts[n.input[0]])
                                      .reshape(-1)[0]) else 'else_branch'
        body = next(a.g for a in n.attribute if a.name == taken)
        g.initializer.extend(body.initializer)
        nodes.extend(body.node)
        for out, bout in zip(n.output, body.output):
            nodes.append(helper.make_node('Identity', [bout.name], [out],
                                          name=n.name + '_' + out))
        changes += 1
    del g.node[:]
    g.node.extend(nodes)
    onnx.save(m, dst)
    return changes


def fold_once(dfgpar, src, dst, extra, timeout):
    """(ok, nodes after, unknown-shape warning or '', error)."""
    rc, out, err = run_corpus.run(
        [dfgpar, 'analyze', src, '--workers', '2', '--save-optimized', dst]
        + list(extra), timeout)
    if rc != 0:
        return False, None, '', run_corpus.first_error(err, out, rc)
    m = re.search(r'^nodes\s+\d+ loaded, (\d+) after', out, re.M)
    warn = next((ln for ln in err.splitlines() if 'unknown shape' in ln),
                '')
    return True, int(m.group(1)) if m else None, warn, ''


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('dfgpar')
    p.add_argument('names', nargs='*')
    p.add_argument('--cache', default=fetch_corpus.default_cache())
    p.add_argument('--rounds', type=int, default=4)
    p.add_argument('--extra', default='')
    p.add_argument('--work', default='')
    p.add_argument('--timeout', type=int, default=600)
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--pep8-strict', action='store_true')
    a = p.parse_args()
    dfgpar = os.path.abspath(a.dfgpar)
    rows = fetch_corpus.read_list()
    if a.names:
        rows = [r for r in rows if r['name'] in a.names]
    why = run_corpus.check_ort()
    if why:
        print('diagnose: no ONNX Runtime: %s' % why, file=sys.stderr)
        return 2
    caps = {'analyze_shapes': False, 'emit_shapes': False,
            'fork': '--fork' in run_corpus.cli_help(dfgpar, 'emit')}
    extra = shlex.split(a.extra)
    work = a.work or tempfile.mkdtemp(prefix='dfgpar-diagnose-')
    for row in rows:
        name = row['name']
        src = os.path.join(a.cache, 'corpus', name + '.onnx')
        if not os.path.isfile(src):
            print('%s: not cached' % name)
            continue
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        print('== %s' % name, flush=True)

        def report(label, path):
            r = run_corpus.run_model(row, a, dfgpar, caps,
                                     os.path.join(d, label), path, extra)
            print('  %-7s %s  analyze %s | emit %s | match %s'
                  % (label, r['status'], r['analyze'], r['emit'],
                     r['match']), flush=True)
            return r
        r = report('as-is', src)
        shapes = run_corpus.parse_assignments(row['input_shapes'], 'shapes')
        if r['status'] == 'PASS':
            continue
        cur = src
        if shapes:
            cur = os.path.join(d, 'static.onnx')
            try:
                static_variant(src, cur, shapes)
            except Exception as e:  # noqa: BLE001
                print('  static  cannot write: %s' % run_corpus.one_line(e))
                continue
            r = report('static', cur)
            if r['status'] == 'PASS':
                continue
        values = run_corpus.parse_assignments(row['input_values'],
                                              'values')
        nxt = os.path.join(d, 'if.onnx')
        if values and inline_ifs(cur, nxt, values):
            cur = nxt
            r = report('if', cur)
            if r['status'] == 'PASS':
                continue
        nxt = os.path.join(d, 'split.onnx')
        if fold_split(cur, nxt):
            cur = nxt
            r = report('split', cur)
            if r['status'] == 'PASS':
                continue
        last = None
        for k in range(1, a.rounds + 1):
            nxt = os.path.join(d, 'fold%d.onnx' % k)
            if values:  # Ifs that dfgpar's folding made constant
                ifs = os.path.join(d, 'fold%d-if.onnx' % k)
                if inline_ifs(cur, ifs, values):
                    cur = ifs
            ok, nodes, warn, error = fold_once(dfgpar, cur, nxt, extra,
                                               a.timeout)
            if not ok:
                print('  fold%d   analyze --save-optimized FAIL: %s'
                      % (k, error))
                break
            print('  fold%d   %s nodes; %s' % (k, nodes,
                                               warn or 'no unknown shapes'))
            r = report('fold%d' % k, nxt)
            if r['status'] == 'PASS' or (nodes, warn) == last:
                break
            last = (nodes, warn)
            cur = nxt
    return 0


if __name__ == '__main__':
    sys.exit(main())
