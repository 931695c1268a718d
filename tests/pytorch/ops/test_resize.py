"""Resampling translations (include/dfgpar/pytorch/ops/resize.hpp): Upsample
with scales as an attribute (opset 7) or input (opset 9), Resize-10 (the
legacy asymmetric/floor rule), Resize-11 and later with each coordinate
transformation and nearest mode, linear and cubic (the backend suite's
data), sizes instead of scales, and GridSample."""

import numpy as np

from optest import OpTest, needs_dfgpar

RNG = np.random.default_rng(9)
X = RNG.standard_normal((1, 1, 2, 3)).astype(np.float32)
EMPTY = np.zeros(0, np.float32)


@needs_dfgpar
class Resize(OpTest):
    def test_upsample_scales_attribute_opset7(self):
        want = X.repeat(2, axis=2).repeat(3, axis=3)
        self.check_node(want, 'Upsample', [('x', X)], opset=7,
                        scales=[1.0, 1.0, 2.0, 3.0])

    def test_upsample_scales_input_opset9(self):
        s = np.array([1, 1, 2, 2], np.float32)
        self.check_node(X.repeat(2, axis=2).repeat(2, axis=3), 'Upsample',
                        [('x', X), ('s', s)], opset=9, constants=('s',))

    def test_upsample_linear_opset9(self):
        x = np.array([[[[1, 3]]]], np.float32)
        s = np.array([1, 1, 1, 2], np.float32)
        # asymmetric: output i samples input i / 2, clamped at the edge
        self.check_node(np.array([[[[1, 2, 3, 3]]]], np.float32), 'Upsample',
                        [('x', x), ('s', s)], opset=9, constants=('s',),
                        mode='linear')

    def test_resize10_nearest(self):
        s = np.array([1, 1, 2, 2], np.float32)
        self.check_node(X.repeat(2, axis=2).repeat(2, axis=3), 'Resize',
                        [('x', X), ('s', s)], opset=10, constants=('s',))

    def test_resize11_nearest_modes(self):
        x = np.arange(4, dtype=np.float32).reshape(1, 1, 1, 4)
        sizes = np.array([1, 1, 1, 3], np.int64)
        ins = [('x', x), ('roi', EMPTY), ('s', EMPTY), ('n', sizes)]
        const = ('roi', 's', 'n')
        # half_pixel: x_in = (i + 0.5) * 4/3 - 0.5 = 0.167, 1.5, 2.833
        for mode, want in (('round_prefer_floor', [0, 1, 3]),
                           ('round_prefer_ceil', [0, 2, 3]),
                           ('floor', [0, 1, 2]), ('ceil', [1, 2, 3])):
            with self.subTest(nearest_mode=mode):
                self.check_node(np.array(want, np.float32).reshape(1, 1, 1, 3),
                                'Resize', ins, opset=11, constants=const,
                                nearest_mode=mode)

    def test_resize11_linear_coordinate_modes(self):
        x = np.array([[[[0, 4]]]], np.float32)
        s = np.array([1, 1, 1, 2], np.float32)
        ins = [('x', x), ('roi', EMPTY), ('s', s)]
        for ctm, want in (('half_pixel', [0, 1, 3, 4]),
                          ('asymmetric', [0, 2, 4, 4]),
                          ('align_corners', [0, 4 / 3, 8 / 3, 4])):
            with self.subTest(coordinate_transformation_mode=ctm):
                want = np.array(want, np.float32).reshape(1, 1, 1, 4)
                self.check_node(want, 'Resize', ins, opset=13,
                                constants=('roi', 's'), mode='linear',
                                coordinate_transformation_mode=ctm)

    def test_resize_suite_cubic_and_crop(self):
        for case in ('test_resize_upsample_scales_cubic',
                     'test_resize_downsample_scales_cubic_A_n0p5_'
                     'exclude_outside',
                     'test_resize_downsample_sizes_linear_pytorch_half_pixel',
                     'test_resize_tf_crop_and_resize'):
            with self.subTest(case=case):
                self.check_suite(case)

    def test_grid_sample(self):
        x = np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2)
        grid = np.array([[[[-1, -1], [1, 1], [0, 0]]]], np.float32)
        self.check_node(np.array([[[[0, 3, 1.5]]]], np.float32), 'GridSample',
                        [('x', x), ('g', grid)], opset=16, align_corners=1)
        self.check_node(np.array([[[[0, 0.75, 1.5]]]], np.float32),
                        'GridSample', [('x', x), ('g', grid)], opset=16)
