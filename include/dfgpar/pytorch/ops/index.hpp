#pragma once
/// \file index.hpp
/// The PyTorch translations of indexing: Gather*, Scatter*, Slice, TopK,
/// OneHot, Compress, NonZero, ReverseSequence, Unique.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/onnx/args/slice.hpp>
#include <dfgpar/onnx/args/topk.hpp>
#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

/// Indices with negative entries counted from the end of `axis` of x, as int64.
inline std::string fixed_indices(const std::string& x, const std::string& idx, std::int64_t axis) {
  const std::string i64 = idx + ".to(torch.int64)";
  return "torch.where(" + i64 + " < 0, " + i64 + " + " + x + ".shape[" + std::to_string(axis) + "], " + i64 + ")";
}

inline void gather(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", 0), r);
  const std::string x = c.in(0), idx = c.in(1), a = std::to_string(axis);
  c.assign("torch.index_select(" + x + ", " + a + ", " + fixed_indices(x, idx, axis) + ".reshape(-1))");
  c.assign(c.out(0) + ".reshape(" + x + ".shape[:" + a + "] + " + idx + ".shape + " + x + ".shape[" +
           std::to_string(axis + 1) + ":])");
}

inline void gather_elements(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", 0), r);
  c.assign("torch.gather(" + c.in(0) + ", " + std::to_string(axis) + ", " + fixed_indices(c.in(0), c.in(1), axis) + ")");
}

/// Slice (opset >= 10) with computed starts/ends/axes/steps or negative
/// steps: one index_select per sliced axis, clamped as ONNX says.
inline void slice_runtime(op_context& c) {
  const std::string x = c.in(0), o = c.out(0);
  const std::string st = temp(c, "starts"), en = temp(c, "ends"), ax = temp(c, "axes"), sp = temp(c, "steps");
  const std::string k = temp(c, "k"), a = temp(c, "a"), n = temp(c, "n"), b = temp(c, "b"), e = temp(c, "e"),
                    p = temp(c, "p");
  c.emit(st + " = " + int_list(c, 1));
  c.emit(en + " = " + int_list(c, 2));
  c.emit(ax + " = " + (c.has_input(3) ? int_list(c, 3) : "[i__ for i__ in range(len(" + st + "))]"));
  c.emit(sp + " = " + (c.has_input(4) ? int_list(c, 4) : "[1 for i__ in range(len(" + st + "))]"));
  c.assign(x);
  c.emit("for " + k + " in range(len(" + st + ")):");
  c.emit("    " + a + " = " + ax + "[" + k + "] % " + x + ".dim()");
  c.emit("    " + n + " = " + o + ".shape[" + a + "]");
  c.emit("    " + b + " = " + st + "[" + k + "]");
  c.emit("    " + e + " = " + en + "[" + k + "]");
  c.emit("    " + p + " = " + sp + "[" + k + "]");
  c.emit("    if " + b + " < 0:");
  c.emit("        " + b + " += " + n);
  c.emit("    if " + e + " < 0:");
  c.emit("        " + e + " += " + n);
  c.emit("    if " + p + " > 0:");
  c.emit("        " + b + " = min(max(" + b + ", 0), " + n + ")");
  c.emit("        " + e + " = max(min(max(" + e + ", 0), " + n + "), " + b + ")");
  c.emit("    else:");
  c.emit("        " + b + " = min(max(" + b + ", 0), " + n + " - 1)");
  c.emit("        " + e + " = min(min(max(" + e + ", -1), " + n + " - 1), " + b + ")");
  c.emit("    " + o + " = torch.index_select(" + o + ", " + a + ", torch.arange(" + b + ", " + e + ", " + p +
         ", device=" + x + ".device))");
}

/// Slice with the arguments the argument layer reads (attributes before
/// opset 10, inputs since): Python slicing when every argument is known and
/// the steps are positive, else index_select along each axis at run time.
inline void slice(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const auto s = onnx::read_slice(*c.node, c.attrs(), c.opset, c.known_inputs());
  bool computed = !s.all_known();
  if (!computed)
    for (auto st : *s.steps.value) computed = computed || st <= 0;
  if (computed) {
    slice_runtime(c);
    return;
  }
  const auto &starts = *s.starts.value, &ends = *s.ends.value, &axes = *s.axes.value, &steps = *s.steps.value;
  std::vector<std::string> idx(static_cast<std::size_t>(r), ":");
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const auto a = static_cast<std::size_t>(normalize_axis(c, axes[k], r));
    idx[a] = std::to_string(starts[k]) + ":" + std::to_string(ends[k]) + (steps[k] != 1 ? ":" + std::to_string(steps[k]) : "");
  }
  while (!idx.empty() && idx.back() == ":") idx.pop_back();
  if (idx.empty()) c.assign(c.in(0));
  else c.assign(c.in(0) + "[" + join(idx) + "]");
}

/// TopK (k an attribute before opset 10, input 1 since), always sorted,
/// which sorted=0 allows.
inline void top_k(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const auto t = onnx::read_topk(*c.node, c.attrs(), c.opset, c.known_inputs());
  const std::string a = std::to_string(normalize_axis(c, t.axis, r));
  const std::string k = t.k.known() ? std::to_string(*t.k.value) : int_scalar(c, 1, "K");
  // a stable sort: among equal values the lower index comes first, as ONNX asks
  const std::string v = temp(c, "sorted"), i = temp(c, "order");
  c.emit(v + ", " + i + " = torch.sort(" + c.in(0) + ", stable=True, dim=" + a + ", descending=" +
         (t.largest ? "True" : "False") + ")");
  if (c.has_output(0)) c.assign(v + ".narrow(" + a + ", 0, " + k + ")", 0);
  if (c.has_output(1)) c.emit(c.out(1) + " = " + i + ".narrow(" + a + ", 0, " + k + ")");
}

inline void one_hot(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", -1), r + 1);
  const std::string depth = c.constant(1) ? std::to_string(static_cast<long long>(c.constant(1)->as_double(0)))
                                          : "int(" + c.in(1) + ".reshape(-1)[0])";
  if (c.constant(1) && c.constant(1)->size() != 1) c.unsupported("depth must be one value");
  const std::string d = temp(c, "depth"), i = temp(c, "index"), v = c.in(2);
  c.emit(d + " = " + depth);
  c.emit(i + " = " + c.in(0) + ".to(torch.int64)");
  c.emit(i + " = torch.where(" + i + " < 0, " + i + " + " + d + ", " + i + ")");
  const std::string hot = temp(c, "hot");
  c.emit(hot + " = torch.eq(" + i + ".unsqueeze(-1), torch.arange(" + d + "))");
  c.assign("torch.where(" + hot + ".movedim(-1, " + std::to_string(axis) + "), " + v + "[1], " + v + "[0])");
}

inline void compress(op_context& c) {
  check_types(c);
  const std::string x = c.in(0), idx = "torch.nonzero(" + c.in(1) + ").reshape(-1)";
  if (c.has_attr("axis")) {
    const int r = c.need_rank(0);
    const std::int64_t axis = normalize_axis(c, c.attr_int("axis", 0), r);
    c.assign("torch.index_select(" + x + ", " + std::to_string(axis) + ", " + idx + ")");
  } else {
    c.assign("torch.index_select(" + x + ".reshape(-1), 0, " + idx + ")");
  }
}

inline void scatter_elements(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", 0), r);
  const std::string red = c.attr_string("reduction", "none");
  const std::string x = c.in(0), idx = fixed_indices(x, c.in(1), axis), a = std::to_string(axis), u = c.in(2);
  if (red == "none") c.assign("torch.scatter(" + x + ", " + a + ", " + idx + ", " + u + ")");
  else if (red == "add") c.assign("torch.scatter_add(" + x + ", " + a + ", " + idx + ", " + u + ")");
  else if (red == "mul") c.assign("torch.scatter_reduce(" + x + ", " + a + ", " + idx + ", " + u + ", 'prod')");
  else if (red == "max") c.assign("torch.scatter_reduce(" + x + ", " + a + ", " + idx + ", " + u + ", 'amax')");
  else if (red == "min") c.assign("torch.scatter_reduce(" + x + ", " + a + ", " + idx + ", " + u + ", 'amin')");
  else c.unsupported("reduction " + python_string(red));
}

/// The flat (row-major) index into data's dimensions [b, b + k) of each
/// k-tuple of `indices`, negative entries counted from the end; plus the
/// batch offsets for GatherND's batch_dims b. Needs known shapes.
inline std::string nd_flat_index(op_context& c, const std::vector<std::int64_t>& ds, const std::vector<std::int64_t>& is,
                                 std::int64_t b) {
  const std::int64_t k = is.back();
  if (k < 1 || b + k > static_cast<std::int64_t>(ds.size())) c.unsupported("the last dimension of indices is out of range");
  const std::string idx = temp(c, "idx"), flat = temp(c, "flat"), e = temp(c, "e");
  c.emit(idx + " = " + c.in(1) + ".to(torch.int64)");
  std::int64_t stride = 1;
  for (std::int64_t j = 0; j < k; ++j) {
    const std::string n = std::to_string(ds[static_cast<std::size_t>(b + j)]);
    c.emit(e + " = " + idx + "[..., " + std::to_string(j) + "]");
    c.emit(e + " = torch.where(" + e + " < 0, " + e + " + " + n + ", " + e + ")");
    if (j == 0) c.emit(flat + " = " + e);
    else c.emit(flat + " = torch.add(torch.mul(" + flat + ", " + n + "), " + e + ")");
    stride *= ds[static_cast<std::size_t>(b + j)];
  }
  if (b > 0) {
    std::int64_t batches = 1;
    for (std::int64_t j = 0; j < b; ++j) batches *= ds[static_cast<std::size_t>(j)];
    std::vector<std::int64_t> bshape(is.begin(), is.begin() + b);
    for (std::size_t j = static_cast<std::size_t>(b); j + 1 < is.size(); ++j) bshape.push_back(1);
    c.emit(e + " = torch.arange(" + std::to_string(batches) + ").reshape(" + python_int_list(bshape) + ")");
    c.emit(flat + " = torch.add(" + flat + ", torch.mul(" + e + ", " + std::to_string(stride) + "))");
  }
  c.emit(flat + " = " + flat + ".reshape(-1)");
  return flat;
}

/// The shapes of data (input 0) and indices (input 1) of GatherND and
/// ScatterND, which must be known.
inline std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>> nd_shapes(const op_context& c) {
  const auto ds = c.shape(0), is = c.shape(1);
  bool known = ds && is && !is->empty();
  for (const auto* v : {&ds, &is})
    if (known)
      for (auto d : **v) known = known && d >= 0;
  if (!known) c.unsupported("needs the shapes of data and indices");
  return {*ds, *is};
}

inline void gather_nd(op_context& c) {
  check_types(c);
  const auto [ds, is] = nd_shapes(c);
  const std::int64_t b = c.attr_int("batch_dims", 0);
  if (b < 0 || b >= static_cast<std::int64_t>(is.size())) c.unsupported("batch_dims out of range");
  const std::int64_t k = is.back();
  std::vector<std::int64_t> tail(ds.begin() + b + k, ds.end()), out(is.begin(), is.end() - 1), flat_shape{-1};
  out.insert(out.end(), tail.begin(), tail.end());
  flat_shape.insert(flat_shape.end(), tail.begin(), tail.end());
  const std::string flat = nd_flat_index(c, ds, is, b);
  c.assign(c.in(0) + ".reshape(" + python_int_list(flat_shape) + ")[" + flat + "]");
  c.assign(c.out(0) + ".reshape(" + python_int_list(out) + ")");
}

inline void scatter_nd(op_context& c) {
  check_types(c);
  const auto [ds, is] = nd_shapes(c);
  const std::string red = c.attr_string("reduction", "none");
  const std::int64_t k = is.back();
  std::vector<std::int64_t> flat_shape{-1};
  flat_shape.insert(flat_shape.end(), ds.begin() + std::min<std::int64_t>(k, static_cast<std::int64_t>(ds.size())),
                    ds.end());
  const std::string flat = nd_flat_index(c, ds, is, 0), o = c.out(0), fs = python_int_list(flat_shape);
  const std::string u = c.in(2) + ".reshape(" + fs + ")", f = flat;
  c.assign(c.in(0) + ".clone()");
  if (red == "none") c.emit(o + ".view(" + fs + ").index_copy_(0, " + f + ", " + u + ")");
  else if (red == "add") c.emit(o + ".view(" + fs + ").index_add_(0, " + f + ", " + u + ")");
  else if (red == "mul") c.emit(o + ".view(" + fs + ").index_reduce_(0, " + f + ", " + u + ", 'prod')");
  else if (red == "max") c.emit(o + ".view(" + fs + ").index_reduce_(0, " + f + ", " + u + ", 'amax')");
  else if (red == "min") c.emit(o + ".view(" + fs + ").index_reduce_(0, " + f + ", " + u + ", 'amin')");
  else c.unsupported("reduction " + python_string(red));
}

inline void non_zero(op_context& c) {
  check_types(c);
  if (c.need_rank(0) == 0) c.unsupported("a scalar input");
  c.assign("torch.nonzero(" + c.in(0) + ").t()");
}

inline void reverse_sequence(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  if (r < 2) c.unsupported("input of rank below 2");
  const std::int64_t ta = normalize_axis(c, c.attr_int("time_axis", 0), r),
                     ba = normalize_axis(c, c.attr_int("batch_axis", 1), r);
  if (ta == ba || ta > 1 || ba > 1) c.unsupported("time_axis and batch_axis must be 0 and 1");
  std::vector<std::int64_t> ts(static_cast<std::size_t>(r), 1), bs(static_cast<std::size_t>(r), 1);
  ts[static_cast<std::size_t>(ta)] = -1;
  bs[static_cast<std::size_t>(ba)] = -1;
  const std::string x = c.in(0), t = temp(c, "t"), l = temp(c, "len");
  c.emit(t + " = torch.arange(" + x + ".shape[" + std::to_string(ta) + "]).reshape(" + python_int_list(ts) + ")");
  c.emit(l + " = " + c.in(1) + ".to(torch.int64).reshape(" + python_int_list(bs) + ")");
  c.emit(t + " = torch.where(" + t + " < " + l + ", " + l + " - 1 - " + t + ", " + t + ")");
  c.assign("torch.gather(" + x + ", " + std::to_string(ta) + ", " + t + ".expand(" + x + ".shape))");
}

inline void unique(op_context& c) {
  check_types(c);
  const bool sorted = c.attr_int("sorted", 1) != 0;
  std::string x = c.in(0), dim = "0";
  if (c.has_attr("axis")) {
    const int r = c.need_rank(0);
    dim = std::to_string(normalize_axis(c, c.attr_int("axis", 0), r));
  } else {
    x = x + ".reshape(-1)";
  }
  const std::string y = temp(c, "y"), inv = temp(c, "inverse"), cnt = temp(c, "counts"), first = temp(c, "first"),
                    n = temp(c, "n");
  c.emit(y + ", " + inv + ", " + cnt + " = torch.unique(" + x + ", True, True, True, " + dim + ")");
  // index of each value's first occurrence: the smallest position mapped to it
  c.emit(n + " = " + inv + ".shape[0]");
  c.emit(first + " = torch.full([" + cnt + ".shape[0]], " + n + ", dtype=torch.int64)");
  c.emit(first + " = " + first + ".scatter_reduce(0, " + inv + ", torch.arange(" + n + "), 'amin')");
  if (!sorted) {
    // in the order of first occurrence
    const std::string perm = temp(c, "perm");
    c.emit(perm + " = torch.argsort(" + first + ")");
    c.emit(y + " = torch.index_select(" + y + ", " + dim + ", " + perm + ")");
    c.emit(inv + " = torch.argsort(" + perm + ")[" + inv + "]");
    c.emit(first + " = " + first + "[" + perm + "]");
    c.emit(cnt + " = " + cnt + "[" + perm + "]");
  }
  if (c.has_output(0)) c.emit(c.out(0) + " = " + y);
  if (c.has_output(1)) c.emit(c.out(1) + " = " + first);
  if (c.has_output(2)) c.emit(c.out(2) + " = " + inv);
  if (c.has_output(3)) c.emit(c.out(3) + " = " + cnt);
}

}  // namespace detail

/// Gathering, scattering, slicing, selecting and sorting elements.
inline void add_index_translations(op_registry& r) {
  using namespace detail;
  r.add("Gather", 1, gather);
  r.add("GatherElements", 11, gather_elements);
  r.add("GatherND", 11, gather_nd);
  r.add("Slice", 1, slice);
  r.add("Scatter", 9, scatter_elements);
  r.add("ScatterElements", 11, scatter_elements);
  r.add("ScatterND", 11, scatter_nd);
  r.add("TopK", 1, top_k);
  r.add("OneHot", 9, one_hot);
  r.add("Compress", 9, compress);
  r.add("NonZero", 9, non_zero);
  r.add("ReverseSequence", 10, reverse_sequence);
  r.add("Unique", 11, unique);
}

}  // namespace dfgpar::pytorch
