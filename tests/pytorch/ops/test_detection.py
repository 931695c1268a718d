"""Detection translations (include/dfgpar/pytorch/ops/detection.hpp):
NonMaxSuppression (corner and center boxes, IoU and score thresholds,
output limits, batches, classes) against the backend suite's data."""

from optest import OpTest, needs_dfgpar


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
