"""Control flow (include/dfgpar/pytorch/ops/control_flow.hpp): If as
if/else (data-dependent, branches reading outer-scope values and top-level
initializers, nested), Loop as a loop with carried values, a condition and
scan outputs, Scan-8 and Scan-9 (axes, reverse directions), each scripted by
TorchScript; and models whose input has a symbolic dimension (rank known,
values not), emitted without fixed shapes and run at several sizes."""

import numpy as np
import onnx
import onnx.helper as oh
import onnx.numpy_helper as onh

from optest import OpTest, emit_and_run, needs_dfgpar

F32 = onnx.TensorProto.FLOAT
I64 = onnx.TensorProto.INT64
BOOL = onnx.TensorProto.BOOL
RNG = np.random.default_rng(9)
# the optimiser keeps what subgraphs read from the outer scope (issue 9):
# these models go through it like any other
OUTER = ()


def model(nodes, inputs, outputs, inits=(), opset=13):
    g = oh.make_graph(nodes, 'case', inputs, outputs, list(inits))
    m = oh.make_model(g, opset_imports=[oh.make_opsetid('', opset)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def vi(name, elem, shape):
    return oh.make_tensor_value_info(name, elem, shape)


@needs_dfgpar
class ControlFlow(OpTest):
    def test_suite_cases(self):
        for case in ('test_if', 'test_loop11', 'test_scan_sum',
                     'test_scan9_sum',
                     'test_range_float_type_positive_delta_expanded',
                     'test_range_int32_type_negative_delta_expanded'):
            with self.subTest(case=case):
                self.check_suite(case)

    def if_model(self):
        """y = relu(x) then (x @ w + b, reading a top-level initializer and
        the outer relu; a nested If on the sum picks a scale) else -x; a
        parallel branch beside the If."""
        w = RNG.standard_normal((4, 4)).astype(np.float32)
        b = RNG.standard_normal(4).astype(np.float32)
        inner_then = oh.make_graph(
            [oh.make_node('Mul', ['mm', 'two'], ['scaled'])], 'inner_then',
            [], [vi('scaled', F32, [1, 4])],
            [onh.from_array(np.array(2, np.float32), 'two')])
        inner_else = oh.make_graph(
            [oh.make_node('Identity', ['mm'], ['same'])], 'inner_else',
            [], [vi('same', F32, [1, 4])])
        then_g = oh.make_graph(
            [oh.make_node('MatMul', ['r', 'w'], ['mw']),
             oh.make_node('Add', ['mw', 'b'], ['mm']),
             oh.make_node('ReduceSum', ['mm'], ['s'], keepdims=0),
             oh.make_node('Greater', ['s', 'zero'], ['pos']),
             oh.make_node('If', ['pos'], ['then_out'],
                          then_branch=inner_then, else_branch=inner_else)],
            'then', [], [vi('then_out', F32, [1, 4])])
        else_g = oh.make_graph(
            [oh.make_node('Neg', ['x'], ['else_out'])], 'else', [],
            [vi('else_out', F32, [1, 4])])
        nodes = [
            oh.make_node('Relu', ['x'], ['r']),
            oh.make_node('ReduceSum', ['x'], ['xs'], keepdims=0),
            oh.make_node('Greater', ['xs', 'zero'], ['c']),
            oh.make_node('Sigmoid', ['x'], ['side']),
            oh.make_node('If', ['c'], ['y'], then_branch=then_g,
                         else_branch=else_g),
            oh.make_node('Add', ['y', 'side'], ['z'])]
        m = model(nodes, [vi('x', F32, [1, 4])], [vi('z', F32, [1, 4])],
                  [onh.from_array(w, 'w'), onh.from_array(b, 'b'),
                   onh.from_array(np.array(0, np.float32), 'zero')])

        def ref(x):
            side = 1 / (1 + np.exp(-x))
            if x.sum() > 0:
                mm = np.maximum(x, 0) @ w + b
                y = mm * 2 if mm.sum() > 0 else mm
            else:
                y = -x
            return y + side
        return m, ref

    def test_if_data_dependent_nested_outer_scope(self):
        m, ref = self.if_model()
        taken = set()
        for k in range(12):
            x = RNG.standard_normal((1, 4)).astype(np.float32)
            if k % 3 == 0:
                x = -np.abs(x)
            (got,) = emit_and_run(m, [x], args=OUTER)
            self.check(got, ref(x).astype(np.float32), rtol=1e-5, atol=1e-5)
            taken.add(bool(x.sum() > 0))
        self.assertEqual(taken, {True, False})

    def test_if_with_an_untranslatable_branch_raises_when_taken(self):
        # LpPool has no PyTorch translation: the else branch becomes a
        # `raise` naming why (after --input-shape a branch can be one the
        # model cannot run at those shapes either: Silero VAD v5), and the
        # then branch still runs
        then_g = oh.make_graph([oh.make_node('Relu', ['x'], ['t'])], 'then',
                               [], [vi('t', F32, [1, 1, 4])])
        else_g = oh.make_graph(
            [oh.make_node('LpPool', ['x'], ['e'], kernel_shape=[1])],
            'else', [], [vi('e', F32, [1, 1, 4])])
        m = model([oh.make_node('ReduceSum', ['x'], ['s'], keepdims=0),
                   oh.make_node('Greater', ['s', 'zero'], ['c']),
                   oh.make_node('If', ['c'], ['y'], then_branch=then_g,
                                else_branch=else_g)],
                  [vi('x', F32, [1, 1, 4])], [vi('y', F32, [1, 1, 4])],
                  [onh.from_array(np.array(0, np.float32), 'zero')])
        x = np.array([[[1.0, -2.0, 3.0, 0.5]]], np.float32)
        (got,) = emit_and_run(m, [x])
        self.check(got, np.maximum(x, 0))
        with self.assertRaisesRegex(Exception,
                                    'else branch was not translated'):
            emit_and_run(m, [-x])

    def test_loop_carried_condition_and_scan_output(self):
        # while i < n and acc < limit: acc = acc * x + i (x read from the
        # outer scope); scan output acc each time
        body = oh.make_graph(
            [oh.make_node('Cast', ['i'], ['fi'], to=F32),
             oh.make_node('Mul', ['acc_in', 'x'], ['ax']),
             oh.make_node('Add', ['ax', 'fi'], ['acc_out']),
             oh.make_node('ReduceMax', ['acc_out'], ['mx'], keepdims=0),
             oh.make_node('Less', ['mx', 'limit'], ['go']),
             oh.make_node('Identity', ['acc_out'], ['scan'])],
            'body', [vi('i', I64, []), vi('c', BOOL, []),
                     vi('acc_in', F32, [3])],
            [vi('go', BOOL, []), vi('acc_out', F32, [3]),
             vi('scan', F32, [3])])
        m = model([oh.make_node('Loop', ['n', 'c0', 'acc0'], ['acc', 'all'],
                                body=body)],
                  [vi('x', F32, [3]), vi('n', I64, []), vi('c0', BOOL, []),
                   vi('acc0', F32, [3])],
                  [vi('acc', F32, [3]), vi('all', F32, [None, 3])],
                  [onh.from_array(np.array(50, np.float32), 'limit')])
        x = np.array([1.5, 2.0, 0.5], np.float32)
        acc0 = np.ones(3, np.float32)
        for n, c0 in ((5, True), (20, True), (4, False)):
            with self.subTest(n=n, c0=c0):
                acc, rows, go = acc0.copy(), [], c0
                for i in range(n):
                    if not go:
                        break
                    acc = acc * x + i
                    rows.append(acc)
                    go = acc.max() < 50
                got = emit_and_run(m, [x, np.array(n, np.int64),
                                       np.array(c0), acc0], args=OUTER)
                self.check(got[0], acc.astype(np.float32))
                if rows:
                    self.check(got[1], np.stack(rows).astype(np.float32))

    def test_scan9_axes_and_directions(self):
        # running sum over axis 1 of x, backwards; the outputs stacked on
        # axis 1, the second reversed
        body = oh.make_graph(
            [oh.make_node('Add', ['s_in', 'xt'], ['s_out']),
             oh.make_node('Identity', ['s_out'], ['y1']),
             oh.make_node('Mul', ['xt', 'xt'], ['y2'])],
            'body', [vi('s_in', F32, [2]), vi('xt', F32, [2])],
            [vi('s_out', F32, [2]), vi('y1', F32, [2]), vi('y2', F32, [2])])
        m = model([oh.make_node('Scan', ['s0', 'x'], ['s', 'ys', 'zs'],
                                body=body, num_scan_inputs=1,
                                scan_input_axes=[1],
                                scan_input_directions=[1],
                                scan_output_axes=[1, -1],
                                scan_output_directions=[0, 1])],
                  [vi('s0', F32, [2]), vi('x', F32, [2, 5])],
                  [vi('s', F32, [2]), vi('ys', F32, [2, 5]),
                   vi('zs', F32, [2, 5])])
        s0 = np.array([1, -1], np.float32)
        x = RNG.standard_normal((2, 5)).astype(np.float32)
        s, ys, zs = s0.copy(), [], []
        for t in reversed(range(5)):
            s = s + x[:, t]
            ys.append(s)
            zs.append(x[:, t] * x[:, t])
        got = emit_and_run(m, [s0, x])
        self.check(got[0], s)
        self.check(got[1], np.stack(ys, 1))
        self.check(got[2], np.stack(zs[::-1], 1))


@needs_dfgpar
class SymbolicDimensions(OpTest):
    def test_batch_and_length_known_at_run_time_only(self):
        # x: ['N', 3, 'L']; Conv with auto_pad SAME_UPPER (stride 1),
        # Reshape with a 0, Flatten at 2, Split into equal parts of a
        # symbolic dimension, Softmax, LayerNormalization
        w = RNG.standard_normal((4, 3, 3)).astype(np.float32)
        g = RNG.standard_normal(4).astype(np.float32)
        nodes = [
            oh.make_node('Conv', ['x', 'w'], ['c'], auto_pad='SAME_UPPER'),
            oh.make_node('Transpose', ['c'], ['ct'], perm=[0, 2, 1]),
            oh.make_node('LayerNormalization', ['ct', 'g'], ['ln'], axis=-1),
            oh.make_node('Reshape', ['ln', 'shape'], ['rs']),
            oh.make_node('Flatten', ['rs'], ['fl'], axis=2),
            oh.make_node('Softmax', ['fl'], ['sm'], axis=1),
            oh.make_node('Split', ['x'], ['a', 'b'], axis=2),
            oh.make_node('Add', ['a', 'b'], ['ab'])]
        m = model(nodes, [vi('x', F32, ['N', 3, 'L'])],
                  [vi('sm', F32, ['S', 4]), vi('ab', F32, ['N', 3, 'H'])],
                  [onh.from_array(w, 'w'), onh.from_array(g, 'g'),
                   onh.from_array(np.array([0, -1, 2, 2], np.int64),
                                  'shape')], opset=17)
        for n, length in ((1, 8), (2, 12)):
            with self.subTest(n=n, length=length):
                x = RNG.standard_normal((n, 3, length)).astype(np.float32)
                xp = np.pad(x, [(0, 0), (0, 0), (1, 1)])
                c = np.stack([np.einsum('bck,ock->bo', xp[:, :, t:t + 3], w)
                              for t in range(length)], 2)
                ct = c.transpose(0, 2, 1)
                mu = ct.mean(-1, keepdims=True)
                ln = (ct - mu) / np.sqrt(ct.var(-1, keepdims=True) + 1e-5)
                rs = (ln * g).reshape(n, -1, 2, 2)
                fl = rs.reshape(n * rs.shape[1], 4)
                e = np.exp(fl - fl.max(1, keepdims=True))
                half = length // 2
                got = emit_and_run(m, [x], args=('--dynamic-batch',))
                self.check(got[0], (e / e.sum(1, keepdims=True))
                           .astype(np.float32), rtol=1e-4, atol=1e-5)
                self.check(got[1], x[:, :, :half] + x[:, :, half:])
