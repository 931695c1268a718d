"""Indexing translations (include/dfgpar/pytorch/ops/index.hpp): Slice with
attributes (before opset 10) or inputs (constant, negative steps, computed
at run time), Gather/GatherElements with negative indices, TopK's k as an
attribute (before 10) or input and `largest`, ScatterElements reductions
(opset 16), OneHot, Compress with and without axis, GatherND batch_dims,
NonZero and Unique (sorted and in order of appearance)."""

import numpy as np

from optest import OpTest, needs_dfgpar, run_node

RNG = np.random.default_rng(5)
X = RNG.standard_normal((3, 4, 5)).astype(np.float32)
I64 = np.int64


@needs_dfgpar
class Index(OpTest):
    def test_slice_attributes_opset9(self):
        self.check_node(X[1:3, :, -3:-1], 'Slice', [('x', X)], opset=9,
                        starts=[1, -3], ends=[10, -1], axes=[0, 2])

    def test_slice_inputs_with_steps(self):
        ins = [('x', X), ('s', np.array([0, 4], I64)),
               ('e', np.array([3, 0], I64)), ('a', np.array([0, 2], I64)),
               ('p', np.array([2, -2], I64))]
        self.check_node(X[0:3:2, :, 4:0:-2], 'Slice', ins,
                        constants=('s', 'e', 'a', 'p'))

    def test_slice_computed_at_run_time(self):
        ins = [('x', X), ('s', np.array([1], I64)),
               ('e', np.array([-1], I64))]
        self.check_node(X[1:-1], 'Slice', ins)

    def test_gather_negative_indices(self):
        i = np.array([[0, -1], [2, 1]], I64)
        self.check_node(np.take(X, [[0, 4], [2, 1]], axis=2), 'Gather',
                        [('x', X), ('i', i)], axis=2)

    def test_gather_elements(self):
        i = np.array([[[0], [-1], [2], [1]]] * 3, I64)
        self.check_node(np.take_along_axis(X, i % 5, axis=2),
                        'GatherElements', [('x', X), ('i', i)], axis=2)

    def test_topk_attribute_opset9_and_input(self):
        x = np.array([[3, 1, 2, 5], [0, 4, 4, 1]], np.float32)
        got = run_node('TopK', [('x', x)], ('v', 'i'), opset=9, k=2)
        self.check(got[0], np.array([[5, 3], [4, 4]], np.float32))
        self.check(got[1], np.array([[3, 0], [1, 2]], I64))
        got = run_node('TopK', [('x', x), ('k', np.array([2], I64))],
                       ('v', 'i'), opset=11, constants=('k',), largest=0)
        self.check(got[0], np.array([[1, 2], [0, 1]], np.float32))
        self.check(got[1], np.array([[1, 2], [0, 3]], I64))

    def test_scatter_elements_reductions(self):
        x = np.ones((2, 3), np.float32)
        i = np.array([[0, 0], [2, 2]], I64)
        u = np.array([[2, 3], [4, 5]], np.float32)
        ins = [('x', x), ('i', i), ('u', u)]
        self.check_node(np.array([[3, 1, 1], [1, 1, 5]], np.float32),
                        'ScatterElements', ins, axis=1)
        self.check_node(np.array([[6, 1, 1], [1, 1, 10]], np.float32),
                        'ScatterElements', ins, opset=16, axis=1,
                        reduction='add')
        self.check_node(np.array([[6, 1, 1], [1, 1, 20]], np.float32),
                        'ScatterElements', ins, opset=16, axis=1,
                        reduction='mul')

    def test_one_hot_axis(self):
        i = np.array([0, 2, -1], I64)
        depth = np.array(3, I64)
        vals = np.array([0, 1], np.float32)
        want = np.eye(3, dtype=np.float32)[[0, 2, 2]].T
        self.check_node(want, 'OneHot', [('i', i), ('d', depth), ('v', vals)],
                        constants=('d', 'v'), axis=0)

    def test_compress_with_and_without_axis(self):
        c = np.array([True, False, True])
        self.check_node(X[[0, 2]], 'Compress', [('x', X), ('c', c)], axis=0)
        self.check_node(X.reshape(-1)[[0, 2]], 'Compress',
                        [('x', X), ('c', c)])

    def test_gather_nd_batch_dims(self):
        i = np.array([[1], [3], [0]], I64)
        self.check_node(X[np.arange(3), [1, 3, 0]], 'GatherND',
                        [('x', X), ('i', i)], batch_dims=1)

    def test_non_zero(self):
        x = np.array([[1, 0], [0, 3]], np.float32)
        self.check_node(np.array(np.nonzero(x), I64), 'NonZero', [('x', x)])

    def test_unique_sorted_and_unsorted(self):
        x = np.array([2, 1, 1, 3, 2], np.float32)
        outs = ('y', 'first', 'inverse', 'counts')
        got = run_node('Unique', [('x', x)], outs, opset=11)
        for g, w in zip(got, ([1, 2, 3], [1, 0, 3], [1, 0, 0, 2, 1],
                              [2, 2, 1])):
            self.check(g, np.array(w, g.dtype))
        got = run_node('Unique', [('x', x)], outs, opset=11, sorted=0)
        for g, w in zip(got, ([2, 1, 3], [0, 1, 3], [0, 1, 1, 2, 0],
                              [2, 2, 1])):
            self.check(g, np.array(w, g.dtype))
