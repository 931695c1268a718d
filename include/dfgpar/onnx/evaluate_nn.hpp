#pragma once
/// \file evaluate_nn.hpp
/// The neural-network rules of the folding evaluator (evaluate.hpp
/// dispatches to them): NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss,
/// LayerNormalization, Resize / Upsample and Einsum, following the ONNX reference
/// implementations (onnx/backend/test/case/node). They are the reference the
/// native runtime (onednn/) runs where it has no oneDNN kernel; computed in
/// double, float and double tensors only. Not a user entry point:
/// `evaluate()` is.

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/args/common.hpp>
#include <dfgpar/onnx/args/resize.hpp>
#include <dfgpar/onnx/attributes.hpp>
#include <dfgpar/onnx/tensor.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace dfgpar::onnx::detail {

// Defined in evaluate.hpp (which includes this header after declaring them).
[[noreturn]] inline void bad_node(const ::onnx::NodeProto& n, const std::string& why);
inline std::vector<std::int64_t> broadcast_shape(const ::onnx::NodeProto& n,
                                                 std::span<const std::vector<std::int64_t>* const> shapes);
inline std::vector<std::size_t> broadcast_offsets(const std::vector<std::int64_t>& in,
                                                  const std::vector<std::int64_t>& out);
inline std::vector<std::size_t> strides_of(const std::vector<std::int64_t>& dims);

/// FLOAT or DOUBLE: the types the rules below compute for.
inline bool is_real_type(std::int32_t t) noexcept {
  return t == ::onnx::TensorProto::FLOAT || t == ::onnx::TensorProto::DOUBLE;
}

/// The elements of a FLOAT or DOUBLE tensor as double.
inline std::vector<double> real_values(const tensor& t) {
  if (t.elem_type == ::onnx::TensorProto::FLOAT) {
    const auto& v = t.values<float>();
    return {v.begin(), v.end()};
  }
  return t.values<double>();
}

/// A FLOAT or DOUBLE tensor holding `v`.
inline tensor real_tensor(std::int32_t t, std::vector<std::int64_t> dims, const std::vector<double>& v) {
  if (t == ::onnx::TensorProto::FLOAT) return make_tensor<float>(t, std::move(dims), std::vector<float>(v.begin(), v.end()));
  return make_tensor<double>(t, std::move(dims), v);
}

// ----------------------------------------------------------------- losses

/// NegativeLogLikelihoodLoss on log-probabilities `lp` of shape (N, C, d...)
/// and targets (N, d...): per element -lp[n, t, d] * weight[t], 0 where t is
/// ignore_index; reduced by none, sum, or mean (divided by the sum of the
/// weights used, as the reference).
inline tensor nll_loss(const ::onnx::NodeProto& n, attribute_reader& a, std::int32_t type,
                       const std::vector<std::int64_t>& in_dims, const std::vector<double>& lp, const tensor& target,
                       const tensor* weight) {
  const std::string red = a.get_string("reduction", "mean");
  if (red != "none" && red != "sum" && red != "mean") bad_node(n, "unknown reduction '" + red + "'");
  const auto ignore = a.find_int("ignore_index");
  if (in_dims.size() < 2) bad_node(n, "input must have rank >= 2");
  if (target.is_floating()) bad_node(n, "target must be integers");
  std::vector<std::int64_t> tdims{in_dims[0]};
  tdims.insert(tdims.end(), in_dims.begin() + 2, in_dims.end());
  if (target.dims != tdims) bad_node(n, "target has the wrong shape");
  const std::int64_t C = in_dims[1];
  std::vector<double> w;
  if (weight) {
    if (!is_real_type(weight->elem_type) || weight->dims != std::vector<std::int64_t>{C}) bad_node(n, "weight must be [C]");
    w = real_values(*weight);
  }
  const auto t = target.to_int64();
  const std::size_t D = element_count(tdims) / std::max<std::size_t>(1, static_cast<std::size_t>(in_dims[0]));
  std::vector<double> loss(t.size(), 0.0);
  double wsum = 0;
  for (std::size_t e = 0; e < t.size(); ++e) {
    if (ignore && t[e] == *ignore) continue;
    if (t[e] < 0 || t[e] >= C) bad_node(n, "target " + std::to_string(t[e]) + " out of range");
    const std::size_t nb = e / D, d = e % D, c = static_cast<std::size_t>(t[e]);
    const double we = weight ? w[c] : 1.0;
    loss[e] = -lp[(nb * static_cast<std::size_t>(C) + c) * D + d] * we;
    wsum += we;
  }
  if (red == "none") return real_tensor(type, tdims, loss);
  double s = 0;
  for (double l : loss) s += l;
  if (red == "mean") s /= wsum;
  return real_tensor(type, {}, {s});
}

inline std::optional<tensor> eval_nll_loss(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& x,
                                           const tensor& target, const tensor* weight) {
  if (!is_real_type(x.elem_type)) return std::nullopt;
  return nll_loss(n, a, x.elem_type, x.dims, real_values(x), target, weight);
}

/// SoftmaxCrossEntropyLoss: NLL of log_softmax(scores) over axis 1; the
/// second output, when asked for, is that log_softmax.
inline std::optional<std::vector<tensor>> eval_softmax_cross_entropy(const ::onnx::NodeProto& n, attribute_reader& a,
                                                                     const tensor& x, const tensor& target,
                                                                     const tensor* weight) {
  if (!is_real_type(x.elem_type)) return std::nullopt;
  if (x.rank() < 2) bad_node(n, "scores must have rank >= 2");
  const auto v = real_values(x);
  const auto N = static_cast<std::size_t>(x.dims[0]), C = static_cast<std::size_t>(x.dims[1]);
  const std::size_t D = N * C != 0 ? v.size() / (N * C) : 0;
  std::vector<double> lp(v.size());
  for (std::size_t b = 0; b < N; ++b)
    for (std::size_t d = 0; d < D; ++d) {
      auto at = [&](std::size_t c) { return (b * C + c) * D + d; };
      double m = -std::numeric_limits<double>::infinity();
      for (std::size_t c = 0; c < C; ++c) m = std::max(m, v[at(c)]);
      double s = 0;
      for (std::size_t c = 0; c < C; ++c) s += std::exp(v[at(c)] - m);
      const double ls = std::log(s);
      for (std::size_t c = 0; c < C; ++c) lp[at(c)] = v[at(c)] - m - ls;
    }
  std::vector<tensor> out;
  out.push_back(nll_loss(n, a, x.elem_type, x.dims, lp, target, weight));
  if (n.output_size() > 1 && !n.output(1).empty()) out.push_back(real_tensor(x.elem_type, x.dims, lp));
  return out;
}

// ----------------------------------------------------------------- LayerNormalization

/// LayerNormalization (opset 17): normalised over the axes from `axis` on,
/// times Scale plus B; Mean and InvStdDev (FLOAT, stash_type 1) when asked for.
inline std::optional<std::vector<tensor>> eval_layer_norm(const ::onnx::NodeProto& n, attribute_reader& a,
                                                          const tensor& x, const tensor& scale, const tensor* bias) {
  if (!is_real_type(x.elem_type)) return std::nullopt;
  if (a.get_int("stash_type", 1) != 1) return std::nullopt;
  const std::size_t r = x.rank();
  if (r == 0) bad_node(n, "input must have rank >= 1");
  const auto axis = static_cast<std::size_t>(normalize_axis(n, a.get_int("axis", -1), static_cast<std::int64_t>(r)));
  const double eps = a.get_float("epsilon", 1e-5);
  for (const tensor* t : {&scale, bias}) {
    if (!t) continue;
    if (t->elem_type != x.elem_type) bad_node(n, "Scale and B must have the type of X");
    const std::vector<std::int64_t>* shapes[] = {&x.dims, &t->dims};
    if (broadcast_shape(n, shapes) != x.dims) bad_node(n, "Scale and B must broadcast to X");
  }
  const auto v = real_values(x), s = real_values(scale);
  const std::vector<double> b = bias ? real_values(*bias) : std::vector<double>{};
  const auto so = broadcast_offsets(scale.dims, x.dims);
  const auto bo = bias ? broadcast_offsets(bias->dims, x.dims) : std::vector<std::size_t>{};
  const std::size_t cols = strides_of(x.dims)[axis] * static_cast<std::size_t>(x.dims[axis]);
  const std::size_t rows = cols ? v.size() / cols : 0;
  std::vector<double> y(v.size()), mean(rows), inv(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    double m = 0;
    for (std::size_t j = 0; j < cols; ++j) m += v[i * cols + j];
    m /= static_cast<double>(cols);
    double var = 0;
    for (std::size_t j = 0; j < cols; ++j) var += (v[i * cols + j] - m) * (v[i * cols + j] - m);
    var /= static_cast<double>(cols);
    const double is = 1.0 / std::sqrt(var + eps);
    mean[i] = m;
    inv[i] = is;
    for (std::size_t j = 0; j < cols; ++j) {
      const std::size_t e = i * cols + j;
      y[e] = (v[e] - m) * is * s[so[e]] + (bias ? b[bo[e]] : 0.0);
    }
  }
  std::vector<tensor> out;
  out.push_back(real_tensor(x.elem_type, x.dims, y));
  std::vector<std::int64_t> sdims(x.dims.begin(), x.dims.begin() + static_cast<std::ptrdiff_t>(axis));
  sdims.resize(r, 1);
  if (n.output_size() > 1) out.push_back(real_tensor(::onnx::TensorProto::FLOAT, sdims, mean));
  if (n.output_size() > 2) out.push_back(real_tensor(::onnx::TensorProto::FLOAT, sdims, inv));
  return out;
}

// ----------------------------------------------------------------- Resize

/// The input elements and weights one output coordinate of one axis reads
/// (the reference's interpolate_1d_with_x); `outside`: the whole value is
/// extrapolation_value (tf_crop_and_resize).
struct resize_taps {
  std::vector<std::int64_t> index;  // clamped into the input
  std::vector<double> weight;
  bool outside = false;
};

inline std::vector<double> resize_coeffs(const resize_args& r, double ratio, bool integral) {
  if (r.mode == "nearest") {
    if (integral) return {0, 1};
    const std::string& m = r.nearest_mode;
    if (m == "round_prefer_floor") return {ratio <= 0.5 ? 1.0 : 0.0, ratio > 0.5 ? 1.0 : 0.0};
    if (m == "round_prefer_ceil") return {ratio < 0.5 ? 1.0 : 0.0, ratio >= 0.5 ? 1.0 : 0.0};
    if (m == "floor") return {1, 0};
    return {0, 1};  // ceil
  }
  if (r.mode == "linear") return {1 - ratio, ratio};
  const double A = r.cubic_coeff_a, p = ratio + 1, q = 1 - ratio, q1 = q + 1;
  return {((A * p - 5 * A) * p + 8 * A) * p - 4 * A, ((A + 2) * ratio - (A + 3)) * ratio * ratio + 1,
          ((A + 2) * q - (A + 3)) * q * q + 1, ((A * q1 - 5 * A) * q1 + 8 * A) * q1 - 4 * A};
}

inline std::vector<resize_taps> resize_axis(const resize_args& r, std::int64_t in_len, std::int64_t out_len,
                                            double scale, double roi_start, double roi_end) {
  std::vector<resize_taps> taps(static_cast<std::size_t>(out_len));
  const double in_w = static_cast<double>(in_len), out_w = scale * in_w;  // as the reference: not rounded
  const std::string& ct = r.coordinate_transformation_mode;
  for (std::int64_t xo = 0; xo < out_len; ++xo) {
    const auto x = static_cast<double>(xo);
    auto& t = taps[static_cast<std::size_t>(xo)];
    double xi;
    if (ct == "align_corners") xi = out_w == 1 ? 0.0 : x * (in_w - 1) / (out_w - 1);
    else if (ct == "asymmetric") xi = x / scale;
    else if (ct == "tf_crop_and_resize") {
      xi = out_w == 1 ? (roi_end - roi_start) * (in_w - 1) / 2 : x * (roi_end - roi_start) * (in_w - 1) / (out_w - 1);
      xi += roi_start * (in_w - 1);
      if (xi < 0 || xi > in_w - 1) { t.outside = true; continue; }
    } else if (ct == "pytorch_half_pixel") xi = out_w == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    else if (ct == "half_pixel") xi = (x + 0.5) / scale - 0.5;
    else xi = (x + 0.5) / scale;  // tf_half_pixel_for_nn
    const double fl = std::floor(xi);
    const bool integral = xi == fl;
    auto c = resize_coeffs(r, integral ? 1.0 : xi - fl, integral);
    const auto taps_n = static_cast<std::int64_t>(c.size());
    // the n nearest indices of the edge-padded input (pad ceil(n/2)), ties to the lower
    const std::int64_t pad = (taps_n + 1) / 2, lo_lim = -pad, hi_lim = in_len + pad - 1;
    std::vector<std::int64_t> cand;
    for (std::int64_t i = static_cast<std::int64_t>(fl) - taps_n; i <= static_cast<std::int64_t>(fl) + taps_n + 1; ++i)
      if (i >= lo_lim && i <= hi_lim) cand.push_back(i);
    std::stable_sort(cand.begin(), cand.end(), [&](std::int64_t p, std::int64_t q) {
      return std::abs(xi - static_cast<double>(p)) < std::abs(xi - static_cast<double>(q));
    });
    cand.resize(std::min(cand.size(), static_cast<std::size_t>(taps_n)));
    std::sort(cand.begin(), cand.end());
    if (r.exclude_outside) {
      double sum = 0;
      for (std::size_t k = 0; k < cand.size(); ++k) {
        if (cand[k] < 0 || cand[k] >= in_len) c[k] = 0;
        sum += c[k];
      }
      for (auto& w : c) w /= sum;
    }
    for (std::size_t k = 0; k < cand.size(); ++k) {
      t.index.push_back(std::clamp<std::int64_t>(cand[k], 0, in_len - 1));
      t.weight.push_back(c[k]);
    }
  }
  return taps;
}

/// Resize (opsets 10 to 17) and Upsample, as the ONNX reference
/// (interpolate_nd): separable, the last axis first, so that a
/// tf_crop_and_resize extrapolation of an inner axis is interpolated by the
/// outer ones as the reference's recursion does.
inline std::optional<tensor> eval_resize(const ::onnx::NodeProto& n, attribute_reader& a, const tensor& x,
                                         std::span<const tensor* const> inputs, std::int64_t opset, std::size_t max_el) {
  const node_inputs known(inputs);
  const resize_args r = read_resize(n, a, opset, known);
  if (r.axes || r.keep_aspect_ratio_policy != "stretch") return std::nullopt;  // opset 18
  if (r.mode != "nearest" && r.mode != "linear" && r.mode != "cubic") bad_node(n, "unknown mode '" + r.mode + "'");
  const bool nearest = r.mode == "nearest";
  if (!is_real_type(x.elem_type) && !(nearest && is_supported_elem_type(x.elem_type) &&
                                      x.elem_type != ::onnx::TensorProto::FLOAT16 &&
                                      x.elem_type != ::onnx::TensorProto::BFLOAT16))
    return std::nullopt;
  const std::size_t rank = x.rank();
  std::vector<double> scales(rank);
  std::vector<std::int64_t> dims(rank);
  if (r.sizes.given()) {
    const auto& s = *r.sizes.value;
    if (s.size() != rank) bad_node(n, "sizes must have one value per axis");
    for (std::size_t d = 0; d < rank; ++d) {
      if (s[d] < 0) bad_node(n, "negative size");
      dims[d] = s[d];
      scales[d] = x.dims[d] ? static_cast<double>(s[d]) / static_cast<double>(x.dims[d]) : 1.0;
    }
  } else {
    if (!r.scales.known()) bad_node(n, "scales missing");
    const auto& s = *r.scales.value;
    if (s.size() != rank) bad_node(n, "scales must have one value per axis");
    for (std::size_t d = 0; d < rank; ++d) {
      if (!(s[d] > 0)) bad_node(n, "scales must be positive");
      scales[d] = s[d];
      dims[d] = static_cast<std::int64_t>(s[d] * static_cast<double>(x.dims[d]));
    }
  }
  if (r.legacy && nearest)  // the legacy rule is a repeat: only defined for integer scales
    for (double s : scales)
      if (s != std::floor(s)) return std::nullopt;
  if (element_count(dims) > max_el) return std::nullopt;
  std::vector<double> roi(2 * rank, 0.0);
  const bool crop = !r.legacy && r.coordinate_transformation_mode == "tf_crop_and_resize";
  if (crop) {
    const tensor* t = r.roi_input >= 0 ? known.value(static_cast<std::size_t>(r.roi_input)) : nullptr;
    if (!t || t->size() != 2 * rank) bad_node(n, "tf_crop_and_resize needs roi with two values per axis");
    for (std::size_t k = 0; k < 2 * rank; ++k) roi[k] = t->as_double(k);
  } else if (!r.legacy) {
    const std::string& ct = r.coordinate_transformation_mode;
    if (ct != "half_pixel" && ct != "pytorch_half_pixel" && ct != "align_corners" && ct != "asymmetric" &&
        ct != "tf_half_pixel_for_nn")
      bad_node(n, "unknown coordinate_transformation_mode '" + ct + "'");
    const std::string& nm = r.nearest_mode;
    if (nm != "round_prefer_floor" && nm != "round_prefer_ceil" && nm != "floor" && nm != "ceil")
      bad_node(n, "unknown nearest_mode '" + nm + "'");
  }
  std::vector<double> cur(x.size());
  for (std::size_t e = 0; e < cur.size(); ++e) cur[e] = x.as_double(e);
  std::vector<std::int64_t> cdims = x.dims;
  for (std::size_t ax = rank; ax-- > 0;) {
    const auto taps = resize_axis(r, x.dims[ax], dims[ax], scales[ax], roi[ax], roi[ax + rank]);
    const std::size_t inner = strides_of(cdims)[ax], in_len = static_cast<std::size_t>(cdims[ax]);
    const std::size_t outer = in_len * inner != 0 ? cur.size() / (in_len * inner) : 0;
    auto ndims = cdims;
    ndims[ax] = dims[ax];
    std::vector<double> next(element_count(ndims), 0.0);
    const std::size_t out_len = static_cast<std::size_t>(dims[ax]);
    if (in_len == 0 && out_len) bad_node(n, "cannot resize an empty axis");
    for (std::size_t b = 0; b < outer; ++b)
      for (std::size_t o = 0; o < out_len; ++o) {
        const auto& t = taps[o];
        for (std::size_t i = 0; i < inner; ++i) {
          double acc = 0;
          if (t.outside) acc = r.extrapolation_value;
          else
            for (std::size_t k = 0; k < t.index.size(); ++k)
              if (t.weight[k] != 0) acc += t.weight[k] * cur[(b * in_len + static_cast<std::size_t>(t.index[k])) * inner + i];
          next[(b * out_len + o) * inner + i] = acc;
        }
      }
    cur = std::move(next);
    cdims = std::move(ndims);
  }
  tensor out = make_tensor(x.elem_type, dims);
  std::visit(
      [&](auto& o) {
        using T = typename std::decay_t<decltype(o)>::value_type;
        for (std::size_t e = 0; e < o.size(); ++e) o[e] = static_cast<T>(cur[e]);
      },
      out.data);
  return out;
}

// ----------------------------------------------------------------- Einsum

/// The labels of one Einsum term for an operand of rank `rank`: letters as
/// their character, the ellipsis as 256 + k, right-aligned to `ell` axes.
inline std::vector<int> einsum_labels(const ::onnx::NodeProto& n, const std::string& term, std::size_t rank,
                                      std::size_t ell) {
  std::vector<int> labels;
  const auto dots = term.find("...");
  std::size_t letters = 0;
  for (char c : term)
    if (c != '.') {
      if (!std::isalpha(static_cast<unsigned char>(c))) bad_node(n, "bad equation term '" + term + "'");
      ++letters;
    }
  if (dots == std::string::npos ? letters != rank : letters > rank) bad_node(n, "equation term '" + term + "' does not fit its operand");
  const std::size_t own = rank - letters;  // this operand's ellipsis axes
  for (std::size_t i = 0; i < term.size(); ++i) {
    if (i == dots) {
      for (std::size_t k = 0; k < own; ++k) labels.push_back(256 + static_cast<int>(ell - own + k));
      i += 2;
      continue;
    }
    if (term[i] == '.') bad_node(n, "bad ellipsis in '" + term + "'");
    labels.push_back(static_cast<unsigned char>(term[i]));
  }
  return labels;
}

/// Einsum (float and double): every output element sums the product of the
/// operands over the labels the output does not keep; a label repeated in
/// one term reads its diagonal; ellipsis axes broadcast.
inline std::optional<tensor> eval_einsum(const ::onnx::NodeProto& n, attribute_reader& a,
                                         std::span<const tensor* const> in, std::size_t max_el) {
  std::string eq;
  for (char c : a.get_string("equation", "")) if (c != ' ') eq += c;
  if (eq.empty()) bad_node(n, "missing equation");
  if (in.empty()) bad_node(n, "no inputs");
  for (const tensor* t : in) {
    if (!t) bad_node(n, "an input is missing");
    if (t->elem_type != in[0]->elem_type) bad_node(n, "input types differ");
  }
  if (!is_real_type(in[0]->elem_type)) return std::nullopt;
  const auto arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  for (std::size_t b = 0;;) {
    const auto c = lhs.find(',', b);
    terms.push_back(lhs.substr(b, c == std::string::npos ? std::string::npos : c - b));
    if (c == std::string::npos) break;
    b = c + 1;
  }
  if (terms.size() != in.size()) bad_node(n, "the equation has " + std::to_string(terms.size()) + " terms for " +
                                             std::to_string(in.size()) + " inputs");
  std::size_t ell = 0;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    std::size_t letters = 0;
    for (char c : terms[i]) letters += c != '.';
    if (terms[i].find("...") != std::string::npos && in[i]->rank() >= letters) ell = std::max(ell, in[i]->rank() - letters);
  }
  std::vector<std::vector<int>> labels;
  std::vector<std::int64_t> size(256 + ell, -1);
  for (std::size_t i = 0; i < terms.size(); ++i) {
    labels.push_back(einsum_labels(n, terms[i], in[i]->rank(), ell));
    for (std::size_t ax = 0; ax < labels[i].size(); ++ax) {
      auto& s = size[static_cast<std::size_t>(labels[i][ax])];
      const std::int64_t d = in[i]->dims[ax];
      if (s < 0 || s == 1) s = d;
      else if (d != s && !(d == 1 && labels[i][ax] >= 256)) bad_node(n, "dimensions of a label differ");
    }
  }
  std::vector<int> out_labels;
  if (arrow != std::string::npos) {
    const std::string rhs = eq.substr(arrow + 2);
    std::size_t letters = 0;
    for (char c : rhs) letters += c != '.';
    const bool dots = rhs.find("...") != std::string::npos;
    out_labels = einsum_labels(n, rhs, letters + (dots ? ell : 0), ell);
    for (int l : out_labels)
      if (size[static_cast<std::size_t>(l)] < 0) bad_node(n, "an output label is not in any input");
  } else {
    for (std::size_t k = 0; k < ell; ++k) out_labels.push_back(256 + static_cast<int>(k));
    std::vector<int> count(256, 0);
    for (const auto& ls : labels)
      for (int l : ls) if (l < 256) ++count[static_cast<std::size_t>(l)];
    for (int l = 0; l < 256; ++l)
      if (count[static_cast<std::size_t>(l)] == 1) out_labels.push_back(l);
  }
  std::vector<int> sum_labels;
  for (std::size_t l = 0; l < size.size(); ++l)
    if (size[l] >= 0 && std::find(out_labels.begin(), out_labels.end(), static_cast<int>(l)) == out_labels.end())
      sum_labels.push_back(static_cast<int>(l));
  std::vector<std::int64_t> dims, sum_dims;
  for (int l : out_labels) dims.push_back(size[static_cast<std::size_t>(l)]);
  for (int l : sum_labels) sum_dims.push_back(size[static_cast<std::size_t>(l)]);
  if (element_count(dims) > max_el) return std::nullopt;
  // per operand, the stride of each output and summed label (0 where broadcast or absent)
  auto strides_for = [&](const std::vector<int>& which) {
    std::vector<std::vector<std::size_t>> st(in.size(), std::vector<std::size_t>(which.size(), 0));
    for (std::size_t i = 0; i < in.size(); ++i) {
      const auto s = strides_of(in[i]->dims);
      for (std::size_t ax = 0; ax < labels[i].size(); ++ax) {
        if (in[i]->dims[ax] == 1) continue;
        for (std::size_t w = 0; w < which.size(); ++w)
          if (which[w] == labels[i][ax]) st[i][w] += s[ax];
      }
    }
    return st;
  };
  const auto ost = strides_for(out_labels), sst = strides_for(sum_labels);
  std::vector<std::vector<double>> vals;
  for (const tensor* t : in) vals.push_back(real_values(*t));
  std::vector<double> out(element_count(dims), 0.0);
  const std::size_t sums = element_count(sum_dims);
  std::vector<std::size_t> base(in.size()), off(in.size());
  std::vector<std::int64_t> oi(dims.size(), 0), si(sum_dims.size(), 0);
  for (std::size_t k = 0; k < out.size(); ++k) {
    for (std::size_t i = 0; i < in.size(); ++i) {
      base[i] = 0;
      for (std::size_t w = 0; w < dims.size(); ++w) base[i] += static_cast<std::size_t>(oi[w]) * ost[i][w];
    }
    std::fill(si.begin(), si.end(), 0);
    double acc = 0;
    for (std::size_t s = 0; s < sums; ++s) {
      double p = 1;
      for (std::size_t i = 0; i < in.size(); ++i) {
        std::size_t o = base[i];
        for (std::size_t w = 0; w < sum_dims.size(); ++w) o += static_cast<std::size_t>(si[w]) * sst[i][w];
        p *= vals[i][o];
      }
      acc += p;
      for (std::size_t w = sum_dims.size(); w-- > 0;) {
        if (++si[w] < sum_dims[w]) break;
        si[w] = 0;
      }
    }
    out[k] = acc;
    for (std::size_t w = dims.size(); w-- > 0;) {
      if (++oi[w] < dims[w]) break;
      oi[w] = 0;
    }
  }
  return real_tensor(in[0]->elem_type, dims, out);
}

}  // namespace dfgpar::onnx::detail
