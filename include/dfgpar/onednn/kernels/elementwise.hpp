#pragma once
/// \file elementwise.hpp
/// Element-wise operators: unary (eltwise), chains of linear ops, Log on plain
/// tensors, Clip with run-time bounds, binary ops with broadcasting, Sum.
/// Members of `detail::builder` (kernels.hpp), defined here; one place per
/// operator rule.

#include <dfgpar/onednn/kernels.hpp>
#include <dfgpar/onnx/args/clip.hpp>

namespace dfgpar::onednn::detail {

// binary's rules for a per-channel second source on a blocked layout

/// The dimensions [1, C, 1, ...] of a second source of dimensions `bd`
/// (padded to the output's rank) that is per channel on `yd` (or one
/// element, when only a constant can be repeated), or nullopt.
inline std::optional<std::vector<std::int64_t>> per_channel(const std::vector<std::int64_t>& yd,
                                                           const std::vector<std::int64_t>& bd) {
  if (yd.size() < 3 || bd.size() != yd.size()) return std::nullopt;
  for (std::size_t i = 0; i < bd.size(); ++i)
    if (i != 1 && bd[i] != 1) return std::nullopt;
  if (bd[1] != 1 && bd[1] != yd[1]) return std::nullopt;
  auto pc = std::vector<std::int64_t>(yd.size(), 1);
  pc[1] = yd[1];
  return pc;
}

/// The channel-blocked format tag `md` has (aBcd8b, aBcd16b, ... for ranks
/// 3 to 5), or nullopt for any other layout.
inline std::optional<memory::format_tag> tag_of(const memory::desc& md) {
  using ft = memory::format_tag;
  const auto dims = md.dims();
  const std::vector<ft> tags = dims.size() == 3   ? std::vector<ft>{ft::aBc8b, ft::aBc16b, ft::aBc4b}
                               : dims.size() == 4 ? std::vector<ft>{ft::aBcd8b, ft::aBcd16b, ft::aBcd4b}
                               : dims.size() == 5 ? std::vector<ft>{ft::aBcde8b, ft::aBcde16b, ft::aBcde4b}
                                                  : std::vector<ft>{};
  for (ft t : tags)
    if (memory::desc(dims, md.data_type(), t) == md) return t;
  return std::nullopt;
}

/// Two or more Add / Sub / Mul / Div by one-element constants in a row (the
/// x c + d after each hardswish in PP-LCNet) as one eltwise_linear
/// primitive: one pass over the tensor, not one per node. False when `n`
/// starts no such chain.
inline bool builder::linear_chain(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  if (!o_.fuse || n.input_size() != 2 || n.output_size() != 1) return false;
  const std::string& xname = is_const(n.input(0)) ? n.input(1) : n.input(0);
  if (is_const(xname) || !same_float_shape(xname, n.output(0))) return false;
  auto e = linear_of(n, xname);
  if (!e) return false;
  chain c;
  c.last = n.output(0);
  while (auto st = chain_step(c.last)) {
    if (st->nodes.size() != 1 || !linear_of(*node_of_[st->nodes[0]], c.last)) break;
    e->then_linear(st->op);
    c.fused.push_back(st->nodes[0]);
    c.names += "+" + st->name;
    c.last = st->out;
  }
  if (c.fused.empty()) return false;
  const int x = index_of(xname), y = index_of(n.output(0));
  const auto src = as_is(v, DNNL_ARG_SRC, x);
  dnnl::eltwise_forward::primitive_desc pd(
      {dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_linear, src.md, e->alpha, e->beta}, scratch_attr(),
      p_.engine);
  k.what += c.names + " (one linear)";
  add_primitive(k, dnnl::eltwise_forward(pd), pd, {src, produce(DNNL_ARG_DST, y, pd.dst_desc())});
  absorb(c, y);
  return true;
}

/// Log in plain C++ (std::log): oneDNN 2.6's eltwise_log (jit:avx2) is off
/// by up to about 10 ulp (log(1) = -1.4e-6), outside the ONNX backend
/// suite's tolerance (atol 1e-7).
inline void builder::plain_log(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  const int x = index_of(n.input(0)), y = index_of(n.output(0));
  const std::vector<std::int64_t> dims = dims_of(n, x);
  const arg_ref in = want(k, v, 0, x, plain_md(dims));
  produce(0, y, plain_md(dims_of(n, y)));
  const std::size_t count = onnx::element_count(dims);
  program* prog = &p_;
  step s;
  s.fn = [prog, in, x, y, count] {
    const std::byte* src = in.kind == ref_kind::temp ? prog->temps[in.index].ptr
                                                     : prog->data(x);
    const auto* a = reinterpret_cast<const float*>(src);
    auto* b = reinterpret_cast<float*>(prog->data(y));
    for (std::size_t i = 0; i < count; ++i) b[i] = std::log(a[i]);
  };
  k.steps.push_back(std::move(s));
  k.what += " (plain C++)";
}

inline void builder::eltwise(std::size_t v, const ::onnx::NodeProto& n, kernel& k, const eltwise_op& e) {
  const int x = index_of(n.input(0)), y = index_of(n.output(0));
  dims_of(n, x);
  const auto src = as_is(v, DNNL_ARG_SRC, x);
  dnnl::eltwise_forward::primitive_desc pd(
      {dnnl::prop_kind::forward_inference, e.alg, src.md, e.alpha, e.beta}, scratch_attr(), p_.engine);
  const arg_ref dst = produce(DNNL_ARG_DST, y, pd.dst_desc());
  add_primitive(k, dnnl::eltwise_forward(pd), pd, {src, dst});
  if (!e.two_step) return;
  // the second step in place, as a primitive of its own: oneDNN 2.6's
  // reference eltwise (the one it picks for a few elements) leaves an
  // eltwise post-op's output at 0 (test_hardsigmoid_example: 3 elements)
  dnnl::eltwise_forward::primitive_desc pd2(
      {dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_clip, dst.md, e.then_alpha, e.then_beta},
      scratch_attr(), p_.engine);
  add_primitive(k, dnnl::eltwise_forward(pd2), pd2, {{DNNL_ARG_SRC, dst.kind, dst.index, dst.md}, dst});
}

/// Clip with a bound computed at run time: max(x, min), then min(., max),
/// each a binary primitive whose second source is the one-element bound
/// (a constant bound is read the same way).
inline void builder::clip_by_binary(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  if (opset_ < 11 || n.attribute_size() != 0) return fallback(v, n, k);
  const int x = index_of(n.input(0)), y = index_of(n.output(0));
  const auto& xd = dims_of(n, x);
  const memory::desc one = plain_md(std::vector<std::int64_t>(xd.size(), 1));
  arg_ref src0 = as_is(v, DNNL_ARG_SRC_0, x);
  bool first = true;
  memory::desc out;
  for (int i : {1, 2}) {
    if (n.input_size() <= i || n.input(i).empty()) continue;
    const int b = index_of(n.input(i));
    if (onnx::element_count(dims_of(n, b)) != 1) refuse(n, "a bound must have one element");
    arg_ref src1 = want(k, v, DNNL_ARG_SRC_1, b, plain_md(val(b).dims));
    src1.md = one;
    const auto alg = i == 1 ? dnnl::algorithm::binary_max : dnnl::algorithm::binary_min;
    std::optional<dnnl::binary::primitive_desc> pd;
    try {
      pd.emplace(dnnl::binary::desc(alg, src0.md, one, src0.md), scratch_attr(), p_.engine);
    } catch (const dnnl::error&) {  // a blocked source with a broadcast bound: in plain layout
      src0 = want(k, v, DNNL_ARG_SRC_0, x, plain_md(xd));
      pd.emplace(dnnl::binary::desc(alg, src0.md, one, src0.md), scratch_attr(), p_.engine);
    }
    arg_ref dst = first ? produce(DNNL_ARG_DST, y, pd->dst_desc())
                        : arg_ref{DNNL_ARG_DST, ref_kind::value, static_cast<std::size_t>(y), pd->dst_desc()};
    add_primitive(k, dnnl::binary(*pd), *pd, {src0, src1, dst});
    src0 = {DNNL_ARG_SRC_0, ref_kind::value, static_cast<std::size_t>(y), pd->dst_desc()};  // in place next
    first = false;
  }
  if (first) return view(v, n, k);  // no bound at all
  k.what += " (binary max/min)";
}

inline void builder::binary(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  onnx::attribute_reader r(n);
  if (opset_ < 7 && r.has("broadcast")) refuse(n, "legacy broadcasting (attribute 'broadcast') is not supported");
  r.require_all_read();
  const std::string& op = n.op_type();
  int a = index_of(n.input(0)), b = index_of(n.input(1));
  const int y = index_of(n.output(0));
  const auto& yd = dims_of(n, y);
  dims_of(n, a);
  dims_of(n, b);
  const bool commutative = op == "Add" || op == "Mul" || op == "Max" || op == "Min";
  // oneDNN broadcasts only the second source
  if ((val(a).dims != yd || val(a).constant) && val(b).dims == yd && !val(b).constant) {
    if (!commutative) return fallback(v, n, k);
    std::swap(a, b);
  }
  if (val(a).dims != yd) return fallback(v, n, k);
  using al = dnnl::algorithm;
  const al alg = op == "Add" ? al::binary_add : op == "Sub" ? al::binary_sub : op == "Mul" ? al::binary_mul
               : op == "Div" ? al::binary_div : op == "Max" ? al::binary_max : al::binary_min;
  auto bd = val(b).dims;
  bd.insert(bd.begin(), yd.size() - bd.size(), 1);
  auto src0 = val(a).constant ? want(k, v, DNNL_ARG_SRC_0, a, val(a).md) : as_is(v, DNNL_ARG_SRC_0, a);
  arg_ref src1;
  const auto blocked_tag = tag_of(src0.md);  // nullopt for a plain layout
  // a second source of lower rank (a [C] bias on [N, C]) is read in its own
  // dimensions, then seen in the output's rank: a reorder between ranks does not exist
  if (bd == yd && val(b).dims.size() == yd.size()) {
    src1 = want(k, v, DNNL_ARG_SRC_1, b, src0.md);
  } else if (auto pc = per_channel(yd, bd); pc && blocked_tag && (val(b).constant || (bd == *pc && bd == val(b).dims))) {
    // A per-channel or one-element second source on a blocked first one:
    // oneDNN 2.6 runs that broadcast in its JIT only with both sources in
    // the same blocked layout, and a one-element one never (its reference
    // binary took 80 ns an element: 10.7 s a run of ppocr_v4_det, 0.14 s
    // after). So it is read as [1, C, 1, ...] in the first's layout, a
    // constant one-element operand repeated over the channels.
    const memory::desc md(to_dims(*pc), memory::data_type::f32, *blocked_tag);
    if (val(b).constant) {
      std::vector<float> values = const_value(b).values<float>();
      if (values.size() == 1) values.assign(static_cast<std::size_t>((*pc)[1]), values[0]);
      src1 = {DNNL_ARG_SRC_1, ref_kind::weight, make_weight(values, plain_md(*pc), &md), md};
      read_by_[v].push_back(b);
    } else {
      src1 = want(k, v, DNNL_ARG_SRC_1, b, md);  // same rank, so a reorder exists
    }
    k.what += " (per channel, blocked)";
  } else {
    src1 = want(k, v, DNNL_ARG_SRC_1, b, plain_md(val(b).dims));
    src1.md = plain_md(bd);
  }
  std::optional<dnnl::binary::primitive_desc> pd;
  try {
    pd.emplace(dnnl::binary::desc(alg, src0.md, src1.md, src0.md), scratch_attr(), p_.engine);
  } catch (const dnnl::error&) {  // a blocked first source with a broadcast second: in plain layout
    src0 = want(k, v, DNNL_ARG_SRC_0, a, plain_md(yd));
    pd.emplace(dnnl::binary::desc(alg, src0.md, src1.md, src0.md), scratch_attr(), p_.engine);
  }
  add_primitive(k, dnnl::binary(*pd), *pd, {src0, src1, produce(DNNL_ARG_DST, y, pd->dst_desc())});
}

inline void builder::sum(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  const int y = index_of(n.output(0));
  const auto& yd = dims_of(n, y);
  std::vector<arg_ref> args;
  std::vector<memory::desc> mds;
  memory::desc first;
  for (int i = 0; i < n.input_size(); ++i) {
    const int x = index_of(n.input(i));
    if (dims_of(n, x) != yd) refuse(n, "inputs of different shapes (broadcasting) are not supported");
    if (i == 0) args.push_back(val(x).constant ? want(k, v, DNNL_ARG_MULTIPLE_SRC, x, val(x).md) : as_is(v, DNNL_ARG_MULTIPLE_SRC, x));
    else args.push_back(want(k, v, DNNL_ARG_MULTIPLE_SRC + i, x, args.front().md));
    mds.push_back(args.back().md);
  }
  if (n.input_size() == 1) return view(v, n, k);
  dnnl::sum::primitive_desc pd(std::vector<float>(mds.size(), 1.f), mds, p_.engine, scratch_attr());
  args.push_back(produce(DNNL_ARG_DST, y, pd.dst_desc()));
  add_primitive(k, dnnl::sum(pd), pd, std::move(args));
}

}  // namespace dfgpar::onednn::detail
