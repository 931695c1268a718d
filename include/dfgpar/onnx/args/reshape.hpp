#pragma once
/// \file args/reshape.hpp
/// Reshape's and Flatten's arguments across opsets: Reshape's shape as an
/// attribute before opset 5 and input 1 since, `allowzero` (opset 14);
/// Flatten's axis. `reshape_dims` / `flatten_dims` compute the output shape
/// (0 copies the input's dimension unless allowzero, -1 is inferred).
/// \code
///   auto r = dfgpar::onnx::read_reshape(node, attrs, opset, inputs);
///   if (r.shape.known()) out = dfgpar::onnx::reshape_dims(node, dims, *r.shape.value, r.allowzero);
/// \endcode

#include <dfgpar/onnx/args/common.hpp>

#include <cstdint>
#include <vector>

namespace dfgpar::onnx {

/// Reshape's arguments.
struct reshape_args {
  ints_arg shape;          ///< attribute before opset 5, input 1 since
  bool allowzero = false;  ///< a 0 in shape is a 0-sized dimension (not "copy the input's")
};

/// Reads Reshape's arguments. \throws argument_error when the shape is missing.
inline reshape_args read_reshape(const ::onnx::NodeProto& n, attribute_reader& a, std::int64_t opset,
                                 const node_inputs& in) {
  reshape_args r;
  r.shape = opset < 5 ? detail::ints_from_attribute(a, "shape") : detail::ints_from_input(in, 1);
  if (!r.shape.given()) detail::fail_node(n, "missing shape");
  r.allowzero = a.get_int("allowzero", 0) != 0;
  return r;
}

/// Output shape of Reshape on `dims`. \throws argument_error when the shape
/// does not fit (two -1, a negative dimension, the element count changes).
inline std::vector<std::int64_t> reshape_dims(const ::onnx::NodeProto& n, const std::vector<std::int64_t>& dims,
                                              std::vector<std::int64_t> shape, bool allowzero) {
  std::int64_t known = 1, total = 1;
  for (auto d : dims) total *= d;
  std::ptrdiff_t infer = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allowzero) {
      if (i >= dims.size()) detail::fail_node(n, "0 in shape beyond the input's rank");
      shape[i] = dims[i];
    }
    if (shape[i] == -1) {
      if (infer >= 0) detail::fail_node(n, "more than one -1 in shape");
      infer = static_cast<std::ptrdiff_t>(i);
    } else if (shape[i] < 0) {
      detail::fail_node(n, "negative dimension in shape");
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || total % known) detail::fail_node(n, "cannot infer the -1 dimension");
    shape[static_cast<std::size_t>(infer)] = total / known;
  } else if (known != total) {
    detail::fail_node(n, "element count changes");
  }
  return shape;
}

/// Flatten's axis (default 1), in [-rank, rank] for an input of rank `rank`
/// (-1: rank not known, not checked); normalised to [0, rank] when the rank is known.
inline std::int64_t read_flatten_axis(const ::onnx::NodeProto& n, attribute_reader& a, std::int64_t rank) {
  std::int64_t axis = a.get_int("axis", 1);
  if (rank < 0) return axis;
  if (axis < -rank || axis > rank) detail::fail_node(n, "axis out of range");
  return axis < 0 ? axis + rank : axis;
}

/// Output shape of Flatten at normalised `axis` on `dims`.
inline std::vector<std::int64_t> flatten_dims(const std::vector<std::int64_t>& dims, std::int64_t axis) {
  std::int64_t a = 1, b = 1;
  for (std::size_t i = 0; i < dims.size(); ++i) (static_cast<std::int64_t>(i) < axis ? a : b) *= dims[i];
  return {a, b};
}

}  // namespace dfgpar::onnx
