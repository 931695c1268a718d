#pragma once
/// \file reduce.hpp
/// The PyTorch translations of reductions: Reduce*, ArgMax/ArgMin, CumSum.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/onnx/args/reduce.hpp>
#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

/// Reduce* whose axes are computed at run time.
inline void reduce_runtime(op_context& c, const std::string& kind, int r, bool keep, bool noop) {
  if (r == 0) c.unsupported("computed axes on a scalar");
  const std::string x = c.in(0), o = c.out(0), dims = temp(c, "dims"), k = keep ? "True" : "False";
  const bool fl = is_float_type(c.elem_type(0));
  std::string e;
  if (kind == "sum") e = "torch.sum(" + x + ", " + dims + ", " + k + ")" + (fl ? "" : ".to(" + x + ".dtype)");
  else if (kind == "mean") {
    require_float(c);
    e = "torch.mean(" + x + ", " + dims + ", " + k + ")";
  } else if (kind == "max") e = "torch.amax(" + x + ", " + dims + ", " + k + ")";
  else if (kind == "min") e = "torch.amin(" + x + ", " + dims + ", " + k + ")";
  else if (kind == "l1") e = "torch.sum(torch.abs(" + x + "), " + dims + ", " + k + ")" + (fl ? "" : ".to(" + x + ".dtype)");
  else if (kind == "sumsquare") e = "torch.sum(" + x + " * " + x + ", " + dims + ", " + k + ")" + (fl ? "" : ".to(" + x + ".dtype)");
  else if (kind == "l2" || kind == "logsum" || kind == "logsumexp") {
    require_float(c);
    if (kind == "l2") e = "torch.sqrt(torch.sum(" + x + " * " + x + ", " + dims + ", " + k + "))";
    else if (kind == "logsum") e = "torch.log(torch.sum(" + x + ", " + dims + ", " + k + "))";
    else e = "torch.logsumexp(" + x + ", " + dims + ", " + k + ")";
  } else {
    c.unsupported("computed axes with reduction " + kind);
  }
  c.emit(dims + " = " + int_list(c, 1));
  c.emit("if len(" + dims + ") == 0:");
  if (noop) {
    c.emit("    " + o + " = " + x);
    c.emit("else:");
    c.emit("    " + o + " = " + e);
  } else {
    c.emit("    " + dims + " = [i__ for i__ in range(" + std::to_string(r) + ")]");
    c.assign(e);
  }
}

/// Reduce*: the axes as the argument layer reads them (the attribute, or
/// input 1 from ReduceSum-13 and the others' version 18).
inline op_translation reduce(std::string kind) {
  return [kind](op_context& c) {
    check_types(c);
    const int r = c.need_rank(0);
    const auto a = onnx::read_reduce(*c.node, c.attrs(), c.opset, c.known_inputs());
    const bool keep = a.keepdims, noop = a.noop_with_empty_axes;
    if (a.axes.at_run_time()) {
      reduce_runtime(c, kind, r, keep, noop);
      return;
    }
    std::vector<std::int64_t> axes = a.axes.given() ? *a.axes.value : std::vector<std::int64_t>{};
    if (axes.empty()) {
      if (noop) {
        c.assign(c.in(0));
        return;
      }
      for (int d = 0; d < r; ++d) axes.push_back(d);
    }
    for (auto& a : axes) a = normalize_axis(c, a, r);
    std::sort(axes.begin(), axes.end());
    axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
    const std::string x = c.in(0), dims = python_int_list(axes), k = keep ? "True" : "False";
    const bool fl = is_float_type(c.elem_type(0));
    if (r == 0) {
      // a scalar: every reduction over no dimensions is the value (or its square, abs, ...)
      if (kind == "sum" || kind == "mean" || kind == "max" || kind == "min" || kind == "prod") c.assign(x);
      else if (kind == "l1") c.assign("torch.abs(" + x + ")");
      else if (kind == "l2") c.assign("torch.abs(" + x + ")");
      else if (kind == "sumsquare") c.assign(x + " * " + x);
      else if (kind == "logsum") c.assign("torch.log(" + x + ")");
      else c.assign(x);
      return;
    }
    if (kind == "sum") c.assign("torch.sum(" + x + ", " + dims + ", " + k + ")" + (fl ? "" : ".to(" + x + ".dtype)"));
    else if (kind == "mean") {
      require_float(c);
      c.assign("torch.mean(" + x + ", " + dims + ", " + k + ")");
    } else if (kind == "max") c.assign("torch.amax(" + x + ", " + dims + ", " + k + ")");
    else if (kind == "min") c.assign("torch.amin(" + x + ", " + dims + ", " + k + ")");
    else if (kind == "prod") {
      std::string e = x;
      for (auto it = axes.rbegin(); it != axes.rend(); ++it) e = "torch.prod(" + e + ", " + std::to_string(*it) + ", " + k + ")";
      c.assign(fl ? e : e + ".to(" + x + ".dtype)");
    } else if (kind == "l1") c.assign("torch.sum(torch.abs(" + x + "), " + dims + ", " + k + ")" + (fl ? "" : ".to(" + x + ".dtype)"));
    else if (kind == "sumsquare") c.assign("torch.sum(" + x + " * " + x + ", " + dims + ", " + k + ")" + (fl ? "" : ".to(" + x + ".dtype)"));
    else {
      require_float(c);
      if (kind == "l2") c.assign("torch.sqrt(torch.sum(" + x + " * " + x + ", " + dims + ", " + k + "))");
      else if (kind == "logsum") c.assign("torch.log(torch.sum(" + x + ", " + dims + ", " + k + "))");
      else if (kind == "logsumexp") c.assign("torch.logsumexp(" + x + ", " + dims + ", " + k + ")");
      else c.unsupported("reduction " + kind);
    }
  };
}

inline op_translation arg_reduce(std::string fn) {
  return [fn](op_context& c) {
    check_types(c);
    const int r = c.need_rank(0);
    const std::int64_t axis = normalize_axis(c, c.attr_int("axis", 0), r);
    const std::string k = c.attr_int("keepdims", 1) != 0 ? "True" : "False";
    const std::string x = c.in(0), ax = std::to_string(axis);
    if (c.attr_int("select_last_index", 0) != 0)
      c.assign(x + ".shape[" + ax + "] - 1 - " + fn + "(torch.flip(" + x + ", [" + ax + "]), " + ax + ", " + k + ")");
    else c.assign(fn + "(" + x + ", " + ax + ", " + k + ")");
  };
}

inline void cumsum(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  std::string a;
  if (c.constant(1)) {
    const auto ax = c.constant_ints(1, "axis");
    if (ax.size() != 1) c.unsupported("axis must be one value");
    a = std::to_string(normalize_axis(c, ax[0], r));
  } else {
    a = temp(c, "axis");
    c.emit(a + " = " + int_scalar(c, 1, "axis"));
  }
  const bool rev = c.attr_int("reverse", 0) != 0, excl = c.attr_int("exclusive", 0) != 0;
  std::string x = c.in(0);
  std::string e = rev ? "torch.flip(torch.cumsum(torch.flip(" + x + ", [" + a + "]), " + a + "), [" + a + "])"
                      : "torch.cumsum(" + x + ", " + a + ")";
  if (excl) e = "(" + e + " - " + x + ")";
  c.assign(e + ".to(" + x + ".dtype)");
}

}  // namespace detail

/// Reductions, ArgMax/ArgMin and CumSum.
inline void add_reduce_translations(op_registry& r) {
  using namespace detail;
  for (const auto& [op, kind] : std::vector<std::pair<std::string, std::string>>{
           {"ReduceSum", "sum"}, {"ReduceMean", "mean"}, {"ReduceMax", "max"}, {"ReduceMin", "min"},
           {"ReduceProd", "prod"}, {"ReduceL1", "l1"}, {"ReduceL2", "l2"}, {"ReduceSumSquare", "sumsquare"},
           {"ReduceLogSum", "logsum"}, {"ReduceLogSumExp", "logsumexp"}})
    r.add(op, 1, reduce(kind));
  r.add("ArgMax", 1, arg_reduce("torch.argmax"));
  r.add("ArgMin", 1, arg_reduce("torch.argmin"));
  r.add("CumSum", 11, cumsum);
}

}  // namespace dfgpar::pytorch
