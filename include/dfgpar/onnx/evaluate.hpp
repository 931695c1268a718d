#pragma once
/// \file evaluate.hpp
/// Evaluates one ONNX node on known input values: the arithmetic behind
/// constant folding. Covers the shape arithmetic PyTorch, TensorFlow and
/// Paddle exports are full of (the arithmetic, comparison, logic, reduction,
/// ArgMax/ArgMin and Split rules are in evaluate_math.hpp) and the
/// element-wise math and activations (evaluate_unary.hpp, with Clip, PRelu,
/// Mod and BitShift): the operators whose row in op_table.hpp
/// says `foldable` (tests/onnx/test_op_table.cpp checks that each of them is
/// computed here), for every numeric element type (16-bit floats: data
/// movement, Cast, Min/Max/Mod and the unary math of evaluate_unary.hpp,
/// through float), following the operator versions of opsets 1 to
/// 17. The opset rules of the arguments (Squeeze/Unsqueeze axes as an
/// attribute before opset 13, Slice attributes before opset 10, ...) are the
/// argument layer's (onnx/args/), shared with the PyTorch translations.
///
/// A node with an attribute the evaluator does not read is declined
/// (nullopt): an attribute it does not understand may change the result. A
/// wrongly typed attribute makes the node invalid (graph_error).
/// \code
///   std::vector<const tensor*> in{&a, &b};
///   if (auto out = dfgpar::onnx::evaluate(node, in, 13)) use((*out)[0]);
/// \endcode

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/args/cast.hpp>
#include <dfgpar/onnx/args/common.hpp>
#include <dfgpar/onnx/args/dropout.hpp>
#include <dfgpar/onnx/args/reshape.hpp>
#include <dfgpar/onnx/args/shape.hpp>
#include <dfgpar/onnx/args/slice.hpp>
#include <dfgpar/onnx/args/squeeze.hpp>
#include <dfgpar/onnx/attributes.hpp>
#include <dfgpar/onnx/evaluate_math.hpp>
#include <dfgpar/onnx/evaluate_unary.hpp>
#include <dfgpar/onnx/evaluate_nn.hpp>
#include <dfgpar/onnx/evaluate_rnn.hpp>
#include <dfgpar/onnx/evaluate_tensor.hpp>
#include <dfgpar/onnx/op_table.hpp>
#include <dfgpar/onnx/tensor.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace dfgpar::onnx {

/// Limits of `evaluate`.
struct eval_options {
  /// Outputs with more elements than this are not computed (evaluate returns
  /// nullopt): constant folding should not turn activations or copies of
  /// weights into constants. 1M elements = 4 MiB of float.
  std::size_t max_elements = std::size_t{1} << 20;
};

/// Whether `evaluate` implements this operator (its op_table row is foldable).
inline bool can_evaluate(std::string_view op_type, std::string_view domain = "") {
  const op_info* op = find_op(domain, op_type);
  return op && op->foldable;
}

namespace detail {

using tp = ::onnx::TensorProto;

[[noreturn]] inline void bad_node(const ::onnx::NodeProto& n, const std::string& why) {
  throw graph_error("dfgpar: cannot evaluate " + n.op_type() + " node '" + n.name() + "': " + why);
}

/// Axis in [-rank, rank) -> [0, rank).
inline std::size_t norm_axis(const ::onnx::NodeProto& n, std::int64_t axis, std::size_t rank) {
  const auto r = static_cast<std::int64_t>(rank);
  if (axis < -r || axis >= r) bad_node(n, "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

inline std::vector<std::size_t> strides_of(const std::vector<std::int64_t>& dims) {
  std::vector<std::size_t> s(dims.size(), 1);
  for (std::size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * static_cast<std::size_t>(dims[i]);
  return s;
}

/// Output shape of numpy-style (multidirectional) broadcasting.
inline std::vector<std::int64_t> broadcast_shape(const ::onnx::NodeProto& n,
                                                 std::span<const std::vector<std::int64_t>* const> shapes) {
  std::size_t rank = 0;
  for (auto* s : shapes) rank = std::max(rank, s->size());
  std::vector<std::int64_t> out(rank, 1);
  for (auto* s : shapes)
    for (std::size_t i = 0; i < s->size(); ++i) {
      const std::int64_t d = (*s)[i];
      std::int64_t& o = out[rank - s->size() + i];
      if (d == o || d == 1) continue;
      if (o == 1) { o = d; continue; }
      bad_node(n, "shapes do not broadcast");
    }
  return out;
}

/// For each element of the output shape `out`, the offset into an input of
/// shape `in` broadcast to it.
inline std::vector<std::size_t> broadcast_offsets(const std::vector<std::int64_t>& in,
                                                  const std::vector<std::int64_t>& out) {
  const std::size_t n = element_count(out), rank = out.size();
  std::vector<std::size_t> offs(n);
  if (n == 0) return offs;
  // stride of each output axis in the input (0 where broadcast)
  std::vector<std::size_t> st(rank, 0);
  const auto ins = strides_of(in);
  for (std::size_t i = 0; i < in.size(); ++i)
    if (in[i] != 1) st[rank - in.size() + i] = ins[i];
  std::vector<std::int64_t> idx(rank, 0);
  std::size_t off = 0;
  for (std::size_t k = 0; k < n; ++k) {
    offs[k] = off;
    for (std::size_t a = rank; a-- > 0;) {  // increment the multi-index
      off += st[a];
      if (++idx[a] < out[a]) break;
      off -= st[a] * static_cast<std::size_t>(out[a]);
      idx[a] = 0;
    }
  }
  return offs;
}

template <class T>
using vec = std::vector<T>;

/// out[k] = in[map[k]], keeping the element type.
inline tensor gather_elements_by(const tensor& in, std::vector<std::int64_t> dims, const std::vector<std::size_t>& map) {
  tensor out;
  out.elem_type = in.elem_type;
  out.dims = std::move(dims);
  out.data = std::visit(
      [&](const auto& v) -> tensor_storage {
        std::decay_t<decltype(v)> o(map.size());
        for (std::size_t k = 0; k < map.size(); ++k) o[k] = v[map[k]];
        return o;
      },
      in.data);
  return out;
}

inline tensor reshaped(const tensor& in, std::vector<std::int64_t> dims) {
  tensor out = in;
  out.dims = std::move(dims);
  return out;
}

inline tensor scalar_int64(std::int64_t v, std::vector<std::int64_t> dims = {}) {
  return make_tensor<std::int64_t>(tp::INT64, std::move(dims), {v});
}

/// Casts every element of `in` to `to`. nullopt for strings or a float that
/// does not fit the integer type (ONNX leaves that undefined).
inline std::optional<tensor> cast_to(const tensor& in, std::int32_t to) {
  if (!is_supported_elem_type(to)) return std::nullopt;
  tensor out = make_tensor(to, in.dims);
  const std::size_t n = in.size();
  const bool from_float = in.is_floating();
  bool ok = true;
  std::visit(
      [&](auto& o) {
        using T = typename std::decay_t<decltype(o)>::value_type;
        for (std::size_t i = 0; i < n && ok; ++i) {
          if (to == tp::FLOAT16 || to == tp::BFLOAT16) {
            float f;
            if (in.elem_type == tp::FLOAT16 && to == tp::FLOAT16) { o[i] = in.values<std::uint16_t>()[i]; continue; }
            if (in.elem_type == tp::BFLOAT16 && to == tp::BFLOAT16) { o[i] = in.values<std::uint16_t>()[i]; continue; }
            if (in.elem_type == tp::DOUBLE && to == tp::FLOAT16) {
              // numpy rounds double -> half directly; going through float can round twice
              const double d = in.values<double>()[i];
              f = static_cast<float>(d);
              const double back = static_cast<double>(f);
              if (back != d && std::isfinite(d)) {
                // nudge f toward d's side so the second rounding breaks ties correctly
                const std::uint32_t b = std::bit_cast<std::uint32_t>(f);
                if ((b & 0x1fffu) == 0x1000u) f = std::nextafter(f, d > back ? INFINITY : -INFINITY);
              }
            } else {
              f = static_cast<float>(in.as_double(i));
            }
            o[i] = to == tp::FLOAT16 ? float_to_half(f) : float_to_bfloat16(f);
          } else if (to == tp::BOOL) {
            o[i] = in.as_double(i) != 0 ? 1 : 0;
          } else if constexpr (std::is_floating_point_v<T>) {
            o[i] = static_cast<T>(in.as_double(i));
          } else if (from_float) {
            const double d = std::trunc(in.as_double(i));
            if (!(d >= static_cast<double>(std::numeric_limits<T>::lowest()) &&
                  d <= static_cast<double>(std::numeric_limits<T>::max())))
              ok = false;
            else
              o[i] = static_cast<T>(d);
          } else {  // integer -> integer: two's complement wrap, as numpy
            std::visit([&](const auto& v) { o[i] = static_cast<T>(v[i]); }, in.data);
          }
        }
      },
      out.data);
  if (!ok) return std::nullopt;
  return out;
}

// ----------------------------------------------------------------- element-wise

enum class binop { add, sub, mul, div };

template <class T>
std::optional<T> apply(binop op, T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;  // wrap around instead of overflowing
    switch (op) {
      case binop::add: return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
      case binop::sub: return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
      case binop::mul: return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
      case binop::div:
        if (b == 0) return std::nullopt;
        if constexpr (std::is_signed_v<T>)
          if (a == std::numeric_limits<T>::min() && b == -1) return std::nullopt;
        return static_cast<T>(a / b);
    }
  } else {
    switch (op) {
      case binop::add: return a + b;
      case binop::sub: return a - b;
      case binop::mul: return a * b;
      case binop::div: return a / b;
    }
  }
  return std::nullopt;
}

inline std::optional<tensor> binary(const ::onnx::NodeProto& n, binop op, const tensor& a, const tensor& b,
                                    std::size_t max_elements) {
  if (a.elem_type != b.elem_type) bad_node(n, "input types differ");
  if (a.elem_type == tp::FLOAT16 || a.elem_type == tp::BFLOAT16 || a.elem_type == tp::BOOL) return std::nullopt;
  return broadcast_binary(n, a, b, max_elements, [op](auto x, auto y) { return apply<decltype(x)>(op, x, y); });
}

// ----------------------------------------------------------------- ops

inline std::vector<std::int64_t> shape_slice(const ::onnx::NodeProto& n, attribute_reader& a,
                                             const std::vector<std::int64_t>& dims, std::int64_t opset) {
  const auto [b, e] = shape_range(n, a, opset, static_cast<std::int64_t>(dims.size()));
  return std::vector<std::int64_t>(dims.begin() + b, dims.begin() + e);
}

inline std::vector<std::int64_t> shape_slice(const ::onnx::NodeProto& n, const std::vector<std::int64_t>& dims,
                                             std::int64_t opset) {
  attribute_reader a(n);
  return shape_slice(n, a, dims, opset);
}

inline tensor eval_gather(const ::onnx::NodeProto& n, std::size_t axis, const tensor& data, const tensor& ind) {
  const auto idx = ind.to_int64();
  const std::int64_t dim = data.dims[axis];
  std::vector<std::int64_t> dims(data.dims.begin(), data.dims.begin() + static_cast<std::ptrdiff_t>(axis));
  dims.insert(dims.end(), ind.dims.begin(), ind.dims.end());
  dims.insert(dims.end(), data.dims.begin() + static_cast<std::ptrdiff_t>(axis) + 1, data.dims.end());
  std::size_t outer = 1, inner = 1;
  for (std::size_t i = 0; i < axis; ++i) outer *= static_cast<std::size_t>(data.dims[i]);
  for (std::size_t i = axis + 1; i < data.rank(); ++i) inner *= static_cast<std::size_t>(data.dims[i]);
  std::vector<std::size_t> map;
  map.reserve(outer * idx.size() * inner);
  for (std::size_t o = 0; o < outer; ++o)
    for (std::int64_t j : idx) {
      if (j < -dim || j >= dim) bad_node(n, "index " + std::to_string(j) + " out of range");
      const auto jj = static_cast<std::size_t>(j < 0 ? j + dim : j);
      for (std::size_t i = 0; i < inner; ++i) map.push_back((o * static_cast<std::size_t>(dim) + jj) * inner + i);
    }
  return gather_elements_by(data, std::move(dims), map);
}

inline tensor eval_concat(const ::onnx::NodeProto& n, attribute_reader& attrs, std::span<const tensor* const> in) {
  if (in.empty() || !in[0]) bad_node(n, "no inputs");
  const tensor& first = *in[0];
  const std::size_t axis = norm_axis(n, attrs.need_int("axis"), first.rank());
  std::vector<std::int64_t> dims = first.dims;
  dims[axis] = 0;
  for (const tensor* t : in) {
    if (!t || t->rank() != first.rank() || t->elem_type != first.elem_type) bad_node(n, "inputs do not match");
    for (std::size_t i = 0; i < dims.size(); ++i)
      if (i != axis && t->dims[i] != first.dims[i]) bad_node(n, "input shapes do not match");
    dims[axis] += t->dims[axis];
  }
  std::size_t outer = 1;
  for (std::size_t i = 0; i < axis; ++i) outer *= static_cast<std::size_t>(dims[i]);
  tensor out = make_tensor(first.elem_type, dims);
  std::visit(
      [&](auto& o) {
        using V = std::decay_t<decltype(o)>;
        std::size_t k = 0;
        for (std::size_t b = 0; b < outer; ++b)
          for (const tensor* t : in) {
            const auto& v = std::get<V>(t->data);
            const std::size_t chunk = outer ? v.size() / outer : 0;
            std::copy_n(v.begin() + static_cast<std::ptrdiff_t>(b * chunk), chunk, o.begin() + static_cast<std::ptrdiff_t>(k));
            k += chunk;
          }
      },
      out.data);
  return out;
}

inline tensor eval_slice(const ::onnx::NodeProto& n, const tensor& data, const slice_args& args) {
  const slice_plan p = resolve_slice(n, args, data.dims);
  const std::size_t r = data.rank();
  const std::size_t total = element_count(p.count);
  const auto strides = strides_of(data.dims);
  std::vector<std::size_t> map;
  map.reserve(total);
  std::vector<std::int64_t> idx(r, 0);
  for (std::size_t k = 0; k < total; ++k) {
    std::size_t off = 0;
    for (std::size_t a = 0; a < r; ++a) off += static_cast<std::size_t>(p.start[a] + idx[a] * p.step[a]) * strides[a];
    map.push_back(off);
    for (std::size_t a = r; a-- > 0;) {
      if (++idx[a] < p.count[a]) break;
      idx[a] = 0;
    }
  }
  return gather_elements_by(data, p.count, map);
}

inline std::optional<tensor> eval_range(const ::onnx::NodeProto& n, const tensor& s, const tensor& l, const tensor& d,
                                        std::size_t max_elements) {
  if (s.size() != 1 || l.size() != 1 || d.size() != 1) bad_node(n, "inputs must be scalars");
  if (s.elem_type != l.elem_type || s.elem_type != d.elem_type) bad_node(n, "input types differ");
  const std::int32_t t = s.elem_type;
  if (t != tp::FLOAT && t != tp::DOUBLE && t != tp::INT16 && t != tp::INT32 && t != tp::INT64) return std::nullopt;
  const double start = s.as_double(0), limit = l.as_double(0), delta = d.as_double(0);
  if (delta == 0) bad_node(n, "delta 0");
  const double count = std::max(std::ceil((limit - start) / delta), 0.0);
  if (!(count <= static_cast<double>(max_elements))) return std::nullopt;
  const auto len = static_cast<std::int64_t>(count);
  tensor out = make_tensor(t, {len});
  std::visit(
      [&](auto& o) {
        using T = typename std::decay_t<decltype(o)>::value_type;
        const T st = s.values<T>()[0], de = d.values<T>()[0];
        T v = st;
        for (std::size_t i = 0; i < o.size(); ++i, v = static_cast<T>(v + de)) o[i] = v;  // as the reference
      },
      out.data);
  return out;
}

inline tensor eval_transpose(const ::onnx::NodeProto& n, attribute_reader& attrs, const tensor& data) {
  const std::size_t r = data.rank();
  std::vector<std::int64_t> perm;
  if (auto p = attrs.find_ints("perm")) perm = *p;
  else for (std::size_t i = r; i-- > 0;) perm.push_back(static_cast<std::int64_t>(i));
  if (perm.size() != r) bad_node(n, "perm has the wrong length");
  std::vector<std::int64_t> dims(r);
  std::vector<char> seen(r, 0);
  for (std::size_t i = 0; i < r; ++i) {
    const std::size_t a = norm_axis(n, perm[i], r);
    if (seen[a]++) bad_node(n, "perm repeats an axis");
    perm[i] = static_cast<std::int64_t>(a);
    dims[i] = data.dims[a];
  }
  const auto in_strides = strides_of(data.dims);
  const std::size_t total = data.size();
  std::vector<std::size_t> map(total);
  std::vector<std::int64_t> idx(r, 0);
  for (std::size_t k = 0; k < total; ++k) {
    std::size_t off = 0;
    for (std::size_t i = 0; i < r; ++i) off += static_cast<std::size_t>(idx[i]) * in_strides[static_cast<std::size_t>(perm[i])];
    map[k] = off;
    for (std::size_t a = r; a-- > 0;) {
      if (++idx[a] < dims[a]) break;
      idx[a] = 0;
    }
  }
  return gather_elements_by(data, std::move(dims), map);
}

inline std::optional<tensor> eval_constant(attribute_reader& a) {
  if (const auto* t = a.find_tensor("value")) {
    if (!is_supported_elem_type(t->data_type())) return std::nullopt;
    return from_proto(*t);
  }
  if (auto v = a.find_float("value_float")) return make_tensor<float>(tp::FLOAT, {}, {static_cast<float>(*v)});
  if (auto v = a.find_int("value_int")) return scalar_int64(*v);
  if (auto v = a.find_floats("value_floats")) {
    const auto len = static_cast<std::int64_t>(v->size());
    return make_tensor<float>(tp::FLOAT, {len}, std::move(*v));
  }
  if (auto v = a.find_ints("value_ints")) {
    const auto len = static_cast<std::int64_t>(v->size());
    return make_tensor<std::int64_t>(tp::INT64, {len}, std::move(*v));
  }
  return std::nullopt;  // sparse_value, strings
}

}  // namespace detail

/// The value of `Shape` (with opset-15 start/end) for an input of shape
/// `dims`; lets a policy fold Shape of a tensor whose value is unknown but
/// whose shape is known statically.
inline tensor shape_value(const ::onnx::NodeProto& node, const std::vector<std::int64_t>& dims, std::int64_t opset) {
  auto s = detail::shape_slice(node, dims, opset);
  const auto len = static_cast<std::int64_t>(s.size());
  return make_tensor<std::int64_t>(::onnx::TensorProto::INT64, {len}, std::move(s));
}

namespace detail {

inline std::optional<std::vector<tensor>> evaluate_node(const ::onnx::NodeProto& node, attribute_reader& attrs,
                                                        std::span<const tensor* const> inputs, std::int64_t opset,
                                                        const eval_options& opts) {
  using out_t = std::optional<std::vector<tensor>>;
  const std::string& op = node.op_type();
  const std::size_t max_el = opts.max_elements;
  auto one = [&](std::optional<tensor> t) -> out_t {
    if (!t || t->size() > max_el) return std::nullopt;
    std::vector<tensor> v;
    v.push_back(std::move(*t));
    return v;
  };
  auto in = [&](std::size_t i) -> const tensor* { return i < inputs.size() ? inputs[i] : nullptr; };
  auto need = [&](std::size_t i) -> const tensor& {
    if (!in(i)) bad_node(node, "input " + std::to_string(i) + " is missing");
    return *in(i);
  };
  const node_inputs known(inputs);
  attrs.ignore("consumed_inputs");  // opset 1: a legacy hint without meaning

  if (op == "Constant") return one(eval_constant(attrs));
  if (op == "Identity") return one(need(0));
  if (op == "Dropout") {
    // inference: output = input; training mode or a requested mask: not folded
    if (!read_dropout(node, attrs, opset, known).is_identity()) return std::nullopt;
    return one(need(0));
  }
  if (op == "Shape") {
    const auto& x = need(0);
    auto s = shape_slice(node, attrs, x.dims, opset);
    const auto len = static_cast<std::int64_t>(s.size());
    return one(make_tensor<std::int64_t>(tp::INT64, {len}, std::move(s)));
  }
  if (op == "Size") return one(scalar_int64(static_cast<std::int64_t>(need(0).size())));
  if (op == "Gather") {
    const auto& d = need(0);
    if (d.rank() == 0) bad_node(node, "data must have rank >= 1");
    const std::size_t axis = norm_axis(node, attrs.get_int("axis", 0), d.rank());
    std::size_t out = need(1).size();
    for (std::size_t i = 0; i < d.rank(); ++i)
      if (i != axis) out *= static_cast<std::size_t>(d.dims[i]);
    if (out > max_el) return std::nullopt;
    return one(eval_gather(node, axis, d, need(1)));
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    const tensor& data = need(0);
    const ints_arg axes = read_squeeze_axes(node, attrs, opset, known);
    if (op == "Unsqueeze") return one(reshaped(data, unsqueeze_dims(node, data.dims, *axes.value)));
    return one(reshaped(data, squeeze_dims(node, data.dims, axes.given() ? &*axes.value : nullptr)));
  }
  if (op == "Concat") return one(eval_concat(node, attrs, inputs));
  if (op == "Slice") {
    const tensor& data = need(0);
    return one(eval_slice(node, data, read_slice(node, attrs, opset, known)));
  }
  if (op == "Reshape") {
    if (opset < 5) return std::nullopt;  // shape as an attribute: PyTorch never emits it
    const tensor& data = need(0);
    const reshape_args r = read_reshape(node, attrs, opset, known);
    return one(reshaped(data, reshape_dims(node, data.dims, *r.shape.value, r.allowzero)));
  }
  if (op == "Flatten") {
    const tensor& d = need(0);
    const std::int64_t axis = read_flatten_axis(node, attrs, static_cast<std::int64_t>(d.rank()));
    return one(reshaped(d, flatten_dims(d.dims, axis)));
  }
  if (op == "Expand") {
    const tensor& d = need(0);
    const auto shape = need(1).to_int64();
    const std::vector<std::int64_t>* shapes[] = {&d.dims, &shape};
    auto dims = broadcast_shape(node, shapes);
    if (element_count(dims) > max_el) return std::nullopt;
    return one(gather_elements_by(d, dims, broadcast_offsets(d.dims, dims)));
  }
  if (op == "Transpose") return one(eval_transpose(node, attrs, need(0)));
  if (op == "Cast") {
    const cast_args c = read_cast(node, attrs, opset);
    return one(cast_to(need(0), c.to));
  }
  if (op == "CastLike") {
    const cast_args c = read_cast_like(attrs, need(1).elem_type);
    return one(cast_to(need(0), c.to));
  }
  if (op == "ConstantOfShape") {
    const auto shape = need(0).to_int64();
    for (std::int64_t d : shape)
      if (d < 0) bad_node(node, "negative dimension");
    if (element_count(shape) > max_el) return std::nullopt;
    tensor fill = make_tensor<float>(tp::FLOAT, {1}, {0.0f});
    if (const auto* t = attrs.find_tensor("value")) {
      if (!is_supported_elem_type(t->data_type())) return std::nullopt;
      fill = from_proto(*t);
      if (fill.size() != 1) bad_node(node, "value must have one element");
    }
    return one(gather_elements_by(fill, shape, std::vector<std::size_t>(element_count(shape), 0)));
  }
  if (op == "Range") return one(eval_range(node, need(0), need(1), need(2), max_el));
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    if (opset < 7) {
      if (attrs.has("broadcast")) return std::nullopt;  // legacy limited broadcasting
      attrs.ignore("axis");                            // only meaningful with broadcast
    }
    const binop b = op == "Add" ? binop::add : op == "Sub" ? binop::sub : op == "Mul" ? binop::mul : binop::div;
    return one(binary(node, b, need(0), need(1), max_el));
  }
  if (op == "Neg") {
    const tensor& x = need(0);
    if (x.elem_type == tp::FLOAT16 || x.elem_type == tp::BFLOAT16 || x.elem_type == tp::BOOL) return std::nullopt;
    const tensor z = make_tensor(x.elem_type, {});  // scalar 0
    return one(binary(node, binop::sub, z, x, max_el));
  }
  if (op == "Equal" || op == "Less" || op == "Greater" || op == "LessOrEqual" || op == "GreaterOrEqual") {
    const compare_op c = op == "Equal" ? compare_op::eq : op == "Less" ? compare_op::lt : op == "Greater" ? compare_op::gt
                         : op == "LessOrEqual" ? compare_op::le : compare_op::ge;
    return one(eval_compare(node, c, need(0), need(1), max_el));
  }
  if (op == "Not") return one(eval_logic(node, logic_op::not_, need(0), nullptr, max_el));
  if (op == "And" || op == "Or" || op == "Xor") {
    const logic_op l = op == "And" ? logic_op::and_ : op == "Or" ? logic_op::or_ : logic_op::xor_;
    return one(eval_logic(node, l, need(0), &need(1), max_el));
  }
  if (op == "Min" || op == "Max" || op == "Sum" || op == "Mean") {
    const variadic_op v = op == "Min" ? variadic_op::min : op == "Max" ? variadic_op::max
                          : op == "Sum" ? variadic_op::sum : variadic_op::mean;
    if (opset < 8) {  // no broadcasting before opset 8: the shapes must agree
      for (const tensor* t : inputs)
        if (!t || t->dims != need(0).dims) return std::nullopt;
    }
    return one(eval_variadic(node, v, inputs, max_el));
  }
  if (op == "Floor" || op == "Ceil" || op == "Round" || op == "Sqrt" || op == "Reciprocal" || op == "Abs") {
    const unary_op u = op == "Floor" ? unary_op::floor : op == "Ceil" ? unary_op::ceil : op == "Round" ? unary_op::round
                       : op == "Sqrt" ? unary_op::sqrt : op == "Reciprocal" ? unary_op::reciprocal : unary_op::abs;
    return one(eval_unary(node, u, need(0)));
  }
  if (op == "Pow") {
    if (opset < 7) return std::nullopt;  // legacy broadcast attribute
    return one(eval_pow(node, need(0), need(1), max_el));
  }
  if (op == "ReduceSum" || op == "ReduceProd" || op == "ReduceMin" || op == "ReduceMax" || op == "ReduceMean") {
    const reduce_op r = op == "ReduceSum" ? reduce_op::sum : op == "ReduceProd" ? reduce_op::prod
                        : op == "ReduceMin" ? reduce_op::min : op == "ReduceMax" ? reduce_op::max : reduce_op::mean;
    const tensor& x = need(0);
    return one(eval_reduce(node, r, x, read_reduce(node, attrs, opset, known)));
  }
  // ---- element-wise math, activations, Clip, Mod, BitShift (evaluate_unary.hpp); ArgMax/ArgMin and the
  // remaining reductions (evaluate_math.hpp)
  if (op == "ArgMax" || op == "ArgMin") {
    const std::int64_t axis = attrs.get_int("axis", 0);
    const bool keepdims = attrs.get_int("keepdims", 1) != 0;
    const bool last = attrs.get_int("select_last_index", 0) != 0;
    return one(eval_arg_extreme(node, op == "ArgMax", need(0), axis, keepdims, last));
  }
  if (op == "ReduceL1" || op == "ReduceL2" || op == "ReduceSumSquare" || op == "ReduceLogSum" ||
      op == "ReduceLogSumExp") {
    const reduce_op r = op == "ReduceL1" ? reduce_op::l1 : op == "ReduceL2" ? reduce_op::l2
                        : op == "ReduceSumSquare" ? reduce_op::sum_square : op == "ReduceLogSum" ? reduce_op::log_sum
                        : reduce_op::log_sum_exp;
    const tensor& x = need(0);
    return one(eval_reduce(node, r, x, read_reduce(node, attrs, opset, known)));
  }
  if (const auto fn = math_fn_of(op)) {
    const tensor& x = need(0);
    return one(eval_math(node, read_math_args(*fn, attrs), x));
  }
  if (op == "IsNaN") return one(eval_is_special(true, false, false, need(0)));
  if (op == "IsInf") {
    const tensor& x = need(0);
    const bool neg = attrs.get_int("detect_negative", 1) != 0, pos = attrs.get_int("detect_positive", 1) != 0;
    return one(eval_is_special(false, neg, pos, x));
  }
  if (op == "Clip") {
    const tensor& x = need(0);
    return one(eval_clip(x, read_clip(node, attrs, opset, known)));
  }
  if (op == "PRelu") {
    if (opset < 7) return std::nullopt;  // legacy: no general broadcasting
    return one(eval_prelu(node, need(0), need(1), max_el));
  }
  if (op == "Mod") return one(eval_mod(node, attrs.get_int("fmod", 0) != 0, need(0), need(1), max_el));
  if (op == "BitShift") {
    const tensor &a = need(0), &b = need(1);
    const auto dir = attrs.find_string("direction");
    if (!dir) bad_node(node, "attribute 'direction' is missing");
    return one(eval_bit_shift(node, *dir, a, b, max_el));
  }
  if (op == "Split") {
    const tensor& x = need(0);
    auto parts = eval_split(node, x, read_split(node, attrs, opset, known), static_cast<std::size_t>(node.output_size()),
                            opset);
    if (!parts) return std::nullopt;
    for (const auto& t : *parts)
      if (t.size() > max_el) return std::nullopt;
    return parts;
  }
  if (op == "Tile") {
    if (opset < 6) return std::nullopt;  // tiles/axis inputs
    return one(eval_tile(node, need(0), need(1), max_el));
  }
  if (op == "Where") {
    const tensor &c = need(0), &x = need(1), &y = need(2);
    if (c.elem_type != tp::BOOL || x.elem_type != y.elem_type) bad_node(node, "input types do not fit");
    const std::vector<std::int64_t>* shapes[] = {&c.dims, &x.dims, &y.dims};
    auto dims = broadcast_shape(node, shapes);
    if (element_count(dims) > max_el) return std::nullopt;
    const auto oc = broadcast_offsets(c.dims, dims), ox = broadcast_offsets(x.dims, dims),
               oy = broadcast_offsets(y.dims, dims);
    tensor out = make_tensor(x.elem_type, dims);
    const auto& vc = c.values<std::uint8_t>();
    std::visit(
        [&](auto& o) {
          using V = std::decay_t<decltype(o)>;
          const auto &vx = std::get<V>(x.data), &vy = std::get<V>(y.data);
          for (std::size_t k = 0; k < o.size(); ++k) o[k] = vc[oc[k]] ? vx[ox[k]] : vy[oy[k]];
        },
        out.data);
    return one(std::move(out));
  }
  // indexing, data movement, losses, normalisation, Resize (evaluate_tensor.hpp, evaluate_nn.hpp),
  // LSTM / GRU / RNN (evaluate_rnn.hpp)
  auto many = [&](std::optional<std::vector<tensor>> v) -> out_t {
    if (!v) return std::nullopt;
    for (const auto& t : *v)
      if (t.size() > max_el) return std::nullopt;
    return v;
  };
  if (op == "GatherElements") return one(eval_gather_elements(node, attrs, need(0), need(1)));
  if (op == "GatherND") return one(eval_gather_nd(node, attrs, need(0), need(1)));
  if (op == "Scatter" || op == "ScatterElements")
    return one(eval_scatter_elements(node, attrs, need(0), need(1), need(2)));
  if (op == "ScatterND") return one(eval_scatter_nd(node, attrs, need(0), need(1), need(2)));
  if (op == "Trilu") return one(eval_trilu(node, attrs, need(0), in(1)));
  if (op == "CumSum") return one(eval_cumsum(node, attrs, need(0), need(1)));
  if (op == "Hardmax") return one(eval_hardmax(node, attrs, need(0), opset));
  if (op == "TopK") return many(eval_topk(node, attrs, need(0), opset, known));
  if (op == "ReverseSequence") return one(eval_reverse_sequence(node, attrs, need(0), need(1)));
  if (op == "DepthToSpace") return one(eval_depth_to_space(node, attrs, need(0)));
  if (op == "SpaceToDepth") return one(eval_space_to_depth(node, attrs, need(0)));
  if (op == "OneHot") return one(eval_one_hot(node, attrs, need(0), need(1), need(2), max_el));
  if (op == "EyeLike") return one(eval_eye_like(node, attrs, need(0)));
  if (op == "Pad") return one(eval_pad(node, attrs, need(0), opset, known, max_el));
  if (op == "NegativeLogLikelihoodLoss") return one(eval_nll_loss(node, attrs, need(0), need(1), in(2)));
  if (op == "SoftmaxCrossEntropyLoss") return many(eval_softmax_cross_entropy(node, attrs, need(0), need(1), in(2)));
  if (op == "LayerNormalization") return many(eval_layer_norm(node, attrs, need(0), need(1), in(2)));
  if (op == "Einsum") return one(eval_einsum(node, attrs, inputs, max_el));
  if (op == "Resize" || op == "Upsample") return one(eval_resize(node, attrs, need(0), inputs, opset, max_el));
  if (op == "LSTM") return many(eval_recurrent(node, attrs, rnn_kind::lstm, inputs, opset));
  if (op == "GRU") return many(eval_recurrent(node, attrs, rnn_kind::gru, inputs, opset));
  if (op == "RNN") return many(eval_recurrent(node, attrs, rnn_kind::rnn, inputs, opset));
  return std::nullopt;
}

}  // namespace detail

/// Evaluates `node` (standard domain, operator set `opset`) on `inputs`, one
/// pointer per node input, nullptr for an omitted optional input. Returns one
/// tensor per node output (optional outputs such as Dropout's mask are not
/// produced: the vector is shorter), or nullopt when the node is not
/// supported (op, element type, attribute combination, or an attribute the
/// evaluator does not read) or an output would exceed `opts.max_elements`.
/// Throws graph_error when the node is invalid (axis out of range, shapes
/// that do not fit, a wrongly typed attribute).
inline std::optional<std::vector<tensor>> evaluate(const ::onnx::NodeProto& node, std::span<const tensor* const> inputs,
                                                   std::int64_t opset, const eval_options& opts = {}) {
  if (!can_evaluate(node.op_type(), node.domain())) return std::nullopt;
  attribute_reader attrs(node);
  std::optional<std::vector<tensor>> out;
  try {
    out = detail::evaluate_node(node, attrs, inputs, opset, opts);
  } catch (const argument_error& e) {
    detail::bad_node(node, e.why);
  }
  if (out && !attrs.all_read()) return std::nullopt;  // an attribute we do not understand
  return out;
}

}  // namespace dfgpar::onnx
