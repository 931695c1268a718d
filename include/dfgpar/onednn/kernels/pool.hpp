#pragma once
/// \file pool.hpp
/// Pooling: MaxPool / AveragePool / GlobalAveragePool / GlobalMaxPool as oneDNN
/// primitives, or as loops over blocked layouts (pool_loops.hpp). Members of
/// `detail::builder` (kernels.hpp), defined here; one place per operator rule.

#include <dfgpar/onednn/kernels.hpp>

namespace dfgpar::onednn::detail {

inline void builder::pool(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  onnx::attribute_reader r(n);
  const std::string& op = n.op_type();
  int x = index_of(n.input(0));
  const int y = index_of(n.output(0));
  const std::vector<std::int64_t> extra = take_fused_pad(v, x, k);
  const auto& xd = dims_of(n, x);
  const auto& yd = dims_of(n, y);
  if (xd.size() < 3 || xd.size() > 5) refuse(n, "only 1-D, 2-D and 3-D pooling is supported");
  if (n.output_size() > 1 && !n.output(1).empty()) refuse(n, "the Indices output is not supported");
  const std::size_t sp = xd.size() - 2;
  const bool global = op.rfind("Global", 0) == 0;
  const bool is_max = op == "MaxPool" || op == "GlobalMaxPool";
  window w;
  if (global) {
    w.kernel.assign(xd.begin() + 2, xd.end());
    w.strides.assign(sp, 1);
    w.dilation.assign(sp, 0);
    w.pad_l.assign(sp, 0);
    w.pad_r.assign(sp, 0);
  } else {
    const auto kernel = r.get_ints("kernel_shape");
    r.get_int("ceil_mode", 0);  // the output shape (from shape inference) already says
    if (is_max && r.get_int("storage_order", 0) != 0) refuse(n, "storage_order 1 is not supported");
    w = make_padded_window(n, r, xd, yd, kernel, is_max, extra);
  }
  const bool include = !is_max && (r.get_int("count_include_pad", 0) != 0 || !extra.empty());
  r.require_all_read();
  const auto alg = is_max ? dnnl::algorithm::pooling_max
                          : include ? dnnl::algorithm::pooling_avg_include_padding
                                    : dnnl::algorithm::pooling_avg_exclude_padding;
  const auto src = as_is(v, DNNL_ARG_SRC, x);
  const memory::desc dst_any(to_dims(yd), memory::data_type::f32,
                             o_.blocked ? memory::format_tag::any : plain_tag(yd.size()));
  dnnl::pooling_v2_forward::primitive_desc pd({dnnl::prop_kind::forward_inference, alg, src.md, dst_any, w.strides,
                                               w.kernel, w.dilation, w.pad_l, w.pad_r},
                                              scratch_attr(), p_.engine);
  if (!global && pool_by_loops(n, k, x, y, src, pd.dst_desc(), w, is_max, include)) return;
  add_primitive(k, dnnl::pooling_v2_forward(pd), pd, {src, produce(DNNL_ARG_DST, y, pd.dst_desc())});
}

/// 2-D pooling of a batch-1 tensor in the 8-channel-blocked layout as
/// vector loops on the node's OpenMP threads (pool_loops.hpp says why).
inline bool builder::pool_by_loops(const ::onnx::NodeProto& n, kernel& k, int x, int y, const arg_ref& src,
                                   const memory::desc& dst, const window& w, bool is_max, bool include) {
  const auto& xd = val(x).dims;
  const auto& yd = val(y).dims;
  using ft = memory::format_tag;
  if (xd.size() != 4 || xd[0] != 1 || xd[1] % 8 != 0 || src.kind != ref_kind::value) return false;
  if (src.md != memory::desc(to_dims(xd), memory::data_type::f32, ft::aBcd8b) ||
      dst != memory::desc(to_dims(yd), memory::data_type::f32, ft::aBcd8b))
    return false;
  if (w.dilation[0] != 0 || w.dilation[1] != 0) return false;
  const pool_geometry g{xd[1] / 8, xd[2], xd[3], yd[2], yd[3], w.kernel[0], w.kernel[1],
                        w.strides[0], w.strides[1], w.pad_l[0], w.pad_l[1]};
  produce(DNNL_ARG_DST, y, dst);
  program* prog = &p_;
  step s;
  s.fn = [prog, g, x, y, is_max, include] {
    pool_blocked8(g, reinterpret_cast<const float*>(prog->data(x)),
                  reinterpret_cast<float*>(prog->data(y)), is_max, include);
  };
  k.steps.push_back(std::move(s));
  k.what += " (loops)";
  (void)n;
  return true;
}

}  // namespace dfgpar::onednn::detail
