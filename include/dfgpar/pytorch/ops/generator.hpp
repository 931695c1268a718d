#pragma once
/// \file generator.hpp
/// The PyTorch translations of generators: ConstantOfShape, Range, EyeLike.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

/// A one-element constant tensor as a Python literal of its type.
inline std::string scalar_literal(op_context& c, const onnx::tensor& t, const char* what) {
  if (t.size() != 1) c.unsupported(std::string(what) + " must have one element");
  if (t.elem_type == ::onnx::TensorProto::BOOL) return t.to_int64()[0] ? "True" : "False";
  if (t.is_floating()) return python_float(t.as_double(0));
  return std::to_string(t.to_int64()[0]);
}

inline void constant_of_shape(op_context& c) {
  check_types(c);
  std::string value = "0.0", dtype = "torch.float32";
  if (const auto* a = c.attrs().find_tensor("value")) {
    const auto t = onnx::from_proto(*a);
    dtype = torch_dtype(t.elem_type);
    if (dtype.empty()) c.unsupported("value of type " + onnx::elem_type_name(t.elem_type));
    value = scalar_literal(c, t, "value");
  }
  c.assign("torch.full(" + int_list(c, 0) + ", " + value + ", dtype=" + dtype + ")");
}

/// Range: start + i * delta for i < max(ceil((limit - start) / delta), 0).
inline void range_op(op_context& c) {
  check_types(c);
  const auto t = c.elem_type(0);
  const std::string d = torch_dtype(t);
  if (d.empty()) c.unsupported("the element type of start is not known");
  const std::string s = c.in(0), l = c.in(1), dl = c.in(2), n = temp(c, "n");
  c.emit(n + " = torch.div(torch.sub(" + l + ".double(), " + s + ".double()), " + dl + ".double())");
  c.emit(n + "_len = int(torch.clamp(torch.ceil(" + n + "), min=0.0))");
  c.assign("torch.add(" + s + ", torch.mul(torch.arange(" + n + "_len, dtype=" + d + "), " + dl + ")).to(" + d + ")");
}

inline void eye_like(op_context& c) {
  check_types(c);
  if (c.need_rank(0) != 2) c.unsupported("input that is not 2-D");
  std::string d = "";
  if (const auto dt = c.attrs().find_int("dtype")) {
    d = torch_dtype(static_cast<std::int32_t>(*dt));
    if (d.empty()) c.unsupported("dtype " + onnx::elem_type_name(static_cast<std::int32_t>(*dt)));
  }
  const std::string x = c.in(0);
  if (d.empty()) d = x + ".dtype";
  const std::string k = std::to_string(c.attr_int("k", 0));
  const std::string diff = temp(c, "diff");
  c.emit(diff + " = torch.sub(torch.arange(" + x + ".shape[1]).unsqueeze(0), torch.arange(" + x +
         ".shape[0]).unsqueeze(1))");
  c.assign("torch.eq(" + diff + ", " + k + ").to(" + d + ")");
}

}  // namespace detail

/// Tensors made from a shape or a range: ConstantOfShape, Range, EyeLike.
inline void add_generator_translations(op_registry& r) {
  using namespace detail;
  r.add("ConstantOfShape", 9, constant_of_shape);
  r.add("Range", 11, range_op);
  r.add("EyeLike", 9, eye_like);
}

}  // namespace dfgpar::pytorch
