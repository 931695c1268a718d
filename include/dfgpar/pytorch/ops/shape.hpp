#pragma once
/// \file shape.hpp
/// The PyTorch translations of shape operators: Concat, Flatten, Reshape,
/// Transpose, Squeeze/Unsqueeze, Pad, Expand, Tile, Split,
/// DepthToSpace/SpaceToDepth, Shape, Size.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/onnx/args/pad.hpp>
#include <dfgpar/onnx/args/reshape.hpp>
#include <dfgpar/onnx/args/shape.hpp>
#include <dfgpar/onnx/args/split.hpp>
#include <dfgpar/onnx/args/squeeze.hpp>
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
  const std::int64_t axis = onnx::read_flatten_axis(*c.node, c.attrs(), r);
  if (auto s = c.shape(0)) {
    c.assign("torch.reshape(" + c.in(0) + ", " + python_int_list(onnx::flatten_dims(*s, axis)) + ")");
  } else if (axis == 1 && r >= 2) {
    c.assign("torch.flatten(" + c.in(0) + ", 1)");
  } else if (axis == 0) {
    c.assign("torch.reshape(" + c.in(0) + ", [1, -1])");
  } else if (axis == r) {
    c.assign("torch.unsqueeze(torch.flatten(" + c.in(0) + "), 1)");
  } else {
    // dimensions known at run time only: the two groups flattened in turn
    c.assign("torch.flatten(torch.flatten(" + c.in(0) + ", " + std::to_string(axis) + "), 0, " +
             std::to_string(axis - 1) + ")");
  }
}

/// Reshape (the shape an attribute before opset 5, input 1 since; 0 copies
/// the input's dimension unless allowzero).
inline void reshape(op_context& c) {
  check_types(c);
  const auto a = onnx::read_reshape(*c.node, c.attrs(), c.opset, c.known_inputs());
  if (a.shape.at_run_time()) {
    // the shape is computed: read at run time, a 0 copying the input's dimension
    const std::string x = c.in(0), s = int_list(c, 1);
    if (!a.allowzero) {
      const std::string k = temp(c, "k");
      c.emit("for " + k + " in range(len(" + s + ")):");
      c.emit("    if " + s + "[" + k + "] == 0:");
      c.emit("        " + s + "[" + k + "] = " + x + ".shape[" + k + "]");
    }
    c.assign("torch.reshape(" + x + ", " + s + ")");
    return;
  }
  auto shape = *a.shape.value;
  if (const auto s = c.shape(0)) {
    shape = onnx::reshape_dims(*c.node, *s, shape, a.allowzero);
  } else if (!a.allowzero && std::find(shape.begin(), shape.end(), 0) != shape.end()) {
    // a 0 copies the input's dimension: a literal where its value is known,
    // else read at run time
    const auto d = c.dims(0);
    std::vector<std::string> items;
    for (std::size_t k = 0; k < shape.size(); ++k) {
      if (shape[k] != 0) items.push_back(std::to_string(shape[k]));
      else if (d && k < d->size() && (*d)[k] >= 0) items.push_back(std::to_string((*d)[k]));
      else if (!d || k < d->size()) items.push_back(c.in(0) + ".shape[" + std::to_string(k) + "]");
      else c.unsupported("a 0 in the shape beyond the input's rank");
    }
    c.assign("torch.reshape(" + c.in(0) + ", [" + join(items) + "])");
    return;
  }
  c.assign("torch.reshape(" + c.in(0) + ", " + python_int_list(shape) + ")");
}

inline void transpose(op_context& c) {
  check_types(c);
  if (c.rank(0) < 0) {
    if (c.has_attr("perm")) {
      c.assign(c.in(0) + ".permute(" + python_int_list(c.attr_ints("perm")) + ")");
    } else {
      c.assign(c.in(0) + ".permute(list(range(" + c.in(0) + ".dim() - 1, -1, -1)))");
    }
    return;
  }
  const int r = c.need_rank(0);
  std::vector<std::int64_t> perm;
  for (int d = r - 1; d >= 0; --d) perm.push_back(d);
  perm = c.attr_ints("perm", perm);
  if (static_cast<int>(perm.size()) != r) c.unsupported("perm has the wrong length");
  c.assign(c.in(0) + ".permute(" + python_int_list(perm) + ")");
}

/// Squeeze/Unsqueeze: the axes as the argument layer reads them (an
/// attribute before opset 13, input 1 since), literal when known, else read
/// at run time.
inline void squeeze_or_unsqueeze(op_context& c) {
  check_types(c);
  const bool un = c.op() == "Unsqueeze";
  const auto a = onnx::read_squeeze_axes(*c.node, c.attrs(), c.opset, c.known_inputs());
  if (a.at_run_time()) {
    const std::string x = c.in(0), ax = temp(c, "axes"), i = temp(c, "a"), in = c.in(static_cast<std::size_t>(a.input));
    const std::string rank = un ? "(" + x + ".dim() + " + in + ".numel())" : x + ".dim()";
    c.emit(ax + " = [int(d__) % " + rank + " for d__ in " + in + ".reshape(-1)]");
    c.emit(ax + (un ? ".sort()" : ".sort(reverse=True)"));
    c.assign(x);
    c.emit("for " + i + " in " + ax + ":");
    c.emit("    " + c.out(0) + " = torch." + (un ? "unsqueeze(" : "squeeze(") + c.out(0) + ", " + i + ")");
    return;
  }
  auto axes = a.given() ? *a.value : std::vector<std::int64_t>{};
  if (axes.empty() && !un) {
    c.assign("torch.squeeze(" + c.in(0) + ")");
    return;
  }
  if (c.rank(0) < 0) {
    // the rank is known at run time only: the axes normalised there
    const std::string x = c.in(0), ax = temp(c, "axes"), i = temp(c, "a");
    const std::string rank = un ? "(" + x + ".dim() + " + std::to_string(axes.size()) + ")" : x + ".dim()";
    c.emit(ax + " = [d__ % " + rank + " for d__ in " + python_int_list(axes) + "]");
    c.emit(ax + (un ? ".sort()" : ".sort(reverse=True)"));
    c.assign(x);
    c.emit("for " + i + " in " + ax + ":");
    c.emit("    " + c.out(0) + " = torch." + (un ? "unsqueeze(" : "squeeze(") + c.out(0) + ", " + i + ")");
    return;
  }
  const int r = c.need_rank(0) + (un ? static_cast<int>(axes.size()) : 0);
  for (auto& x : axes) x = normalize_axis(c, x, r);
  // unsqueeze from the first new axis on, squeeze from the last
  if (un) std::sort(axes.begin(), axes.end());
  else std::sort(axes.rbegin(), axes.rend());
  std::string e = c.in(0);
  for (auto x : axes) e = std::string("torch.") + (un ? "unsqueeze(" : "squeeze(") + e + ", " + std::to_string(x) + ")";
  c.assign(e);
}

/// F.pad's value (a float in TorchScript, converted to the tensor's type):
/// refused where a double cannot hold an integer exactly.
inline std::string pad_value(op_context& c, double v) {
  if (!is_float_type(c.elem_type(0)) && std::abs(v) > 9007199254740992.0) c.unsupported("an integer pad value beyond 2^53");
  return python_float(v);
}

/// F.pad's list for the last `last` of `r` dimensions (last dimension
/// first) from ONNX pads [b0, b1, ..., e0, e1, ...].
inline std::string torch_pads(const std::vector<std::int64_t>& pads, int r, int last) {
  std::vector<std::int64_t> p;
  for (int d = r - 1; d >= r - last; --d) {
    p.push_back(pads[static_cast<std::size_t>(d)]);
    p.push_back(pads[static_cast<std::size_t>(d + r)]);
  }
  return python_int_list(p);
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

/// Pad whose pads or value are computed at run time (opset 11 and later).
inline void pad_runtime(op_context& c, const onnx::pad_args& a, int r) {
  if (a.axes.given()) c.unsupported("axes with computed pads");
  const auto& mode = a.mode;
  if (mode == "edge" || mode == "reflect") {
    if (c.has_input(2)) c.in(2);  // the value does not matter in these modes
    pad_by_index(c, mode, r, int_list(c, 1));
    return;
  }
  if (mode != "constant") c.unsupported("mode " + python_string(mode));
  std::string value;
  if (a.value.at_run_time()) {
    if (!is_float_type(c.elem_type(0))) c.unsupported("a computed constant_value on a non-float tensor");
    value = "float(" + c.in(2) + ".reshape(-1)[0])";
  } else {
    value = pad_value(c, *a.value.value);
  }
  if (a.pads.known()) {
    if (static_cast<int>(a.pads.value->size()) != 2 * r) c.unsupported("pads has the wrong length");
    c.assign("F.pad(" + c.in(0) + ", " + torch_pads(*a.pads.value, r, r) + ", 'constant', " + value + ")");
    return;
  }
  // ONNX [b0, b1, ..., e0, e1, ...] -> F.pad's [b_last, e_last, ..., b0, e0]
  const std::string pt = temp(c, "pads_t"), pl = temp(c, "pads");
  c.emit(pt + " = " + c.in(1) + ".reshape(2, " + std::to_string(r) + ").flip(1).t().reshape(-1)");
  c.emit(pl + " = [int(d__) for d__ in " + pt + "]");
  c.assign("F.pad(" + c.in(0) + ", " + pl + ", 'constant', " + value + ")");
}

/// Pad with the arguments the argument layer reads (attributes before opset
/// 11, inputs since, axes since 18).
inline void pad(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const auto a = onnx::read_pad(*c.node, c.attrs(), c.opset, c.known_inputs());
  if (a.pads.at_run_time() || a.value.at_run_time() || a.axes.at_run_time()) {
    pad_runtime(c, a, r);
    return;
  }
  const auto pads = onnx::full_pads(*c.node, a, r);
  const std::string& mode = a.mode;
  // trailing dimensions that are not padded can be left out of F.pad's list
  int last = 0;
  for (int d = 0; d < r; ++d)
    if (pads[static_cast<std::size_t>(d)] != 0 || pads[static_cast<std::size_t>(d + r)] != 0) last = std::max(last, r - d);
  if (last == 0) {
    c.assign(c.in(0));
    return;
  }
  if (mode == "constant") {
    c.assign("F.pad(" + c.in(0) + ", " + torch_pads(pads, r, last) + ", 'constant', " + pad_value(c, *a.value.value) +
             ")");
    return;
  }
  if (mode != "reflect" && mode != "edge") c.unsupported("mode " + python_string(mode));
  // F.pad's reflect/replicate pad the last r - 2 axes of a batched input
  // (r - 1 of an unbatched one): list the pads of at least r - 2 axes
  // ([96, 96, 0, 0] on a 4-D tensor padded on its last axis only)
  if (r >= 3) last = std::max(last, r - 2);
  bool simple = is_float_type(c.elem_type(0)) && last <= 3 && last <= r - 1;
  for (auto v : pads) simple = simple && v >= 0;
  if (!simple) {
    pad_by_index(c, mode, r, python_int_list(pads));
    return;
  }
  c.assign("F.pad(" + c.in(0) + ", " + torch_pads(pads, r, last) + ", '" + (mode == "edge" ? "replicate" : "reflect") +
           "')");
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
  if (!in) {
    // the input's dimensions are known at run time only: broadcast there
    const std::string z = temp(c, "zeros");
    c.emit(z + " = torch.zeros([1], dtype=" + c.in(0) + ".dtype).expand(" + python_int_list(shape) + ")");
    c.assign("torch.broadcast_tensors(" + c.in(0) + ", " + z + ")[0]");
    return;
  }
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

/// Split: the sizes as the argument layer reads them (input 1 or attribute),
/// else the outputs' sizes.
inline void split(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const auto a = onnx::read_split(*c.node, c.attrs(), c.opset, c.known_inputs());
  const std::int64_t axis = normalize_axis(c, a.axis, r);
  std::vector<std::string> outs;
  for (std::size_t k = 0; k < c.outputs.size(); ++k) {
    if (!c.has_output(k)) c.unsupported("an unnamed output");
    outs.push_back(c.outputs[k]);
  }
  // a tuple in parentheses: the line wraps inside them when the names are long
  const std::string lhs = outs.size() == 1 ? outs[0] + "," : "(" + join(outs) + ")";
  std::string sizes;
  if (a.split.at_run_time()) {
    sizes = int_list(c, static_cast<std::size_t>(a.split.input));
  } else {
    std::vector<std::int64_t> v = a.split.given() ? *a.split.value : std::vector<std::int64_t>{};
    bool known = !v.empty();
    if (v.empty()) {
      known = true;
      for (std::size_t k = 0; k < c.outputs.size(); ++k) {
        const auto* info = c.output_info[k];
        const bool dim_known = info && info->rank_known() && static_cast<std::size_t>(axis) < info->shape.size() &&
                               info->shape[static_cast<std::size_t>(axis)] >= 0;
        known = known && dim_known;
        v.push_back(dim_known ? info->shape[static_cast<std::size_t>(axis)] : -1);
      }
    }
    if (v.size() != c.outputs.size()) c.unsupported("split sizes and outputs differ in number");
    // equal parts of a dimension known at run time only (the last one
    // smaller when it does not divide, as Split-18 says)
    const std::string n = std::to_string(c.outputs.size());
    sizes = known ? python_int_list(v)
                  : "(" + c.in(0) + ".shape[" + std::to_string(axis) + "] + " + n + " - 1) // " + n;
  }
  c.emit(lhs + " = torch.split(" + c.in(0) + ", " + sizes + ", " + std::to_string(axis) + ")");
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
  if (c.rank(0) < 0) {
    // the rank is known at run time only: Python's slice clamps start and
    // end and counts negative ones from the end, as Shape-15 does
    std::string range = ":";
    if (c.opset >= 15) {
      const auto start = c.attrs().find_int("start");
      const auto end = c.attrs().find_int("end");
      range = (start ? std::to_string(*start) : std::string()) + ":" + (end ? std::to_string(*end) : std::string());
    } else {
      c.ignore("start");
      c.ignore("end");
    }
    c.assign("torch.tensor(" + c.in(0) + ".shape[" + range + "], dtype=torch.int64)");
    return;
  }
  const auto [start, end] = onnx::shape_range(*c.node, c.attrs(), c.opset, c.need_rank(0));
  c.assign("torch.tensor(" + c.in(0) + ".shape[" + std::to_string(start) + ":" + std::to_string(end) +
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
  r.add("Reshape", 1, reshape);
  r.add("Transpose", 1, transpose);
  r.add("Squeeze", 1, squeeze_or_unsqueeze);
  r.add("Unsqueeze", 1, squeeze_or_unsqueeze);
  r.add("Pad", 1, pad);
  r.add("Expand", 8, expand);
  r.add("Tile", 1, tile);
  r.add("Split", 1, split);
  r.add("DepthToSpace", 1, depth_to_space);
  r.add("SpaceToDepth", 1, space_to_depth);
  r.add("Shape", 1, shape_op);
  r.add("Size", 1, [](op_context& c) { c.assign("torch.tensor(" + c.in(0) + ".numel(), dtype=torch.int64)"); });
}

}  // namespace dfgpar::pytorch
