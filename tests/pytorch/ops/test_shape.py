"""Shape translations (include/dfgpar/pytorch/ops/shape.hpp): Reshape's shape
as an attribute (opset 1-4) or input (constant, computed; 0 copies a
dimension unless allowzero), Squeeze/Unsqueeze axes as an attribute (before
13) or input, Pad as attributes (before 11) or inputs with each mode,
Concat's default axis before opset 4, Split sizes as an attribute (before
13) or input, Flatten, Transpose, Expand, Tile, DepthToSpace and Shape's
start/end (opset 15)."""

import numpy as np

from optest import OpTest, needs_dfgpar, run_node

RNG = np.random.default_rng(4)
X = RNG.standard_normal((2, 3, 4)).astype(np.float32)
I64 = np.int64


@needs_dfgpar
class Shape(OpTest):
    def test_reshape_shape_attribute_opset4(self):
        self.check_node(X.reshape(6, 4), 'Reshape', [('x', X)], opset=4,
                        shape=[6, -1])

    def test_reshape_zero_copies_a_dimension(self):
        s = np.array([0, -1], I64)
        self.check_node(X.reshape(2, 12), 'Reshape', [('x', X), ('s', s)],
                        constants=('s',))

    def test_reshape_allowzero_opset14(self):
        x = np.zeros((0, 3), np.float32)
        s = np.array([3, 0], I64)
        self.check_node(x.reshape(3, 0), 'Reshape', [('x', x), ('s', s)],
                        opset=14, constants=('s',), allowzero=1)

    def test_reshape_shape_computed_at_run_time(self):
        s = np.array([0, 12], I64)
        self.check_node(X.reshape(2, 12), 'Reshape', [('x', X), ('s', s)])

    def test_unsqueeze_axes_attribute_opset11(self):
        self.check_node(X.reshape(2, 1, 3, 4, 1), 'Unsqueeze', [('x', X)],
                        opset=11, axes=[1, -1])

    def test_unsqueeze_axes_input_opset13(self):
        a = np.array([0, 4], I64)
        self.check_node(X.reshape(1, 2, 3, 4, 1), 'Unsqueeze',
                        [('x', X), ('a', a)], constants=('a',))
        self.check_node(X.reshape(1, 2, 3, 4, 1), 'Unsqueeze',
                        [('x', X), ('a', a)])

    def test_squeeze_axes_attribute_and_input(self):
        x = X.reshape(1, 2, 1, 3, 4)
        self.check_node(X.reshape(2, 1, 3, 4), 'Squeeze', [('x', x)],
                        opset=11, axes=[0])
        a = np.array([-3], I64)
        self.check_node(x.reshape(1, 2, 3, 4), 'Squeeze',
                        [('x', x), ('a', a)], constants=('a',))
        self.check_node(X, 'Squeeze', [('x', x)])

    def test_pad_attributes_opset2(self):
        want = np.pad(X, [(0, 0), (1, 0), (0, 2)], constant_values=1.5)
        self.check_node(want, 'Pad', [('x', X)], opset=2,
                        pads=[0, 1, 0, 0, 0, 2], value=1.5)

    def test_pad_inputs_opset11_modes(self):
        p = np.array([0, 1, 2, 0, 1, 1], I64)
        pw = [(0, 0), (1, 1), (2, 1)]
        for mode, np_mode in (('constant', 'constant'), ('reflect', 'reflect'),
                              ('edge', 'edge')):
            with self.subTest(mode=mode):
                self.check_node(np.pad(X, pw, mode=np_mode), 'Pad',
                                [('x', X), ('p', p)], opset=11,
                                constants=('p',), mode=mode)

    def test_pad_reflect_4d_last_axis_only(self):
        # F.pad's reflect needs the pads of the last two axes of a 4-D
        # tensor: [3, 3, 0, 0], not [3, 3] (Silero VAD v4's STFT padding)
        x = RNG.standard_normal((1, 1, 1, 16)).astype(np.float32)
        p = np.array([0, 0, 0, 3, 0, 0, 0, 3], I64)
        for mode in ('reflect', 'edge'):
            with self.subTest(mode=mode):
                want = np.pad(x, [(0, 0), (0, 0), (0, 0), (3, 3)], mode=mode)
                self.check_node(want, 'Pad', [('x', x), ('p', p)], opset=11,
                                constants=('p',), mode=mode)

    def test_pad_value_and_pads_computed_at_run_time(self):
        p = np.array([0, 0, 1, 0, 0, 1], I64)
        v = np.array(2.0, np.float32)
        self.check_node(np.pad(X, [(0, 0), (0, 0), (1, 1)],
                               constant_values=2.0),
                        'Pad', [('x', X), ('p', p), ('v', v)])

    def test_concat_default_axis_opset1_and_axis(self):
        self.check_node(np.concatenate([X, X], 1), 'Concat',
                        [('a', X), ('b', X)], opset=1)
        self.check_node(np.concatenate([X, X], -1), 'Concat',
                        [('a', X), ('b', X)], axis=-1)

    def test_split_attribute_opset11_and_input_opset13(self):
        got = run_node('Split', [('x', X)], ('p', 'q'), opset=11, axis=2,
                       split=[1, 3])
        self.check(got[0], X[:, :, :1])
        self.check(got[1], X[:, :, 1:])
        s = np.array([2, 2], I64)
        got = run_node('Split', [('x', X), ('s', s)], ('p', 'q'),
                       constants=('s',), axis=-1)
        self.check(got[0], X[:, :, :2])
        self.check(got[1], X[:, :, 2:])

    def test_flatten_transpose(self):
        self.check_node(X.reshape(6, 4), 'Flatten', [('x', X)], axis=-1)
        self.check_node(X.transpose(2, 1, 0), 'Transpose', [('x', X)])
        self.check_node(X.transpose(1, 0, 2), 'Transpose', [('x', X)],
                        perm=[1, 0, 2])

    def test_expand_tile(self):
        x = X[:, :1, :]
        self.check_node(np.broadcast_to(x, (2, 3, 4)), 'Expand',
                        [('x', x), ('s', np.array([2, 3, 1], I64))],
                        constants=('s',))
        self.check_node(np.tile(X, (1, 1, 2)), 'Tile',
                        [('x', X), ('r', np.array([1, 1, 2], I64))],
                        constants=('r',))

    def test_depth_to_space_modes(self):
        x = np.arange(16, dtype=np.float32).reshape(1, 4, 2, 2)
        dcr = x.reshape(1, 2, 2, 1, 2, 2).transpose(0, 3, 4, 1, 5, 2)
        self.check_node(dcr.reshape(1, 1, 4, 4), 'DepthToSpace', [('x', x)],
                        blocksize=2)
        crd = x.reshape(1, 1, 2, 2, 2, 2).transpose(0, 1, 4, 2, 5, 3)
        self.check_node(crd.reshape(1, 1, 4, 4), 'DepthToSpace', [('x', x)],
                        blocksize=2, mode='CRD')

    def test_shape_start_end_opset15(self):
        self.check_node(np.array([2, 3, 4], I64), 'Shape', [('x', X)])
        self.check_node(np.array([3], I64), 'Shape', [('x', X)], opset=15,
                        start=1, end=-1)
