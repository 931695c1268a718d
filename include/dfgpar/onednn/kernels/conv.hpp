#pragma once
/// \file conv.hpp
/// Convolutions: Conv (BatchNormalization folded in, element-wise post-ops and
/// a residual Add fused), ConvTranspose, and a zero Pad folded into its
/// reader's padding. Members of `detail::builder` (kernels.hpp), defined here;
/// one place per operator rule.

#include <dfgpar/onednn/kernels.hpp>
#include <dfgpar/onnx/args/pad.hpp>

namespace dfgpar::onednn::detail {

inline void builder::conv(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  onnx::attribute_reader r(n);
  int x = index_of(n.input(0));
  const int y = index_of(n.output(0));
  const std::vector<std::int64_t> extra = take_fused_pad(v, x, k);  // a Pad folded into this Conv
  const auto& xd = dims_of(n, x);
  const auto& yd = dims_of(n, y);
  if (xd.size() < 3 || xd.size() > 5) refuse(n, "only 1-D, 2-D and 3-D convolutions are supported");
  if (n.input_size() < 2 || !is_const(n.input(1))) refuse(n, "the weights must be a constant");
  const auto& wt = const_value(index_of(n.input(1)));
  if (wt.elem_type != tp::FLOAT) refuse(n, "the weights must be float32");
  const std::int64_t group = r.get_int("group", 1);
  std::vector<std::int64_t> wd = wt.dims;
  const std::vector<std::int64_t> kernel(wd.begin() + 2, wd.end());
  if (auto ks = r.find_ints("kernel_shape"); ks && *ks != kernel) refuse(n, "kernel_shape disagrees with the weights");
  const window w = make_padded_window(n, r, xd, yd, kernel, true, extra);
  r.require_all_read();
  const std::int64_t oc = wd[0];
  if (group < 1 || oc % group != 0 || xd[1] != wd[1] * group) refuse(n, "group does not fit the channels");
  std::vector<float> weights = wt.values<float>();
  std::vector<float> bias(static_cast<std::size_t>(oc), 0.f);
  const bool has_bias = n.input_size() > 2 && !n.input(2).empty();
  if (has_bias) {
    if (!is_const(n.input(2))) refuse(n, "the bias must be a constant");
    bias = const_floats(n, n.input(2));
  }
  chain c = follow(n.output(0), true);
  if (c.bn) {  // y = (conv - mean) * gamma / sqrt(var + eps) + beta, folded per output channel
    const auto& bn = *node_of_[*c.bn];
    onnx::attribute_reader br(bn);
    const double eps = br.get_float("epsilon", 1e-5);
    const auto gamma = const_floats(bn, bn.input(1)), beta = const_floats(bn, bn.input(2)),
               mean = const_floats(bn, bn.input(3)), var = const_floats(bn, bn.input(4));
    const std::size_t per = weights.size() / static_cast<std::size_t>(oc);
    for (std::size_t o = 0; o < static_cast<std::size_t>(oc); ++o) {
      const double s = gamma[o] / std::sqrt(static_cast<double>(var[o]) + eps);
      for (std::size_t i = 0; i < per; ++i) weights[o * per + i] = static_cast<float>(weights[o * per + i] * s);
      bias[o] = static_cast<float>((bias[o] - mean[o]) * s + beta[o]);
    }
  }
  std::optional<residual> res = follow_residual(v, c.last, to_dims(yd));
  if (res && p_.root(x) == p_.root(res->operand)) res.reset();  // it would write the buffer it reads (a fused Pad)
  if (res && res->act_op && uses_algorithm(c.ops, *res->act_op)) {  // one algorithm twice: see follow
    res->act.reset();
    res->act_op.reset();
  }
  const auto f32 = memory::data_type::f32;
  const std::size_t sp = xd.size() - 2;
  memory::dims wdims;
  memory::format_tag wtag;
  using ft = memory::format_tag;
  if (group == 1) {
    wdims = to_dims(wd);
    wtag = sp == 1 ? ft::oiw : sp == 2 ? ft::oihw : ft::oidhw;
  } else {
    wdims = {group, oc / group, wd[1]};
    wdims.insert(wdims.end(), wd.begin() + 2, wd.end());
    wtag = sp == 1 ? ft::goiw : sp == 2 ? ft::goihw : ft::goidhw;
  }
  const memory::desc w_plain(wdims, f32, wtag);
  const memory::desc w_any(wdims, f32, ft::any), b_md({oc}, f32, ft::a);
  // the activations' layout: the model's (choose_conv_layout) where asked, else oneDNN's choice
  auto activation = [&](const std::vector<std::int64_t>& d, bool forced) {
    if (!o_.blocked) return plain_md(d);
    const bool whole = forced && conv_tag_ && d.size() == 4 && d[1] % 16 == 0;
    return memory::desc(to_dims(d), f32, whole ? *conv_tag_ : ft::any);
  };
  using alg = dnnl::algorithm;
  auto make_pd = [&](bool with_residual, alg a, bool forced) {
    dnnl::primitive_attr attr = scratch_attr();
    dnnl::post_ops po;
    c.append_to(po);
    if (with_residual) {
      po.append_sum(1.f);
      if (res->act_op) res->act_op->append_to(po);
    }
    attr.set_post_ops(po);
    return dnnl::convolution_forward::primitive_desc(
        {dnnl::prop_kind::forward_inference, a, activation(xd, forced), w_any, b_md,
         with_residual ? val(p_.root(res->operand)).md : activation(yd, forced), w.strides, w.dilation, w.pad_l,
         w.pad_r},
        attr, p_.engine);
  };
  // in the model's layout if it has one, else (or where no implementation takes it) oneDNN's
  auto try_pd = [&](bool with_residual, alg a) -> std::optional<dnnl::convolution_forward::primitive_desc> {
    for (const bool forced : {true, false}) {
      if (forced && !conv_tag_) continue;
      try {
        return make_pd(with_residual, a, forced);
      } catch (const dnnl::error&) {
      }
    }
    return std::nullopt;
  };
  std::optional<dnnl::convolution_forward::primitive_desc> pd_or;
  // Winograd with every fusion the direct form tries first; where oneDNN has
  // no Winograd kernel for it (the shape, the ISA, the post-ops), direct
  if (o_.winograd && o_.blocked && winograd_shape(n)) pd_or = try_pd(res.has_value(), alg::convolution_winograd);
  const bool winograd = pd_or.has_value();
  if (!pd_or && res) {
    pd_or = try_pd(true, alg::convolution_direct);
    if (!pd_or) res.reset();  // no implementation writes the operand's layout: an Add of its own
  }
  if (!pd_or && !c.ops.empty()) {
    pd_or = try_pd(false, alg::convolution_direct);
    if (!pd_or) {  // no implementation takes these post-ops: they run as nodes of their own
      c.fused.clear();
      c.ops.clear();
      c.names.clear();
    }
  }
  if (!pd_or) pd_or = try_pd(false, alg::convolution_direct);
  if (!pd_or) pd_or.emplace(make_pd(false, alg::convolution_direct, false));  // oneDNN's own error
  const auto& pd = *pd_or;
  const auto wdesc = pd.weights_desc();
  const std::size_t wi = make_weight(weights, w_plain, &wdesc);
  const std::size_t bi = make_weight(bias, b_md);
  read_by_[v].push_back(index_of(n.input(1)));
  if (c.bn) k.what += "+BatchNormalization";
  k.what += c.names;
  if (res) k.what += "+Add" + (res->act ? "+" + node_of_[*res->act]->op_type() : std::string());
  add_primitive(k, dnnl::convolution_forward(pd), pd,
                {want(k, v, DNNL_ARG_SRC, x, pd.src_desc()), {DNNL_ARG_WEIGHTS, ref_kind::weight, wi, wdesc},
                 {DNNL_ARG_BIAS, ref_kind::weight, bi, b_md}, produce(DNNL_ARG_DST, y, pd.dst_desc())});
  k.steps.back().winograd = winograd;
  if (res) {  // the Conv writes into the operand's buffer, which the Add and its consumer share
    const int root = p_.root(res->operand);
    read_by_[v].push_back(res->operand);
    val(y).alias_of = root;
    for (auto node : {std::optional<std::size_t>(res->add), res->act})
      if (node) {
        p_.kernels[*node].fused = true;
        p_.kernels[*node].what = node_of_[*node]->op_type() + " (fused)";
        const int out = index_of(node_of_[*node]->output(0));
        val(out).alias_of = root;
        val(out).md = val(root).md;
      }
  }
  absorb(c, y);
}

/// A 2-D Conv oneDNN may run with its Winograd algorithm: 3 x 3 weights
/// (a constant), stride 1, no dilation, one group. Whether it does depends
/// on the ISA and the post-ops too: `conv` tries.
inline bool builder::winograd_shape(const ::onnx::NodeProto& n) const {
  if (n.op_type() != "Conv" || n.input_size() < 2) return false;
  const auto it = initializer_.find(n.input(1));
  if (it == initializer_.end() || it->second->dims_size() != 4 || it->second->dims(2) != 3 || it->second->dims(3) != 3)
    return false;
  for (const auto& a : n.attribute()) {
    if (a.name() == "group" && a.i() != 1) return false;
    if (a.name() == "strides" || a.name() == "dilations")
      for (auto x : a.ints())
        if (x != 1) return false;
  }
  return true;
}

/// Every 4-D convolution activation whose channels fill whole blocks in
/// nChw16c when the model has a convolution that runs with Winograd: its
/// AVX-512 kernels take only nChw16c, oneDNN's direct kernels on AVX-512
/// choose nhwc (brgconv) and are as fast in nChw16c (jit), and one layout
/// throughout keeps the reorders out and the Concats in place (GoogLeNet:
/// 57 reorders and a reference Concat with each convolution choosing, 1
/// with this; bench/README.md, *Winograd*). Otherwise each convolution
/// chooses, as before.
inline void builder::choose_conv_layout() {
  if (!o_.winograd || !o_.blocked) return;
  const auto& gp = m_.proto.graph();
  if (std::none_of(gp.node().begin(), gp.node().end(), [&](const auto& n) { return winograd_shape(n); })) return;
  static const bool available = [] {  // an AVX-512 CPU: oneDNN 2.x has Winograd kernels for no other
    try {
      const dnnl::engine e(dnnl::engine::kind::cpu, 0);
      const memory::desc x({1, 16, 8, 8}, memory::data_type::f32, memory::format_tag::any);
      const memory::desc w({16, 16, 3, 3}, memory::data_type::f32, memory::format_tag::any);
      dnnl::convolution_forward::primitive_desc({dnnl::prop_kind::forward_inference,
                                                 dnnl::algorithm::convolution_winograd, x, w, x, {1, 1}, {1, 1}, {1, 1}},
                                                e);
      return true;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  if (available) conv_tag_ = memory::format_tag::nChw16c;
}

/// ConvTranspose as a oneDNN deconvolution (groups, strides, dilations,
/// pads, output_padding, output_shape, auto_pad); ONNX's weights
/// [C_in, C_out / group, k...] are oneDNN's (g)iohw layout; an element-wise
/// consumer is fused as a post-op.
inline void builder::conv_transpose(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  onnx::attribute_reader r(n);
  const int x = index_of(n.input(0)), y = index_of(n.output(0));
  const auto& xd = dims_of(n, x);
  const auto& yd = dims_of(n, y);
  if (xd.size() < 3 || xd.size() > 5) refuse(n, "only 1-D, 2-D and 3-D transposed convolutions are supported");
  // weights and bias computed at run time are read in their plain layout
  const int wv = index_of(n.input(1));
  const bool const_w = is_const(n.input(1));
  const std::vector<std::int64_t> wd = dims_of(n, wv);
  if (val(wv).elem_type != tp::FLOAT || wd.size() != xd.size()) refuse(n, "the weights must be float32 of the input's rank");
  const std::size_t sp = xd.size() - 2;
  const std::int64_t group = r.get_int("group", 1);
  const std::vector<std::int64_t> kernel(wd.begin() + 2, wd.end());
  if (auto ks = r.find_ints("kernel_shape"); ks && *ks != kernel) refuse(n, "kernel_shape disagrees with the weights");
  const auto strides = r.get_ints("strides", std::vector<std::int64_t>(sp, 1));
  const auto dil = r.get_ints("dilations", std::vector<std::int64_t>(sp, 1));
  const auto pads = r.find_ints("pads");
  const auto out_pad = r.get_ints("output_padding", std::vector<std::int64_t>(sp, 0));
  const bool out_shape = r.find_ints("output_shape").has_value();
  const std::string auto_pad = r.get_string("auto_pad", "NOTSET");
  r.require_all_read();
  if (strides.size() != sp || dil.size() != sp || out_pad.size() != sp || (pads && pads->size() != 2 * sp))
    refuse(n, "strides, dilations, pads or output_padding have the wrong length");
  const std::int64_t oc = wd[1] * group;
  if (group < 1 || xd[1] != wd[0] || wd[0] % group != 0 || yd[1] != oc) refuse(n, "group does not fit the channels");
  memory::dims st, di, pl, pr;
  for (std::size_t i = 0; i < sp; ++i) {
    const std::int64_t eff = (kernel[i] - 1) * dil[i] + 1;
    // what the pads remove: in oneDNN's terms output_padding is less padding at the end
    const std::int64_t total = strides[i] * (xd[2 + i] - 1) + out_pad[i] + eff - yd[2 + i];
    std::int64_t begin = 0;
    if (auto_pad == "SAME_UPPER") begin = total / 2;
    else if (auto_pad == "SAME_LOWER" || (auto_pad == "NOTSET" && out_shape && !pads)) begin = total - total / 2;
    else if (auto_pad == "NOTSET") begin = pads ? (*pads)[i] : 0;
    else if (auto_pad != "VALID") refuse(n, "auto_pad '" + auto_pad + "' is not supported");
    st.push_back(strides[i]);
    di.push_back(dil[i] - 1);
    pl.push_back(begin);
    pr.push_back(total - out_pad[i] - begin);
  }
  std::vector<float> bias(static_cast<std::size_t>(oc), 0.f);
  const bool has_bias = n.input_size() > 2 && !n.input(2).empty();
  const bool const_b = !has_bias || is_const(n.input(2));
  if (has_bias && const_b) {
    bias = const_floats(n, n.input(2));
    read_by_[v].push_back(index_of(n.input(2)));
  }
  const chain c = follow(n.output(0), false, true);
  dnnl::primitive_attr attr = scratch_attr();
  if (!c.ops.empty()) {
    dnnl::post_ops po;
    c.append_to(po);
    attr.set_post_ops(po);
  }
  using ft = memory::format_tag;
  const auto f32 = memory::data_type::f32;
  memory::dims wdims;
  ft wtag;
  if (group == 1) {
    wdims = {oc, wd[0]};
    wtag = sp == 1 ? ft::bac : sp == 2 ? ft::bacd : ft::bacde;
  } else {
    wdims = {group, wd[1], wd[0] / group};
    wtag = sp == 1 ? ft::acbd : sp == 2 ? ft::acbde : ft::acbdef;
  }
  wdims.insert(wdims.end(), kernel.begin(), kernel.end());
  const memory::desc w_plain(wdims, f32, wtag), w_any(wdims, f32, ft::any), b_md({oc}, f32, ft::a);
  const memory::desc src_any = o_.blocked ? memory::desc(to_dims(xd), f32, ft::any) : plain_md(xd);
  const memory::desc dst_any = o_.blocked ? memory::desc(to_dims(yd), f32, ft::any) : plain_md(yd);
  dnnl::deconvolution_forward::primitive_desc pd({dnnl::prop_kind::forward_inference,
                                                  dnnl::algorithm::deconvolution_direct, src_any,
                                                  const_w ? w_any : w_plain, b_md, dst_any, st, di, pl, pr},
                                                 attr, p_.engine);
  const auto wdesc = pd.weights_desc();
  arg_ref wa, ba;
  if (const_w) {
    wa = {DNNL_ARG_WEIGHTS, ref_kind::weight, make_weight(const_value(wv).values<float>(), w_plain, &wdesc), wdesc};
    read_by_[v].push_back(wv);
  } else {
    wa = want(k, v, DNNL_ARG_WEIGHTS, wv, plain_md(wd));
    wa.md = wdesc;
  }
  if (const_b) {
    ba = {DNNL_ARG_BIAS, ref_kind::weight, make_weight(bias, b_md), b_md};
  } else {
    const int bv = index_of(n.input(2));
    if (onnx::element_count(dims_of(n, bv)) != static_cast<std::size_t>(oc)) refuse(n, "the bias must have C_out elements");
    ba = want(k, v, DNNL_ARG_BIAS, bv, plain_md(val(bv).dims));
    ba.md = b_md;
  }
  k.what += c.names;
  add_primitive(k, dnnl::deconvolution_forward(pd), pd,
                {want(k, v, DNNL_ARG_SRC, x, pd.src_desc()), wa, ba, produce(DNNL_ARG_DST, y, pd.dst_desc())});
  absorb(c, y);
}

/// A constant zero Pad of the spatial axes whose only reader is an
/// AveragePool (counted in its average, as the padded zeros are) or a Conv
/// (its data input): folded into the reader's padding. The Pad runs nothing.
inline bool builder::pad_into_reader(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  if (!o_.fuse) return false;
  const auto r = only_reader(n.output(0));
  if (!r) return false;
  const std::string& rop = node_of_[*r]->op_type();
  const bool to_conv = rop == "Conv" && node_of_[*r]->input(0) == n.output(0);
  if (rop != "AveragePool" && !to_conv) return false;
  onnx::attribute_reader a(n);
  std::vector<const onnx::tensor*> ins;
  for (const auto& i : n.input()) ins.push_back(!i.empty() && is_const(i) ? &const_value(index_of(i)) : nullptr);
  const auto in = onnx::node_inputs::of(n, [&](std::size_t i) { return ins[i]; });
  const auto pa = onnx::read_pad(n, a, opset_, in);
  if (!a.all_read() || pa.mode != "constant" || !pa.pads.known() || !pa.value.known() || *pa.value.value != 0)
    return false;
  const int x = index_of(n.input(0));
  const auto& xd = dims_of(n, x);
  const auto pads = onnx::full_pads(n, pa, static_cast<std::int64_t>(xd.size()));
  const std::size_t rank = xd.size();
  if (rank < 3 || pads[0] || pads[1] || pads[rank] || pads[rank + 1]) return false;
  for (auto p : pads)
    if (p < 0) return false;
  // the pool must not pad on its own unless it counts its padding too; a
  // Conv's own padding is zeros as well. auto_pad would depend on the padded size.
  onnx::attribute_reader pr(*node_of_[*r]);
  const auto own = pr.get_ints("pads", {});
  const bool own_pads = std::any_of(own.begin(), own.end(), [](auto p) { return p != 0; });
  if ((!to_conv && own_pads && pr.get_int("count_include_pad", 0) == 0) || pr.get_string("auto_pad", "NOTSET") != "NOTSET")
    return false;
  std::vector<std::int64_t> sp;  // spatial begins, then ends
  for (std::size_t i = 2; i < rank; ++i) sp.push_back(pads[i]);
  for (std::size_t i = 2; i < rank; ++i) sp.push_back(pads[rank + i]);
  fused_pad_[*r] = {x, sp};
  k.fused = true;
  k.what = "Pad (folded into the " + rop + ")";
  val(index_of(n.output(0))).virtual_ = true;
  (void)v;
  return true;
}

}  // namespace dfgpar::onednn::detail
