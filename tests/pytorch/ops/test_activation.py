"""Activation translations (include/dfgpar/pytorch/ops/activation.hpp):
Softmax/LogSoftmax/Hardmax before opset 13 (input coerced to 2-D at
`axis`, default 1) and since (along `axis`, default -1), and the
attributes of the ReLU family."""

import numpy as np

from optest import OpTest, needs_dfgpar

RNG = np.random.default_rng(2)
X = RNG.standard_normal((2, 3, 4)).astype(np.float32)


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_2d(x, axis):
    """Softmax-1/11: over all dimensions from `axis` on."""
    flat = x.reshape(int(np.prod(x.shape[:axis])), -1)
    return softmax(flat, 1).reshape(x.shape)


@needs_dfgpar
class Activation(OpTest):
    def test_softmax_opset13_default_last_axis(self):
        self.check_node(softmax(X, -1), 'Softmax', [('x', X)])

    def test_softmax_opset13_axis1(self):
        self.check_node(softmax(X, 1), 'Softmax', [('x', X)], axis=1)

    def test_softmax_opset11_coerced_to_2d(self):
        # default axis 1: one softmax over dimensions 1 and 2 together
        self.check_node(softmax_2d(X, 1), 'Softmax', [('x', X)], opset=11)

    def test_softmax_opset11_last_axis(self):
        self.check_node(softmax(X, 2), 'Softmax', [('x', X)], opset=11,
                        axis=2)

    def test_log_softmax_opset11_coerced_to_2d(self):
        self.check_node(np.log(softmax_2d(X, 1)), 'LogSoftmax', [('x', X)],
                        opset=11, atol=1e-5)

    def test_hardmax_opset13_axis1(self):
        want = (X == X.max(axis=1, keepdims=True)).astype(np.float32)
        self.check_node(want, 'Hardmax', [('x', X)], axis=1)

    def test_hardmax_opset11_refuses_inner_axis(self):
        self.refused('Hardmax', [('x', X)], 'axis', opset=11, axis=1)

    def test_leaky_relu_alpha(self):
        self.check_node(np.where(X > 0, X, 0.3 * X), 'LeakyRelu', [('x', X)],
                        alpha=0.3)

    def test_elu_and_celu_alpha(self):
        self.check_node(np.where(X > 0, X, 2.0 * np.expm1(X)), 'Elu',
                        [('x', X)], alpha=2.0)
        self.check_node(np.maximum(X, 0) +
                        np.minimum(0, 2.0 * np.expm1(X / 2.0)),
                        'Celu', [('x', X)], alpha=2.0)

    def test_hard_sigmoid_alpha_beta(self):
        self.check_node(np.clip(0.5 * X + 0.25, 0, 1), 'HardSigmoid',
                        [('x', X)], alpha=0.5, beta=0.25)

    def test_thresholded_relu_and_shrink(self):
        self.check_node(np.where(X > 0.5, X, 0), 'ThresholdedRelu',
                        [('x', X)], alpha=0.5)
        self.check_node(np.where(X < -0.5, X + 0.1,
                                 np.where(X > 0.5, X - 0.1, 0)),
                        'Shrink', [('x', X)], lambd=0.5, bias=0.1)

    def test_prelu_broadcast_slope(self):
        slope = np.array([0.1, 0.2, 0.3], np.float32).reshape(3, 1)
        self.check_node(np.where(X < 0, X * slope, X), 'PRelu',
                        [('x', X), ('s', slope)], constants=('s',))
