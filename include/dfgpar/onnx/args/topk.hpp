#pragma once
/// \file args/topk.hpp
/// TopK's arguments across opsets: k as an attribute before opset 10, input
/// 1 since; axis (default -1); largest and sorted (opset 11).
/// \code
///   auto t = dfgpar::onnx::read_topk(node, attrs, opset, inputs);
/// \endcode

#include <dfgpar/onnx/args/common.hpp>

#include <cstdint>

namespace dfgpar::onnx {

/// TopK's arguments.
struct topk_args {
  arg<std::int64_t> k;
  std::int64_t axis = -1;  ///< not normalised
  bool largest = true;
  bool sorted = true;
};

/// Reads TopK's arguments. \throws argument_error when k is missing or has more than one element.
inline topk_args read_topk(const ::onnx::NodeProto& n, attribute_reader& a, std::int64_t opset, const node_inputs& in) {
  topk_args t;
  t.axis = a.get_int("axis", -1);
  t.largest = a.get_int("largest", 1) != 0;
  t.sorted = a.get_int("sorted", 1) != 0;
  if (opset < 10) {
    if (auto k = a.find_int("k")) {
      t.k.source = arg_source::attribute;
      t.k.value = *k;
    }
  } else if (in.given(1)) {
    t.k.source = arg_source::input;
    t.k.input = 1;
    if (const auto* v = in.value(1)) {
      if (v->size() != 1) detail::fail_node(n, "k must have one element");
      t.k.value = v->to_int64()[0];
    }
  }
  if (!t.k.given()) detail::fail_node(n, "missing k");
  return t;
}

}  // namespace dfgpar::onnx
