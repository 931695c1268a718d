"""Reduction translations (include/dfgpar/pytorch/ops/reduce.hpp): axes as
an attribute (ReduceSum before 13, the others before 18) or as input 1
(constant or computed at run time), keepdims, noop_with_empty_axes,
ArgMax/ArgMin select_last_index, CumSum reverse/exclusive."""

import numpy as np

from optest import OpTest, needs_dfgpar

RNG = np.random.default_rng(3)
X = RNG.standard_normal((2, 3, 4)).astype(np.float32)


@needs_dfgpar
class Reduce(OpTest):
    def test_reduce_sum_axes_attribute_opset11(self):
        self.check_node(X.sum(axis=(0, 2), keepdims=True), 'ReduceSum',
                        [('x', X)], opset=11, axes=[0, -1])

    def test_reduce_sum_axes_input_opset13(self):
        axes = np.array([1], np.int64)
        self.check_node(X.sum(axis=1), 'ReduceSum', [('x', X), ('a', axes)],
                        constants=('a',), keepdims=0)

    def test_reduce_sum_axes_computed_at_run_time(self):
        axes = np.array([2, 0], np.int64)
        self.check_node(X.sum(axis=(0, 2), keepdims=True), 'ReduceSum',
                        [('x', X), ('a', axes)])

    def test_reduce_sum_noop_with_empty_axes(self):
        self.check_node(X, 'ReduceSum', [('x', X)], noop_with_empty_axes=1)
        self.check_node(X.sum(keepdims=True), 'ReduceSum', [('x', X)])

    def test_reduce_mean_axes_attribute_opset13(self):
        self.check_node(X.mean(axis=2), 'ReduceMean', [('x', X)], axes=[2],
                        keepdims=0)

    def test_other_reductions(self):
        for op, want in (('ReduceMax', X.max(axis=1, keepdims=True)),
                         ('ReduceMin', X.min(axis=1, keepdims=True)),
                         ('ReduceProd', X.prod(axis=1, keepdims=True)),
                         ('ReduceL1', np.abs(X).sum(axis=1, keepdims=True)),
                         ('ReduceL2',
                          np.sqrt((X * X).sum(axis=1, keepdims=True))),
                         ('ReduceSumSquare', (X * X).sum(axis=1,
                                                         keepdims=True)),
                         ('ReduceLogSumExp',
                          np.log(np.exp(X).sum(axis=1, keepdims=True)))):
            with self.subTest(op=op):
                self.check_node(want, op, [('x', X)], axes=[1])

    def test_integer_sum_keeps_type(self):
        x = np.arange(12, dtype=np.int32).reshape(3, 4)
        self.check_node(x.sum(axis=0, keepdims=True).astype(np.int32),
                        'ReduceSum', [('x', x), ('a', np.array([0]))],
                        constants=('a',))

    def test_argmax_select_last_index(self):
        x = np.array([[1, 3, 3], [2, 2, 0]], np.float32)
        self.check_node(np.array([[1], [0]], np.int64), 'ArgMax', [('x', x)],
                        axis=1)
        self.check_node(np.array([[2], [1]], np.int64), 'ArgMax', [('x', x)],
                        axis=1, select_last_index=1)
        self.check_node(np.array([0, 1, 1], np.int64), 'ArgMin', [('x', x)],
                        axis=0, keepdims=0)

    def test_cumsum_reverse_exclusive(self):
        x = np.array([1, 2, 3, 4], np.float32)
        ax = np.array(0, np.int32)
        self.check_node(np.cumsum(x), 'CumSum', [('x', x), ('a', ax)],
                        constants=('a',))
        self.check_node(np.array([9, 7, 4, 0], np.float32), 'CumSum',
                        [('x', x), ('a', ax)], constants=('a',), reverse=1,
                        exclusive=1)
