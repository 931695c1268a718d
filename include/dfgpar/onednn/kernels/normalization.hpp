#pragma once
/// \file normalization.hpp
/// Normalizations: BatchNormalization, LRN, Softmax / LogSoftmax,
/// LayerNormalization. Members of `detail::builder` (kernels.hpp), defined
/// here; one place per operator rule.

#include <dfgpar/onednn/kernels.hpp>
#include <dfgpar/onnx/args/softmax.hpp>

namespace dfgpar::onednn::detail {

inline void builder::batch_norm(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  if (!bn_foldable(n)) refuse(n, "only inference BatchNormalization with constant statistics is supported");
  onnx::attribute_reader r(n);
  const float eps = static_cast<float>(r.get_float("epsilon", 1e-5));
  const int x = index_of(n.input(0)), y = index_of(n.output(0));
  const auto& xd = dims_of(n, x);
  const std::int64_t C = xd.size() > 1 ? xd[1] : 1;
  auto ss = const_floats(n, n.input(1));
  const auto shift = const_floats(n, n.input(2));
  ss.insert(ss.end(), shift.begin(), shift.end());
  const auto f32 = memory::data_type::f32;
  const memory::desc ss_md({2, C}, f32, memory::format_tag::ab), c_md({C}, f32, memory::format_tag::a);
  const auto src = as_is(v, DNNL_ARG_SRC, x);
  auto flags = dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale_shift;
  chain c;
  if (o_.fuse)
    if (auto rd = only_reader(n.output(0)); rd && node_of_[*rd]->op_type() == "Relu" && node_of_[*rd]->attribute_size() == 0) {
      c.fused.push_back(*rd);
      flags = flags | dnnl::normalization_flags::fuse_norm_relu;
      k.what += "+Relu";
    }
  dnnl::batch_normalization_forward::primitive_desc pd({dnnl::prop_kind::forward_inference, src.md, eps, flags},
                                                       scratch_attr(), p_.engine);
  for (int i = 1; i < 5; ++i) read_by_[v].push_back(index_of(n.input(i)));
  const std::size_t si = make_weight(ss, ss_md), mi = make_weight(const_floats(n, n.input(3)), c_md),
                    vi = make_weight(const_floats(n, n.input(4)), c_md);
  add_primitive(k, dnnl::batch_normalization_forward(pd), pd,
                {src, {DNNL_ARG_SCALE_SHIFT, ref_kind::weight, si, ss_md}, {DNNL_ARG_MEAN, ref_kind::weight, mi, c_md},
                 {DNNL_ARG_VARIANCE, ref_kind::weight, vi, c_md}, produce(DNNL_ARG_DST, y, pd.dst_desc())});
  absorb(c, y);
}

inline void builder::lrn(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  onnx::attribute_reader r(n);
  const auto size = r.need_int("size");
  const float alpha = static_cast<float>(r.get_float("alpha", 1e-4)), beta = static_cast<float>(r.get_float("beta", 0.75)),
              bias = static_cast<float>(r.get_float("bias", 1.0));
  r.require_all_read();
  const int x = index_of(n.input(0)), y = index_of(n.output(0));
  dims_of(n, x);
  const auto src = as_is(v, DNNL_ARG_SRC, x);
  dnnl::lrn_forward::primitive_desc pd(
      {dnnl::prop_kind::forward_inference, dnnl::algorithm::lrn_across_channels, src.md, size, alpha, beta, bias},
      scratch_attr(), p_.engine);
  add_primitive(k, dnnl::lrn_forward(pd), pd, {src, produce(DNNL_ARG_DST, y, pd.dst_desc())});
}

inline void builder::softmax(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  onnx::attribute_reader r(n);
  const auto s = onnx::read_softmax(n, r, opset_);
  r.require_all_read();
  const int x = index_of(n.input(0)), y = index_of(n.output(0));
  const auto& xd = dims_of(n, x);
  const auto rank = static_cast<std::int64_t>(xd.size());
  const std::int64_t axis = onnx::normalize_axis(n, s.axis, std::max<std::int64_t>(rank, 1));
  std::vector<std::int64_t> dims = xd;
  int dnnl_axis = static_cast<int>(axis);
  if (s.coerce_2d) {
    std::int64_t outer = 1, inner = 1;
    for (std::int64_t i = 0; i < rank; ++i) (i < axis ? outer : inner) *= xd[static_cast<std::size_t>(i)];
    dims = {outer, inner};
    dnnl_axis = 1;
  }
  const auto md = plain_md(dims);
  auto src = want(k, v, DNNL_ARG_SRC, x, plain_md(xd));
  src.md = md;
  auto dst = produce(DNNL_ARG_DST, y, plain_md(xd));
  dst.md = md;
  if (n.op_type() == "Softmax") {
    dnnl::softmax_forward::primitive_desc pd({dnnl::prop_kind::forward_inference, md, dnnl_axis}, scratch_attr(), p_.engine);
    add_primitive(k, dnnl::softmax_forward(pd), pd, {src, dst});
  } else {
    dnnl::logsoftmax_forward::primitive_desc pd({dnnl::prop_kind::forward_inference, md, dnnl_axis}, scratch_attr(),
                                                p_.engine);
    add_primitive(k, dnnl::logsoftmax_forward(pd), pd, {src, dst});
  }
}

/// LayerNormalization (output Y only) as oneDNN's layer normalisation of
/// the input seen as [outer, inner] (inner: the axes from `axis` on), with
/// the scale and bias (constants or run-time values) as its scale and shift.
inline void builder::layer_norm(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  onnx::attribute_reader r(n);
  const auto axis_attr = r.get_int("axis", -1);
  const float eps = static_cast<float>(r.get_float("epsilon", 1e-5));
  r.get_int("stash_type", 1);  // float32 statistics: oneDNN's
  r.require_all_read();
  const int x = index_of(n.input(0)), y = index_of(n.output(0));
  const auto& xd = dims_of(n, x);
  const auto rank = static_cast<std::int64_t>(xd.size());
  const auto axis = onnx::normalize_axis(n, axis_attr, std::max<std::int64_t>(rank, 1));
  std::int64_t outer = 1, inner = 1;
  for (std::int64_t i = 0; i < rank; ++i) (i < axis ? outer : inner) *= xd[static_cast<std::size_t>(i)];
  const memory::desc md = plain_md({outer, inner}), c_md = plain_md({inner});
  auto src = want(k, v, DNNL_ARG_SRC, x, plain_md(xd));
  src.md = md;
  auto dst = produce(DNNL_ARG_DST, y, plain_md(xd));
  dst.md = md;
  std::vector<arg_ref> args{src, dst};
  auto flags = dnnl::normalization_flags::use_scale;
  for (int i : {1, 2}) {
    if (n.input_size() <= i || n.input(i).empty()) continue;
    const int s = index_of(n.input(i));
    if (onnx::element_count(dims_of(n, s)) != static_cast<std::size_t>(inner))
      return fallback(v, n, k);  // a scale or bias broadcast over the normalised axes
    auto a = want(k, v, i == 1 ? DNNL_ARG_SCALE : DNNL_ARG_SHIFT, s, plain_md(val(s).dims));
    a.md = c_md;
    args.push_back(a);
    if (i == 2) flags = flags | dnnl::normalization_flags::use_shift;
  }
  // the Mean and InvStdDev outputs: oneDNN's training statistics (mean,
  // variance), then 1 / sqrt(variance + epsilon) in plain C++
  auto given = [&](int o) { return n.output_size() > o && !n.output(o).empty(); };
  const bool stats = given(1) || given(2);
  dnnl::layer_normalization_forward::primitive_desc pd(
      {stats ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, md, eps, flags}, scratch_attr(),
      p_.engine);
  if (!stats) return add_primitive(k, dnnl::layer_normalization_forward(pd), pd, std::move(args));
  const memory::desc s_md = pd.mean_desc();
  if (given(1)) {
    auto mean = produce(DNNL_ARG_MEAN, index_of(n.output(1)), plain_md(dims_of(n, index_of(n.output(1)))));
    mean.md = s_md;
    args.push_back(mean);
  } else {
    p_.temps.push_back({s_md, nullptr});
    args.push_back({DNNL_ARG_MEAN, ref_kind::temp, p_.temps.size() - 1, s_md});
  }
  p_.temps.push_back({s_md, nullptr});
  const std::size_t var = p_.temps.size() - 1;
  args.push_back({DNNL_ARG_VARIANCE, ref_kind::temp, var, s_md});
  add_primitive(k, dnnl::layer_normalization_forward(pd), pd, std::move(args));
  if (!given(2)) return;
  const int inv = index_of(n.output(2));
  produce(0, inv, plain_md(dims_of(n, inv)));
  program* prog = &p_;
  step st;
  st.fn = [prog, var, inv, outer, eps] {
    const auto* v = reinterpret_cast<const float*>(prog->temps[var].ptr);
    auto* o = reinterpret_cast<float*>(prog->data(inv));
    for (std::int64_t i = 0; i < outer; ++i) o[i] = 1.f / std::sqrt(v[i] + eps);
  };
  k.steps.push_back(std::move(st));
}

}  // namespace dfgpar::onednn::detail
