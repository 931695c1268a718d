#pragma once
/// \file args/shape.hpp
/// Shape's `start` / `end` (opset 15; before: the whole shape), clamped to
/// the input's rank. `shape_range` is the one place that computes which
/// dimensions a Shape node returns.
/// \code
///   auto [b, e] = dfgpar::onnx::shape_range(node, attrs, opset, rank);
/// \endcode

#include <dfgpar/onnx/args/common.hpp>

#include <algorithm>
#include <cstdint>
#include <utility>

namespace dfgpar::onnx {

/// The dimensions [first, second) of an input of rank `rank` that a Shape node returns.
inline std::pair<std::int64_t, std::int64_t> shape_range(const ::onnx::NodeProto&, attribute_reader& a,
                                                         std::int64_t opset, std::int64_t rank) {
  std::int64_t start = 0, end = rank;
  if (opset >= 15) {
    start = a.get_int("start", 0);
    end = a.get_int("end", rank);
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<std::int64_t>(start, 0, rank);
    end = std::clamp<std::int64_t>(end, 0, rank);
  } else {
    // Shape-1/13 has no start/end: ignored (the ONNX checker refuses them anyway)
    a.ignore("start");
    a.ignore("end");
  }
  if (end < start) end = start;
  return {start, end};
}

}  // namespace dfgpar::onnx
