"""What the per-family translation tests share (tests/pytorch/ops/).

Each test builds a tiny ONNX model with onnx.helper (usually one node),
emits it with the built `dfgpar emit`, runs the generated model.py under
Debian's torch (scripted with TorchScript, both the parallel forward and
forward_serial) and compares the outputs with values computed
independently (numpy) or with the backend suite's data.

    DFGPAR=build/dfgpar /usr/bin/python3 -m unittest discover \
        -s tests/pytorch/ops -t tests/pytorch/ops

Without DFGPAR (or when it is not executable) every test is skipped.
"""

import glob
import importlib.util
import os
import re
import subprocess
import tempfile
import unittest
import warnings

import numpy as np
import onnx
import onnx.helper as oh
import onnx.numpy_helper
import onnx.shape_inference
import torch

DFGPAR = os.environ.get('DFGPAR', '')
SUITE = '/usr/share/libonnx-testdata/data/node'

torch.set_num_threads(1)


# what the emitter refuses names the operator or the value it cannot
# translate, right after the file name (no prefix of its own)
REFUSED = re.compile(r": (operator '|graph (input|output) '|weight '|Constant node )")


def refused_by_emitter(msg):
    """True when `dfgpar emit`'s error line is a refusal of the PyTorch
    back end (an operator, attribute or type it cannot translate), not a
    failure to load or optimise the model."""
    return REFUSED.search(msg) is not None


def needs_dfgpar(cls):
    """Class decorator: skip when no dfgpar program was given."""
    if not (DFGPAR and os.access(DFGPAR, os.X_OK)):
        return unittest.skip('DFGPAR (the dfgpar program) not given')(cls)
    return cls


class Unsupported(Exception):
    """dfgpar emit refused the model (the message names the operator)."""


def tensor_type(dtype):
    """The ONNX element type of a numpy dtype."""
    return onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(dtype)]


def node_model(op, inputs, outputs=('y',), opset=13, constants=(),
               out_types=None, **attrs):
    """A model of one `op` node. `inputs`: (name, numpy array) pairs in
    input order ('' as name: an omitted optional input); those whose name
    is in `constants` become initializers, the others graph inputs.
    `outputs`: the output names. Output types are inferred; where shape
    inference cannot tell, output k gets `out_types[k]` = (numpy dtype,
    rank), its dimensions of unknown size."""
    graph_inputs, inits, names = [], [], []
    for name, value in inputs:
        names.append(name)
        if not name:
            continue
        if name in constants:
            inits.append(onnx.numpy_helper.from_array(np.asarray(value),
                                                      name))
        else:
            graph_inputs.append(oh.make_tensor_value_info(
                name, tensor_type(np.asarray(value).dtype),
                list(np.shape(value))))
    node = oh.make_node(op, names, list(outputs), **attrs)
    graph = oh.make_graph([node], 'case', graph_inputs,
                          [oh.make_empty_tensor_value_info(o)
                           for o in outputs], inits)
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid('', opset)])
    model.ir_version = 8
    inferred = onnx.shape_inference.infer_shapes(model)
    del model.graph.output[:]
    model.graph.output.extend(inferred.graph.output)
    for k, o in enumerate(model.graph.output):
        t = o.type.tensor_type
        if out_types is None:
            continue
        if not t.elem_type:
            t.elem_type = tensor_type(out_types[k][0])
        if not t.HasField('shape'):
            t.shape.SetInParent()
            for d in range(out_types[k][1]):
                t.shape.dim.add().dim_param = '%s_%d' % (o.name, d)
    return model


def emit_and_run(model, feeds, workers=2, args=()):
    """Emits `model` (`args`: more options of `dfgpar emit`), runs the
    generated code on `feeds` (numpy arrays, in graph input order) and
    returns the outputs as numpy arrays. The parallel forward and
    forward_serial must agree. Raises Unsupported when dfgpar refuses the
    model, AssertionError on any other failure."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'model.onnx')
        onnx.save(model, path)
        out = os.path.join(tmp, 'out')
        r = subprocess.run([DFGPAR, 'emit', path, '-o', out,
                            '--workers', str(workers)] + list(args),
                           capture_output=True, text=True)
        if r.returncode != 0:
            msg = r.stderr.strip()
            if refused_by_emitter(msg):
                raise Unsupported(msg)
            raise AssertionError('dfgpar emit failed: ' + msg)
        spec = importlib.util.spec_from_file_location(
            'case_model', os.path.join(out, 'model.py'))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        m = torch.jit.script(mod.Model().eval())
        ins = [torch.from_numpy(np.array(f)) for f in feeds]
        with torch.no_grad():
            got = m(*ins)
            ser = m.forward_serial(*ins)
    if isinstance(got, torch.Tensor):
        got, ser = (got,), (ser,)
    for g, s in zip(got, ser):
        assert torch.equal(g, s) or torch.allclose(g, s, equal_nan=True), \
            'parallel and serial forwards differ'
    return [g.numpy() for g in got]


def run_node(op, inputs, outputs=('y',), opset=13, constants=(),
             out_types=None, **attrs):
    """Builds, emits and runs one `op` node (see node_model); the graph
    inputs are fed with the arrays given for them."""
    model = node_model(op, inputs, outputs, opset, constants, out_types,
                       **attrs)
    feeds = [v for n, v in inputs if n and n not in constants]
    return emit_and_run(model, feeds)


def suite_case(name):
    """(model, [(inputs, expected outputs)]) of backend-suite case `name`."""
    case = os.path.join(SUITE, name)
    model = onnx.load(os.path.join(case, 'model.onnx'))
    data = []
    for ds in sorted(glob.glob(os.path.join(case, 'test_data_set_*'))):
        def load(kind):
            arrays = []
            for i in range(len(glob.glob(os.path.join(ds, kind + '_*.pb')))):
                t = onnx.TensorProto()
                with open(os.path.join(ds, '%s_%d.pb' % (kind, i)), 'rb') as f:
                    t.ParseFromString(f.read())
                arrays.append(onnx.numpy_helper.to_array(t))
            return arrays
        data.append((load('input'), load('output')))
    return model, data


class OpTest(unittest.TestCase):
    """A TestCase with comparisons of emitted results."""

    def setUp(self):
        # a beta notice from the scatter_reduce the Unique and
        # ScatterElements translations emit (unittest resets the filters)
        warnings.filterwarnings('ignore', message='scatter_reduce')

    def check(self, got, want, rtol=1e-5, atol=1e-6):
        """`got` (an array) equals `want` in dtype, shape and values."""
        want = np.asarray(want)
        self.assertEqual(got.dtype, want.dtype)
        self.assertEqual(got.shape, want.shape)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)

    def check_node(self, want, op, inputs, opset=13, constants=(),
                   rtol=1e-5, atol=1e-6, **attrs):
        """One-output node `op` computes `want`."""
        (got,) = run_node(op, inputs, ('y',), opset, constants,
                          [(np.asarray(want).dtype, np.ndim(want))], **attrs)
        self.check(got, want, rtol, atol)

    def refused(self, op, inputs, what, opset=13, constants=(), **attrs):
        """dfgpar refuses the node, with `what` in the message."""
        with self.assertRaises(Unsupported) as e:
            run_node(op, inputs, ('y',), opset, constants, **attrs)
        self.assertIn(what, str(e.exception))

    def check_suite(self, name, rtol=1e-3, atol=1e-7):
        """Backend-suite case `name` passes (its tolerances by default)."""
        model, data = suite_case(name)
        for ins, wants in data:
            got = emit_and_run(model, ins)
            self.assertEqual(len(got), len(wants))
            for g, w in zip(got, wants):
                self.check(g, w, rtol, atol)
