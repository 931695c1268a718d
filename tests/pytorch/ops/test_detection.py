"""Detection translations (include/dfgpar/pytorch/ops/detection.hpp):
NonMaxSuppression (corner and center boxes, IoU and score thresholds,
output limits, batches, classes) and RoiAlign (both coordinate modes of
opset 16, RoiAlign-10's legacy rule, avg and max, fixed and adaptive
sampling, spatial_scale, points outside the input) against the backend
suite's data and the direct loops below (ONNX Runtime's algorithm, which
the ONNX reference follows)."""

import math

import numpy as np

from optest import OpTest, needs_dfgpar

RNG = np.random.default_rng(14)


def roi_align(x, rois, batch, oh, ow, ratio=0, scale=1.0, mode='avg',
              half_pixel=True):
    """RoiAlign, one sample point at a time."""
    n_rois, channels, height, width = len(rois), x.shape[1], x.shape[2], \
        x.shape[3]
    y = np.zeros((n_rois, channels, oh, ow), np.float64)
    off = 0.5 if half_pixel else 0.0
    for n in range(n_rois):
        x0, y0, x1, y1 = (float(v) * scale - off for v in rois[n])
        rw, rh = x1 - x0, y1 - y0
        if not half_pixel:
            rw, rh = max(rw, 1.0), max(rh, 1.0)
        bh, bw = rh / oh, rw / ow
        gh = ratio if ratio > 0 else max(math.ceil(rh / oh), 0)
        gw = ratio if ratio > 0 else max(math.ceil(rw / ow), 0)
        img = x[batch[n]].astype(np.float64)
        for ph in range(oh):
            for pw in range(ow):
                vals = []
                for iy in range(gh):
                    yy = y0 + ph * bh + (iy + 0.5) * bh / gh
                    for ix in range(gw):
                        xx = x0 + pw * bw + (ix + 0.5) * bw / gw
                        if yy < -1 or yy > height or xx < -1 or xx > width:
                            vals.append(np.zeros(channels))
                            continue
                        yy, xx = max(yy, 0.0), max(xx, 0.0)
                        yl, xl = int(yy), int(xx)
                        if yl >= height - 1:
                            yl = yh = height - 1
                            yy = float(yl)
                        else:
                            yh = yl + 1
                        if xl >= width - 1:
                            xl = xh = width - 1
                            xx = float(xl)
                        else:
                            xh = xl + 1
                        ly, lx = yy - yl, xx - xl
                        hy, hx = 1 - ly, 1 - lx
                        t = [hy * hx * img[:, yl, xl],
                             hy * lx * img[:, yl, xh],
                             ly * hx * img[:, yh, xl],
                             ly * lx * img[:, yh, xh]]
                        vals.append(sum(t) if mode == 'avg'
                                    else np.max(t, axis=0))
                if not vals:
                    continue
                y[n, :, ph, pw] = (np.sum(vals, 0) / len(vals)
                                   if mode == 'avg' else np.max(vals, 0))
    return y.astype(x.dtype)


X = RNG.standard_normal((2, 3, 6, 7)).astype(np.float32)
ROIS = np.array([[0, 0, 6, 5], [1.5, 0.5, 4.2, 5.9], [-2, -1, 3, 2],
                 [5.5, 4.5, 9, 9], [2, 2, 2, 2]], np.float32)
BATCH = np.array([0, 1, 1, 0, 1], np.int64)


@needs_dfgpar
class Detection(OpTest):
    def test_non_max_suppression_suite_cases(self):
        for case in ('test_nonmaxsuppression_center_point_box_format',
                     'test_nonmaxsuppression_flipped_coordinates',
                     'test_nonmaxsuppression_identical_boxes',
                     'test_nonmaxsuppression_limit_output_size',
                     'test_nonmaxsuppression_suppress_by_IOU_and_scores',
                     'test_nonmaxsuppression_two_batches',
                     'test_nonmaxsuppression_two_classes'):
            with self.subTest(case=case):
                self.check_suite(case)

    def test_roi_align_suite_cases(self):
        # opset 16: output_half_pixel and half_pixel, avg, sampling_ratio 2
        for case in ('test_roialign_aligned_false',
                     'test_roialign_aligned_true'):
            with self.subTest(case=case):
                self.check_suite(case)

    def roi_inputs(self):
        return [('x', X), ('rois', ROIS), ('batch', BATCH)]

    def test_roi_align_opset16_modes(self):
        for ctm in ('half_pixel', 'output_half_pixel'):
            for mode in ('avg', 'max'):
                for ratio in (0, 2):
                    with self.subTest(ctm=ctm, mode=mode, ratio=ratio):
                        want = roi_align(X, ROIS, BATCH, 3, 2, ratio, 0.5,
                                         mode, ctm == 'half_pixel')
                        self.check_node(
                            want, 'RoiAlign', self.roi_inputs(), opset=16,
                            coordinate_transformation_mode=ctm, mode=mode,
                            output_height=3, output_width=2,
                            sampling_ratio=ratio, spatial_scale=0.5,
                            atol=1e-5)

    def test_roi_align_opset10_legacy_coordinates(self):
        want = roi_align(X, ROIS, BATCH, 2, 2, 0, 1.0, 'avg', False)
        self.check_node(want, 'RoiAlign', self.roi_inputs(), opset=10,
                        output_height=2, output_width=2, atol=1e-5)

    def test_roi_align_defaults_opset16(self):
        want = roi_align(X, ROIS, BATCH, 1, 1)
        self.check_node(want, 'RoiAlign', self.roi_inputs(), opset=16,
                        atol=1e-5)

    def test_roi_align_unknown_mode_refused(self):
        self.refused('RoiAlign', self.roi_inputs(), "mode 'median'",
                     opset=16, mode='median')
