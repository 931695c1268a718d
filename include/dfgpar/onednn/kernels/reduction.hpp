#pragma once
/// \file reduction.hpp
/// Reduce{Mean,Sum,Max,Min,Prod,L1,L2,SumSquare} as oneDNN reductions. Members
/// of `detail::builder` (kernels.hpp), defined here; one place per operator
/// rule.

#include <dfgpar/onednn/kernels.hpp>
#include <dfgpar/onnx/args/reduce.hpp>

namespace dfgpar::onednn::detail {

/// Reduce{Mean,Sum,Max,Min,Prod,L1,L2,SumSquare} with known axes as a oneDNN
/// reduction (the output keeps the reduced axes as 1; without keepdims it
/// is the same buffer in fewer dimensions). A reduction over no axis, or of
/// a tensor oneDNN does not take, runs on the evaluator.
inline void builder::reduce(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  onnx::attribute_reader r(n);
  const auto ra = onnx::read_reduce(n, r, opset_, known_inputs(n));
  const std::string& op = n.op_type();
  const int x = index_of(n.input(0)), y = index_of(n.output(0));
  const auto& xd = dims_of(n, x);
  const auto& yd = dims_of(n, y);
  const auto rank = static_cast<std::int64_t>(xd.size());
  if (!r.all_read() || ra.axes.at_run_time() || rank == 0 || onnx::element_count(xd) == 0) return fallback(v, n, k);
  std::vector<std::int64_t> keep = xd;  // the output with the reduced axes kept as 1
  if (!ra.axes.known() || ra.axes.value->empty()) {
    if (ra.noop_with_empty_axes) return fallback(v, n, k);
    std::fill(keep.begin(), keep.end(), 1);
  } else {
    for (auto a : *ra.axes.value) keep[static_cast<std::size_t>(onnx::normalize_axis(n, a, rank))] = 1;
  }
  if (onnx::element_count(keep) != onnx::element_count(yd) || keep == xd) return fallback(v, n, k);
  using al = dnnl::algorithm;
  al alg = al::reduction_sum;
  float p = 0;
  if (op == "ReduceMean") alg = al::reduction_mean;
  else if (op == "ReduceMax") alg = al::reduction_max;
  else if (op == "ReduceMin") alg = al::reduction_min;
  else if (op == "ReduceProd") alg = al::reduction_mul;
  else if (op == "ReduceL1") alg = al::reduction_norm_lp_sum, p = 1;
  else if (op == "ReduceL2") alg = al::reduction_norm_lp_sum, p = 2;
  else if (op == "ReduceSumSquare") alg = al::reduction_norm_lp_power_p_sum, p = 2;
  for (int i = 1; i < n.input_size(); ++i)
    if (!n.input(i).empty()) read_by_[v].push_back(index_of(n.input(i)));
  const auto src = want(k, v, DNNL_ARG_SRC, x, plain_md(xd));
  const auto keep_md = plain_md(keep);
  dnnl::reduction::primitive_desc pd({alg, src.md, keep_md, p, 0.f}, scratch_attr(), p_.engine);
  auto dst = produce(DNNL_ARG_DST, y, plain_md(yd));
  dst.md = keep_md;
  add_primitive(k, dnnl::reduction(pd), pd, {src, dst});
}

}  // namespace dfgpar::onednn::detail
