#pragma once
/// \file args/resize.hpp
/// Resize's and Upsample's arguments across opsets:
///  - Upsample before opset 9: `scales` attribute; Upsample-9 and Resize-10:
///    scales as input 1; modes nearest / linear (legacy names bilinear,
///    trilinear), the legacy coordinate rule (asymmetric, floor for nearest);
///  - Resize since opset 11: roi (1), scales (2) and sizes (3) inputs, one of
///    scales / sizes (an empty tensor counts as absent), and the attributes
///    coordinate_transformation_mode, nearest_mode, cubic_coeff_a,
///    exclude_outside, extrapolation_value; `axes` and
///    `keep_aspect_ratio_policy` (opset 18).
/// \code
///   auto r = dfgpar::onnx::read_resize(node, attrs, opset, inputs);
///   if (r.mode == "linear" && r.scales.known()) ...
/// \endcode

#include <dfgpar/onnx/args/common.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dfgpar::onnx {

/// Resize's (or Upsample's) arguments, normalised.
struct resize_args {
  bool legacy = false;  ///< Upsample or Resize-10: only `mode` exists, the coordinate rule is asymmetric/floor
  std::string mode = "nearest";  ///< nearest, linear or cubic (the legacy bilinear/trilinear read as linear)
  std::string coordinate_transformation_mode = "asymmetric";  ///< "half_pixel" by default since opset 11
  std::string nearest_mode = "floor";                         ///< "round_prefer_floor" by default since opset 11
  double cubic_coeff_a = -0.75;
  bool exclude_outside = false;
  double extrapolation_value = 0.0;
  int roi_input = -1;  ///< input of the roi (tf_crop_and_resize), -1: none
  arg<std::vector<double>> scales;  ///< per axis (Upsample < 9: the attribute)
  ints_arg sizes;                   ///< per axis (opset >= 11), when given instead of scales
  std::optional<std::vector<std::int64_t>> axes;       ///< opset 18
  std::string keep_aspect_ratio_policy = "stretch";   ///< opset 18
};

/// Reads Resize's / Upsample's arguments. \throws argument_error for both or
/// neither of scales and sizes, or Upsample-7 without scales.
inline resize_args read_resize(const ::onnx::NodeProto& n, attribute_reader& a, std::int64_t opset,
                               const node_inputs& in) {
  resize_args r;
  const bool upsample = n.op_type() == "Upsample";
  r.legacy = upsample || opset < 11;
  r.mode = a.get_string("mode", "nearest");
  if (r.legacy && (r.mode == "bilinear" || r.mode == "trilinear")) r.mode = "linear";
  auto scales_from_input = [&](std::size_t i) {
    r.scales.source = arg_source::input;
    r.scales.input = static_cast<int>(i);
    if (const auto* t = in.value(i)) {
      r.scales.value.emplace();
      for (std::size_t k = 0; k < t->size(); ++k) r.scales.value->push_back(t->as_double(k));
    }
  };
  if (upsample && opset < 9) {
    auto s = a.find_floats("scales");
    if (!s) detail::fail_node(n, "scales missing");
    r.scales.source = arg_source::attribute;
    r.scales.value = std::vector<double>(s->begin(), s->end());
    return r;
  }
  if (r.legacy) {
    if (!in.given(1)) detail::fail_node(n, "scales missing");
    scales_from_input(1);
    return r;
  }
  r.coordinate_transformation_mode = a.get_string("coordinate_transformation_mode", "half_pixel");
  r.nearest_mode = a.get_string("nearest_mode", "round_prefer_floor");
  r.cubic_coeff_a = a.get_float("cubic_coeff_a", -0.75);
  r.exclude_outside = a.get_int("exclude_outside", 0) != 0;
  r.extrapolation_value = a.get_float("extrapolation_value", 0.0);
  r.axes = a.find_ints("axes");
  r.keep_aspect_ratio_policy = a.get_string("keep_aspect_ratio_policy", "stretch");
  if (in.given(1)) r.roi_input = 1;
  auto empty = [&](std::size_t i) { return in.known(i) && in.value(i)->size() == 0; };
  const bool no_scales = !in.given(2) || empty(2);
  const bool no_sizes = !in.given(3) || empty(3);
  if (in.given(3) && no_scales) {
    r.sizes = detail::ints_from_input(in, 3);
  } else if (in.given(2)) {
    if (!no_sizes) detail::fail_node(n, "both scales and sizes");
    scales_from_input(2);
  } else {
    detail::fail_node(n, "neither scales nor sizes");
  }
  return r;
}

}  // namespace dfgpar::onnx
