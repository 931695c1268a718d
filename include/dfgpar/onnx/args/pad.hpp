#pragma once
/// \file args/pad.hpp
/// Pad's arguments across opsets: `paddings` and `value` attributes (opset
/// 1), `pads` and `value` attributes (opsets 2-10), inputs pads (1),
/// constant_value (2) and axes (3, opset 18) since opset 11; the mode
/// attribute (constant, reflect, edge; wrap since opset 19).
/// \code
///   auto p = dfgpar::onnx::read_pad(node, attrs, opset, inputs);
///   if (p.pads.known() && p.axes.known()) pads = dfgpar::onnx::full_pads(node, p, rank);
/// \endcode

#include <dfgpar/onnx/args/common.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace dfgpar::onnx {

/// Pad's arguments.
struct pad_args {
  std::string mode = "constant";
  ints_arg pads;      ///< [b0, b1, ..., e0, e1, ...] for `axes` (all axes when axes is absent)
  arg<double> value;  ///< the constant; known 0 when absent
  ints_arg axes;      ///< opset 18: the axes `pads` covers (absent: all)
};

/// Reads Pad's arguments. \throws argument_error when pads are missing or the
/// constant value has more than one element.
inline pad_args read_pad(const ::onnx::NodeProto& n, attribute_reader& a, std::int64_t opset, const node_inputs& in) {
  pad_args p;
  p.mode = a.get_string("mode", "constant");
  if (opset < 11) {
    p.pads = detail::ints_from_attribute(a, opset < 2 ? "paddings" : "pads");
    if (auto v = a.find_float("value")) {
      p.value.source = arg_source::attribute;
      p.value.value = *v;
    }
  } else {
    p.pads = detail::ints_from_input(in, 1);
    p.value = detail::scalar_from_input(n, in, 2, "constant_value");
    p.axes = detail::ints_from_input(in, 3);
  }
  if (!p.value.given()) p.value.value = 0.0;
  if (!p.pads.given()) detail::fail_node(n, "missing pads");
  return p;
}

/// The pads of every axis ([b0..b(r-1), e0..e(r-1)]) from known pads and
/// axes, for an input of rank `rank`. \throws argument_error when the lengths
/// do not fit.
inline std::vector<std::int64_t> full_pads(const ::onnx::NodeProto& n, const pad_args& p, std::int64_t rank) {
  const auto& pads = *p.pads.value;
  const auto r = static_cast<std::size_t>(rank);
  if (!p.axes.given()) {
    if (pads.size() != 2 * r) detail::fail_node(n, "pads has the wrong length");
    return pads;
  }
  const auto& axes = *p.axes.value;
  if (pads.size() != 2 * axes.size()) detail::fail_node(n, "pads and axes lengths disagree");
  std::vector<std::int64_t> full(2 * r, 0);
  for (std::size_t k = 0; k < axes.size(); ++k) {
    const auto ax = static_cast<std::size_t>(normalize_axis(n, axes[k], rank));
    full[ax] = pads[k];
    full[ax + r] = pads[k + axes.size()];
  }
  return full;
}

}  // namespace dfgpar::onnx
