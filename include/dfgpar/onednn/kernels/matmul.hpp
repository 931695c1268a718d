#pragma once
/// \file matmul.hpp
/// Gemm (inner product) and MatMul. Members of `detail::builder` (kernels.hpp),
/// defined here; one place per operator rule.

#include <dfgpar/onednn/kernels.hpp>

namespace dfgpar::onednn::detail {

inline void builder::gemm(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  onnx::attribute_reader r(n);
  const float alpha = static_cast<float>(r.get_float("alpha", 1.0)), beta = static_cast<float>(r.get_float("beta", 1.0));
  const bool ta = r.get_int("transA", 0) != 0, tb = r.get_int("transB", 0) != 0;
  r.ignore("broadcast");  // opset < 7: C is broadcast either way here
  r.require_all_read();
  const int a = index_of(n.input(0)), y = index_of(n.output(0));
  const auto& ad = dims_of(n, a);
  const auto& yd = dims_of(n, y);
  if (ta) refuse(n, "transA = 1 is not supported");
  if (!is_const(n.input(1))) refuse(n, "B must be a constant");
  const auto& bt = const_value(index_of(n.input(1)));
  const std::int64_t K = ad[1], N = yd[1];
  if (bt.dims.size() != 2) refuse(n, "B must be 2-D");
  // inner product weights are [N, K]
  std::vector<float> w(static_cast<std::size_t>(N * K));
  const auto& b = bt.values<float>();
  for (std::int64_t i = 0; i < N; ++i)
    for (std::int64_t j = 0; j < K; ++j)
      w[static_cast<std::size_t>(i * K + j)] = alpha * (tb ? b[static_cast<std::size_t>(i * K + j)] : b[static_cast<std::size_t>(j * N + i)]);
  std::vector<float> bias(static_cast<std::size_t>(N), 0.f);
  if (n.input_size() > 2 && !n.input(2).empty()) {
    if (!is_const(n.input(2))) refuse(n, "C must be a constant");
    const auto& ct = const_value(index_of(n.input(2)));
    const auto c = ct.values<float>();
    if (c.size() == 1) std::fill(bias.begin(), bias.end(), beta * c[0]);
    else if (c.size() == static_cast<std::size_t>(N) && (ct.dims.size() == 1 || ct.dims[0] == 1))
      for (std::size_t i = 0; i < bias.size(); ++i) bias[i] = beta * c[i];
    else refuse(n, "C must broadcast along the rows (shape [N] or [1, N])");
  }
  read_by_[v].push_back(index_of(n.input(1)));
  const auto f32 = memory::data_type::f32;
  const memory::desc w_md({N, K}, f32, memory::format_tag::any), b_md({N}, f32, memory::format_tag::a);
  const auto src_md = plain_md(ad);
  dnnl::inner_product_forward::primitive_desc pd(
      {dnnl::prop_kind::forward_inference, src_md, w_md, b_md, plain_md(yd)}, scratch_attr(), p_.engine);
  const auto wdesc = pd.weights_desc();
  const std::size_t wi = make_weight(w, memory::desc({N, K}, f32, memory::format_tag::ab), &wdesc);
  const std::size_t bi = make_weight(bias, b_md);
  add_primitive(k, dnnl::inner_product_forward(pd), pd,
                {want(k, v, DNNL_ARG_SRC, a, src_md), {DNNL_ARG_WEIGHTS, ref_kind::weight, wi, wdesc},
                 {DNNL_ARG_BIAS, ref_kind::weight, bi, b_md}, produce(DNNL_ARG_DST, y, pd.dst_desc())});
}

inline void builder::matmul(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  const int a = index_of(n.input(0)), b = index_of(n.input(1)), y = index_of(n.output(0));
  auto ad = dims_of(n, a), bd = dims_of(n, b);
  const auto& yd = dims_of(n, y);
  if (ad.size() < 2 || bd.size() < 2) refuse(n, "1-D inputs are not supported");
  const std::size_t rank = yd.size();
  ad.insert(ad.begin(), rank - ad.size(), 1);
  bd.insert(bd.begin(), rank - bd.size(), 1);
  const auto am = plain_md(ad), bm = plain_md(bd), ym = plain_md(yd);
  dnnl::matmul::primitive_desc pd({am, bm, ym}, scratch_attr(), p_.engine);
  auto src = want(k, v, DNNL_ARG_SRC, a, plain_md(val(a).dims));
  src.md = am;
  auto wts = want(k, v, DNNL_ARG_WEIGHTS, b, plain_md(val(b).dims));
  wts.md = bm;
  add_primitive(k, dnnl::matmul(pd), pd, {src, wts, produce(DNNL_ARG_DST, y, ym)});
}

}  // namespace dfgpar::onednn::detail
