#pragma once
/// \file args/slice.hpp
/// Slice's arguments across opsets: starts/ends/axes as attributes before
/// opset 10; starts/ends/axes/steps as inputs 1-4 since. `resolve_slice`
/// clamps them against a shape as the ONNX spec says (the one place that
/// computes which elements a Slice selects).
/// \code
///   auto s = dfgpar::onnx::read_slice(node, attrs, opset, inputs);
///   if (s.all_known()) { auto p = dfgpar::onnx::resolve_slice(node, s, dims); ... }
/// \endcode

#include <dfgpar/onnx/args/common.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace dfgpar::onnx {

/// Slice's arguments. After `read_slice`, a known `axes` / `steps` always has
/// the length of `starts` (filled with 0.. and 1s when omitted).
struct slice_args {
  ints_arg starts, ends, axes, steps;
  /// Every argument is known before run time.
  bool all_known() const { return starts.known() && ends.known() && axes.known() && steps.known(); }
};

/// Reads Slice's arguments for operator set `opset`. \throws argument_error
/// when starts/ends are missing or the lengths differ.
inline slice_args read_slice(const ::onnx::NodeProto& n, attribute_reader& a, std::int64_t opset,
                             const node_inputs& in) {
  slice_args s;
  if (opset < 10) {
    s.starts = detail::ints_from_attribute(a, "starts");
    s.ends = detail::ints_from_attribute(a, "ends");
    s.axes = detail::ints_from_attribute(a, "axes");
  } else {
    s.starts = detail::ints_from_input(in, 1);
    s.ends = detail::ints_from_input(in, 2);
    s.axes = detail::ints_from_input(in, 3);
    s.steps = detail::ints_from_input(in, 4);
  }
  if (!s.starts.given() || !s.ends.given()) detail::fail_node(n, "missing starts/ends");
  if (s.starts.known()) {
    const std::size_t k = s.starts.value->size();
    if (!s.axes.given()) {
      s.axes.value.emplace();
      for (std::size_t i = 0; i < k; ++i) s.axes.value->push_back(static_cast<std::int64_t>(i));
    }
    if (!s.steps.given()) s.steps.value = std::vector<std::int64_t>(k, 1);
    auto differ = [&](const ints_arg& x) { return x.known() && x.value->size() != k; };
    if (differ(s.ends) || differ(s.axes) || differ(s.steps))
      detail::fail_node(n, "starts, ends, axes and steps differ in length");
  }
  return s;
}

/// Which elements a Slice selects from a tensor of shape `dims`: per axis,
/// the first index, the step and the count (axes not sliced: 0, 1, dim).
struct slice_plan {
  std::vector<std::int64_t> start, step, count;
};

/// Clamps known Slice arguments against `dims` as the ONNX spec says.
/// \throws argument_error for an axis out of range, a repeated axis or a step 0.
inline slice_plan resolve_slice(const ::onnx::NodeProto& n, const slice_args& s, const std::vector<std::int64_t>& dims) {
  const auto& starts = *s.starts.value;
  const auto& ends = *s.ends.value;
  const auto& axes = *s.axes.value;
  const auto& steps = *s.steps.value;
  const std::size_t r = dims.size();
  slice_plan p{std::vector<std::int64_t>(r, 0), std::vector<std::int64_t>(r, 1), dims};
  std::vector<char> seen(r, 0);
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const auto a = static_cast<std::size_t>(normalize_axis(n, axes[i], static_cast<std::int64_t>(r)));
    if (seen[a]++) detail::fail_node(n, "repeated axis");
    const std::int64_t d = dims[a], step = steps[i];
    if (step == 0) detail::fail_node(n, "step 0");
    std::int64_t b = starts[i], e = ends[i];
    if (b < 0) b += d;
    if (e < 0) e += d;  // INT64_MIN + d cannot overflow: d >= 0
    if (step > 0) {
      b = std::clamp<std::int64_t>(b, 0, d);
      e = std::clamp<std::int64_t>(e, 0, d);
      p.count[a] = e > b ? (e - b + step - 1) / step : 0;
    } else {
      b = std::clamp<std::int64_t>(b, 0, d - 1);
      e = std::clamp<std::int64_t>(e, -1, d - 1);
      p.count[a] = b > e ? (b - e + (-step) - 1) / (-step) : 0;
    }
    p.start[a] = b, p.step[a] = step;
  }
  return p;
}

}  // namespace dfgpar::onnx
