#pragma once
/// \file args/reduce.hpp
/// The Reduce* operators' arguments across opsets: axes as an attribute
/// before the version that made them input 1 (ReduceSum: 13, the others:
/// 18), keepdims, noop_with_empty_axes (with the axes input).
/// \code
///   auto r = dfgpar::onnx::read_reduce(node, attrs, opset, inputs);
///   if (r.axes.known() && r.axes.value->empty() && r.noop_with_empty_axes) y = x;
/// \endcode

#include <dfgpar/onnx/args/common.hpp>

#include <cstdint>
#include <string_view>

namespace dfgpar::onnx {

/// The opset since which Reduce* operator `op` takes its axes as input 1.
inline std::int64_t reduce_axes_input_opset(std::string_view op) noexcept { return op == "ReduceSum" ? 13 : 18; }

/// A Reduce* node's arguments.
struct reduce_args {
  ints_arg axes;        ///< absent (or empty): all axes, unless noop_with_empty_axes
  bool keepdims = true;
  bool noop_with_empty_axes = false;
};

/// Reads a Reduce* node's arguments.
inline reduce_args read_reduce(const ::onnx::NodeProto& n, attribute_reader& a, std::int64_t opset,
                               const node_inputs& in) {
  reduce_args r;
  r.keepdims = a.get_int("keepdims", 1) != 0;
  r.noop_with_empty_axes = a.get_int("noop_with_empty_axes", 0) != 0;
  r.axes = opset < reduce_axes_input_opset(n.op_type()) ? detail::ints_from_attribute(a, "axes")
                                                        : detail::ints_from_input(in, 1);
  return r;
}

}  // namespace dfgpar::onnx
