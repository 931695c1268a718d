#pragma once
/// \file evaluate_unary.hpp
/// The element-wise math and activation rules of the folding evaluator
/// (evaluate.hpp dispatches to them): trigonometric and hyperbolic functions,
/// Exp, Log, Erf, Sign, IsNaN, IsInf, the activations (Relu, LeakyRelu, Elu,
/// Selu, Celu, Sigmoid, HardSigmoid, HardSwish, Softplus, Softsign, Tanh,
/// ThresholdedRelu, Shrink, PRelu), Clip, and the integer-flavoured binary
/// ops Mod and BitShift. One reference implementation per operator, shared by
/// constant folding and the native runtime's fallback. Floating-point values
/// are computed in double and rounded once to the element type (16-bit
/// floats through float); integer rules stay in the element type. Not a user
/// entry point: `evaluate()` is.

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/args/clip.hpp>
#include <dfgpar/onnx/attributes.hpp>
#include <dfgpar/onnx/evaluate_math.hpp>
#include <dfgpar/onnx/tensor.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace dfgpar::onnx::detail {

/// The unary element-wise functions (one double -> double rule each).
enum class math_fn {
  sin, cos, tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh, erf, exp, log, tanh, sigmoid, softsign, softplus,
  relu, leaky_relu, elu, selu, celu, thresholded_relu, hard_sigmoid, hard_swish, shrink, sign,
};

/// The function of ONNX operator `op`, or nullopt when `op` is not one of them.
inline std::optional<math_fn> math_fn_of(std::string_view op) {
  struct row { std::string_view name; math_fn fn; };
  static constexpr row rows[] = {
      {"Sin", math_fn::sin},         {"Cos", math_fn::cos},         {"Tan", math_fn::tan},
      {"Asin", math_fn::asin},       {"Acos", math_fn::acos},       {"Atan", math_fn::atan},
      {"Sinh", math_fn::sinh},       {"Cosh", math_fn::cosh},       {"Asinh", math_fn::asinh},
      {"Acosh", math_fn::acosh},     {"Atanh", math_fn::atanh},     {"Erf", math_fn::erf},
      {"Exp", math_fn::exp},         {"Log", math_fn::log},         {"Tanh", math_fn::tanh},
      {"Sigmoid", math_fn::sigmoid}, {"Softsign", math_fn::softsign}, {"Softplus", math_fn::softplus},
      {"Relu", math_fn::relu},       {"LeakyRelu", math_fn::leaky_relu}, {"Elu", math_fn::elu},
      {"Selu", math_fn::selu},       {"Celu", math_fn::celu},       {"ThresholdedRelu", math_fn::thresholded_relu},
      {"HardSigmoid", math_fn::hard_sigmoid}, {"HardSwish", math_fn::hard_swish}, {"Shrink", math_fn::shrink},
      {"Sign", math_fn::sign},
  };
  for (const auto& r : rows)
    if (r.name == op) return r.fn;
  return std::nullopt;
}

/// A unary function with its attributes (defaults per the ONNX spec).
struct math_args {
  math_fn fn;
  double alpha = 0, beta = 0, gamma = 0;
};

/// Reads the attributes of `fn`'s operator.
inline math_args read_math_args(math_fn fn, attribute_reader& a) {
  math_args m{fn};
  switch (fn) {
    case math_fn::leaky_relu: m.alpha = a.get_float("alpha", 0.01); break;
    case math_fn::elu: m.alpha = a.get_float("alpha", 1.0); break;
    case math_fn::selu:
      m.alpha = a.get_float("alpha", 1.67326319217681884765625);
      m.gamma = a.get_float("gamma", 1.05070102214813232421875);
      break;
    case math_fn::celu: m.alpha = a.get_float("alpha", 1.0); break;
    case math_fn::thresholded_relu: m.alpha = a.get_float("alpha", 1.0); break;
    case math_fn::hard_sigmoid:
      m.alpha = a.get_float("alpha", 0.2);
      m.beta = a.get_float("beta", 0.5);
      break;
    case math_fn::hard_swish:  // HardSigmoid with fixed alpha 1/6, beta 0.5, times x
      m.alpha = 1.0 / 6.0;
      m.beta = 0.5;
      break;
    case math_fn::shrink:
      m.alpha = a.get_float("lambd", 0.5);
      m.beta = a.get_float("bias", 0.0);
      break;
    default: break;
  }
  return m;
}

/// `m`'s function at x.
inline double apply_math(const math_args& m, double x) {
  switch (m.fn) {
    case math_fn::sin: return std::sin(x);
    case math_fn::cos: return std::cos(x);
    case math_fn::tan: return std::tan(x);
    case math_fn::asin: return std::asin(x);
    case math_fn::acos: return std::acos(x);
    case math_fn::atan: return std::atan(x);
    case math_fn::sinh: return std::sinh(x);
    case math_fn::cosh: return std::cosh(x);
    case math_fn::asinh: return std::asinh(x);
    case math_fn::acosh: return std::acosh(x);
    case math_fn::atanh: return std::atanh(x);
    case math_fn::erf: return std::erf(x);
    case math_fn::exp: return std::exp(x);
    case math_fn::log: return std::log(x);
    case math_fn::tanh: return std::tanh(x);
    case math_fn::sigmoid:  // written so that exp never overflows
      return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
    case math_fn::softsign: return x / (1 + std::fabs(x));
    case math_fn::softplus:  // log(1 + exp(x)) without overflow
      return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    case math_fn::relu: return x > 0 ? x : (std::isnan(x) ? x : 0.0);
    case math_fn::leaky_relu: return x < 0 ? m.alpha * x : x;
    case math_fn::elu: return x < 0 ? m.alpha * (std::exp(x) - 1) : x;
    case math_fn::selu: return x > 0 ? m.gamma * x : m.gamma * (m.alpha * std::exp(x) - m.alpha);
    case math_fn::celu: return std::max(0.0, x) + std::min(0.0, m.alpha * (std::exp(x / m.alpha) - 1));
    case math_fn::thresholded_relu: return x > m.alpha ? x : 0.0;
    case math_fn::hard_sigmoid: return std::max(0.0, std::min(1.0, m.alpha * x + m.beta));
    case math_fn::hard_swish: return x * std::max(0.0, std::min(1.0, m.alpha * x + m.beta));
    case math_fn::shrink: return x < -m.alpha ? x + m.beta : x > m.alpha ? x - m.beta : 0.0;
    case math_fn::sign: return std::isnan(x) ? x : static_cast<double>((x > 0) - (x < 0));
  }
  return x;
}

/// Applies `f` (double -> double) to every element of a floating-point
/// tensor, keeping its type (16-bit floats decoded to float and rounded back).
template <class F>
tensor map_floating(const tensor& x, F f) {
  using tp = ::onnx::TensorProto;
  tensor out = x;
  const bool half = x.elem_type == tp::FLOAT16;
  std::visit(
      [&](auto& o) {
        using T = typename std::decay_t<decltype(o)>::value_type;
        if constexpr (std::is_floating_point_v<T>) {
          for (auto& v : o) v = static_cast<T>(f(static_cast<double>(v)));
        } else if constexpr (std::is_same_v<T, std::uint16_t>) {  // FLOAT16 / BFLOAT16 bit patterns
          for (auto& v : o) {
            const double d = half ? half_to_float(v) : bfloat16_to_float(v);
            const auto r = static_cast<float>(f(d));
            v = half ? float_to_half(r) : float_to_bfloat16(r);
          }
        }
      },
      out.data);
  return out;
}

/// A unary math function or activation. Floating-point types; Relu and Sign
/// also take signed and unsigned integers (computed exactly).
inline std::optional<tensor> eval_math(const ::onnx::NodeProto&, const math_args& m, const tensor& x) {
  using tp = ::onnx::TensorProto;
  if (x.is_floating()) return map_floating(x, [&](double v) { return apply_math(m, v); });
  if (x.elem_type == tp::BOOL || !is_supported_elem_type(x.elem_type)) return std::nullopt;
  if (m.fn != math_fn::relu && m.fn != math_fn::sign) return std::nullopt;
  tensor out = x;
  std::visit(
      [&](auto& o) {
        using T = typename std::decay_t<decltype(o)>::value_type;
        if constexpr (std::is_unsigned_v<T>) {
          if (m.fn == math_fn::sign)
            for (auto& v : o) v = v != 0 ? T(1) : T(0);
        } else if constexpr (std::is_integral_v<T>) {
          for (auto& v : o)
            v = m.fn == math_fn::relu ? std::max(v, T(0)) : static_cast<T>((v > T(0)) - (v < T(0)));
        }
      },
      out.data);
  return out;
}

/// IsNaN (detect_negative / detect_positive unused) and IsInf: a bool tensor.
inline std::optional<tensor> eval_is_special(bool is_nan, bool detect_negative, bool detect_positive, const tensor& x) {
  using tp = ::onnx::TensorProto;
  if (!x.is_floating()) return std::nullopt;
  tensor out = make_tensor(tp::BOOL, x.dims);
  auto& o = out.values<std::uint8_t>();
  for (std::size_t i = 0; i < o.size(); ++i) {
    const double v = x.as_double(i);
    o[i] = is_nan ? std::isnan(v) : std::isinf(v) && ((v > 0 && detect_positive) || (v < 0 && detect_negative));
  }
  return out;
}

/// `d` as T, saturated to T's range (a Clip bound beyond the type's range
/// does not bound anything).
template <class T>
T saturate_to(double d) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(d);
  } else {
    if (!(d > static_cast<double>(std::numeric_limits<T>::lowest()))) return std::numeric_limits<T>::lowest();
    if (!(d < static_cast<double>(std::numeric_limits<T>::max()))) return std::numeric_limits<T>::max();
    return static_cast<T>(d);
  }
}

/// Clip: min(max(x, lo), hi), absent bounds unbounded (lo > hi gives hi, as
/// the spec says). Every numeric type but the 16-bit floats.
inline std::optional<tensor> eval_clip(const tensor& x, const clip_args& c) {
  if (!is_arithmetic_type(x.elem_type)) return std::nullopt;
  if (c.min.at_run_time() || c.max.at_run_time()) return std::nullopt;
  tensor out = x;
  std::visit(
      [&](auto& o) {
        using T = typename std::decay_t<decltype(o)>::value_type;
        const bool has_lo = c.min.known(), has_hi = c.max.known();
        const T lo = has_lo ? saturate_to<T>(*c.min.value) : T{}, hi = has_hi ? saturate_to<T>(*c.max.value) : T{};
        for (auto& v : o) {
          if (has_lo && v < lo) v = lo;  // NaN stays NaN, as numpy.clip
          if (has_hi && v > hi) v = hi;
        }
      },
      out.data);
  return out;
}

/// Mod: fmod = 0, integers: the remainder has the divisor's sign (Python's
/// %); fmod = 1: the dividend's sign (C's fmod / %), the only mode floats
/// have. A zero integer divisor is declined (ONNX leaves it undefined).
inline std::optional<tensor> eval_mod(const ::onnx::NodeProto& n, bool fmod, const tensor& a, const tensor& b,
                                      std::size_t max_el) {
  if (a.is_floating() && !fmod) bad_node(n, "fmod must be 1 for floating-point inputs");
  if (is_16bit_float(a.elem_type) && a.elem_type == b.elem_type) {  // exact through float32 (fmod is exact)
    auto r = eval_mod(n, fmod, widen_16bit_float(a), widen_16bit_float(b), max_el);
    if (!r) return r;
    return narrow_to_16bit_float(*r, a.elem_type);
  }
  if (!is_arithmetic_type(a.elem_type)) return std::nullopt;
  return broadcast_binary(n, a, b, max_el, [&](auto x, auto y) -> std::optional<decltype(x)> {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>) {
      return static_cast<T>(std::fmod(x, y));
    } else {
      if (y == 0) return std::nullopt;
      if constexpr (std::is_signed_v<T>)
        if (y == -1) return T(0);  // also INT_MIN % -1, which C++ leaves undefined
      T r = static_cast<T>(x % y);
      if constexpr (std::is_signed_v<T>)
        if (!fmod && r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y);
      return r;
    }
  });
}

/// BitShift on unsigned integers; a shift by the bit width or more gives 0.
inline std::optional<tensor> eval_bit_shift(const ::onnx::NodeProto& n, const std::string& direction, const tensor& a,
                                            const tensor& b, std::size_t max_el) {
  using tp = ::onnx::TensorProto;
  const bool left = direction == "LEFT";
  if (!left && direction != "RIGHT") bad_node(n, "direction must be LEFT or RIGHT, not '" + direction + "'");
  const auto t = a.elem_type;
  if (t != tp::UINT8 && t != tp::UINT16 && t != tp::UINT32 && t != tp::UINT64) return std::nullopt;
  return broadcast_binary(n, a, b, max_el, [&](auto x, auto s) -> std::optional<decltype(x)> {
    using T = decltype(x);
    if constexpr (std::is_unsigned_v<T>) {
      if (s >= static_cast<T>(std::numeric_limits<T>::digits)) return T(0);
      return static_cast<T>(left ? x << s : x >> s);
    } else {
      return std::nullopt;  // not reached: the types are checked above
    }
  });
}

/// PRelu: x < 0 ? slope * x : x, the slope broadcast to x's shape
/// (unidirectionally). Floating-point types and integers (opset 16).
inline std::optional<tensor> eval_prelu(const ::onnx::NodeProto& n, const tensor& x, const tensor& slope,
                                        std::size_t max_el) {
  using tp = ::onnx::TensorProto;
  if (!is_arithmetic_type(x.elem_type) && x.elem_type != tp::FLOAT16) return std::nullopt;
  if (x.elem_type != slope.elem_type) bad_node(n, "input types differ");
  const std::vector<std::int64_t>* shapes[] = {&x.dims, &slope.dims};
  if (broadcast_shape(n, shapes) != x.dims) bad_node(n, "slope does not broadcast to the input's shape");
  if (x.elem_type == tp::FLOAT16) {  // through float
    const auto os = broadcast_offsets(slope.dims, x.dims);
    tensor out = x;
    auto& o = out.values<std::uint16_t>();
    for (std::size_t k = 0; k < o.size(); ++k) {
      const double v = x.as_double(k);
      o[k] = float_to_half(static_cast<float>(v < 0 ? slope.as_double(os[k]) * v : v));
    }
    return out;
  }
  return broadcast_binary(n, x, slope, max_el, [](auto v, auto s) -> std::optional<decltype(v)> {
    using T = decltype(v);
    if constexpr (std::is_unsigned_v<T>) return v;  // never negative
    else return v < T(0) ? wrap_mul(s, v) : v;
  });
}

}  // namespace dfgpar::onnx::detail
