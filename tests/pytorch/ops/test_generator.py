"""Generator translations (include/dfgpar/pytorch/ops/generator.hpp):
ConstantOfShape with and without a value (and a shape computed at run
time), Range of integers and floats, EyeLike with k and dtype."""

import numpy as np
import onnx.helper as oh
import onnx.numpy_helper

from optest import OpTest, needs_dfgpar


@needs_dfgpar
class Generator(OpTest):
    def test_constant_of_shape(self):
        s = np.array([2, 3], np.int64)
        self.check_node(np.zeros((2, 3), np.float32), 'ConstantOfShape',
                        [('s', s)], constants=('s',))
        v = onnx.numpy_helper.from_array(np.array([7], np.int32))
        self.check_node(np.full((2, 3), 7, np.int32), 'ConstantOfShape',
                        [('s', s)], value=v)

    def test_range(self):
        args = [('a', np.array(1, np.int64)), ('b', np.array(10, np.int64)),
                ('d', np.array(3, np.int64))]
        self.check_node(np.arange(1, 10, 3, dtype=np.int64), 'Range', args)
        args = [('a', np.array(1.0, np.float32)),
                ('b', np.array(-1.0, np.float32)),
                ('d', np.array(-0.5, np.float32))]
        self.check_node(np.arange(1, -1, -0.5, dtype=np.float32), 'Range',
                        args)

    def test_eye_like_k_and_dtype(self):
        x = np.zeros((3, 4), np.float32)
        self.check_node(np.eye(3, 4, 1, dtype=np.float32), 'EyeLike',
                        [('x', x)], k=1)
        self.check_node(np.eye(3, 4, -1, dtype=np.int32), 'EyeLike',
                        [('x', x)], k=-1, dtype=oh.TensorProto.INT32)
