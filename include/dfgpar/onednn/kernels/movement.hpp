#pragma once
/// \file movement.hpp
/// Data movement: Transpose and Slice (reorders through strided views), Resize
/// / Upsample (resampling), Pad (plain C++), and views (Flatten, Reshape,
/// Squeeze, Unsqueeze, Identity, Dropout). Members of `detail::builder`
/// (kernels.hpp), defined here; one place per operator rule.

#include <dfgpar/onednn/kernels.hpp>
#include <dfgpar/onnx/args/pad.hpp>
#include <dfgpar/onnx/args/resize.hpp>

namespace dfgpar::onednn::detail {

/// Transpose as one oneDNN reorder: the input read through a descriptor of
/// the output's dimensions with the input's strides permuted, written in
/// plain layout (the evaluator's element loop took 2.5 ms for each of
/// M-LSD's two transposes of its 320 x 320 x 4 input, on one thread). False
/// when the permutation is not one (the evaluator refuses it, naming it).
inline bool builder::transpose(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  onnx::attribute_reader r(n);
  const int x = index_of(n.input(0)), y = index_of(n.output(0));
  const std::vector<std::int64_t> xd = dims_of(n, x);
  const std::vector<std::int64_t> yd = dims_of(n, y);
  const std::size_t rank = xd.size();
  std::vector<std::int64_t> perm = r.get_ints("perm", {});
  if (perm.empty())
    for (std::size_t i = rank; i-- > 0;) perm.push_back(static_cast<std::int64_t>(i));
  if (!r.all_read() || rank < 1 || rank > 6 || perm.size() != rank || yd.size() != rank ||
      onnx::element_count(xd) == 0)
    return false;
  std::vector<bool> seen(rank, false);
  for (std::size_t i = 0; i < rank; ++i) {
    if (perm[i] < 0 || perm[i] >= static_cast<std::int64_t>(rank) || seen[static_cast<std::size_t>(perm[i])] ||
        yd[i] != xd[static_cast<std::size_t>(perm[i])])
      return false;
    seen[static_cast<std::size_t>(perm[i])] = true;
  }
  const auto x_strides = onnx::detail::strides_of(xd);
  memory::dims strides(rank);
  for (std::size_t i = 0; i < rank; ++i)
    strides[i] = static_cast<memory::dim>(x_strides[static_cast<std::size_t>(perm[i])]);
  reorder_through(v, k, x, xd, memory::desc(to_dims(yd), memory::data_type::f32, strides), y, yd);
  return true;
}

/// One reorder that reads the plain input `x` (dims `xd`) through `view`,
/// a descriptor of the same bytes (permuted strides, a sub-memory), into a
/// plain output `y` (dims `yd`): Transpose and Slice.
inline void builder::reorder_through(std::size_t v, kernel& k, int x, const std::vector<std::int64_t>& xd,
                                     const memory::desc& view, int y, const std::vector<std::int64_t>& yd) {
  const memory::desc out = plain_md(yd);
  arg_ref src = want(k, v, DNNL_ARG_FROM, x, plain_md(xd));
  src.md = view;
  const dnnl::reorder::primitive_desc pd(p_.engine, view, p_.engine, out);
  add_primitive(k, dnnl::reorder(pd), pd, {src, produce(DNNL_ARG_TO, y, out)});
}

/// Slice with steps of 1 as one oneDNN reorder from a sub-memory of the
/// input (M-LSD's two slices of its input took 2.6 ms of 52 on the
/// evaluator). False (the evaluator runs it) for other steps, bounds that
/// are not constants, or an opset-9 Slice.
inline bool builder::slice(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  if (opset_ < 10 || n.input_size() < 3 || n.attribute_size() != 0) return false;
  const int x = index_of(n.input(0)), y = index_of(n.output(0));
  const std::vector<std::int64_t> xd = dims_of(n, x);
  const std::vector<std::int64_t> yd = dims_of(n, y);
  const std::size_t rank = xd.size();
  auto ints = [&](int i, std::vector<std::int64_t>& out) {
    if (n.input_size() <= i || n.input(i).empty()) return true;  // absent: the default
    if (!is_const(n.input(i))) return false;
    const onnx::tensor& t = const_value(index_of(n.input(i)));
    out.clear();
    if (t.elem_type == tp::INT64) out = t.values<std::int64_t>();
    else if (t.elem_type == tp::INT32)
      for (std::int32_t e : t.values<std::int32_t>()) out.push_back(e);
    else return false;
    return true;
  };
  std::vector<std::int64_t> starts, ends, axes, steps;
  if (!ints(1, starts) || !ints(2, ends) || !ints(3, axes) || !ints(4, steps)) return false;
  if (axes.empty())
    for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (rank < 1 || rank > 6 || yd.size() != rank || starts.size() != ends.size() || axes.size() != starts.size() ||
      steps.size() != starts.size() || onnx::element_count(yd) == 0)
    return false;
  memory::dims offsets(rank, 0), size = to_dims(xd);
  std::vector<bool> seen(rank, false);
  for (std::size_t j = 0; j < axes.size(); ++j) {
    std::int64_t a = axes[j] < 0 ? axes[j] + static_cast<std::int64_t>(rank) : axes[j];
    if (a < 0 || a >= static_cast<std::int64_t>(rank) || seen[static_cast<std::size_t>(a)] || steps[j] != 1) return false;
    seen[static_cast<std::size_t>(a)] = true;
    const std::int64_t d = xd[static_cast<std::size_t>(a)];
    auto clamp = [d](std::int64_t e) { return std::clamp(e < 0 ? (e < -d ? 0 : e + d) : e, std::int64_t{0}, d); };
    const std::int64_t b = clamp(starts[j]), e = clamp(ends[j]);
    offsets[static_cast<std::size_t>(a)] = b;
    size[static_cast<std::size_t>(a)] = std::max<std::int64_t>(e - b, 0);
  }
  if (size != to_dims(yd)) return false;  // what shape inference said: trust neither silently
  reorder_through(v, k, x, xd, plain_md(xd).submemory_desc(size, offsets), y, yd);
  return true;
}

/// Resize as a oneDNN resampling where its formula is ONNX's: nearest with
/// asymmetric coordinates and floor rounding (or the legacy rule) at whole
/// upsampling factors (oneDNN takes round((o + 0.5) / F - 0.5), which is
/// floor(o / F) for a whole F), and linear with half_pixel coordinates
/// (pytorch_half_pixel where every output size exceeds 1): oneDNN's
/// (o + 0.5) * in / out - 0.5 with the edges clamped, as ONNX's when the
/// scale is out / in. Everything else goes to the evaluator.
inline void builder::resize(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  onnx::attribute_reader r(n);
  const auto ra = onnx::read_resize(n, r, opset_, known_inputs(n));
  const int x = index_of(n.input(0)), y = index_of(n.output(0));
  const auto& xd = dims_of(n, x);
  const auto& yd = dims_of(n, y);
  const std::size_t rank = xd.size();
  // scales or sizes computed at run time: the static output shape says
  // what they must be, and a step checks it before each run's resampling
  const bool checked = ra.scales.at_run_time() || ra.sizes.at_run_time();
  bool ok = r.all_read() && rank >= 3 && rank <= 5 && yd.size() == rank && yd[0] == xd[0] && yd[1] == xd[1] &&
            !ra.axes && ra.keep_aspect_ratio_policy == "stretch" && (ra.scales.known() || ra.sizes.known() || checked);
  if (ok && ra.scales.known()) {
    const auto& sc = *ra.scales.value;
    ok = sc.size() == rank;
    for (std::size_t i = 0; ok && i < rank; ++i) ok = sc[i] * static_cast<double>(xd[i]) == static_cast<double>(yd[i]);
  }
  if (ok && ra.sizes.known()) ok = *ra.sizes.value == yd;
  // run-time scales: only whole upsampling factors, where floor(in * scale) = out
  // leaves no other scale that a usual model gives (the step still checks it)
  for (std::size_t i = 0; ok && ra.scales.at_run_time() && i < rank; ++i) ok = xd[i] > 0 && yd[i] % xd[i] == 0;
  dnnl::algorithm alg = dnnl::algorithm::resampling_nearest;
  if (ok && ra.mode == "nearest") {
    // half_pixel at a whole factor F: (o + 0.5) / F - 0.5 is never a tie, and rounds to floor(o / F)
    const auto& ctm = ra.coordinate_transformation_mode;
    const bool round = ra.nearest_mode == "round_prefer_floor" || ra.nearest_mode == "round_prefer_ceil";
    ok = ra.legacy || (ctm == "asymmetric" && ra.nearest_mode == "floor") ||
         ((ctm == "half_pixel" || ctm == "pytorch_half_pixel") && round);
    for (std::size_t i = 2; ok && i < rank; ++i) ok = yd[i] % xd[i] == 0 && (ctm != "pytorch_half_pixel" || yd[i] > 1);
  } else if (ok && ra.mode == "linear" && !ra.legacy) {
    alg = dnnl::algorithm::resampling_linear;
    const auto& ctm = ra.coordinate_transformation_mode;
    ok = ctm == "half_pixel" || ctm == "pytorch_half_pixel";
    for (std::size_t i = 2; ok && i < rank; ++i) ok = ctm == "half_pixel" || yd[i] > 1;
  } else {
    ok = false;
  }
  if (!ok) return fallback(v, n, k);
  for (int i = 1; i < n.input_size(); ++i)
    if (!n.input(i).empty()) read_by_[v].push_back(index_of(n.input(i)));
  if (checked) {
    const bool by_scales = ra.scales.at_run_time();
    const int a = index_of(n.input(by_scales ? ra.scales.input : ra.sizes.input));
    if (val(a).elem_type != (by_scales ? tp::FLOAT : tp::INT64) || onnx::element_count(dims_of(n, a)) != rank)
      return fallback(v, n, k);
    program* prog = &p_;
    const ::onnx::NodeProto* node = &n;
    step st;
    st.fn = [prog, node, a, by_scales, xd, yd] {
      const std::byte* p = prog->data(a);
      for (std::size_t i = 0; i < xd.size(); ++i) {
        const bool same = by_scales ? static_cast<double>(reinterpret_cast<const float*>(p)[i]) * static_cast<double>(xd[i]) ==
                                          static_cast<double>(yd[i])
                                    : reinterpret_cast<const std::int64_t*>(p)[i] == yd[i];
        if (!same)
          throw graph_error("dfgpar: " + onnx::detail::node_where(*node) +
                            ": its scales or sizes at run time disagree with the output shape prepared at load");
      }
    };
    k.steps.push_back(std::move(st));
  }
  const auto src = as_is(v, DNNL_ARG_SRC, x);
  const memory::desc dst_any(to_dims(yd), memory::data_type::f32, o_.blocked ? memory::format_tag::any : plain_tag(rank));
  dnnl::resampling_forward::primitive_desc pd({dnnl::prop_kind::forward_inference, alg, src.md, dst_any},
                                              scratch_attr(), p_.engine);
  add_primitive(k, dnnl::resampling_forward(pd), pd, {src, produce(DNNL_ARG_DST, y, pd.dst_desc())});
}

/// Pad of a float32 tensor with known pads (constant, edge or reflect;
/// negative pads crop) in plain C++: per axis a table of the input index
/// each output index copies (-1: the constant), walked row by row.
inline void builder::pad(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  onnx::attribute_reader a(n);
  const auto pa = onnx::read_pad(n, a, opset_, known_inputs(n));
  if (!a.all_read() || !pa.pads.known() || !pa.value.known() || pa.axes.at_run_time() ||
      (pa.mode != "constant" && pa.mode != "edge" && pa.mode != "reflect"))
    return fallback(v, n, k);
  const int x = index_of(n.input(0)), y = index_of(n.output(0));
  const std::vector<std::int64_t> xd = dims_of(n, x), yd = dims_of(n, y);
  const std::size_t rank = xd.size();
  const auto pads = onnx::full_pads(n, pa, static_cast<std::int64_t>(rank));
  if (rank == 0) return fallback(v, n, k);
  std::vector<std::vector<std::int64_t>> from(rank);
  for (std::size_t d = 0; d < rank; ++d) {
    if (yd[d] != xd[d] + pads[d] + pads[rank + d]) refuse(n, "the output shape disagrees with the pads");
    const std::int64_t len = xd[d];
    for (std::int64_t o = 0; o < yd[d]; ++o) {
      std::int64_t i = o - pads[d];
      if (i < 0 || i >= len) {
        if (pa.mode == "constant") i = -1;
        else if (len == 0) return fallback(v, n, k);
        else if (pa.mode == "edge") i = std::clamp<std::int64_t>(i, 0, len - 1);
        else if (len == 1) i = 0;
        else
          while (i < 0 || i >= len) i = i < 0 ? -i : 2 * (len - 1) - i;
      }
      from[d].push_back(i);
    }
  }
  for (int i = 1; i < n.input_size(); ++i)
    if (!n.input(i).empty()) read_by_[v].push_back(index_of(n.input(i)));
  const arg_ref in = want(k, v, 0, x, plain_md(xd));
  produce(0, y, plain_md(yd));
  std::vector<std::int64_t> in_stride(rank, 1);
  for (std::size_t d = rank - 1; d > 0; --d) in_stride[d - 1] = in_stride[d] * xd[d];
  const auto fill = static_cast<float>(*pa.value.value);
  const std::size_t total = onnx::element_count(yd);
  program* prog = &p_;
  step s;
  s.fn = [prog, in, x, y, from, in_stride, fill, total, rank] {
    const auto* src = reinterpret_cast<const float*>(in.kind == ref_kind::temp ? prog->temps[in.index].ptr
                                                                                : prog->data(x));
    auto* dst = reinterpret_cast<float*>(prog->data(y));
    std::vector<std::size_t> idx(rank, 0);
    const auto& last = from[rank - 1];
    for (std::size_t o = 0; o < total; o += last.size()) {
      // the offset of the row's outer indices, or -1 when one of them is padding
      std::int64_t base = 0;
      for (std::size_t d = 0; d + 1 < rank && base >= 0; ++d) {
        const std::int64_t i = from[d][idx[d]];
        base = i < 0 ? -1 : base + i * in_stride[d];
      }
      for (std::size_t j = 0; j < last.size(); ++j)
        dst[o + j] = base < 0 || last[j] < 0 ? fill : src[base + last[j]];
      for (std::size_t d = rank - 1; d-- > 0;) {  // next row
        if (++idx[d] < from[d].size()) break;
        idx[d] = 0;
      }
    }
  };
  k.steps.push_back(std::move(s));
  k.what += " (plain C++)";
}

/// Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout: the output is
/// the input's buffer in other dimensions (a reorder first when the input
/// is not plain).
inline void builder::view(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  const int x = index_of(n.input(0)), y = index_of(n.output(0));
  dims_of(n, x);
  const auto& yd = dims_of(n, y);
  if (n.op_type() == "Dropout") {  // inference only: a ratio or training mode input changes nothing unless training
    if (n.input_size() > 2 && !n.input(2).empty()) {
      if (!is_const(n.input(2))) refuse(n, "training_mode must be a constant");
      if (const_value(index_of(n.input(2))).as_double(0) != 0) refuse(n, "training mode is not supported");
    }
  }
  auto& xv = val(x);
  const bool f32 = xv.elem_type == tp::FLOAT;
  if (xv.constant || (f32 && !is_plain(xv.md)) || val(x).virtual_) {
    if (!f32) return fallback(v, n, k);
    // a copy (and reorder) into the output's own buffer
    const auto in_plain = plain_md(xv.dims);
    step s;
    s.prim = dnnl::reorder(dnnl::reorder::primitive_desc(p_.engine, xv.md, p_.engine, in_plain));
    read_by_[v].push_back(x);
    produce(DNNL_ARG_TO, y, plain_md(yd));
    if (xv.constant) {
      const auto& t = const_value(x);
      s.args = {{DNNL_ARG_FROM, ref_kind::weight, make_weight(t.values<float>(), xv.md), xv.md},
                {DNNL_ARG_TO, ref_kind::value, static_cast<std::size_t>(y), in_plain}};
    } else {
      s.args = {{DNNL_ARG_FROM, ref_kind::value, static_cast<std::size_t>(x), xv.md},
                {DNNL_ARG_TO, ref_kind::value, static_cast<std::size_t>(y), in_plain}};
    }
    s.reorder = !is_plain(xv.md);
    k.steps.push_back(std::move(s));
    k.what += " (copy)";
    return;
  }
  read_by_[v].push_back(x);
  auto& yv = val(y);
  yv.alias_of = x;
  yv.md = f32 ? plain_md(yd) : memory::desc();
  yv.bytes = xv.bytes;
  k.what += " (view)";
}

}  // namespace dfgpar::onednn::detail
