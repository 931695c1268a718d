#pragma once
/// \file args/cast.hpp
/// Cast's and CastLike's target type: Cast's `to` is a type name (STRING,
/// "FLOAT") in opset 1-5 and a TensorProto data type (INT) since opset 6;
/// CastLike (opset 15) casts to input 1's element type; `saturate` (opset 19).
/// \code
///   auto c = dfgpar::onnx::read_cast(node, attrs, opset);
///   cast_to(x, c.to);
/// \endcode

#include <dfgpar/onnx/args/common.hpp>

#include <cstdint>
#include <string>

namespace dfgpar::onnx {

/// Cast's arguments.
struct cast_args {
  std::int32_t to = 0;    ///< TensorProto data type
  bool saturate = true;   ///< opset 19, float8 targets only
};

/// Reads Cast's target. \throws argument_error when `to` is missing or names no type.
inline cast_args read_cast(const ::onnx::NodeProto& n, attribute_reader& a, std::int64_t opset) {
  cast_args c;
  c.saturate = a.get_int("saturate", 1) != 0;
  if (opset < 6 && a.has("to") && detail::attribute_type(*a.find("to")) == ::onnx::AttributeProto::STRING) {
    ::onnx::TensorProto_DataType t{};
    const std::string name = *a.find_string("to");
    if (!::onnx::TensorProto_DataType_Parse(name, &t)) detail::fail_node(n, "attribute 'to' names no type: " + name);
    c.to = static_cast<std::int32_t>(t);
    return c;
  }
  c.to = static_cast<std::int32_t>(a.need_int("to"));
  if (!::onnx::TensorProto_DataType_IsValid(c.to) || c.to == 0)
    detail::fail_node(n, "attribute 'to' is not a data type (" + std::to_string(c.to) + ")");
  return c;
}

/// Reads CastLike's arguments: the target is `target_type`, the element type
/// of input 1 (0 when not known).
inline cast_args read_cast_like(attribute_reader& a, std::int32_t target_type) {
  cast_args c;
  c.saturate = a.get_int("saturate", 1) != 0;
  c.to = target_type;
  return c;
}

}  // namespace dfgpar::onnx
