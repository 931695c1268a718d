"""Normalisation translations (include/dfgpar/pytorch/ops/normalization.hpp):
BatchNormalization in inference (opset 6 with is_test, opset 9, opset 15)
and with training_mode=1 (opset 14 and later: batch statistics and running
statistics outputs), LayerNormalization's axis and statistics outputs,
InstanceNormalization, LRN and MeanVarianceNormalization."""

import numpy as np

from optest import OpTest, needs_dfgpar, run_node

RNG = np.random.default_rng(7)
X = RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)
C = [RNG.standard_normal(3).astype(np.float32) for _ in range(3)]
VAR = (RNG.random(3) + 0.5).astype(np.float32)


def per_channel(v):
    return v.reshape(1, -1, 1, 1)


@needs_dfgpar
class Normalization(OpTest):
    def bn_inputs(self):
        scale, bias, mean = C
        return [('x', X), ('s', scale), ('b', bias), ('m', mean), ('v', VAR)]

    def bn_inference(self, eps=1e-5):
        scale, bias, mean = C
        return (per_channel(scale) * (X - per_channel(mean)) /
                np.sqrt(per_channel(VAR) + eps) + per_channel(bias))

    def test_batch_norm_inference_across_opsets(self):
        for opset, extra in ((6, {'is_test': 1}), (9, {}), (15, {})):
            with self.subTest(opset=opset):
                self.check_node(self.bn_inference(1e-3), 'BatchNormalization',
                                self.bn_inputs(), opset=opset,
                                constants=('s', 'b', 'm', 'v'), epsilon=1e-3,
                                atol=1e-5, **extra)

    def test_batch_norm_opset6_training_refused(self):
        self.refused('BatchNormalization', self.bn_inputs(), 'is_test',
                     opset=6, constants=('s', 'b', 'm', 'v'))

    def test_batch_norm_training_mode_opset14(self):
        scale, bias, mean = C
        bm = X.mean(axis=(0, 2, 3))
        bv = X.var(axis=(0, 2, 3))
        y = (per_channel(scale) * (X - per_channel(bm)) /
             np.sqrt(per_channel(bv) + 1e-5) + per_channel(bias))
        got = run_node('BatchNormalization', self.bn_inputs(),
                       ('y', 'rm', 'rv'), opset=14,
                       constants=('s', 'b', 'm', 'v'), training_mode=1,
                       momentum=0.8)
        self.check(got[0], y, atol=1e-5)
        self.check(got[1], mean * 0.8 + bm * 0.2, atol=1e-5)
        self.check(got[2], VAR * 0.8 + bv * 0.2, atol=1e-5)

    def test_layer_norm_axis_and_statistics(self):
        w = RNG.standard_normal((4, 5)).astype(np.float32)
        b = RNG.standard_normal((4, 5)).astype(np.float32)
        m = X.mean(axis=(2, 3), keepdims=True)
        inv = 1 / np.sqrt(X.var(axis=(2, 3), keepdims=True) + 1e-5)
        want = (X - m) * inv * w + b
        self.check_node(want, 'LayerNormalization',
                        [('x', X), ('w', w), ('b', b)], opset=17,
                        constants=('w', 'b'), axis=2, atol=1e-5)
        got = run_node('LayerNormalization', [('x', X), ('w', w), ('b', b)],
                       ('y', 'mean', 'inv'), opset=17, constants=('w', 'b'),
                       axis=-2)
        self.check(got[0], want, atol=1e-5)
        self.check(got[1], m, atol=1e-6)
        self.check(got[2], inv, rtol=1e-4)

    def test_instance_norm(self):
        scale, bias, _ = C
        m = X.mean(axis=(2, 3), keepdims=True)
        v = X.var(axis=(2, 3), keepdims=True)
        self.check_node(per_channel(scale) * (X - m) / np.sqrt(v + 1e-2) +
                        per_channel(bias), 'InstanceNormalization',
                        [('x', X), ('s', scale), ('b', bias)],
                        constants=('s', 'b'), epsilon=1e-2, atol=1e-5)

    def test_lrn_odd_size(self):
        sq = np.pad(X * X, [(0, 0), (1, 1), (0, 0), (0, 0)])
        s = sq[:, :-2] + sq[:, 1:-1] + sq[:, 2:]
        self.check_node(X / (2.0 + 1e-3 / 3 * s) ** 0.5, 'LRN', [('x', X)],
                        size=3, alpha=1e-3, beta=0.5, bias=2.0)
        self.refused('LRN', [('x', X)], 'size 2', size=2)

    def test_mean_variance_norm_axes(self):
        m = X.mean(axis=(0, 2, 3), keepdims=True)
        s = np.sqrt(((X - m) ** 2).mean(axis=(0, 2, 3), keepdims=True))
        self.check_node((X - m) / (s + 1e-9), 'MeanVarianceNormalization',
                        [('x', X)], atol=1e-5)
        m = X.mean(axis=3, keepdims=True)
        s = np.sqrt(((X - m) ** 2).mean(axis=3, keepdims=True))
        self.check_node((X - m) / (s + 1e-9), 'MeanVarianceNormalization',
                        [('x', X)], axes=[3], atol=1e-5)
