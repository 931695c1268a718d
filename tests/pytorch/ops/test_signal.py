"""Signal translations (include/dfgpar/pytorch/ops/signal.hpp, opset 17):
DFT of real and complex signals (onesided, inverse, dft_length, axis),
STFT with and without a window, and the periodic and symmetric
Hann/Hamming/Blackman windows."""

import numpy as np

from optest import OpTest, needs_dfgpar

RNG = np.random.default_rng(12)


def as_real(z):
    return np.stack([z.real, z.imag], -1).astype(np.float32)


def window(kind, n, periodic):
    m = n if periodic else n - 1
    k = np.arange(n)
    if kind == 'hann':
        return 0.5 - 0.5 * np.cos(2 * np.pi * k / m)
    if kind == 'hamming':
        return 25 / 46 - 21 / 46 * np.cos(2 * np.pi * k / m)
    return (0.42 - 0.5 * np.cos(2 * np.pi * k / m) +
            0.08 * np.cos(4 * np.pi * k / m))


@needs_dfgpar
class Signal(OpTest):
    def test_dft_real_onesided_and_length(self):
        x = RNG.standard_normal((2, 8, 1)).astype(np.float32)
        self.check_node(as_real(np.fft.fft(x[..., 0], axis=1)), 'DFT',
                        [('x', x)], opset=17, atol=1e-5)
        self.check_node(as_real(np.fft.rfft(x[..., 0], axis=1)), 'DFT',
                        [('x', x)], opset=17, onesided=1, atol=1e-5)
        n = np.array(6, np.int64)
        self.check_node(as_real(np.fft.fft(x[..., 0], 6, axis=1)), 'DFT',
                        [('x', x), ('n', n)], opset=17, constants=('n',),
                        atol=1e-5)

    def test_dft_complex_inverse(self):
        z = RNG.standard_normal((3, 4)) + 1j * RNG.standard_normal((3, 4))
        self.check_node(as_real(np.fft.ifft(z, axis=0)), 'DFT',
                        [('x', as_real(z))], opset=17, axis=0, inverse=1,
                        atol=1e-5)

    def test_stft_with_and_without_window(self):
        x = RNG.standard_normal((1, 16, 1)).astype(np.float32)
        step, length = np.array(4, np.int64), np.array(8, np.int64)
        frames = np.stack([x[0, s:s + 8, 0] for s in range(0, 9, 4)])
        self.check_node(as_real(np.fft.rfft(frames, axis=-1))[None], 'STFT',
                        [('x', x), ('s', step), ('', None), ('n', length)],
                        opset=17, constants=('s', 'n'), atol=1e-5)
        w = window('hann', 8, True).astype(np.float32)
        self.check_node(as_real(np.fft.fft(frames * w, axis=-1))[None],
                        'STFT', [('x', x), ('s', step), ('w', w)], opset=17,
                        constants=('s', 'w'), onesided=0, atol=1e-5)

    def test_windows_periodic_and_symmetric(self):
        n = np.array(10, np.int64)
        for op, kind in (('HannWindow', 'hann'), ('HammingWindow', 'hamming'),
                         ('BlackmanWindow', 'blackman')):
            for periodic in (1, 0):
                with self.subTest(op=op, periodic=periodic):
                    self.check_node(window(kind, 10, periodic).astype(
                        np.float32), op, [('n', n)], opset=17,
                        constants=('n',), periodic=periodic, atol=1e-6)
