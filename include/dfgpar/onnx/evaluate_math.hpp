#pragma once
/// \file evaluate_math.hpp
/// The arithmetic, comparison, logic, reduction and splitting rules of the
/// folding evaluator (evaluate.hpp dispatches to them): what real exports
/// leave in their shape arithmetic (`Min(Shape, INT64_MAX)`, `Equal` and
/// `Where` on dimensions, `Floor(Div(...))` on sizes, `ReduceProd` of a shape,
/// `Split` of a table of pads). Computed in the tensor's own element type
/// (int64 shape values stay exact); 16-bit floats are declined. Not a user
/// entry point: `evaluate()` is.

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/args/common.hpp>
#include <dfgpar/onnx/args/reduce.hpp>
#include <dfgpar/onnx/args/split.hpp>
#include <dfgpar/onnx/attributes.hpp>
#include <dfgpar/onnx/tensor.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace dfgpar::onnx::detail {

// Defined in evaluate.hpp (which includes this header after declaring them).
[[noreturn]] inline void bad_node(const ::onnx::NodeProto& n, const std::string& why);
inline std::vector<std::int64_t> broadcast_shape(const ::onnx::NodeProto& n,
                                                 std::span<const std::vector<std::int64_t>* const> shapes);
inline std::vector<std::size_t> broadcast_offsets(const std::vector<std::int64_t>& in,
                                                  const std::vector<std::int64_t>& out);
inline std::vector<std::size_t> strides_of(const std::vector<std::int64_t>& dims);
inline tensor gather_elements_by(const tensor& in, std::vector<std::int64_t> dims, const std::vector<std::size_t>& map);

/// Element types the arithmetic rules compute in (not bool, not 16-bit floats).
inline bool is_arithmetic_type(std::int32_t t) noexcept {
  using tp = ::onnx::TensorProto;
  return is_supported_elem_type(t) && t != tp::BOOL && t != tp::FLOAT16 && t != tp::BFLOAT16;
}

/// Integer arithmetic that wraps instead of overflowing (as numpy).
template <class T>
T wrap_add(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
  } else {
    return a + b;
  }
}
template <class T>
T wrap_mul(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return a * b;
  }
}

/// The output shape of a two-input broadcast and, per output element, the
/// element of each input it reads.
struct broadcast_pair {
  std::vector<std::int64_t> dims;
  std::vector<std::size_t> a, b;
};

/// Plans the broadcast of a and b; nullopt when the output would exceed `max_el`.
inline std::optional<broadcast_pair> plan_broadcast(const ::onnx::NodeProto& n, const tensor& a, const tensor& b,
                                                    std::size_t max_el) {
  const std::vector<std::int64_t>* shapes[] = {&a.dims, &b.dims};
  auto dims = broadcast_shape(n, shapes);
  if (element_count(dims) > max_el) return std::nullopt;
  auto oa = broadcast_offsets(a.dims, dims), ob = broadcast_offsets(b.dims, dims);
  return broadcast_pair{std::move(dims), std::move(oa), std::move(ob)};
}

/// Applies `f(a, b) -> optional<T>` to the broadcast pairs of two tensors of
/// one element type T (the output has T too); nullopt when f declines an
/// element or the output would exceed `max_el`.
template <class F>
std::optional<tensor> broadcast_binary(const ::onnx::NodeProto& n, const tensor& a, const tensor& b,
                                       std::size_t max_el, F f) {
  if (a.elem_type != b.elem_type) bad_node(n, "input types differ");
  const auto plan = plan_broadcast(n, a, b, max_el);
  if (!plan) return std::nullopt;
  const auto &oa = plan->a, &ob = plan->b;
  tensor out = make_tensor(a.elem_type, plan->dims);
  bool ok = true;
  std::visit(
      [&](auto& o) {
        using T = typename std::decay_t<decltype(o)>::value_type;
        const auto& va = a.values<T>();
        const auto& vb = b.values<T>();
        for (std::size_t k = 0; k < o.size() && ok; ++k) {
          const std::optional<T> r = f(va[oa[k]], vb[ob[k]]);
          if (r) o[k] = *r; else ok = false;
        }
      },
      out.data);
  if (!ok) return std::nullopt;
  return out;
}

/// A 16-bit float tensor as float32 (exact).
inline tensor widen_16bit_float(const tensor& x) {
  tensor out = make_tensor(::onnx::TensorProto::FLOAT, x.dims);
  auto& o = out.values<float>();
  for (std::size_t i = 0; i < o.size(); ++i) o[i] = static_cast<float>(x.as_double(i));
  return out;
}

/// A float32 tensor as FLOAT16 or BFLOAT16 (`type`), rounded to nearest even.
inline tensor narrow_to_16bit_float(const tensor& x, std::int32_t type) {
  tensor out = make_tensor(type, x.dims);
  auto& o = out.values<std::uint16_t>();
  const auto& v = x.values<float>();
  for (std::size_t i = 0; i < o.size(); ++i)
    o[i] = type == ::onnx::TensorProto::FLOAT16 ? float_to_half(v[i]) : float_to_bfloat16(v[i]);
  return out;
}

/// Whether `t` is FLOAT16 or BFLOAT16.
inline bool is_16bit_float(std::int32_t t) noexcept {
  return t == ::onnx::TensorProto::FLOAT16 || t == ::onnx::TensorProto::BFLOAT16;
}

/// Min, Max, Sum, Mean: variadic, broadcasting, one element type.
enum class variadic_op { min, max, sum, mean };

inline std::optional<tensor> eval_variadic(const ::onnx::NodeProto& n, variadic_op op,
                                           std::span<const tensor* const> in, std::size_t max_el) {
  if (in.empty()) bad_node(n, "no inputs");
  std::vector<const std::vector<std::int64_t>*> shapes;
  for (const tensor* t : in) {
    if (!t) bad_node(n, "an input is missing");
    if (t->elem_type != in[0]->elem_type) bad_node(n, "input types differ");
    shapes.push_back(&t->dims);
  }
  if (is_16bit_float(in[0]->elem_type) && (op == variadic_op::min || op == variadic_op::max)) {
    // exact through float32: the result is one of the inputs
    std::vector<tensor> wide;
    for (const tensor* t : in) wide.push_back(widen_16bit_float(*t));
    std::vector<const tensor*> ptrs;
    for (const auto& t : wide) ptrs.push_back(&t);
    auto r = eval_variadic(n, op, ptrs, max_el);
    if (!r) return r;
    return narrow_to_16bit_float(*r, in[0]->elem_type);
  }
  if (!is_arithmetic_type(in[0]->elem_type)) return std::nullopt;
  auto dims = broadcast_shape(n, shapes);
  if (element_count(dims) > max_el) return std::nullopt;
  tensor out = make_tensor(in[0]->elem_type, dims);
  std::visit(
      [&](auto& o) {
        using T = typename std::decay_t<decltype(o)>::value_type;
        for (std::size_t k = 0; k < in.size(); ++k) {
          const auto& v = in[k]->values<T>();
          const auto off = broadcast_offsets(in[k]->dims, dims);
          for (std::size_t i = 0; i < o.size(); ++i) {
            const T x = v[off[i]];
            if (k == 0) { o[i] = x; continue; }
            switch (op) {
              case variadic_op::min:
                // NaN propagates, as numpy.minimum
                if constexpr (std::is_floating_point_v<T>) o[i] = std::isnan(x) || x < o[i] ? x : o[i];
                else o[i] = std::min(o[i], x);
                break;
              case variadic_op::max:
                if constexpr (std::is_floating_point_v<T>) o[i] = std::isnan(x) || x > o[i] ? x : o[i];
                else o[i] = std::max(o[i], x);
                break;
              case variadic_op::sum:
              case variadic_op::mean: o[i] = wrap_add(o[i], x); break;
            }
          }
        }
        if (op == variadic_op::mean)
          for (auto& x : o) x = static_cast<T>(x / static_cast<T>(in.size()));
      },
      out.data);
  return out;
}

/// Equal, Less, Greater, LessOrEqual, GreaterOrEqual: a bool tensor.
enum class compare_op { eq, lt, gt, le, ge };

inline std::optional<tensor> eval_compare(const ::onnx::NodeProto& n, compare_op op, const tensor& a, const tensor& b,
                                          std::size_t max_el) {
  using tp = ::onnx::TensorProto;
  if (a.elem_type != b.elem_type) bad_node(n, "input types differ");
  // 16-bit floats are kept as bit patterns: only equality could be read off them
  if (a.elem_type == tp::FLOAT16 || a.elem_type == tp::BFLOAT16) return std::nullopt;
  if (a.elem_type == tp::BOOL && op != compare_op::eq) return std::nullopt;
  const auto plan = plan_broadcast(n, a, b, max_el);
  if (!plan) return std::nullopt;
  const auto &oa = plan->a, &ob = plan->b;
  tensor out = make_tensor(tp::BOOL, plan->dims);
  auto& o = out.values<std::uint8_t>();
  std::visit(
      [&](const auto& va) {
        using V = std::decay_t<decltype(va)>;
        const auto& vb = std::get<V>(b.data);
        for (std::size_t k = 0; k < o.size(); ++k) {
          const auto x = va[oa[k]], y = vb[ob[k]];
          switch (op) {
            case compare_op::eq: o[k] = x == y; break;
            case compare_op::lt: o[k] = x < y; break;
            case compare_op::gt: o[k] = x > y; break;
            case compare_op::le: o[k] = x <= y; break;
            case compare_op::ge: o[k] = x >= y; break;
          }
        }
      },
      a.data);
  return out;
}

/// And, Or, Xor on bool tensors; Not (b == nullptr).
enum class logic_op { and_, or_, xor_, not_ };

inline std::optional<tensor> eval_logic(const ::onnx::NodeProto& n, logic_op op, const tensor& a, const tensor* b,
                                        std::size_t max_el) {
  using tp = ::onnx::TensorProto;
  if (a.elem_type != tp::BOOL || (b && b->elem_type != tp::BOOL)) bad_node(n, "inputs must be bool");
  if (op == logic_op::not_) {
    tensor out = a;
    for (auto& x : out.values<std::uint8_t>()) x = !x;
    return out;
  }
  if (!b) bad_node(n, "input 1 is missing");
  const auto plan = plan_broadcast(n, a, *b, max_el);
  if (!plan) return std::nullopt;
  const auto &oa = plan->a, &ob = plan->b;
  tensor out = make_tensor(tp::BOOL, plan->dims);
  auto& o = out.values<std::uint8_t>();
  const auto &va = a.values<std::uint8_t>(), &vb = b->values<std::uint8_t>();
  for (std::size_t k = 0; k < o.size(); ++k) {
    const bool x = va[oa[k]] != 0, y = vb[ob[k]] != 0;
    o[k] = op == logic_op::and_ ? x && y : op == logic_op::or_ ? x || y : x != y;
  }
  return out;
}

/// Floor, Ceil, Round (half to even), Sqrt, Reciprocal (floating point); Abs (any number).
enum class unary_op { floor, ceil, round, sqrt, reciprocal, abs };

inline std::optional<tensor> eval_unary(const ::onnx::NodeProto&, unary_op op, const tensor& x) {
  if (!is_arithmetic_type(x.elem_type)) return std::nullopt;
  if (op != unary_op::abs && !x.is_floating()) return std::nullopt;
  tensor out = x;
  std::visit(
      [&](auto& o) {
        using T = typename std::decay_t<decltype(o)>::value_type;
        for (auto& v : o) {
          if constexpr (std::is_floating_point_v<T>) {
            switch (op) {
              case unary_op::floor: v = std::floor(v); break;
              case unary_op::ceil: v = std::ceil(v); break;
              case unary_op::round: v = std::nearbyint(v); break;  // the default rounding mode: to nearest even
              case unary_op::sqrt: v = std::sqrt(v); break;
              case unary_op::reciprocal: v = T(1) / v; break;
              case unary_op::abs: v = std::fabs(v); break;
            }
          } else if constexpr (std::is_signed_v<T>) {
            v = v < 0 ? static_cast<T>(T(0) - v) : v;  // INT_MIN stays INT_MIN, as numpy
          }
        }
      },
      out.data);
  return out;
}

/// Pow: the base's type; the exponent may be of another numeric type.
inline std::optional<tensor> eval_pow(const ::onnx::NodeProto& n, const tensor& a, const tensor& b, std::size_t max_el) {
  if (!is_arithmetic_type(a.elem_type) || !is_arithmetic_type(b.elem_type)) return std::nullopt;
  const auto plan = plan_broadcast(n, a, b, max_el);
  if (!plan) return std::nullopt;
  const auto &oa = plan->a, &ob = plan->b;
  tensor out = make_tensor(a.elem_type, plan->dims);
  bool ok = true;
  std::visit(
      [&](auto& o) {
        using T = typename std::decay_t<decltype(o)>::value_type;
        const auto& va = a.values<T>();
        for (std::size_t k = 0; k < o.size() && ok; ++k) {
          const double r = std::pow(static_cast<double>(va[oa[k]]), b.as_double(ob[k]));
          if constexpr (std::is_floating_point_v<T>) {
            o[k] = static_cast<T>(r);
          } else {
            if (!(r >= static_cast<double>(std::numeric_limits<T>::lowest()) &&
                  r <= static_cast<double>(std::numeric_limits<T>::max())))
              ok = false;
            else
              o[k] = static_cast<T>(r);
          }
        }
      },
      out.data);
  if (!ok) return std::nullopt;
  return out;
}

/// ReduceSum, ReduceProd, ReduceMin, ReduceMax, ReduceMean, ReduceL1,
/// ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp (axes per
/// args/reduce.hpp). L2, LogSum and LogSumExp: floating-point types only.
enum class reduce_op { sum, prod, min, max, mean, l1, l2, sum_square, log_sum, log_sum_exp };

inline std::optional<tensor> eval_reduce(const ::onnx::NodeProto& n, reduce_op op, const tensor& x,
                                         const reduce_args& r) {
  if (!is_arithmetic_type(x.elem_type)) return std::nullopt;
  if (r.axes.at_run_time()) return std::nullopt;
  if ((op == reduce_op::l2 || op == reduce_op::log_sum || op == reduce_op::log_sum_exp) && !x.is_floating())
    return std::nullopt;
  const auto rank = static_cast<std::int64_t>(x.rank());
  std::vector<char> reduced(x.rank(), 0);
  const bool empty_axes = !r.axes.known() || r.axes.value->empty();
  if (empty_axes && r.noop_with_empty_axes) {
    // the newer ops' no-op (opset 18) is read differently by the references (data or its square): declined
    if (op != reduce_op::sum && op != reduce_op::prod && op != reduce_op::min && op != reduce_op::max &&
        op != reduce_op::mean)
      return std::nullopt;
    return x;
  }
  if (empty_axes) std::fill(reduced.begin(), reduced.end(), 1);
  else
    for (std::int64_t a : *r.axes.value) reduced[static_cast<std::size_t>(normalize_axis(n, a, rank, "axes"))] = 1;
  std::vector<std::int64_t> kept_dims, out_dims;
  for (std::size_t i = 0; i < x.rank(); ++i) {
    kept_dims.push_back(reduced[i] ? 1 : x.dims[i]);
    if (!reduced[i] || r.keepdims) out_dims.push_back(reduced[i] ? 1 : x.dims[i]);
  }
  const std::size_t out_n = element_count(kept_dims);
  if ((op == reduce_op::min || op == reduce_op::max) && x.size() == 0 && out_n > 0)
    bad_node(n, "reducing an empty tensor has no minimum or maximum");
  // offset of each input element in the output
  const auto out_strides = strides_of(kept_dims);
  std::vector<std::size_t> to_out(x.size());
  std::vector<std::int64_t> idx(x.rank(), 0);
  for (std::size_t k = 0; k < x.size(); ++k) {
    std::size_t off = 0;
    for (std::size_t a = 0; a < x.rank(); ++a)
      if (!reduced[a]) off += static_cast<std::size_t>(idx[a]) * out_strides[a];
    to_out[k] = off;
    for (std::size_t a = x.rank(); a-- > 0;) {
      if (++idx[a] < x.dims[a]) break;
      idx[a] = 0;
    }
  }
  tensor out = make_tensor(x.elem_type, out_dims);
  std::visit(
      [&](auto& o) {
        using T = typename std::decay_t<decltype(o)>::value_type;
        using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
        const auto& v = x.values<T>();
        std::vector<Acc> acc(out_n, op == reduce_op::prod ? Acc(1) : Acc(0));
        std::vector<char> seen(out_n, 0);
        for (std::size_t k = 0; k < v.size(); ++k) {
          Acc& a = acc[to_out[k]];
          const Acc y = static_cast<Acc>(v[k]);
          switch (op) {
            case reduce_op::sum: case reduce_op::mean: a = wrap_add(a, y); break;
            case reduce_op::l1:
              if constexpr (std::is_signed_v<Acc>) a = wrap_add(a, y < Acc(0) ? static_cast<Acc>(Acc(0) - y) : y);
              else a = wrap_add(a, y);
              break;
            case reduce_op::l2: case reduce_op::sum_square: a = wrap_add(a, wrap_mul(y, y)); break;
            case reduce_op::log_sum: a = wrap_add(a, y); break;
            case reduce_op::log_sum_exp:
              if constexpr (std::is_floating_point_v<Acc>) a += std::exp(y);
              break;
            case reduce_op::prod: a = wrap_mul(a, y); break;
            case reduce_op::min: a = seen[to_out[k]] ? std::min(a, y) : y; break;
            case reduce_op::max: a = seen[to_out[k]] ? std::max(a, y) : y; break;
          }
          seen[to_out[k]] = 1;
        }
        const std::size_t per = out_n ? x.size() / out_n : 0;
        for (std::size_t i = 0; i < out_n; ++i) {
          Acc a = acc[i];
          if (op == reduce_op::mean) a = per ? static_cast<Acc>(a / static_cast<Acc>(per)) : Acc(0);
          if constexpr (std::is_floating_point_v<Acc>) {
            if (op == reduce_op::l2) a = std::sqrt(a);
            if (op == reduce_op::log_sum || op == reduce_op::log_sum_exp) a = std::log(a);
          }
          o[i] = static_cast<T>(a);
        }
      },
      out.data);
  return out;
}

/// ArgMax / ArgMin along `axis`: int64 indices (the first extreme, or the
/// last with select_last_index; NaN counts as the extreme, as numpy).
inline std::optional<tensor> eval_arg_extreme(const ::onnx::NodeProto& n, bool is_max, const tensor& x,
                                              std::int64_t axis_attr, bool keepdims, bool select_last) {
  using tp = ::onnx::TensorProto;
  if (!is_arithmetic_type(x.elem_type)) return std::nullopt;
  const auto axis = static_cast<std::size_t>(normalize_axis(n, axis_attr, static_cast<std::int64_t>(x.rank()), "axis"));
  const std::size_t dim = static_cast<std::size_t>(x.dims[axis]);
  std::size_t outer = 1, inner = 1;
  for (std::size_t i = 0; i < axis; ++i) outer *= static_cast<std::size_t>(x.dims[i]);
  for (std::size_t i = axis + 1; i < x.rank(); ++i) inner *= static_cast<std::size_t>(x.dims[i]);
  std::vector<std::int64_t> dims = x.dims;
  if (keepdims) dims[axis] = 1;
  else dims.erase(dims.begin() + static_cast<std::ptrdiff_t>(axis));
  if (dim == 0 && outer * inner > 0) bad_node(n, "an empty axis has no extreme");
  tensor out = make_tensor(tp::INT64, dims);
  auto& o = out.values<std::int64_t>();
  std::visit(
      [&](const auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        for (std::size_t a = 0; a < outer; ++a)
          for (std::size_t i = 0; i < inner; ++i) {
            const std::size_t base = a * dim * inner + i;
            T best = v[base];
            std::size_t at = 0;
            for (std::size_t j = 1; j < dim; ++j) {
              const T y = v[base + j * inner];
              bool take;
              if constexpr (std::is_floating_point_v<T>) {
                if (std::isnan(best)) take = select_last && std::isnan(y);
                else if (std::isnan(y)) take = true;
                else take = is_max ? (y > best || (select_last && y == best)) : (y < best || (select_last && y == best));
              } else {
                take = is_max ? (y > best || (select_last && y == best)) : (y < best || (select_last && y == best));
              }
              if (take) { best = y; at = j; }
            }
            o[a * inner + i] = static_cast<std::int64_t>(at);
          }
      },
      x.data);
  return out;
}

/// Split into `outputs` pieces (sizes per args/split.hpp).
inline std::optional<std::vector<tensor>> eval_split(const ::onnx::NodeProto& n, const tensor& x, const split_args& s,
                                                     std::size_t outputs, std::int64_t opset) {
  if (x.rank() == 0) bad_node(n, "input must have rank >= 1");
  if (s.split.at_run_time()) return std::nullopt;
  const auto axis = static_cast<std::size_t>(normalize_axis(n, s.axis, static_cast<std::int64_t>(x.rank())));
  const std::int64_t dim = x.dims[axis];
  std::vector<std::int64_t> sizes;
  if (s.split.known() && !s.split.value->empty()) {
    sizes = *s.split.value;
    if (sizes.size() != outputs) bad_node(n, "split has " + std::to_string(sizes.size()) + " sizes for " +
                                             std::to_string(outputs) + " outputs");
    std::int64_t total = 0;
    for (std::int64_t v : sizes) {
      if (v < 0) bad_node(n, "negative split size");
      total += v;
    }
    if (total != dim) bad_node(n, "split sizes add up to " + std::to_string(total) + ", not " + std::to_string(dim));
  } else {
    const std::size_t parts = s.num_outputs ? static_cast<std::size_t>(std::max<std::int64_t>(*s.num_outputs, 1)) : outputs;
    if (parts != outputs || parts == 0) bad_node(n, "num_outputs does not match the outputs");
    const auto p = static_cast<std::int64_t>(parts);
    if (dim % p != 0 && (opset < 18 || !s.num_outputs))
      bad_node(n, "dimension " + std::to_string(dim) + " does not split into " + std::to_string(parts) + " equal parts");
    const std::int64_t each = (dim + p - 1) / p;  // opset 18: the last part is smaller
    for (std::int64_t i = 0, left = dim; i < p; ++i, left -= each) sizes.push_back(std::min(each, std::max<std::int64_t>(left, 0)));
  }
  const auto strides = strides_of(x.dims);
  std::size_t outer = 1;
  for (std::size_t i = 0; i < axis; ++i) outer *= static_cast<std::size_t>(x.dims[i]);
  const std::size_t inner = strides[axis];
  std::vector<tensor> out;
  std::int64_t start = 0;
  for (std::int64_t size : sizes) {
    std::vector<std::int64_t> dims = x.dims;
    dims[axis] = size;
    std::vector<std::size_t> map;
    map.reserve(outer * static_cast<std::size_t>(size) * inner);
    for (std::size_t o = 0; o < outer; ++o)
      for (std::int64_t j = start; j < start + size; ++j)
        for (std::size_t i = 0; i < inner; ++i)
          map.push_back((o * static_cast<std::size_t>(dim) + static_cast<std::size_t>(j)) * inner + i);
    out.push_back(gather_elements_by(x, std::move(dims), map));
    start += size;
  }
  return out;
}

/// Tile: each axis repeated `repeats[i]` times.
inline std::optional<tensor> eval_tile(const ::onnx::NodeProto& n, const tensor& x, const tensor& repeats,
                                       std::size_t max_el) {
  const auto reps = repeats.to_int64();
  if (reps.size() != x.rank()) bad_node(n, "repeats has " + std::to_string(reps.size()) + " values for rank " +
                                           std::to_string(x.rank()));
  std::vector<std::int64_t> dims(x.rank());
  for (std::size_t i = 0; i < x.rank(); ++i) {
    if (reps[i] < 0) bad_node(n, "negative repeat");
    dims[i] = x.dims[i] * reps[i];
  }
  if (element_count(dims) > max_el) return std::nullopt;
  const auto in_strides = strides_of(x.dims);
  const std::size_t total = element_count(dims);
  std::vector<std::size_t> map(total);
  std::vector<std::int64_t> idx(x.rank(), 0);
  for (std::size_t k = 0; k < total; ++k) {
    std::size_t off = 0;
    for (std::size_t a = 0; a < x.rank(); ++a) off += static_cast<std::size_t>(idx[a] % x.dims[a]) * in_strides[a];
    map[k] = off;
    for (std::size_t a = x.rank(); a-- > 0;) {
      if (++idx[a] < dims[a]) break;
      idx[a] = 0;
    }
  }
  return gather_elements_by(x, std::move(dims), map);
}

}  // namespace dfgpar::onnx::detail
