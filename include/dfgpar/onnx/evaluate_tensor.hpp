#pragma once
/// \file evaluate_tensor.hpp
/// The indexing and data-movement rules of the folding evaluator
/// (evaluate.hpp dispatches to them): GatherElements, GatherND, Scatter /
/// ScatterElements / ScatterND, Trilu, CumSum, Hardmax, TopK, DepthToSpace,
/// SpaceToDepth, OneHot, EyeLike, Pad and ReverseSequence. They are the one
/// reference implementation of these operators: constant folding computes
/// with them, and the native runtime (onednn/) runs every node without a
/// oneDNN kernel on them. Data movement keeps any element type (16-bit floats
/// as their bit patterns); arithmetic (CumSum, TopK, Hardmax, Scatter
/// reductions) is in the element type, 16-bit floats declined. Not a user
/// entry point: `evaluate()` is.

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/args/common.hpp>
#include <dfgpar/onnx/args/pad.hpp>
#include <dfgpar/onnx/args/topk.hpp>
#include <dfgpar/onnx/attributes.hpp>
#include <dfgpar/onnx/tensor.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace dfgpar::onnx::detail {

// Defined in evaluate.hpp / evaluate_math.hpp (evaluate.hpp includes this header after them).
[[noreturn]] inline void bad_node(const ::onnx::NodeProto& n, const std::string& why);
inline std::vector<std::size_t> strides_of(const std::vector<std::int64_t>& dims);
inline tensor gather_elements_by(const tensor& in, std::vector<std::int64_t> dims, const std::vector<std::size_t>& map);
inline std::optional<tensor> cast_to(const tensor& in, std::int32_t to);
inline bool is_arithmetic_type(std::int32_t t) noexcept;

/// Calls f(idx, k) for every multi-index of `dims` in row-major order (k: the linear index).
template <class F>
void for_each_index(const std::vector<std::int64_t>& dims, F&& f) {
  const std::size_t total = element_count(dims), r = dims.size();
  std::vector<std::int64_t> idx(r, 0);
  for (std::size_t k = 0; k < total; ++k) {
    f(static_cast<const std::vector<std::int64_t>&>(idx), k);
    for (std::size_t a = r; a-- > 0;) {
      if (++idx[a] < dims[a]) break;
      idx[a] = 0;
    }
  }
}

/// An index into an axis of length `dim`, negative counting from the end.
inline std::size_t index_in(const ::onnx::NodeProto& n, std::int64_t i, std::int64_t dim) {
  if (i < -dim || i >= dim) bad_node(n, "index " + std::to_string(i) + " out of range [" + std::to_string(-dim) + ", " +
                                            std::to_string(dim) + ")");
  return static_cast<std::size_t>(i < 0 ? i + dim : i);
}

inline std::size_t axis_in(const ::onnx::NodeProto& n, std::int64_t axis, std::size_t rank) {
  return static_cast<std::size_t>(normalize_axis(n, axis, static_cast<std::int64_t>(rank)));
}

/// Integer or bool indices (GatherElements, OneHot, ...): as int64.
inline std::vector<std::int64_t> indices_of(const ::onnx::NodeProto& n, const tensor& t) {
  if (t.is_floating()) bad_node(n, "indices must be integers");
  return t.to_int64();
}

// ----------------------------------------------------------------- gather / scatter

/// GatherElements / ScatterElements: the offset into `data` of each element
/// of `ind` (same rank), whose value replaces its coordinate on `axis`.
inline std::vector<std::size_t> element_offsets(const ::onnx::NodeProto& n, const tensor& data, const tensor& ind,
                                                std::size_t axis) {
  const std::size_t r = data.rank();
  const auto idx = indices_of(n, ind);
  const auto st = strides_of(data.dims);
  std::vector<std::size_t> offs(idx.size());
  for_each_index(ind.dims, [&](const std::vector<std::int64_t>& i, std::size_t k) {
    std::size_t off = 0;
    for (std::size_t d = 0; d < r; ++d) {
      if (d == axis) off += index_in(n, idx[k], data.dims[d]) * st[d];
      else if (i[d] >= data.dims[d]) bad_node(n, "indices are larger than data outside the axis");
      else off += static_cast<std::size_t>(i[d]) * st[d];
    }
    offs[k] = off;
  });
  return offs;
}

inline tensor eval_gather_elements(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& data,
                                   const tensor& ind) {
  const std::size_t r = data.rank();
  if (r == 0 || ind.rank() != r) bad_node(n, "data and indices must have the same rank >= 1");
  const std::size_t axis = axis_in(n, a.get_int("axis", 0), r);
  const auto map = element_offsets(n, data, ind, axis);
  return gather_elements_by(data, ind.dims, map);
}

enum class scatter_reduction { none, add, mul, max, min };

inline scatter_reduction read_scatter_reduction(const ::onnx::NodeProto& n, attribute_reader& a) {
  const std::string r = a.get_string("reduction", "none");
  if (r == "none") return scatter_reduction::none;
  if (r == "add") return scatter_reduction::add;
  if (r == "mul") return scatter_reduction::mul;
  if (r == "max") return scatter_reduction::max;
  if (r == "min") return scatter_reduction::min;
  bad_node(n, "unknown reduction '" + r + "'");
}

/// out = data; out[targets[k]] (op)= updates[k] in order. nullopt: a reduction
/// on a type it does not compute in.
inline std::optional<tensor> scatter_into(const ::onnx::NodeProto& n, const tensor& data, const tensor& upd,
                                          const std::vector<std::size_t>& targets, std::size_t per_target,
                                          scatter_reduction red) {
  if (upd.elem_type != data.elem_type) bad_node(n, "data and updates types differ");
  if (red != scatter_reduction::none && !is_arithmetic_type(data.elem_type)) return std::nullopt;
  tensor out = data;
  std::visit(
      [&](auto& o) {
        using V = std::decay_t<decltype(o)>;
        using T = typename V::value_type;
        const auto& u = std::get<V>(upd.data);
        for (std::size_t k = 0; k < targets.size(); ++k)
          for (std::size_t j = 0; j < per_target; ++j) {
            T& dst = o[targets[k] + j];
            const T src = u[k * per_target + j];
            switch (red) {
              case scatter_reduction::none: dst = src; break;
              case scatter_reduction::add: dst = static_cast<T>(dst + src); break;
              case scatter_reduction::mul: dst = static_cast<T>(dst * src); break;
              case scatter_reduction::max: dst = std::max(dst, src); break;
              case scatter_reduction::min: dst = std::min(dst, src); break;
            }
          }
      },
      out.data);
  return out;
}

/// Scatter (opset 9-10) and ScatterElements.
inline std::optional<tensor> eval_scatter_elements(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& data,
                                                   const tensor& ind, const tensor& upd) {
  const std::size_t r = data.rank();
  if (r == 0 || ind.rank() != r || upd.dims != ind.dims) bad_node(n, "data, indices and updates do not fit");
  const std::size_t axis = axis_in(n, a.get_int("axis", 0), r);
  const scatter_reduction red = n.op_type() == "ScatterElements" ? read_scatter_reduction(n, a) : scatter_reduction::none;
  const auto targets = element_offsets(n, data, ind, axis);
  return scatter_into(n, data, upd, targets, 1, red);
}

/// The offsets into `data` that the index tuples (last axis of `ind`, length
/// q) select, each the start of a block of data.dims[q:] elements.
inline std::vector<std::size_t> nd_offsets(const ::onnx::NodeProto& n, const tensor& data, const tensor& ind,
                                           std::size_t first_axis, std::size_t q, std::size_t tuples) {
  const auto idx = indices_of(n, ind);
  const auto st = strides_of(data.dims);
  std::vector<std::size_t> offs(tuples);
  for (std::size_t t = 0; t < tuples; ++t) {
    std::size_t off = 0;
    for (std::size_t j = 0; j < q; ++j)
      off += index_in(n, idx[t * q + j], data.dims[first_axis + j]) * st[first_axis + j];
    offs[t] = off;
  }
  return offs;
}

inline std::optional<tensor> eval_scatter_nd(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& data,
                                             const tensor& ind, const tensor& upd) {
  const scatter_reduction red = read_scatter_reduction(n, a);
  if (ind.rank() == 0) bad_node(n, "indices must have rank >= 1");
  const auto q = static_cast<std::size_t>(ind.dims.back());
  if (q > data.rank()) bad_node(n, "index tuples longer than the rank of data");
  std::vector<std::int64_t> want(ind.dims.begin(), ind.dims.end() - 1);
  want.insert(want.end(), data.dims.begin() + static_cast<std::ptrdiff_t>(q), data.dims.end());
  if (upd.dims != want) bad_node(n, "updates have the wrong shape");
  const std::size_t tuples = q ? ind.size() / q : element_count(std::vector<std::int64_t>(ind.dims.begin(), ind.dims.end() - 1));
  std::size_t block = 1;
  for (std::size_t d = q; d < data.rank(); ++d) block *= static_cast<std::size_t>(data.dims[d]);
  return scatter_into(n, data, upd, nd_offsets(n, data, ind, 0, q, tuples), block, red);
}

inline tensor eval_gather_nd(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& data, const tensor& ind) {
  const auto b = static_cast<std::size_t>(a.get_int("batch_dims", 0));
  if (ind.rank() == 0 || data.rank() == 0) bad_node(n, "data and indices must have rank >= 1");
  if (b >= ind.rank() || b >= data.rank()) bad_node(n, "batch_dims must be less than both ranks");
  for (std::size_t d = 0; d < b; ++d)
    if (data.dims[d] != ind.dims[d]) bad_node(n, "batch dimensions differ");
  const auto q = static_cast<std::size_t>(ind.dims.back());
  if (b + q > data.rank()) bad_node(n, "index tuples longer than the rank of data");
  std::vector<std::int64_t> dims(ind.dims.begin(), ind.dims.end() - 1);
  dims.insert(dims.end(), data.dims.begin() + static_cast<std::ptrdiff_t>(b + q), data.dims.end());
  std::size_t batches = 1, block = 1;
  for (std::size_t d = 0; d < b; ++d) batches *= static_cast<std::size_t>(data.dims[d]);
  for (std::size_t d = b + q; d < data.rank(); ++d) block *= static_cast<std::size_t>(data.dims[d]);
  const std::size_t tuples = element_count(std::vector<std::int64_t>(ind.dims.begin(), ind.dims.end() - 1));
  const std::size_t per_batch = batches ? tuples / batches : 0;
  const std::size_t batch_stride = batches ? data.size() / batches : 0;
  const auto offs = nd_offsets(n, data, ind, b, q, tuples);  // within one batch: strides of data.dims from axis b
  std::vector<std::size_t> map;
  map.reserve(tuples * block);
  for (std::size_t t = 0; t < tuples; ++t) {
    const std::size_t base = (per_batch ? t / per_batch : 0) * batch_stride + offs[t];
    for (std::size_t j = 0; j < block; ++j) map.push_back(base + j);
  }
  return gather_elements_by(data, std::move(dims), map);
}

// ----------------------------------------------------------------- shape-preserving rules

inline tensor eval_trilu(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& x, const tensor* k_in) {
  if (x.rank() < 2) bad_node(n, "input must have rank >= 2");
  const bool upper = a.get_int("upper", 1) != 0;
  std::int64_t k = 0;
  if (k_in) {
    const auto v = indices_of(n, *k_in);
    if (v.size() != 1) bad_node(n, "k must have one element");
    k = v[0];
  }
  const std::int64_t rows = x.dims[x.rank() - 2], cols = x.dims.back();
  tensor out = make_tensor(x.elem_type, x.dims);  // zeros (also +0 for 16-bit floats)
  std::visit(
      [&](auto& o) {
        using V = std::decay_t<decltype(o)>;
        const auto& v = std::get<V>(x.data);
        for (std::size_t e = 0; e < o.size(); ++e) {
          const auto within = static_cast<std::int64_t>(e % static_cast<std::size_t>(rows * cols));
          const std::int64_t i = within / cols, j = within % cols;
          if (upper ? j - i >= k : j - i <= k) o[e] = v[e];
        }
      },
      out.data);
  return out;
}

inline std::optional<tensor> eval_cumsum(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& x,
                                         const tensor& axis_t) {
  if (!is_arithmetic_type(x.elem_type)) return std::nullopt;
  const auto av = indices_of(n, axis_t);
  if (av.size() != 1) bad_node(n, "axis must have one element");
  if (x.rank() == 0) bad_node(n, "input must have rank >= 1");
  const std::size_t axis = axis_in(n, av[0], x.rank());
  const bool exclusive = a.get_int("exclusive", 0) != 0, reverse = a.get_int("reverse", 0) != 0;
  const auto len = static_cast<std::size_t>(x.dims[axis]);
  const std::size_t inner = strides_of(x.dims)[axis];
  const std::size_t outer = len * inner != 0 ? x.size() / (len * inner) : 0;
  tensor out = make_tensor(x.elem_type, x.dims);
  std::visit(
      [&](auto& o) {
        using V = std::decay_t<decltype(o)>;
        using T = typename V::value_type;
        const auto& v = std::get<V>(x.data);
        for (std::size_t b = 0; b < outer; ++b)
          for (std::size_t i = 0; i < inner; ++i) {
            T acc{};
            for (std::size_t s = 0; s < len; ++s) {
              const std::size_t j = reverse ? len - 1 - s : s;
              const std::size_t e = (b * len + j) * inner + i;
              if (exclusive) { o[e] = acc; acc = static_cast<T>(acc + v[e]); }
              else { acc = static_cast<T>(acc + v[e]); o[e] = acc; }
            }
          }
      },
      out.data);
  return out;
}

/// Hardmax: 1 at the first maximum along the axis (before opset 13: of the
/// input coerced to 2-D at the axis), 0 elsewhere.
inline std::optional<tensor> eval_hardmax(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& x,
                                          std::int64_t opset) {
  if (!is_arithmetic_type(x.elem_type)) return std::nullopt;
  const std::size_t r = x.rank();
  if (r == 0) bad_node(n, "input must have rank >= 1");
  const std::size_t axis = axis_in(n, a.get_int("axis", opset < 13 ? 1 : -1), r);
  std::size_t len, inner;
  if (opset < 13) {
    len = 1;
    for (std::size_t d = axis; d < r; ++d) len *= static_cast<std::size_t>(x.dims[d]);
    inner = 1;
  } else {
    len = static_cast<std::size_t>(x.dims[axis]);
    inner = strides_of(x.dims)[axis];
  }
  const std::size_t outer = len * inner != 0 ? x.size() / (len * inner) : 0;
  tensor out = make_tensor(x.elem_type, x.dims);
  std::visit(
      [&](auto& o) {
        using V = std::decay_t<decltype(o)>;
        const auto& v = std::get<V>(x.data);
        for (std::size_t b = 0; b < outer; ++b)
          for (std::size_t i = 0; i < inner; ++i) {
            std::size_t best = b * len * inner + i;
            for (std::size_t s = 1; s < len; ++s) {
              const std::size_t e = (b * len + s) * inner + i;
              if (v[e] > v[best]) best = e;
            }
            if (len) o[best] = 1;
          }
      },
      out.data);
  return out;
}

/// TopK: the k largest (or smallest) along the axis, ties by the lower index;
/// values and int64 indices, sorted.
inline std::optional<std::vector<tensor>> eval_topk(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& x,
                                                    std::int64_t opset, const node_inputs& known) {
  const topk_args t = read_topk(n, a, opset, known);
  if (!is_arithmetic_type(x.elem_type)) return std::nullopt;
  if (x.rank() == 0) bad_node(n, "input must have rank >= 1");
  const std::size_t axis = axis_in(n, t.axis, x.rank());
  const std::int64_t k = *t.k.value;
  if (k < 0 || k > x.dims[axis]) bad_node(n, "k " + std::to_string(k) + " out of range");
  const auto len = static_cast<std::size_t>(x.dims[axis]);
  const std::size_t inner = strides_of(x.dims)[axis];
  const std::size_t outer = len * inner != 0 ? x.size() / (len * inner) : 0;
  auto dims = x.dims;
  dims[axis] = k;
  tensor vals = make_tensor(x.elem_type, dims), idx = make_tensor(::onnx::TensorProto::INT64, dims);
  auto& iv = idx.values<std::int64_t>();
  const auto kk = static_cast<std::size_t>(k);
  std::visit(
      [&](auto& o) {
        using V = std::decay_t<decltype(o)>;
        const auto& v = std::get<V>(x.data);
        std::vector<std::size_t> order(len);
        for (std::size_t b = 0; b < outer; ++b)
          for (std::size_t i = 0; i < inner; ++i) {
            auto at = [&](std::size_t s) { return v[(b * len + s) * inner + i]; };
            std::iota(order.begin(), order.end(), std::size_t{0});
            std::stable_sort(order.begin(), order.end(), [&](std::size_t p, std::size_t q) {
              return t.largest ? at(p) > at(q) : at(p) < at(q);
            });
            for (std::size_t s = 0; s < kk; ++s) {
              const std::size_t e = (b * kk + s) * inner + i;
              o[e] = at(order[s]);
              iv[e] = static_cast<std::int64_t>(order[s]);
            }
          }
      },
      vals.data);
  std::vector<tensor> out;
  out.push_back(std::move(vals));
  out.push_back(std::move(idx));
  return out;
}

inline tensor eval_reverse_sequence(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& x,
                                    const tensor& lens_t) {
  if (x.rank() < 2) bad_node(n, "input must have rank >= 2");
  const std::size_t ba = axis_in(n, a.get_int("batch_axis", 1), x.rank());
  const std::size_t ta = axis_in(n, a.get_int("time_axis", 0), x.rank());
  if (ba == ta) bad_node(n, "batch_axis and time_axis are the same");
  const auto lens = indices_of(n, lens_t);
  if (lens.size() != static_cast<std::size_t>(x.dims[ba])) bad_node(n, "sequence_lens has the wrong length");
  for (auto l : lens)
    if (l < 0 || l > x.dims[ta]) bad_node(n, "sequence length out of range");
  const auto st = strides_of(x.dims);
  std::vector<std::size_t> map(x.size());
  for_each_index(x.dims, [&](const std::vector<std::int64_t>& i, std::size_t k) {
    const std::int64_t l = lens[static_cast<std::size_t>(i[ba])], t = i[ta];
    const std::int64_t src = t < l ? l - 1 - t : t;
    map[k] = k + static_cast<std::size_t>(src - t) * st[ta];  // unsigned wrap cancels
  });
  return gather_elements_by(x, x.dims, map);
}

// ----------------------------------------------------------------- layout rules

inline tensor eval_depth_to_space(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& x) {
  if (x.rank() != 4) bad_node(n, "input must have rank 4");
  const std::int64_t b = a.need_int("blocksize");
  const std::string mode = a.get_string("mode", "DCR");
  if (mode != "DCR" && mode != "CRD") bad_node(n, "unknown mode '" + mode + "'");
  const std::int64_t N = x.dims[0], C = x.dims[1], H = x.dims[2], W = x.dims[3];
  if (b <= 0 || C % (b * b)) bad_node(n, "channels are not a multiple of blocksize^2");
  const std::int64_t c2 = C / (b * b);
  const std::vector<std::int64_t> dims{N, c2, H * b, W * b};
  std::vector<std::size_t> map(x.size());
  for_each_index(dims, [&](const std::vector<std::int64_t>& i, std::size_t k) {
    const std::int64_t h = i[2] / b, bh = i[2] % b, w = i[3] / b, bw = i[3] % b;
    const std::int64_t c = mode == "DCR" ? (bh * b + bw) * c2 + i[1] : (i[1] * b + bh) * b + bw;
    map[k] = static_cast<std::size_t>(((i[0] * C + c) * H + h) * W + w);
  });
  return gather_elements_by(x, dims, map);
}

inline tensor eval_space_to_depth(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& x) {
  if (x.rank() != 4) bad_node(n, "input must have rank 4");
  const std::int64_t b = a.need_int("blocksize");
  const std::int64_t N = x.dims[0], C = x.dims[1], H = x.dims[2], W = x.dims[3];
  if (b <= 0 || H % b || W % b) bad_node(n, "height and width are not multiples of blocksize");
  const std::vector<std::int64_t> dims{N, C * b * b, H / b, W / b};
  std::vector<std::size_t> map(x.size());
  for_each_index(dims, [&](const std::vector<std::int64_t>& i, std::size_t k) {
    // output channel = (bh * b + bw) * C + c (as the reference's transpose 0,3,5,1,2,4)
    const std::int64_t c = i[1] % C, bw = (i[1] / C) % b, bh = i[1] / (C * b);
    map[k] = static_cast<std::size_t>(((i[0] * C + c) * H + i[2] * b + bh) * W + i[3] * b + bw);
  });
  return gather_elements_by(x, dims, map);
}

// ----------------------------------------------------------------- constructing rules

/// A one-element tensor of type `t` holding `v` (16-bit floats encoded).
inline std::optional<tensor> scalar_of_type(double v, std::int32_t t) {
  return cast_to(make_tensor<double>(::onnx::TensorProto::DOUBLE, {}, {v}), t);
}

inline std::optional<tensor> eval_one_hot(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& ind,
                                          const tensor& depth_t, const tensor& values, std::size_t max_el) {
  if (depth_t.size() != 1) bad_node(n, "depth must have one element");
  if (values.size() != 2) bad_node(n, "values must have two elements");
  const double dd = depth_t.as_double(0);
  if (!(dd >= 1)) bad_node(n, "depth must be positive");
  const auto depth = static_cast<std::int64_t>(dd);
  const std::int64_t r = static_cast<std::int64_t>(ind.rank());
  std::int64_t axis = a.get_int("axis", -1);
  if (axis < -r - 1 || axis > r) bad_node(n, "axis out of range");
  if (axis < 0) axis += r + 1;
  auto dims = ind.dims;
  dims.insert(dims.begin() + axis, depth);
  if (element_count(dims) > max_el) return std::nullopt;
  // map into values: 0 = off, 1 = on
  std::vector<std::size_t> map(element_count(dims), 0);
  const std::size_t inner = strides_of(dims)[static_cast<std::size_t>(axis)];
  const auto d = static_cast<std::size_t>(depth);
  for (std::size_t e = 0; e < ind.size(); ++e) {
    auto i = static_cast<std::int64_t>(std::trunc(ind.as_double(e)));
    if (i < 0) i += depth;
    if (i < 0 || i >= depth) continue;
    const std::size_t o = e / inner, in = e % inner;
    map[(o * d + static_cast<std::size_t>(i)) * inner + in] = 1;
  }
  return gather_elements_by(values, std::move(dims), map);
}

inline std::optional<tensor> eval_eye_like(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& x) {
  if (x.rank() != 2) bad_node(n, "input must have rank 2");
  const auto t = static_cast<std::int32_t>(a.get_int("dtype", x.elem_type));
  if (!is_supported_elem_type(t)) return std::nullopt;
  const std::int64_t k = a.get_int("k", 0);
  auto one = scalar_of_type(1.0, t), zero = scalar_of_type(0.0, t);
  if (!one || !zero) return std::nullopt;
  tensor both = *zero;  // [0, 1]
  both.dims = {2};
  std::visit([&](auto& v) { v.push_back(std::get<std::decay_t<decltype(v)>>(one->data)[0]); }, both.data);
  std::vector<std::size_t> map(x.size(), 0);
  for_each_index(x.dims, [&](const std::vector<std::int64_t>& i, std::size_t e) {
    if (i[1] - i[0] == k) map[e] = 1;
  });
  return gather_elements_by(both, x.dims, map);
}

inline std::optional<tensor> eval_pad(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& x,
                                      std::int64_t opset, const node_inputs& known, std::size_t max_el) {
  const pad_args p = read_pad(n, a, opset, known);
  if (p.mode != "constant" && p.mode != "reflect" && p.mode != "edge") return std::nullopt;  // wrap: opset 19
  const std::size_t r = x.rank();
  const auto pads = full_pads(n, p, static_cast<std::int64_t>(r));
  std::vector<std::int64_t> dims(r);
  for (std::size_t d = 0; d < r; ++d) {
    dims[d] = x.dims[d] + pads[d] + pads[d + r];
    if (dims[d] < 0) bad_node(n, "pads remove more than the input has");
    if (p.mode != "constant" && x.dims[d] == 0 && dims[d] > 0) bad_node(n, "cannot " + p.mode + "-pad an empty axis");
  }
  if (element_count(dims) > max_el) return std::nullopt;
  // the input with the constant appended: out-of-range elements map to it
  auto fill = scalar_of_type(*p.value.value, x.elem_type);
  if (!fill) return std::nullopt;
  tensor ext = x;
  std::visit([&](auto& v) { v.push_back(std::get<std::decay_t<decltype(v)>>(fill->data)[0]); }, ext.data);
  const std::size_t pad_at = x.size();
  const auto st = strides_of(x.dims);
  std::vector<std::size_t> map(element_count(dims));
  for_each_index(dims, [&](const std::vector<std::int64_t>& i, std::size_t k) {
    std::size_t off = 0;
    for (std::size_t d = 0; d < r; ++d) {
      std::int64_t s = i[d] - pads[d];
      const std::int64_t len = x.dims[d];
      if (s < 0 || s >= len) {
        if (p.mode == "constant") { off = pad_at; break; }
        if (p.mode == "edge" || len == 1) {
          s = std::clamp<std::int64_t>(s, 0, len - 1);
        } else {  // reflect, without repeating the edge, as numpy.pad
          const std::int64_t period = 2 * (len - 1);
          s = ((s % period) + period) % period;
          if (s >= len) s = period - s;
        }
      }
      off += static_cast<std::size_t>(s) * st[d];
    }
    map[k] = off;
  });
  tensor out = gather_elements_by(ext, std::move(dims), map);
  return out;
}

}  // namespace dfgpar::onnx::detail
