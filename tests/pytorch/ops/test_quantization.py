"""Quantisation translations (include/dfgpar/pytorch/ops/quantization.hpp):
QuantizeLinear/DequantizeLinear per tensor and per axis (opset 13), uint8
and int8, DynamicQuantizeLinear, MatMulInteger with zero points,
QLinearMatMul and ConvInteger."""

import numpy as np

from optest import OpTest, needs_dfgpar, run_node

RNG = np.random.default_rng(10)
X = (RNG.standard_normal((2, 3, 4)) * 50).astype(np.float32)


def quantize(x, scale, zp, lo, hi):
    return np.clip(np.rint(x / scale) + zp, lo, hi)


@needs_dfgpar
class Quantization(OpTest):
    def test_quantize_per_tensor_uint8_and_int8(self):
        s = np.array(2.0, np.float32)
        self.check_node(quantize(X, 2.0, 0, 0, 255).astype(np.uint8),
                        'QuantizeLinear', [('x', X), ('s', s)],
                        constants=('s',), opset=10)
        zp = np.array(-3, np.int8)
        self.check_node(quantize(X, 2.0, -3, -128, 127).astype(np.int8),
                        'QuantizeLinear', [('x', X), ('s', s), ('z', zp)],
                        constants=('s', 'z'))

    def test_quantize_dequantize_per_axis(self):
        s = np.array([1.0, 2.0, 4.0], np.float32)
        zp = np.array([0, 10, 20], np.uint8)
        sb, zb = s.reshape(1, 3, 1), zp.reshape(1, 3, 1).astype(np.float32)
        self.check_node(quantize(X, sb, zb, 0, 255).astype(np.uint8),
                        'QuantizeLinear', [('x', X), ('s', s), ('z', zp)],
                        constants=('s', 'z'), axis=1)
        q = RNG.integers(0, 255, (2, 3, 4)).astype(np.uint8)
        self.check_node(((q.astype(np.float32) - zb) * sb).astype(np.float32),
                        'DequantizeLinear', [('q', q), ('s', s), ('z', zp)],
                        constants=('s', 'z'), axis=1)

    def test_dynamic_quantize_linear(self):
        x = np.array([-1.0, 0.5, 2.0, 3.0], np.float32)
        scale = np.float32((3.0 - (-1.0)) / 255)
        zp = np.uint8(np.clip(np.rint(1.0 / scale), 0, 255))
        got = run_node('DynamicQuantizeLinear', [('x', x)], ('y', 's', 'z'),
                       opset=11)
        self.check(got[0], quantize(x, scale, zp, 0, 255).astype(np.uint8))
        self.check(got[1], np.array(scale, np.float32))
        self.check(got[2], np.array(zp, np.uint8))

    def test_matmul_integer_zero_points(self):
        a = RNG.integers(0, 255, (2, 3)).astype(np.uint8)
        b = RNG.integers(-128, 127, (3, 4)).astype(np.int8)
        za, zb = np.array(12, np.uint8), np.array(-5, np.int8)
        want = (a.astype(np.int32) - 12) @ (b.astype(np.int32) + 5)
        self.check_node(want.astype(np.int32), 'MatMulInteger',
                        [('a', a), ('b', b), ('za', za), ('zb', zb)],
                        opset=10, constants=('za', 'zb'))

    def test_qlinear_matmul(self):
        a = RNG.integers(0, 255, (2, 3)).astype(np.uint8)
        b = RNG.integers(0, 255, (3, 2)).astype(np.uint8)
        sa, za = np.float32(0.1), np.uint8(100)
        sb, zb = np.float32(0.2), np.uint8(120)
        sy, zy = np.float32(0.5), np.uint8(128)
        acc = (a.astype(np.int64) - 100) @ (b.astype(np.int64) - 120)
        want = np.clip(np.rint(acc * np.float32(sa * sb / sy)) + 128, 0, 255)
        ins = [('a', a), ('sa', np.array(sa)), ('za', np.array(za)),
               ('b', b), ('sb', np.array(sb)), ('zb', np.array(zb)),
               ('sy', np.array(sy)), ('zy', np.array(zy))]
        self.check_node(want.astype(np.uint8), 'QLinearMatMul', ins,
                        opset=10,
                        constants=('sa', 'za', 'sb', 'zb', 'sy', 'zy'))

    def test_conv_integer(self):
        x = RNG.integers(0, 10, (1, 1, 3, 3)).astype(np.uint8)
        w = RNG.integers(0, 3, (1, 1, 2, 2)).astype(np.uint8)
        xi = x.astype(np.int32) - 1
        wi = w.astype(np.int32)
        want = np.zeros((1, 1, 2, 2), np.int32)
        for i in range(2):
            for j in range(2):
                want[0, 0, i, j] = (xi[0, 0, i:i + 2, j:j + 2] *
                                    wi[0, 0]).sum()
        self.check_node(want, 'ConvInteger',
                        [('x', x), ('w', w), ('z', np.array(1, np.uint8))],
                        opset=10, constants=('w', 'z'))
