"""Convolution and pooling translations (include/dfgpar/pytorch/ops/
conv_pool.hpp): symmetric and asymmetric pads (F.pad first), auto_pad,
groups and dilations, ConvTranspose's output_shape, MaxPool with ceil_mode
and the Indices output (storage_order), AveragePool with and without the
pads counted, and the global pools. Expected values come from the direct
definitions below."""

import numpy as np

from optest import OpTest, needs_dfgpar, run_node

RNG = np.random.default_rng(6)
X = RNG.standard_normal((1, 2, 5, 6)).astype(np.float32)


def windows(x, kernel, strides, pads, dilations=(1, 1), fill=0.0,
            ceil=False):
    """(patches [n, c, oh, ow, kh, kw], valid mask) of 2-D windows."""
    xp = np.pad(x, [(0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])],
                constant_values=fill)
    valid = np.pad(np.ones_like(x), [(0, 0), (0, 0), (pads[0], pads[2]),
                                     (pads[1], pads[3])])
    out = []
    for d in range(2):
        span = (kernel[d] - 1) * dilations[d] + 1
        n = (xp.shape[2 + d] - span) / strides[d] + 1
        out.append(int(np.ceil(n) if ceil else np.floor(n)))
    # ceil_mode windows may run past the end: extend with fill
    need = [(out[d] - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1
            for d in range(2)]
    extra = [max(0, need[d] - xp.shape[2 + d]) for d in range(2)]
    xp = np.pad(xp, [(0, 0), (0, 0), (0, extra[0]), (0, extra[1])],
                constant_values=fill)
    valid = np.pad(valid, [(0, 0), (0, 0), (0, extra[0]), (0, extra[1])])
    p = np.zeros(x.shape[:2] + tuple(out) + tuple(kernel), x.dtype)
    m = np.zeros_like(p)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            sl = (slice(None), slice(None),
                  slice(i * dilations[0], i * dilations[0] +
                        strides[0] * out[0], strides[0]),
                  slice(j * dilations[1], j * dilations[1] +
                        strides[1] * out[1], strides[1]))
            p[..., i, j] = xp[sl]
            m[..., i, j] = valid[sl]
    return p, m


def conv(x, w, b=None, strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1),
         group=1):
    cin = x.shape[1] // group
    cout = w.shape[0] // group
    outs = []
    for g in range(group):
        p, _ = windows(x[:, g * cin:(g + 1) * cin], w.shape[2:], strides,
                       pads, dilations)
        outs.append(np.einsum('ncxyij,ocij->noxy', p,
                              w[g * cout:(g + 1) * cout]))
    y = np.concatenate(outs, 1)
    return (y if b is None else y + b.reshape(1, -1, 1, 1)).astype(x.dtype)


@needs_dfgpar
class ConvPool(OpTest):
    def test_conv_symmetric_pads_strides_bias(self):
        w = RNG.standard_normal((3, 2, 3, 3)).astype(np.float32)
        b = RNG.standard_normal(3).astype(np.float32)
        self.check_node(conv(X, w, b, (2, 1), (1, 1, 1, 1)), 'Conv',
                        [('x', X), ('w', w), ('b', b)], constants=('w', 'b'),
                        strides=[2, 1], pads=[1, 1, 1, 1], atol=1e-5)

    def test_conv_asymmetric_pads_dilations(self):
        w = RNG.standard_normal((2, 2, 2, 2)).astype(np.float32)
        self.check_node(conv(X, w, None, (1, 1), (0, 1, 2, 0), (2, 1)),
                        'Conv', [('x', X), ('w', w)], constants=('w',),
                        pads=[0, 1, 2, 0], dilations=[2, 1], atol=1e-5)

    def test_conv_auto_pad_same_upper_groups(self):
        w = RNG.standard_normal((4, 1, 2, 2)).astype(np.float32)
        # SAME_UPPER, kernel 2, stride 1: the extra pad at the end
        self.check_node(conv(X, w, None, (1, 1), (0, 0, 1, 1), group=2),
                        'Conv', [('x', X), ('w', w)], constants=('w',),
                        auto_pad='SAME_UPPER', group=2, atol=1e-5)

    def test_conv_transpose_output_shape(self):
        x = RNG.standard_normal((1, 1, 3, 3)).astype(np.float32)
        w = RNG.standard_normal((1, 2, 3, 3)).astype(np.float32)
        full = np.zeros((1, 2, 7, 7), np.float32)
        for i in range(3):
            for j in range(3):
                full[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3] += \
                    x[0, 0, i, j] * w[0]
        # output_shape 6x6 of the full 7x7: one row/column cut at the start
        self.check_node(full[:, :, 1:, 1:], 'ConvTranspose',
                        [('x', x), ('w', w)], constants=('w',),
                        strides=[2, 2], output_shape=[6, 6], atol=1e-5)

    def test_max_pool_pads_ceil_mode(self):
        p, _ = windows(X, (3, 3), (2, 2), (1, 1, 1, 1), fill=-np.inf,
                       ceil=True)
        self.check_node(p.max(axis=(-1, -2)), 'MaxPool', [('x', X)],
                        kernel_shape=[3, 3], strides=[2, 2],
                        pads=[1, 1, 1, 1], ceil_mode=1)

    def test_max_pool_indices_storage_order(self):
        x = RNG.permutation(20).astype(np.float32).reshape(1, 1, 4, 5)
        p, _ = windows(x, (2, 2), (2, 2), (0, 0, 0, 0))
        want = p.max(axis=(-1, -2))
        flat = [[int(np.argwhere(x[0, 0] == v)[0][0] * 5 +
                     np.argwhere(x[0, 0] == v)[0][1]) for v in row]
                for row in want[0, 0]]
        got = run_node('MaxPool', [('x', x)], ('y', 'i'),
                       kernel_shape=[2, 2], strides=[2, 2])
        self.check(got[0], want)
        self.check(got[1], np.array(flat, np.int64).reshape(1, 1, 2, 2))
        col = [[(f % 5) * 4 + f // 5 for f in row] for row in flat]
        got = run_node('MaxPool', [('x', x)], ('y', 'i'),
                       kernel_shape=[2, 2], strides=[2, 2], storage_order=1)
        self.check(got[1], np.array(col, np.int64).reshape(1, 1, 2, 2))

    def test_average_pool_pads_counted_or_not(self):
        p, m = windows(X, (3, 3), (1, 1), (1, 0, 0, 1))
        self.check_node(p.sum(axis=(-1, -2)) / m.sum(axis=(-1, -2)),
                        'AveragePool', [('x', X)], kernel_shape=[3, 3],
                        pads=[1, 0, 0, 1])
        self.check_node(p.mean(axis=(-1, -2)), 'AveragePool', [('x', X)],
                        kernel_shape=[3, 3], pads=[1, 0, 0, 1],
                        count_include_pad=1)

    def test_average_pool_ceil_mode(self):
        p, m = windows(X, (2, 2), (2, 2), (0, 0, 0, 0), ceil=True)
        self.check_node(p.sum(axis=(-1, -2)) / m.sum(axis=(-1, -2)),
                        'AveragePool', [('x', X)], opset=10,
                        kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)

    def test_global_pools(self):
        self.check_node(X.mean(axis=(2, 3), keepdims=True),
                        'GlobalAveragePool', [('x', X)])
        self.check_node(X.max(axis=(2, 3), keepdims=True), 'GlobalMaxPool',
                        [('x', X)])
