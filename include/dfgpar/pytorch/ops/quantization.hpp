#pragma once
/// \file quantization.hpp
/// The PyTorch translations of quantisation: QuantizeLinear, DequantizeLinear,
/// DynamicQuantizeLinear, MatMulInteger, ConvInteger, QLinearMatMul,
/// QLinearConv.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/conv_pool.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

/// A scale or zero point reshaped to broadcast along `axis` of x (per-axis
/// quantisation) when it is 1-D, as it is when scalar.
inline std::string per_axis(op_context& c, std::size_t i, std::int64_t axis, int r) {
  const int qr = c.need_rank(i);
  if (qr == 0) return c.in(i);
  if (qr != 1) c.unsupported("input " + std::to_string(i) + " must be a scalar or 1-D");
  if (const auto s = c.shape(i); s && (*s)[0] == 1) return c.in(i);
  std::vector<std::int64_t> shape(static_cast<std::size_t>(r), 1);
  shape[static_cast<std::size_t>(axis)] = -1;
  return c.in(i) + ".reshape(" + python_int_list(shape) + ")";
}

inline std::pair<std::string, std::string> quant_range(op_context& c, std::int32_t t) {
  if (t == ::onnx::TensorProto::UINT8) return {"0", "255"};
  if (t == ::onnx::TensorProto::INT8) return {"-128", "127"};
  c.unsupported("quantised type " + onnx::elem_type_name(t));
}

/// The axis of per-axis quantisation (read always; checked only when the
/// scale is 1-D, the only case it is used).
inline std::int64_t quant_axis(op_context& c, int r) {
  const std::int64_t axis = c.attr_int("axis", 1);
  if (c.need_rank(1) == 0) return 0;
  if (const auto s = c.shape(1); s && s->size() == 1 && (*s)[0] == 1) return 0;
  return normalize_axis(c, axis, r);
}

inline void quantize_linear(op_context& c) {
  check_types(c);
  require_float(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = quant_axis(c, r);
  const auto t = c.has_input(2) ? c.elem_type(2) : static_cast<std::int32_t>(::onnx::TensorProto::UINT8);
  const auto [lo, hi] = quant_range(c, t);
  std::string e = "torch.round(torch.div(" + c.in(0) + ", " + per_axis(c, 1, axis, r) + "))";
  if (c.has_input(2)) e = "torch.add(" + e + ", " + per_axis(c, 2, axis, r) + ")";
  c.assign("torch.clamp(" + e + ", " + lo + ", " + hi + ").to(" + torch_dtype(t) + ")");
}

inline void dequantize_linear(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = quant_axis(c, r);
  std::string e = c.in(0) + ".to(torch.float32)";
  if (c.has_input(2)) e = "torch.sub(" + e + ", " + per_axis(c, 2, axis, r) + ".to(torch.float32))";
  c.assign("torch.mul(" + e + ", " + per_axis(c, 1, axis, r) + ")");
}

inline void dynamic_quantize_linear(op_context& c) {
  check_types(c);
  if (c.elem_type(0) != ::onnx::TensorProto::FLOAT) c.unsupported("input that is not float32");
  const std::string x = c.in(0), lo = temp(c, "lo"), hi = temp(c, "hi"), s = temp(c, "scale"), z = temp(c, "zero");
  c.emit(lo + " = torch.clamp(torch.min(" + x + "), max=0.0)");
  c.emit(hi + " = torch.clamp(torch.max(" + x + "), min=0.0)");
  c.emit(s + " = (" + hi + " - " + lo + ") / 255.0");
  c.emit(z + " = torch.clamp(torch.round((0.0 - " + lo + ") / " + s + "), 0, 255)");
  c.assign("torch.clamp(torch.add(torch.round(torch.div(" + x + ", " + s + ")), " + z + "), 0, 255).to(torch.uint8)");
  if (c.has_output(1)) c.emit(c.out(1) + " = " + s);
  if (c.has_output(2)) c.emit(c.out(2) + " = " + z + ".to(torch.uint8)");
}

/// x minus its zero point, as int64 (exact for 8-bit inputs).
inline std::string minus_zero_point(op_context& c, std::size_t x, std::size_t zp) {
  std::string e = c.in(x) + ".to(torch.int64)";
  if (c.has_input(zp)) {
    if (c.need_rank(zp) > 1 || (c.rank(zp) == 1 && (!c.shape(zp) || (*c.shape(zp))[0] != 1)))
      c.unsupported("a zero point that is not a scalar");
    e = "torch.sub(" + e + ", " + c.in(zp) + ".to(torch.int64))";
  }
  return e;
}

inline void matmul_integer(op_context& c) {
  check_types(c);
  c.assign("torch.matmul(" + minus_zero_point(c, 0, 2) + ", " + minus_zero_point(c, 1, 3) + ").to(torch.int32)");
}

inline void qlinear_matmul(op_context& c) {
  check_types(c);
  for (std::size_t i : {1u, 4u, 6u, 7u})
    if (c.rank(i) > 1 || (c.rank(i) == 1 && (!c.shape(i) || (*c.shape(i))[0] != 1)))
      c.unsupported("per-axis scales or zero points");
  const auto t = c.elem_type(7);
  const auto [lo, hi] = quant_range(c, t);
  const std::string acc = temp(c, "acc"), sc = temp(c, "scale");
  c.emit(acc + " = torch.matmul(" + minus_zero_point(c, 0, 2) + ", " + minus_zero_point(c, 3, 5) + ")");
  c.emit(sc + " = torch.div(torch.mul(" + c.in(1) + ", " + c.in(4) + "), " + c.in(6) + ")");
  c.emit(acc + " = torch.round(torch.mul(" + acc + ".to(torch.float32), " + sc + "))");
  c.assign("torch.clamp(torch.add(" + acc + ", " + c.in(7) + ".to(torch.float32)), " + lo + ", " + hi + ").to(" +
           torch_dtype(t) + ")");
}

/// x - zero point in float64 (exact for 8-bit data); a 1-D weight zero
/// point is per output channel.
inline std::string conv_operand(op_context& c, std::size_t x, std::size_t zp, bool weight) {
  std::string e = c.in(x) + ".to(torch.float64)";
  if (!c.has_input(zp)) return e;
  std::string z = c.in(zp) + ".to(torch.float64)";
  const int zr = c.need_rank(zp);
  if (zr == 1 && weight) {
    std::vector<std::int64_t> shape(static_cast<std::size_t>(c.need_rank(x)), 1);
    shape[0] = -1;
    z += ".reshape(" + python_int_list(shape) + ")";
  } else if (zr != 0 && !(zr == 1 && c.shape(zp) && (*c.shape(zp))[0] == 1)) {
    c.unsupported("zero point of input " + std::to_string(zp) + " must be a scalar");
  }
  return "torch.sub(" + e + ", " + z + ")";
}

inline void conv_integer(op_context& c) {
  check_types(c);
  const std::string a = temp(c, "x"), w = temp(c, "w");
  c.emit(a + " = " + conv_operand(c, 0, 2, false));
  c.emit(w + " = " + conv_operand(c, 1, 3, true));
  c.assign(conv_call(c, a, w, "None"));
  c.assign("torch.round(" + c.out(0) + ").to(torch.int32)");
}

inline void qlinear_conv(op_context& c) {
  check_types(c);
  const auto t = c.elem_type(7);
  const auto [lo, hi] = quant_range(c, t);
  if (c.rank(1) > 0 || c.rank(6) > 0 || c.rank(7) > 0) c.unsupported("per-axis input or output quantisation");
  const std::string a = temp(c, "x"), w = temp(c, "w"), sc = temp(c, "scale");
  c.emit(a + " = " + conv_operand(c, 0, 2, false));
  c.emit(w + " = " + conv_operand(c, 3, 5, true));
  c.assign(conv_call(c, a, w, c.has_input(8) ? c.in(8) + ".to(torch.float64)" : "None", 3));
  std::string ws = c.in(4);
  if (c.rank(4) == 1) {
    std::vector<std::int64_t> shape(static_cast<std::size_t>(c.need_rank(0)), 1);
    shape[1] = -1;
    ws += ".reshape(" + python_int_list(shape) + ")";
  } else if (c.rank(4) != 0) {
    c.unsupported("w_scale must be a scalar or 1-D");
  }
  c.emit(sc + " = torch.div(torch.mul(" + c.in(1) + ", " + ws + "), " + c.in(6) + ")");
  c.assign("torch.round(torch.mul(" + c.out(0) + ", " + sc + ".to(torch.float64)))");
  c.assign("torch.clamp(torch.add(" + c.out(0) + ", " + c.in(7) + ".to(torch.float64)), " + lo + ", " + hi + ").to(" +
           torch_dtype(t) + ")");
}

}  // namespace detail

/// Quantisation: (de)quantising and the integer/quantised linear operators.
inline void add_quantization_translations(op_registry& r) {
  using namespace detail;
  r.add("QuantizeLinear", 10, quantize_linear);
  r.add("DequantizeLinear", 10, dequantize_linear);
  r.add("DynamicQuantizeLinear", 11, dynamic_quantize_linear);
  r.add("MatMulInteger", 10, matmul_integer);
  r.add("ConvInteger", 10, conv_integer);
  r.add("QLinearMatMul", 10, qlinear_matmul);
  r.add("QLinearConv", 10, qlinear_conv);
}

}  // namespace dfgpar::pytorch
