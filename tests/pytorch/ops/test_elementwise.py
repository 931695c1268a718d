"""Element-wise translations (include/dfgpar/pytorch/ops/elementwise.hpp):
the legacy broadcast attributes before opset 7, integer division, Clip's
bounds as attributes (before opset 11) or inputs, Cast to bfloat16 and
inference Dropout across its three rules."""

import numpy as np

from optest import OpTest, needs_dfgpar

RNG = np.random.default_rng(1)
X = RNG.standard_normal((2, 3)).astype(np.float32)
Y = RNG.standard_normal((2, 3)).astype(np.float32)


@needs_dfgpar
class Elementwise(OpTest):
    def test_add_numpy_broadcasting(self):
        b = RNG.standard_normal((3,)).astype(np.float32)
        self.check_node(X + b, 'Add', [('x', X), ('b', b)])

    def test_add_opset6_without_legacy_attributes(self):
        self.check_node(X + Y, 'Add', [('x', X), ('y2', Y)], opset=6)

    def test_add_opset6_legacy_broadcast_refused(self):
        b = RNG.standard_normal((3,)).astype(np.float32)
        self.refused('Add', [('x', X), ('b', b)], 'broadcast', opset=6,
                     broadcast=1)

    def test_div_integers_truncate(self):
        a = np.array([7, -7, 9], np.int32)
        b = np.array([2, 2, -4], np.int32)
        self.check_node(np.trunc(a / b).astype(np.int32), 'Div',
                        [('a', a), ('b', b)])

    def test_clip_bounds_as_attributes_opset6(self):
        self.check_node(np.clip(X, -0.5, 0.25), 'Clip', [('x', X)], opset=6,
                        min=-0.5, max=0.25)

    def test_clip_bounds_as_inputs(self):
        lo, hi = np.float32(-0.5), np.float32(0.25)
        self.check_node(np.clip(X, lo, hi), 'Clip',
                        [('x', X), ('lo', lo), ('hi', hi)],
                        constants=('lo', 'hi'))

    def test_clip_bound_computed_at_run_time(self):
        hi = np.float32(0.1)
        self.check_node(np.minimum(X, hi), 'Clip',
                        [('x', X), ('', None), ('hi', hi)])

    def test_cast_float_to_int_truncates(self):
        x = np.array([1.7, -1.7, 2.5], np.float32)
        self.check_node(np.array([1, -1, 2], np.int32), 'Cast', [('x', x)],
                        to=6)

    def test_dropout_inference_is_identity(self):
        for opset in (6, 10, 13):
            extra = {'is_test': 1} if opset < 7 else {}
            with self.subTest(opset=opset):
                self.check_node(X, 'Dropout', [('x', X)], opset=opset,
                                **extra)

    def test_dropout_training_refused(self):
        self.refused('Dropout', [('x', X)], 'is_test', opset=6)
        t = np.array(True)
        self.refused('Dropout', [('x', X), ('r', np.float32(0.5)), ('t', t)],
                     'training_mode', opset=13, constants=('r', 't'))
