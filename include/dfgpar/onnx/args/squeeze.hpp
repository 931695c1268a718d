#pragma once
/// \file args/squeeze.hpp
/// Squeeze's and Unsqueeze's axes across opsets: an attribute before opset
/// 13, input 1 since. `squeeze_dims` / `unsqueeze_dims` give the output
/// shape (the one place that checks the axes against a shape).
/// \code
///   auto axes = dfgpar::onnx::read_squeeze_axes(node, attrs, opset, inputs);
///   if (axes.known()) out = dfgpar::onnx::unsqueeze_dims(node, dims, *axes.value);
/// \endcode

#include <dfgpar/onnx/args/common.hpp>

#include <cstdint>
#include <vector>

namespace dfgpar::onnx {

/// The axes of a Squeeze or Unsqueeze node (absent: Squeeze removes every
/// dimension of size 1). \throws argument_error for an Unsqueeze without axes.
inline ints_arg read_squeeze_axes(const ::onnx::NodeProto& n, attribute_reader& a, std::int64_t opset,
                                  const node_inputs& in) {
  ints_arg axes = opset < 13 ? detail::ints_from_attribute(a, "axes") : detail::ints_from_input(in, 1);
  if (n.op_type() == "Unsqueeze" && !axes.given()) detail::fail_node(n, "missing axes");
  return axes;
}

/// Output shape of Unsqueeze on `dims`. \throws argument_error for an axis
/// out of range or repeated.
inline std::vector<std::int64_t> unsqueeze_dims(const ::onnx::NodeProto& n, const std::vector<std::int64_t>& dims,
                                                const std::vector<std::int64_t>& axes) {
  const std::size_t r = dims.size() + axes.size();
  std::vector<char> is_new(r, 0);
  for (std::int64_t a : axes) {
    const auto k = static_cast<std::size_t>(normalize_axis(n, a, static_cast<std::int64_t>(r)));
    if (is_new[k]++) detail::fail_node(n, "repeated axis");
  }
  std::vector<std::int64_t> out;
  std::size_t j = 0;
  for (std::size_t k = 0; k < r; ++k) out.push_back(is_new[k] ? 1 : dims[j++]);
  return out;
}

/// Output shape of Squeeze on `dims` (`axes` null: every dimension of size
/// 1). \throws argument_error for an axis out of range or of size other than 1.
inline std::vector<std::int64_t> squeeze_dims(const ::onnx::NodeProto& n, const std::vector<std::int64_t>& dims,
                                              const std::vector<std::int64_t>* axes) {
  std::vector<char> drop(dims.size(), 0);
  if (axes) {
    for (std::int64_t a : *axes) {
      const auto k = static_cast<std::size_t>(normalize_axis(n, a, static_cast<std::int64_t>(dims.size())));
      if (dims[k] != 1) detail::fail_node(n, "squeezed dimension is not 1");
      drop[k] = 1;
    }
  } else {
    for (std::size_t k = 0; k < dims.size(); ++k) drop[k] = dims[k] == 1;
  }
  std::vector<std::int64_t> out;
  for (std::size_t k = 0; k < dims.size(); ++k)
    if (!drop[k]) out.push_back(dims[k]);
  return out;
}

}  // namespace dfgpar::onnx
