#pragma once
/// \file conv_pool.hpp
/// The PyTorch translations of convolutions (Conv, ConvTranspose) and pooling
/// (max, average, global, MaxUnpool).
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

struct window {
  std::vector<std::int64_t> kernel, strides, dilations, pads;  // pads: begin..., end...
};

/// kernel_shape / strides / dilations / pads / auto_pad of Conv and pools.
inline window read_window(op_context& c, int spatial, std::vector<std::int64_t> kernel_from_weight = {}) {
  window w;
  w.kernel = c.attr_ints("kernel_shape", kernel_from_weight);
  if (static_cast<int>(w.kernel.size()) != spatial) c.unsupported("kernel_shape is missing or has the wrong length");
  w.strides = c.attr_ints("strides", std::vector<std::int64_t>(static_cast<std::size_t>(spatial), 1));
  w.dilations = c.attr_ints("dilations", std::vector<std::int64_t>(static_cast<std::size_t>(spatial), 1));
  w.pads = c.attr_ints("pads", std::vector<std::int64_t>(2 * static_cast<std::size_t>(spatial), 0));
  if (static_cast<int>(w.strides.size()) != spatial || static_cast<int>(w.dilations.size()) != spatial ||
      static_cast<int>(w.pads.size()) != 2 * spatial)
    c.unsupported("strides/dilations/pads have the wrong length");
  const std::string ap = c.attr_string("auto_pad", "NOTSET");
  if (ap == "VALID") {
    std::fill(w.pads.begin(), w.pads.end(), 0);
  } else if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
    const auto s = c.dims(0);
    for (int d = 0; d < spatial; ++d) {
      const std::int64_t st = w.strides[static_cast<std::size_t>(d)];
      std::int64_t in = s && static_cast<int>(s->size()) == spatial + 2 ? (*s)[static_cast<std::size_t>(d + 2)] : -1;
      // with stride 1 the total padding does not depend on the size
      if (in < 0 && st == 1) in = 1;
      if (in < 0)
        c.unsupported("auto_pad " + ap + " with a stride above 1 needs the spatial input size, which is not known");
      const std::int64_t outd = (in + st - 1) / st;
      const std::int64_t eff = (w.kernel[static_cast<std::size_t>(d)] - 1) * w.dilations[static_cast<std::size_t>(d)] + 1;
      const std::int64_t total = std::max<std::int64_t>(0, (outd - 1) * st + eff - in);
      const std::int64_t small = total / 2, big = total - small;
      w.pads[static_cast<std::size_t>(d)] = ap == "SAME_UPPER" ? small : big;
      w.pads[static_cast<std::size_t>(d + spatial)] = ap == "SAME_UPPER" ? big : small;
    }
  } else if (ap != "NOTSET") {
    c.unsupported("auto_pad " + python_string(ap));
  }
  for (auto p : w.pads)
    if (p < 0) c.unsupported("negative pads");
  return w;
}

/// (symmetric padding per dim, or nullopt) and the F.pad list for asymmetric.
inline bool symmetric(const window& w) {
  const std::size_t n = w.kernel.size();
  for (std::size_t d = 0; d < n; ++d)
    if (w.pads[d] != w.pads[d + n]) return false;
  return true;
}

/// F.pad's list (last dimension first) for ONNX begin/end pads of the spatial dims.
inline std::string torch_pad_list(const std::vector<std::int64_t>& pads, std::size_t spatial) {
  std::vector<std::int64_t> p;
  for (std::size_t d = spatial; d-- > 0;) {
    p.push_back(pads[d]);
    p.push_back(pads[d + spatial]);
  }
  return python_int_list(p);
}

inline std::string tuple(const std::vector<std::int64_t>& v) {
  std::string s = "(";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + (v.size() == 1 ? ",)" : ")");
}

/// The F.convNd call of a Conv-like node (attributes read from c; the
/// weight's shape is input `weight`'s) on the expressions x, w and bias.
inline std::string conv_call(op_context& c, std::string x, const std::string& w, const std::string& bias,
                             std::size_t weight = 1) {
  const int r = c.need_rank(0);
  const int spatial = r - 2;
  if (spatial < 1 || spatial > 3) c.unsupported(std::to_string(spatial) + " spatial dimensions");
  std::vector<std::int64_t> wk;
  if (auto ws = c.shape(weight)) wk.assign(ws->begin() + 2, ws->end());
  window win = read_window(c, spatial, wk);
  const std::int64_t group = c.attr_int("group", 1);
  std::string pad = "0";
  if (symmetric(win)) {
    pad = tuple(std::vector<std::int64_t>(win.pads.begin(), win.pads.begin() + spatial));
  } else {
    x = "F.pad(" + x + ", " + torch_pad_list(win.pads, static_cast<std::size_t>(spatial)) + ")";
  }
  return "F.conv" + std::to_string(spatial) + "d(" + x + ", " + w + ", " + bias + ", " + tuple(win.strides) + ", " +
         pad + ", " + tuple(win.dilations) + ", " + std::to_string(group) + ")";
}

inline void conv(op_context& c) {
  check_types(c);
  c.assign(conv_call(c, c.in(0), c.in(1), c.has_input(2) ? c.in(2) : "None"));
}

inline void max_pool(op_context& c) {
  check_types(c);
  const std::int64_t order = c.attr_int("storage_order", 0);
  const auto et = c.elem_type(0);
  if (et == 0) c.unsupported("the element type of input 0 is not known");
  std::string x = c.in(0), back;
  if (!is_float_type(et)) {
    // pooled exactly as float: 8- and 16-bit integers in float32, 32-bit in float64
    using tp = ::onnx::TensorProto;
    if (et == tp::INT8 || et == tp::UINT8 || et == tp::INT16) x += ".to(torch.float32)";
    else if (et == tp::INT32) x += ".to(torch.float64)";
    else c.unsupported("input of type " + onnx::elem_type_name(et));
    back = ".to(" + c.in(0) + ".dtype)";
  }
  const int spatial = c.need_rank(0) - 2;
  if (spatial < 1 || spatial > 3) c.unsupported("MaxPool with " + std::to_string(spatial) + " spatial dimensions");
  window w = read_window(c, spatial);
  const bool ceil = c.attr_int("ceil_mode", 0) != 0;
  std::string pad = "0";
  bool fits = symmetric(w);
  for (int d = 0; d < spatial && fits; ++d) fits = w.pads[static_cast<std::size_t>(d)] * 2 <= w.kernel[static_cast<std::size_t>(d)];
  if (fits) {
    pad = tuple(std::vector<std::int64_t>(w.pads.begin(), w.pads.begin() + spatial));
  } else {
    if (ceil) c.unsupported("ceil_mode with asymmetric or large pads");
    if (c.has_output(1)) c.unsupported("the Indices output with asymmetric or large pads");
    x = "F.pad(" + x + ", " + torch_pad_list(w.pads, static_cast<std::size_t>(spatial)) + ", 'constant', -float('inf'))";
  }
  const std::string args = x + ", " + tuple(w.kernel) + ", " + tuple(w.strides) + ", " + pad + ", " + tuple(w.dilations) +
                           ", " + (ceil ? "True" : "False");
  const std::string nd = std::to_string(spatial) + "d";
  if (!c.has_output(1)) {
    if (order != 0 && order != 1) c.unsupported("storage_order " + std::to_string(order));
    c.assign("F.max_pool" + nd + "(" + args + ")" + back);
    return;
  }
  // Indices: PyTorch's count within each (n, c) plane, row-major; ONNX's
  // over the whole tensor, row-major (storage_order 0) or column-major
  // within the plane (storage_order 1, 2-D only)
  const std::string idx = c.out(1), in = c.in(0), plane = temp(c, "plane");
  c.emit(c.out(0) + ", " + idx + " = F.max_pool" + nd + "_with_indices(" + args + ")");
  if (!back.empty()) c.assign(c.out(0) + back);
  std::string size = in + ".shape[2]";
  for (int d = 1; d < spatial; ++d) size += " * " + in + ".shape[" + std::to_string(d + 2) + "]";
  c.emit(plane + " = " + size);
  if (order == 1) {
    if (spatial != 2) c.unsupported("storage_order=1 with other than 2 spatial dimensions");
    const std::string h = in + ".shape[2]", wd = in + ".shape[3]";
    c.emit(idx + " = torch.add(torch.mul(torch.remainder(" + idx + ", " + wd + "), " + h + "), torch.div(" + idx + ", " +
           wd + ", rounding_mode='floor'))");
  } else if (order != 0) {
    c.unsupported("storage_order " + std::to_string(order));
  }
  std::string ones;
  for (int d = 0; d < spatial; ++d) ones += ", 1";
  c.emit(plane + "_offset = torch.mul(torch.arange(" + in + ".shape[0] * " + in + ".shape[1]), " + plane + ")");
  c.emit(plane + "_offset = " + plane + "_offset.reshape(" + in + ".shape[0], " + in + ".shape[1]" + ones + ")");
  c.emit(idx + " = torch.add(" + idx + ", " + plane + "_offset)");
}

/// AveragePool as (window sums of the zero-padded input) / (window sums of
/// a mask that is 1 on the input, and on the pads when they count): the
/// windows the reference averages, partial ceil_mode windows included.
inline void average_pool_by_sums(op_context& c, const window& w, bool ceil, bool include) {
  require_float(c);
  const auto spatial = w.kernel.size();
  for (std::size_t d = 0; d < spatial; ++d)
    // PyTorch drops a ceil_mode window that starts past the end; ONNX keeps it (empty)
    if (ceil && w.strides[d] > w.kernel[d]) c.unsupported("ceil_mode with strides larger than the kernel");
  const std::string x = c.in(0), pl = torch_pad_list(w.pads, spatial);
  const std::string px = temp(c, "padded"), mask = temp(c, "mask"), cnt = temp(c, "count");
  std::vector<std::int64_t> k = w.kernel, st = w.strides;
  std::string nd = std::to_string(spatial) + "d", unsq, sq;
  if (spatial == 1) {
    // avg_pool1d has no divisor_override: as 2-D with a unit last dimension
    k.push_back(1);
    st.push_back(1);
    nd = "2d";
    unsq = ".unsqueeze(-1)";
    sq = ".squeeze(-1)";
  }
  c.emit(px + " = F.pad(" + x + ", " + pl + ")" + unsq);
  c.emit(mask + " = torch.ones_like(" + x + "[:1, :1])");
  c.emit(mask + " = F.pad(" + mask + ", " + pl + ", 'constant', " + (include ? "1.0" : "0.0") + ")" + unsq);
  const std::string tail = ", " + tuple(k) + ", " + tuple(st) + ", 0, " + (ceil ? "True" : "False") + ", True, 1)";
  c.emit(cnt + " = F.avg_pool" + nd + "(" + mask + tail);
  c.assign("F.avg_pool" + nd + "(" + px + tail);
  c.assign("torch.div(" + c.out(0) + ", " + cnt + ")" + sq);
}

inline void average_pool(op_context& c) {
  check_types(c);
  const int spatial = c.need_rank(0) - 2;
  if (spatial < 1 || spatial > 3) c.unsupported("AveragePool with " + std::to_string(spatial) + " spatial dimensions");
  window w = read_window(c, spatial);
  for (auto d : w.dilations)
    if (d != 1) c.unsupported("dilations other than 1");
  const bool ceil = c.attr_int("ceil_mode", 0) != 0;
  const bool include = c.attr_int("count_include_pad", 0) != 0;
  bool fits = symmetric(w);
  for (int d = 0; d < spatial && fits; ++d) fits = w.pads[static_cast<std::size_t>(d)] * 2 <= w.kernel[static_cast<std::size_t>(d)];
  std::string x = c.in(0), pad = "0";
  if (ceil || (!fits && !include)) {
    // PyTorch and ONNX count the last, partial window differently with
    // ceil_mode, and PyTorch cannot leave asymmetric pads out: sums over
    // the explicitly padded input divided by the counted elements
    average_pool_by_sums(c, w, ceil, include);
    return;
  }
  if (fits) {
    pad = tuple(std::vector<std::int64_t>(w.pads.begin(), w.pads.begin() + spatial));
  } else {
    x = "F.pad(" + x + ", " + torch_pad_list(w.pads, static_cast<std::size_t>(spatial)) + ")";
  }
  c.assign("F.avg_pool" + std::to_string(spatial) + "d(" + x + ", " + tuple(w.kernel) + ", " + tuple(w.strides) + ", " +
           pad + ", " + (ceil ? "True" : "False") + ", " + (include ? "True" : "False") + ")");
}

inline void global_pool(op_context& c, const std::string& fn) {
  check_types(c);
  const int r = c.need_rank(0);
  if (r < 3) c.unsupported("input of rank below 3");
  std::vector<std::int64_t> dims;
  for (int d = 2; d < r; ++d) dims.push_back(d);
  if (fn == "amax") c.assign("torch.amax(" + c.in(0) + ", " + python_int_list(dims) + ", True)");
  else c.assign("torch.mean(" + c.in(0) + ", " + python_int_list(dims) + ", True)");
}

inline void conv_transpose(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const int spatial = r - 2;
  if (spatial < 1 || spatial > 3) c.unsupported("ConvTranspose with " + std::to_string(spatial) + " spatial dimensions");
  std::vector<std::int64_t> wk;
  if (auto ws = c.shape(1)) wk.assign(ws->begin() + 2, ws->end());
  const auto kernel = c.attr_ints("kernel_shape", wk);
  if (static_cast<int>(kernel.size()) != spatial) c.unsupported("kernel_shape is not known");
  const auto sp = static_cast<std::size_t>(spatial);
  const auto strides = c.attr_ints("strides", std::vector<std::int64_t>(sp, 1));
  const auto dil = c.attr_ints("dilations", std::vector<std::int64_t>(sp, 1));
  auto pads = c.attr_ints("pads", std::vector<std::int64_t>(2 * sp, 0));
  const auto outpad = c.attr_ints("output_padding", std::vector<std::int64_t>(sp, 0));
  const auto out_shape = c.attr_ints("output_shape");
  const std::string ap = c.attr_string("auto_pad", "NOTSET");
  if (strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp || outpad.size() != sp)
    c.unsupported("strides/dilations/pads/output_padding have the wrong length");
  if (ap != "NOTSET" && ap != "SAME_UPPER" && ap != "SAME_LOWER" && ap != "VALID") c.unsupported("auto_pad " + python_string(ap));
  if (!out_shape.empty() || ap == "SAME_UPPER" || ap == "SAME_LOWER") {
    // pads from the requested output size, as the ONNX spec computes them
    const auto xs = c.shape(0);
    if (!xs) c.unsupported("output_shape/auto_pad need the input shape, which is not known");
    std::vector<std::int64_t> want(out_shape.end() - std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(sp),
                                                                              static_cast<std::ptrdiff_t>(out_shape.size())),
                                   out_shape.end());
    if (out_shape.empty())
      for (std::size_t d = 0; d < sp; ++d) want.push_back((*xs)[d + 2] * strides[d]);
    if (want.size() != sp) c.unsupported("output_shape has the wrong length");
    for (std::size_t d = 0; d < sp; ++d) {
      const std::int64_t total = strides[d] * ((*xs)[d + 2] - 1) + outpad[d] + ((kernel[d] - 1) * dil[d] + 1) - want[d];
      if (total < 0) c.unsupported("an output_shape larger than the full transposed convolution");
      const bool upper = ap == "SAME_UPPER";  // else the odd one goes to the start, as the spec says
      pads[d] = upper ? total / 2 : total - total / 2;
      pads[d + sp] = upper ? total - total / 2 : total / 2;
    }
  } else if (ap == "VALID") {
    std::fill(pads.begin(), pads.end(), 0);
  }
  for (auto p : pads)
    if (p < 0) c.unsupported("negative pads");
  for (std::size_t d = 0; d < sp; ++d)
    if (outpad[d] < 0 || (outpad[d] >= strides[d] && outpad[d] >= dil[d]))
      c.unsupported("output_padding not below the stride or the dilation");
  // PyTorch pads symmetrically: the common part there, the rest cut off after
  std::vector<std::int64_t> sym(sp);
  bool cut = false;
  for (std::size_t d = 0; d < sp; ++d) {
    sym[d] = std::min(pads[d], pads[d + sp]);
    cut = cut || pads[d] != pads[d + sp];
  }
  c.assign("F.conv_transpose" + std::to_string(spatial) + "d(" + c.in(0) + ", " + c.in(1) + ", " +
           (c.has_input(2) ? c.in(2) : std::string("None")) + ", " + tuple(strides) + ", " + tuple(sym) + ", " +
           tuple(outpad) + ", " + std::to_string(c.attr_int("group", 1)) + ", " + tuple(dil) + ")");
  if (cut) {
    std::vector<std::string> idx{":", ":"};
    for (std::size_t d = 0; d < sp; ++d) {
      const std::int64_t b = pads[d] - sym[d], e = pads[d + sp] - sym[d];
      idx.push_back(std::to_string(b) + ":" + (e ? std::to_string(-e) : std::string()));
    }
    c.assign(c.out(0) + "[" + join(idx) + "]");
  }
}

inline void max_unpool(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const int spatial = r - 2;
  if (spatial < 1) c.unsupported("input of rank below 3");
  const auto sp = static_cast<std::size_t>(spatial);
  const auto kernel = c.attr_ints("kernel_shape");
  const auto strides = c.attr_ints("strides", std::vector<std::int64_t>(sp, 1));
  const auto pads = c.attr_ints("pads", std::vector<std::int64_t>(2 * sp, 0));
  if (kernel.size() != sp || strides.size() != sp || pads.size() != 2 * sp)
    c.unsupported("kernel_shape/strides/pads have the wrong length");
  const std::string x = c.in(0);
  // with output_shape, where the inferred output lies in the larger one is
  // not specified
  if (c.has_input(2)) c.unsupported("the output_shape input");
  std::string shape;
  {
    shape = "[" + x + ".shape[0], " + x + ".shape[1]";
    for (std::size_t d = 0; d < sp; ++d)
      shape += ", (" + x + ".shape[" + std::to_string(d + 2) + "] - 1) * " + std::to_string(strides[d]) + " + " +
               std::to_string(kernel[d] - pads[d] - pads[d + sp]);
    shape += "]";
  }
  const std::string s = temp(c, "shape");
  c.emit(s + " = " + shape);
  // the indices count over the whole output tensor (as MaxPool's do)
  std::string size = s + "[0] * " + s + "[1]";
  for (std::size_t d = 0; d < sp; ++d) size += " * " + s + "[" + std::to_string(d + 2) + "]";
  c.assign("torch.zeros([" + size + "], dtype=" + x + ".dtype)");
  c.assign(c.out(0) + ".scatter(0, " + c.in(1) + ".reshape(-1), " + x + ".reshape(-1))");
  c.assign(c.out(0) + ".reshape(" + s + ")");
}

}  // namespace detail

/// Convolutions and pooling.
inline void add_conv_pool_translations(op_registry& r) {
  using namespace detail;
  r.add("Conv", 1, conv);
  r.add("ConvTranspose", 1, conv_transpose);
  r.add("MaxPool", 1, max_pool);
  r.add("AveragePool", 1, average_pool);
  r.add("GlobalAveragePool", 1, [](op_context& c) { global_pool(c, "mean"); });
  r.add("GlobalMaxPool", 1, [](op_context& c) { global_pool(c, "amax"); });
  r.add("MaxUnpool", 9, max_unpool);
}

}  // namespace dfgpar::pytorch
