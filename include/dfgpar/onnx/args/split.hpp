#pragma once
/// \file args/split.hpp
/// Split's arguments across opsets: the sizes as input 1 or attribute `split`
/// in opset 1, the attribute in opsets 2-12, input 1 since opset 13;
/// `num_outputs` (opset 18); the axis (default 0).
/// \code
///   auto s = dfgpar::onnx::read_split(node, attrs, opset, inputs);
///   if (!s.split.given()) equal parts, one per output
/// \endcode

#include <dfgpar/onnx/args/common.hpp>

#include <cstdint>
#include <optional>

namespace dfgpar::onnx {

/// Split's arguments.
struct split_args {
  std::int64_t axis = 0;                    ///< not normalised (the rank may be unknown)
  ints_arg split;                           ///< sizes; absent: equal parts
  std::optional<std::int64_t> num_outputs;  ///< opset 18
};

/// Reads Split's arguments.
inline split_args read_split(const ::onnx::NodeProto&, attribute_reader& a, std::int64_t opset, const node_inputs& in) {
  split_args s;
  s.axis = a.get_int("axis", 0);
  s.num_outputs = a.find_int("num_outputs");
  if (opset >= 13 || (opset < 2 && in.given(1))) s.split = detail::ints_from_input(in, 1);
  else s.split = detail::ints_from_attribute(a, "split");
  return s;
}

}  // namespace dfgpar::onnx
