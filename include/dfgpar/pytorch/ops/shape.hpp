#pragma once
/// \file shape.hpp
/// PyTorch translations, shape operators: Concat, Flatten, Reshape, Transpose, Squeeze/Unsqueeze, Pad, Expand,
/// Tile, Split, DepthToSpace/SpaceToDepth, Shape, Size.

#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

/// Concat; `axis` defaults to 1 before version 4 (required since).
inline void concat(op_context& c, std::int64_t default_axis) {
  check_types(c);
  std::vector<std::string> xs;
  for (std::size_t i = 0; i < c.num_inputs(); ++i)
    if (c.has_input(i)) xs.push_back(c.in(i));
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", default_axis), r);
  c.assign("torch.cat([" + join(xs) + "], " + std::to_string(axis) + ")");
}

inline void flatten(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  std::int64_t axis = c.attr_int("axis", 1);
  if (axis < -r || axis > r) c.unsupported("axis out of range");
  if (axis < 0) axis += r;
  if (auto s = c.shape(0)) {
    std::int64_t a = 1, b = 1;
    for (int d = 0; d < r; ++d) (d < axis ? a : b) *= (*s)[static_cast<std::size_t>(d)];
    c.assign("torch.reshape(" + c.in(0) + ", [" + std::to_string(a) + ", " + std::to_string(b) + "])");
  } else if (axis == 1 && r >= 2) {
    c.assign("torch.flatten(" + c.in(0) + ", 1)");
  } else {
    c.unsupported("Flatten of a tensor with unknown shape");
  }
}

/// Reshape; the shape is the `shape` attribute before version 5, input 1
/// since.
inline void reshape(op_context& c, bool shape_input) {
  check_types(c);
  std::vector<std::int64_t> shape;
  const bool allowzero = c.attr_int("allowzero", 0) != 0;
  if (shape_input && !c.constant(1)) {
    // the shape is computed: read at run time, a 0 copying the input's dimension
    const std::string x = c.in(0), s = int_list(c, 1);
    if (!allowzero) {
      const std::string k = temp(c, "k");
      c.emit("for " + k + " in range(len(" + s + ")):");
      c.emit("    if " + s + "[" + k + "] == 0:");
      c.emit("        " + s + "[" + k + "] = " + x + ".shape[" + k + "]");
    }
    c.assign("torch.reshape(" + x + ", " + s + ")");
    return;
  }
  if (!shape_input) shape = c.attr_ints("shape");
  else shape = c.constant_ints(1, "the shape");
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (shape[d] == 0 && !allowzero) {
      const auto s = c.shape(0);
      if (!s || d >= s->size()) c.unsupported("a 0 in the shape needs the input's shape, which is not known");
      shape[d] = (*s)[d];
    }
  c.assign("torch.reshape(" + c.in(0) + ", " + python_int_list(shape) + ")");
}

inline void transpose(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  std::vector<std::int64_t> perm;
  for (int d = r - 1; d >= 0; --d) perm.push_back(d);
  perm = c.attr_ints("perm", perm);
  if (static_cast<int>(perm.size()) != r) c.unsupported("perm has the wrong length");
  c.assign(c.in(0) + ".permute(" + python_int_list(perm) + ")");
}

/// Squeeze/Unsqueeze axes: the `axes` attribute before version 13, else the
/// constant input `input`.
inline std::vector<std::int64_t> axes_of(op_context& c, std::size_t input, bool axes_input, bool required) {
  if (!axes_input) {
    if (!c.has_attr("axes") && required) c.unsupported("axes missing");
    return c.attr_ints("axes");
  }
  if (!c.has_input(input)) {
    if (required) c.unsupported("axes missing");
    return {};
  }
  return c.constant_ints(input, "axes");
}

inline void unsqueeze(op_context& c, bool axes_input) {
  check_types(c);
  if (axes_input && c.has_input(1) && !c.constant(1)) {
    const std::string x = c.in(0), ax = temp(c, "axes"), a = temp(c, "a");
    c.emit(ax + " = [int(d__) % (" + x + ".dim() + " + c.in(1) + ".numel()) for d__ in " + c.in(1) + ".reshape(-1)]");
    c.emit(ax + ".sort()");
    c.assign(x);
    c.emit("for " + a + " in " + ax + ":");
    c.emit("    " + c.out(0) + " = torch.unsqueeze(" + c.out(0) + ", " + a + ")");
    return;
  }
  auto axes = axes_of(c, 1, axes_input, true);
  const int r = c.need_rank(0) + static_cast<int>(axes.size());
  for (auto& a : axes) a = normalize_axis(c, a, r);
  std::sort(axes.begin(), axes.end());
  std::string e = c.in(0);
  for (auto a : axes) e = "torch.unsqueeze(" + e + ", " + std::to_string(a) + ")";
  c.assign(e);
}

inline void squeeze(op_context& c, bool axes_input) {
  check_types(c);
  if (axes_input && c.has_input(1) && !c.constant(1)) {
    const std::string x = c.in(0), ax = temp(c, "axes"), a = temp(c, "a");
    c.emit(ax + " = [int(d__) % " + x + ".dim() for d__ in " + c.in(1) + ".reshape(-1)]");
    c.emit(ax + ".sort(reverse=True)");
    c.assign(x);
    c.emit("for " + a + " in " + ax + ":");
    c.emit("    " + c.out(0) + " = torch.squeeze(" + c.out(0) + ", " + a + ")");
    return;
  }
  auto axes = axes_of(c, 1, axes_input, false);
  if (axes.empty()) {
    c.assign("torch.squeeze(" + c.in(0) + ")");
    return;
  }
  const int r = c.need_rank(0);
  for (auto& a : axes) a = normalize_axis(c, a, r);
  std::sort(axes.rbegin(), axes.rend());
  std::string e = c.in(0);
  for (auto a : axes) e = "torch.squeeze(" + e + ", " + std::to_string(a) + ")";
  c.assign(e);
}

/// F.pad's value (a float in TorchScript, converted to the tensor's type):
/// refused where a double cannot hold an integer exactly.
inline std::string pad_value(op_context& c, double v) {
  if (!is_float_type(c.elem_type(0)) && std::abs(v) > 9007199254740992.0) c.unsupported("an integer pad value beyond 2^53");
  return python_float(v);
}

/// Pad with mode edge or reflect as an index_select per dimension (any rank,
/// type and sign of the pads; reflect needs pads below the dimension).
inline void pad_by_index(op_context& c, const std::string& mode, int r, const std::string& pads) {
  const std::string x = c.in(0), o = c.out(0), p = temp(c, "pads"), n = temp(c, "n"), i = temp(c, "i");
  c.emit(p + " = " + pads);
  c.assign(x);
  for (int d = 0; d < r; ++d) {
    const std::string ds = std::to_string(d);
    c.emit(n + " = " + o + ".shape[" + ds + "]");
    c.emit(i + " = torch.arange(-" + p + "[" + ds + "], " + n + " + " + p + "[" + std::to_string(d + r) + "], device=" + x +
           ".device)");
    if (mode == "edge") c.emit(i + " = torch.clamp(" + i + ", 0, " + n + " - 1)");
    else {
      // reflect: -i before the start, 2 (n - 1) - i after the end
      c.emit(i + " = torch.abs(torch.sub(torch.abs(" + i + "), " + n + " - 1))");
      c.emit(i + " = torch.rsub(" + i + ", " + n + " - 1)");
    }
    c.emit(o + " = torch.index_select(" + o + ", " + ds + ", " + i + ")");
  }
}

/// Pad (opset >= 11) whose pads or value are computed at run time.
inline void pad_runtime(op_context& c, const std::string& mode, int r) {
  if (c.has_input(3)) c.unsupported("axes with computed pads");
  if (mode == "edge" || mode == "reflect") {
    if (c.has_input(2)) c.in(2);  // the value does not matter in these modes
    pad_by_index(c, mode, r, int_list(c, 1));
    return;
  }
  if (mode != "constant") c.unsupported("mode " + python_string(mode));
  std::string value = "0.0";
  if (c.has_input(2)) {
    if (const auto* v = c.constant(2)) {
      if (v->size() != 1) c.unsupported("constant_value must be a scalar");
      value = pad_value(c, v->as_double(0));
    } else {
      if (!is_float_type(c.elem_type(0))) c.unsupported("a computed constant_value on a non-float tensor");
      value = "float(" + c.in(2) + ".reshape(-1)[0])";
    }
  }
  // ONNX [b0, b1, ..., e0, e1, ...] -> F.pad's [b_last, e_last, ..., b0, e0]
  if (c.constant(1)) {
    auto pads = c.constant(1)->to_int64();
    if (static_cast<int>(pads.size()) != 2 * r) c.unsupported("pads has the wrong length");
    std::vector<std::int64_t> p;
    for (int d = r - 1; d >= 0; --d) {
      p.push_back(pads[static_cast<std::size_t>(d)]);
      p.push_back(pads[static_cast<std::size_t>(d + r)]);
    }
    c.assign("F.pad(" + c.in(0) + ", " + python_int_list(p) + ", 'constant', " + value + ")");
    return;
  }
  const std::string pt = temp(c, "pads_t"), pl = temp(c, "pads");
  c.emit(pt + " = " + c.in(1) + ".reshape(2, " + std::to_string(r) + ").flip(1).t().reshape(-1)");
  c.emit(pl + " = [int(d__) for d__ in " + pt + "]");
  c.assign("F.pad(" + c.in(0) + ", " + pl + ", 'constant', " + value + ")");
}

/// Pad; pads and value are attributes before version 11, inputs since
/// (axes, input 3, since version 18).
inline void pad(op_context& c, bool pads_input) {
  check_types(c);
  const std::string mode = c.attr_string("mode", "constant");
  const int r = c.need_rank(0);
  std::vector<std::int64_t> pads;
  double value = 0;
  std::string value_expr;
  if (pads_input && (!c.constant(1) || (c.has_input(2) && !c.constant(2)))) {
    pad_runtime(c, mode, r);
    return;
  }
  if (!pads_input) {
    pads = c.attr_ints("pads");
    value = c.attr_float("value", 0.0);
  } else {
    pads = c.constant_ints(1, "pads");
    if (c.has_input(2)) {
      const auto* v = c.constant(2);
      if (!v || v->size() != 1) c.unsupported("constant_value must be a constant scalar");
      value = v->as_double(0);
    }
    if (c.has_input(3)) {
      // axes (opset 18): pads then cover only those axes
      auto axes = c.constant_ints(3, "axes");
      std::vector<std::int64_t> full(2 * static_cast<std::size_t>(r), 0);
      if (pads.size() != 2 * axes.size()) c.unsupported("pads and axes lengths disagree");
      for (std::size_t k = 0; k < axes.size(); ++k) {
        const auto a = static_cast<std::size_t>(normalize_axis(c, axes[k], r));
        full[a] = pads[k];
        full[a + static_cast<std::size_t>(r)] = pads[k + axes.size()];
      }
      pads = full;
    }
  }
  if (static_cast<int>(pads.size()) != 2 * r) c.unsupported("pads has the wrong length");
  // trailing dimensions that are not padded can be left out of F.pad's list
  int last = 0;
  for (int d = 0; d < r; ++d)
    if (pads[static_cast<std::size_t>(d)] != 0 || pads[static_cast<std::size_t>(d + r)] != 0) last = std::max(last, r - d);
  std::vector<std::int64_t> p;
  for (int d = r - 1; d >= r - last; --d) {
    p.push_back(pads[static_cast<std::size_t>(d)]);
    p.push_back(pads[static_cast<std::size_t>(d + r)]);
  }
  if (p.empty()) {
    c.assign(c.in(0));
    return;
  }
  if (mode == "constant") {
    c.assign("F.pad(" + c.in(0) + ", " + python_int_list(p) + ", 'constant', " + pad_value(c, value) + ")");
    return;
  }
  if (mode != "reflect" && mode != "edge") c.unsupported("mode " + python_string(mode));
  bool simple = is_float_type(c.elem_type(0)) && last <= 3 && last <= r - 1;
  for (auto v : p) simple = simple && v >= 0;
  if (!simple) {
    pad_by_index(c, mode, r, python_int_list(pads));
    return;
  }
  c.assign("F.pad(" + c.in(0) + ", " + python_int_list(p) + ", '" + (mode == "edge" ? "replicate" : "reflect") + "')");
}

inline void expand(op_context& c) {
  check_types(c);
  if (!c.constant(1)) {
    // numpy broadcasting of the input with a computed shape (a stride-0 view)
    const std::string z = temp(c, "zeros");
    c.emit(z + " = torch.zeros([1], dtype=" + c.in(0) + ".dtype).expand(" + int_list(c, 1) + ")");
    c.assign("torch.broadcast_tensors(" + c.in(0) + ", " + z + ")[0]");
    return;
  }
  auto shape = c.constant_ints(1, "the shape");
  auto in = c.shape(0);
  if (!in) c.unsupported("the input shape is not known");
  const std::size_t n = std::max(shape.size(), in->size());
  std::vector<std::int64_t> out(n);
  for (std::size_t k = 0; k < n; ++k) {
    const std::int64_t a = k + in->size() >= n ? (*in)[k + in->size() - n] : 1;
    const std::int64_t b = k + shape.size() >= n ? shape[k + shape.size() - n] : 1;
    if (a != b && a != 1 && b != 1) c.unsupported("shapes that do not broadcast");
    out[k] = a == 1 ? b : a;
  }
  c.assign("torch.broadcast_to(" + c.in(0) + ", " + python_int_list(out) + ")");
}

inline void tile(op_context& c) {
  check_types(c);
  c.assign(c.in(0) + ".repeat(" + int_list(c, 1) + ")");
}

/// Split; the sizes are the `split` attribute before version 13, input 1
/// since, else the outputs' sizes.
inline void split(op_context& c, bool sizes_input) {
  check_types(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", 0), r);
  std::vector<std::int64_t> sizes;
  if (!sizes_input) sizes = c.attr_ints("split");
  else if (c.has_input(1) && !c.constant(1)) {
    std::vector<std::string> outs;
    for (std::size_t k = 0; k < c.outputs.size(); ++k) {
      if (!c.has_output(k)) c.unsupported("an unnamed output");
      outs.push_back(c.outputs[k]);
    }
    const std::string lhs = outs.size() == 1 ? outs[0] + "," : join(outs);
    c.emit(lhs + " = torch.split(" + c.in(0) + ", " + int_list(c, 1) + ", " + std::to_string(axis) + ")");
    return;
  } else if (c.has_input(1)) sizes = c.constant_ints(1, "split");
  c.attr("num_outputs");
  if (sizes.empty()) {
    for (std::size_t k = 0; k < c.outputs.size(); ++k) {
      const auto* info = c.output_info[k];
      if (!info || !info->shape_known) c.unsupported("output sizes are not known");
      sizes.push_back(info->shape[static_cast<std::size_t>(axis)]);
    }
  }
  if (sizes.size() != c.outputs.size()) c.unsupported("split sizes and outputs differ in number");
  std::vector<std::string> outs;
  for (std::size_t k = 0; k < c.outputs.size(); ++k) {
    if (!c.has_output(k)) c.unsupported("an unnamed output");
    outs.push_back(c.outputs[k]);
  }
  const std::string lhs = outs.size() == 1 ? outs[0] + "," : join(outs);
  c.emit(lhs + " = torch.split(" + c.in(0) + ", " + python_int_list(sizes) + ", " + std::to_string(axis) + ")");
}

inline void depth_to_space(op_context& c) {
  check_types(c);
  const auto s = c.shape(0);
  if (!s || s->size() != 4) c.unsupported("needs a known 4-D input shape");
  const std::int64_t bs = c.attr_int("blocksize", 0), b = (*s)[0], ch = (*s)[1], h = (*s)[2], w = (*s)[3];
  if (bs <= 0 || ch % (bs * bs) != 0) c.unsupported("bad blocksize");
  const std::string mode = c.attr_string("mode", "DCR");
  const std::string cs = std::to_string(ch / (bs * bs)), B = std::to_string(b), BS = std::to_string(bs);
  const std::string out = python_int_list(std::vector<std::int64_t>{b, ch / (bs * bs), h * bs, w * bs});
  if (mode == "DCR")
    c.assign("torch.reshape(torch.reshape(" + c.in(0) + ", [" + B + ", " + BS + ", " + BS + ", " + cs + ", " +
             std::to_string(h) + ", " + std::to_string(w) + "]).permute([0, 3, 4, 1, 5, 2]), " + out + ")");
  else if (mode == "CRD")
    c.assign("F.pixel_shuffle(" + c.in(0) + ", " + BS + ")");
  else c.unsupported("mode " + python_string(mode));
}

inline void space_to_depth(op_context& c) {
  check_types(c);
  const auto s = c.shape(0);
  if (!s || s->size() != 4) c.unsupported("needs a known 4-D input shape");
  const std::int64_t bs = c.attr_int("blocksize", 0), b = (*s)[0], ch = (*s)[1], h = (*s)[2], w = (*s)[3];
  if (bs <= 0 || h % bs || w % bs) c.unsupported("bad blocksize");
  c.assign("torch.reshape(torch.reshape(" + c.in(0) + ", " +
           python_int_list(std::vector<std::int64_t>{b, ch, h / bs, bs, w / bs, bs}) + ").permute([0, 3, 5, 1, 2, 4]), " +
           python_int_list(std::vector<std::int64_t>{b, ch * bs * bs, h / bs, w / bs}) + ")");
}

inline void shape_op(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  std::int64_t start = c.attr_int("start", 0), end = c.attr_int("end", r);
  start = std::clamp<std::int64_t>(start < 0 ? start + r : start, 0, r);
  end = std::clamp<std::int64_t>(end < 0 ? end + r : end, 0, r);
  c.assign("torch.tensor(" + c.in(0) + ".shape[" + std::to_string(start) + ":" + std::to_string(std::max(start, end)) +
           "], dtype=torch.int64)");
}

}  // namespace detail

/// Shapes: concatenation, reshaping, transposition, squeezing, padding,
/// broadcasting, tiling, splitting and the shape itself.
inline void add_shape_translations(op_registry& r) {
  using namespace detail;
  r.add("Concat", 1, [](op_context& c) { concat(c, 1); });
  r.add("Concat", 4, [](op_context& c) { concat(c, 0); });
  r.add("Flatten", 1, flatten);
  r.add("Reshape", 1, [](op_context& c) { reshape(c, false); });
  r.add("Reshape", 5, [](op_context& c) { reshape(c, true); });
  r.add("Transpose", 1, transpose);
  r.add("Squeeze", 1, [](op_context& c) { squeeze(c, false); });
  r.add("Squeeze", 13, [](op_context& c) { squeeze(c, true); });
  r.add("Unsqueeze", 1, [](op_context& c) { unsqueeze(c, false); });
  r.add("Unsqueeze", 13, [](op_context& c) { unsqueeze(c, true); });
  r.add("Pad", 1, [](op_context& c) { pad(c, false); });
  r.add("Pad", 11, [](op_context& c) { pad(c, true); });
  r.add("Expand", 8, expand);
  r.add("Tile", 1, tile);
  r.add("Split", 1, [](op_context& c) { split(c, false); });
  r.add("Split", 13, [](op_context& c) { split(c, true); });
  r.add("DepthToSpace", 1, depth_to_space);
  r.add("SpaceToDepth", 1, space_to_depth);
  r.add("Shape", 1, shape_op);
  r.add("Size", 1, [](op_context& c) { c.assign("torch.tensor(" + c.in(0) + ".numel(), dtype=torch.int64)"); });
}

}  // namespace dfgpar::pytorch
