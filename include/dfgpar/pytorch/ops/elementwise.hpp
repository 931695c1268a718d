#pragma once
/// \file elementwise.hpp
/// The PyTorch translations of element-wise math, comparisons, logic,
/// Cast/CastLike, Identity and inference Dropout.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/onnx/args/cast.hpp>
#include <dfgpar/onnx/args/clip.hpp>
#include <dfgpar/onnx/args/dropout.hpp>
#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

/// `fn(x)`, element by element.
inline op_translation unary(std::string fn) {
  return [fn](op_context& c) {
    check_types(c);
    c.assign(fn + "(" + c.in(0) + ")");
  };
}

/// Element-wise binary op with numpy broadcasting.
inline op_translation binary(std::string fn) {
  return [fn](op_context& c) {
    check_types(c);
    c.assign(fn + "(" + c.in(0) + ", " + c.in(1) + ")");
  };
}

/// A binary op of opsets 1 to 6: numpy broadcasting only when no
/// `broadcast`/`axis` attribute asks for the legacy, limited rule.
inline op_translation legacy_broadcast(op_translation f) {
  return [f = std::move(f)](op_context& c) {
    if (c.attr_int("broadcast", 0) != 0) c.unsupported("legacy broadcast=1 (opset < 7)");
    if (c.has_attr("axis")) c.unsupported("legacy axis attribute (opset < 7)");
    f(c);
  };
}

inline void div(op_context& c) {
  check_types(c);
  const auto t = c.elem_type(0);
  if (t == 0) c.unsupported("the element type of input 0 is not known");
  if (is_float_type(t)) c.assign("torch.div(" + c.in(0) + ", " + c.in(1) + ")");
  else c.assign("torch.div(" + c.in(0) + ", " + c.in(1) + ", rounding_mode='trunc')");
}

/// Sum/Max/Min/Mean over any number of inputs.
inline op_translation variadic(std::string fn, bool mean = false) {
  return [fn, mean](op_context& c) {
    check_types(c);
    std::string e = c.in(0);
    for (std::size_t i = 1; i < c.num_inputs(); ++i) e = fn + "(" + e + ", " + c.in(i) + ")";
    if (mean) {
      if (!is_float_type(c.elem_type(0))) c.unsupported("Mean of a non-float tensor");
      e = "torch.div(" + e + ", " + std::to_string(c.num_inputs()) + ")";
    }
    c.assign(e);
  };
}

/// Clip: the bounds as the argument layer reads them (attributes before
/// opset 11, inputs since), each a literal when known, else read at run time.
inline void clip(op_context& c) {
  check_types(c);
  const auto a = onnx::read_clip(*c.node, c.attrs(), c.opset, c.known_inputs());
  auto bound = [&](const onnx::arg<double>& b) -> std::string {
    if (!b.given()) return "None";
    const auto i = static_cast<std::size_t>(b.input);
    if (!b.known()) return c.in(i);
    const bool fl = b.source == onnx::arg_source::attribute || is_float_type(c.constant(i)->elem_type);
    return fl ? python_float(*b.value) : std::to_string(static_cast<long long>(*b.value));
  };
  const std::string lo = bound(a.min), hi = bound(a.max);
  if (lo == "None" && hi == "None") c.assign(c.in(0));
  else c.assign("torch.clamp(" + c.in(0) + ", " + lo + ", " + hi + ")");
}

/// x (of ONNX type `from`, 0 = unknown) converted to `to`. float -> int
/// truncates toward zero, as in ONNX. float32 -> bfloat16 truncates the
/// mantissa with `truncate_bfloat16` (the reference before Cast-19 and
/// CastLike-19; since, it rounds to nearest even, as PyTorch does), NaN
/// staying NaN.
inline std::string cast_expr(op_context& c, const std::string& x, std::int32_t from, std::int32_t to,
                             bool truncate_bfloat16) {
  using tp = ::onnx::TensorProto;
  if (to == tp::BFLOAT16 && truncate_bfloat16 && from != tp::BFLOAT16) {
    if (from == 0) c.unsupported("cast to BFLOAT16 from an unknown type");
    if (from == tp::FLOAT) {
      // x rounded toward zero to bfloat16's precision: units of 2^(e-8) for
      // x = m * 2^e, 0.5 <= |m| < 1, and of 2^-133 below the normal range
      const std::string u = temp(c, "unit");
      c.emit(u + " = torch.exp2(torch.clamp(torch.frexp(" + x + ")[1], min=-125).double() - 8)");
      return "torch.where(torch.isfinite(" + x + "), torch.trunc(" + x + ".double() / " + u + ") * " + u + ", " + x +
             ".double()).to(torch.bfloat16)";
    }
  }
  return x + ".to(" + torch_dtype(to) + ")";
}

/// Cast to the `to` attribute's type.
inline op_translation cast(bool truncate_bfloat16) {
  return [truncate_bfloat16](op_context& c) {
    check_types(c);
    const auto to = onnx::read_cast(*c.node, c.attrs(), c.opset).to;
    const std::string d = torch_dtype(to);
    if (d.empty()) c.unsupported("cast to " + onnx::elem_type_name(to));
    c.assign(cast_expr(c, c.in(0), c.elem_type(0), to, truncate_bfloat16));
  };
}

/// CastLike: to input 1's type.
inline op_translation cast_like(bool truncate_bfloat16) {
  return [truncate_bfloat16](op_context& c) {
    check_types(c);
    const auto to = onnx::read_cast_like(c.attrs(), c.elem_type(1)).to;
    if (to == 0) c.unsupported("the element type of input 1 is not known");
    c.assign(cast_expr(c, c.in(0), c.elem_type(0), to, truncate_bfloat16));
  };
}

inline void identity(op_context& c) {
  check_types(c);
  c.assign(c.in(0));
}

/// Dropout in inference (the argument layer's rule: is_test before opset 7,
/// the training_mode input since 12): the identity and an all-true mask.
inline void dropout(op_context& c) {
  const auto d = onnx::read_dropout(*c.node, c.attrs(), c.opset, c.known_inputs());
  if (d.mode == onnx::dropout_mode::training) c.unsupported("training mode (is_test=0 or training_mode true)");
  if (d.mode == onnx::dropout_mode::at_run_time) c.unsupported("a training_mode computed at run time");
  if (d.mask_output) c.emit(c.out(1) + " = torch.ones_like(" + c.in(0) + ", dtype=torch.bool)");
  check_types(c);
  c.assign(c.in(0));
}

inline void where(op_context& c) {
  check_types(c);
  c.assign("torch.where(" + c.in(0) + ", " + c.in(1) + ", " + c.in(2) + ")");
}

inline void mod(op_context& c) {
  check_types(c);
  const bool fmod = c.attr_int("fmod", 0) != 0;
  if (!fmod && is_float_type(c.elem_type(0))) c.unsupported("fmod=0 on floating-point inputs");
  c.assign(std::string(fmod ? "torch.fmod(" : "torch.remainder(") + c.in(0) + ", " + c.in(1) + ")");
}

inline void pow_op(op_context& c) {
  check_types(c);
  const auto t = c.elem_type(0);
  if (t == 0) c.unsupported("the element type of input 0 is not known");
  std::string e = "torch.pow(" + c.in(0) + ", " + c.in(1) + ")";
  if (!is_float_type(t) || c.elem_type(1) != t) e += ".to(" + c.in(0) + ".dtype)";
  c.assign(e);
}

inline void is_inf(op_context& c) {
  check_types(c);
  const bool pos = c.attr_int("detect_positive", 1) != 0, neg = c.attr_int("detect_negative", 1) != 0;
  if (pos && neg) c.assign("torch.isinf(" + c.in(0) + ")");
  else if (pos) c.assign("torch.isposinf(" + c.in(0) + ")");
  else if (neg) c.assign("torch.isneginf(" + c.in(0) + ")");
  else c.assign("torch.zeros_like(" + c.in(0) + ", dtype=torch.bool)");
}

inline void bit_shift(op_context& c) {
  check_types(c);
  const std::string dir = c.attr_string("direction", "");
  if (dir == "LEFT") c.assign("torch.bitwise_left_shift(" + c.in(0) + ", " + c.in(1) + ")");
  else if (dir == "RIGHT") c.assign("torch.bitwise_right_shift(" + c.in(0) + ", " + c.in(1) + ")");
  else c.unsupported("direction " + python_string(dir));
}

}  // namespace detail

/// Element-wise math, comparison, logic, casts, Identity and inference Dropout.
inline void add_elementwise_translations(op_registry& r) {
  using namespace detail;
  for (const auto& [op, fn] : std::vector<std::pair<std::string, std::string>>{
           {"Exp", "torch.exp"},          {"Log", "torch.log"},         {"Sqrt", "torch.sqrt"},
           {"Abs", "torch.abs"},          {"Neg", "torch.neg"},         {"Reciprocal", "torch.reciprocal"},
           {"Floor", "torch.floor"},      {"Ceil", "torch.ceil"},       {"Erf", "torch.erf"},
           {"Sin", "torch.sin"},          {"Cos", "torch.cos"},         {"Tan", "torch.tan"},
           {"Asin", "torch.asin"},        {"Acos", "torch.acos"},       {"Atan", "torch.atan"},
           {"Sinh", "torch.sinh"},        {"Cosh", "torch.cosh"},       {"Asinh", "torch.asinh"},
           {"Acosh", "torch.acosh"},      {"Atanh", "torch.atanh"},     {"Sign", "torch.sign"},
           {"Round", "torch.round"},  // both round half to even
           {"Not", "torch.logical_not"},  {"IsNaN", "torch.isnan"}})
    r.add(op, 1, unary(fn));
  // numpy broadcasting since opset 7; before, only without the legacy attributes
  for (const auto& [op, fn] : std::vector<std::pair<std::string, std::string>>{
           {"Add", "torch.add"},        {"Sub", "torch.sub"},         {"Mul", "torch.mul"},
           {"Equal", "torch.eq"},       {"Less", "torch.lt"},         {"Greater", "torch.gt"},
           {"And", "torch.logical_and"}, {"Or", "torch.logical_or"}, {"Xor", "torch.logical_xor"}}) {
    r.add(op, 1, legacy_broadcast(binary(fn)));
    r.add(op, 7, binary(fn));
  }
  r.add("Div", 1, legacy_broadcast(div));
  r.add("Div", 7, div);
  r.add("LessOrEqual", 12, binary("torch.le"));
  r.add("GreaterOrEqual", 12, binary("torch.ge"));
  r.add("Pow", 1, pow_op);
  r.add("Mod", 10, mod);
  r.add("BitShift", 11, bit_shift);
  r.add("Sum", 1, variadic("torch.add"));
  r.add("Max", 1, variadic("torch.maximum"));
  r.add("Min", 1, variadic("torch.minimum"));
  r.add("Mean", 1, variadic("torch.add", true));
  r.add("Where", 9, where);
  r.add("IsInf", 10, is_inf);
  r.add("Clip", 1, clip);
  r.add("Cast", 1, cast(true));
  r.add("Cast", 19, cast(false));
  r.add("CastLike", 15, cast_like(true));
  r.add("CastLike", 19, cast_like(false));
  r.add("Identity", 1, identity);
  r.add("Dropout", 1, dropout);
}

}  // namespace dfgpar::pytorch
