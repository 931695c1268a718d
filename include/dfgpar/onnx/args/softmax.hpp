#pragma once
/// \file args/softmax.hpp
/// The axis rule of Softmax, LogSoftmax and Hardmax: before opset 13 the
/// input is coerced to 2-D at `axis` (default 1); since, the operation runs
/// along `axis` (default -1).
/// \code
///   auto s = dfgpar::onnx::read_softmax(node, attrs, opset);
///   if (s.coerce_2d) flatten at s.axis, then along the last axis
/// \endcode

#include <dfgpar/onnx/args/common.hpp>

#include <cstdint>

namespace dfgpar::onnx {

/// The axis of Softmax / LogSoftmax / Hardmax.
struct softmax_args {
  std::int64_t axis = -1;   ///< not normalised
  bool coerce_2d = false;   ///< opset < 13: over all dimensions from `axis` on
};

/// Reads the axis of Softmax / LogSoftmax / Hardmax.
inline softmax_args read_softmax(const ::onnx::NodeProto&, attribute_reader& a, std::int64_t opset) {
  softmax_args s;
  s.coerce_2d = opset < 13;
  s.axis = a.get_int("axis", s.coerce_2d ? 1 : -1);
  return s;
}

}  // namespace dfgpar::onnx
