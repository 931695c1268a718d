#pragma once
/// \file args/clip.hpp
/// Clip's bounds across opsets: `min` / `max` attributes before opset 11
/// (absent: unbounded), optional inputs 1 and 2 since.
/// \code
///   auto c = dfgpar::onnx::read_clip(node, attrs, opset, inputs);
///   if (c.min.known()) lo = *c.min.value;
/// \endcode

#include <dfgpar/onnx/args/common.hpp>

#include <cstdint>

namespace dfgpar::onnx {

/// Clip's bounds; absent: no bound on that side.
struct clip_args {
  arg<double> min, max;
};

/// Reads Clip's bounds. \throws argument_error when a bound input has more than one element.
inline clip_args read_clip(const ::onnx::NodeProto& n, attribute_reader& a, std::int64_t opset, const node_inputs& in) {
  clip_args c;
  a.ignore("consumed_inputs");  // opset 1, legacy
  if (opset < 11) {
    for (auto [name, bound] : {std::pair{"min", &c.min}, std::pair{"max", &c.max}})
      if (auto v = a.find_float(name)) {
        bound->source = arg_source::attribute;
        bound->value = *v;
      }
  } else {
    c.min = detail::scalar_from_input(n, in, 1, "min");
    c.max = detail::scalar_from_input(n, in, 2, "max");
  }
  return c;
}

}  // namespace dfgpar::onnx
