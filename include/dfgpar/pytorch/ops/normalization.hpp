#pragma once
/// \file normalization.hpp
/// The PyTorch translations of normalisation: BatchNormalization,
/// LayerNormalization, InstanceNormalization, LRN, MeanVarianceNormalization.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

/// BatchNormalization-14/15 with training_mode=1: normalised with the batch
/// statistics (population variance); the running mean/var outputs are
/// the inputs' blended with them by momentum.
inline void batch_norm_training(op_context& c) {
  require_float(c);
  const int r = c.need_rank(0);
  if (r < 2) c.unsupported("input of rank below 2");
  const double momentum = c.attr_float("momentum", 0.9);
  std::vector<std::int64_t> dims{0}, shape(static_cast<std::size_t>(r), 1);
  for (int d = 2; d < r; ++d) dims.push_back(d);
  shape[1] = -1;
  const std::string x = c.in(0), ds = python_int_list(dims), sh = python_int_list(shape);
  const std::string m = temp(c, "mean"), v = temp(c, "var");
  c.emit(m + " = torch.mean(" + x + ", " + ds + ")");
  c.emit(v + " = torch.var(" + x + ", " + ds + ", unbiased=False)");
  c.assign("torch.div(torch.sub(" + x + ", " + m + ".reshape(" + sh + ")), torch.sqrt(torch.add(" + v + ".reshape(" + sh +
           "), " + python_float(c.attr_float("epsilon", 1e-5)) + ")))");
  c.assign("torch.add(torch.mul(" + c.out(0) + ", " + c.in(1) + ".reshape(" + sh + ")), " + c.in(2) + ".reshape(" + sh +
           "))");
  const std::string mo = python_float(momentum), om = python_float(1.0 - momentum);
  if (c.has_output(1)) c.emit(c.out(1) + " = torch.add(torch.mul(" + c.in(3) + ", " + mo + "), torch.mul(" + m + ", " + om + "))");
  if (c.has_output(2)) c.emit(c.out(2) + " = torch.add(torch.mul(" + c.in(4) + ", " + mo + "), torch.mul(" + v + ", " + om + "))");
  for (std::size_t i = 3; i < c.outputs.size(); ++i)
    if (c.has_output(i)) c.unsupported("output " + std::to_string(i));
}

/// BatchNormalization of version `since`: before 7 `is_test` must say
/// inference; from 14 training_mode=1 normalises with the batch statistics.
inline op_translation batch_norm(int since) {
  return [since](op_context& c) {
    check_types(c);
    if (since >= 14 && c.attr_int("training_mode", 0) != 0) {
      batch_norm_training(c);
      return;
    }
    if (since < 7 && c.attr_int("is_test", 0) == 0) c.unsupported("is_test=0 (training)");
    if (c.attr_int("spatial", 1) != 1) c.unsupported("spatial=0");
    c.ignore("momentum");
    c.ignore("consumed_inputs");
    for (std::size_t i = 1; i < c.outputs.size(); ++i)
      if (c.has_output(i)) c.unsupported("training outputs (running mean/var)");
    if (c.need_rank(0) < 2) c.unsupported("input of rank below 2");
    c.assign("F.batch_norm(" + c.in(0) + ", " + c.in(3) + ", " + c.in(4) + ", " + c.in(1) + ", " + c.in(2) +
             ", False, 0.0, " + python_float(c.attr_float("epsilon", 1e-5)) + ")");
  };
}

inline void layer_norm(op_context& c) {
  check_types(c);
  require_float(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", -1), r);
  const bool extra = c.has_output(1) || c.has_output(2);
  if (extra || c.attr_int("stash_type", 1) != 1) {
    // the statistics are outputs too: spelled out, computed in float32 (stash_type 1)
    if (c.attr_int("stash_type", 1) != 1) c.unsupported("stash_type other than 1 (float)");
    std::vector<std::int64_t> dims;
    for (int d = static_cast<int>(axis); d < r; ++d) dims.push_back(d);
    const std::string x = c.in(0), xf = x + ".to(torch.float32)", ds = python_int_list(dims);
    const std::string mean = c.has_output(1) ? c.out(1) : c.out(0) + "__mean";  // "__" never occurs in a table identifier
    const std::string inv = c.has_output(2) ? c.out(2) : c.out(0) + "__inv_std";
    c.emit(mean + " = torch.mean(" + xf + ", " + ds + ", True)");
    c.emit(inv + " = torch.rsqrt(torch.mean(torch.square(" + xf + " - " + mean + "), " + ds + ", True) + " +
           python_float(c.attr_float("epsilon", 1e-5)) + ")");
    std::string y = "((" + xf + " - " + mean + ") * " + inv + ").to(" + x + ".dtype) * " + c.in(1);
    if (c.has_input(2)) y += " + " + c.in(2);
    c.assign(y);
    return;
  }
  const auto ws = c.shape(1);
  const auto xs = c.dims(0);  // a dimension known at run time only is checked there by F.layer_norm
  bool same = ws && xs && ws->size() == static_cast<std::size_t>(r - axis);
  for (std::size_t k = 0; same && k < ws->size(); ++k)
    same = (*xs)[static_cast<std::size_t>(axis) + k] < 0 || (*xs)[static_cast<std::size_t>(axis) + k] == (*ws)[k];
  if (!same) c.unsupported("a scale whose shape is not the normalised shape");
  c.assign("F.layer_norm(" + c.in(0) + ", " + c.in(0) + ".shape[" + std::to_string(axis) + ":], " + c.in(1) + ", " +
           (c.has_input(2) ? c.in(2) : std::string("None")) + ", " + python_float(c.attr_float("epsilon", 1e-5)) + ")");
}

inline void instance_norm(op_context& c) {
  check_types(c);
  require_float(c);
  if (c.need_rank(0) < 3) c.unsupported("input of rank below 3");
  c.assign("F.instance_norm(" + c.in(0) + ", None, None, " + c.in(1) + ", " + c.in(2) + ", True, 0.0, " +
           python_float(c.attr_float("epsilon", 1e-5)) + ")");
}

inline void lrn(op_context& c) {
  check_types(c);
  require_float(c);
  if (c.need_rank(0) < 3) c.unsupported("input of rank below 3");
  const std::int64_t size = c.attr_int("size", 0);
  // PyTorch's window is [c - size/2, c + (size-1)/2], ONNX's [c - (size-1)/2, c + size/2]: equal for odd sizes
  if (size <= 0 || size % 2 == 0) c.unsupported("size " + std::to_string(size) + " (only odd sizes)");
  c.assign("F.local_response_norm(" + c.in(0) + ", " + std::to_string(size) + ", " +
           python_float(c.attr_float("alpha", 1e-4)) + ", " + python_float(c.attr_float("beta", 0.75)) + ", " +
           python_float(c.attr_float("bias", 1.0)) + ")");
}

inline void mean_variance_norm(op_context& c) {
  check_types(c);
  require_float(c);
  const int r = c.need_rank(0);
  auto axes = c.attr_ints("axes", {0, 2, 3});
  for (auto& a : axes) a = normalize_axis(c, a, r);
  const std::string x = c.in(0), m = temp(c, "mean"), ds = python_int_list(axes);
  c.emit(m + " = torch.mean(" + x + ", " + ds + ", True)");
  const std::string sd = temp(c, "std");
  c.emit(sd + " = torch.sub(torch.mean(" + x + " * " + x + ", " + ds + ", True), " + m + " * " + m + ")");
  c.assign("torch.div(torch.sub(" + x + ", " + m + "), torch.add(torch.sqrt(" + sd + "), 1e-09))");
}

}  // namespace detail

/// Batch, layer, instance, local response and mean-variance normalisation.
inline void add_normalization_translations(op_registry& r) {
  using namespace detail;
  r.add("BatchNormalization", 1, batch_norm(1));
  r.add("BatchNormalization", 7, batch_norm(7));
  r.add("BatchNormalization", 14, batch_norm(14));
  r.add("LayerNormalization", 17, layer_norm);
  r.add("InstanceNormalization", 1, instance_norm);
  r.add("LRN", 1, lrn);
  r.add("MeanVarianceNormalization", 9, mean_variance_norm);
}

}  // namespace dfgpar::pytorch
