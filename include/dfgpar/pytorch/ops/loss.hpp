#pragma once
/// \file loss.hpp
/// The PyTorch translations of losses: NegativeLogLikelihoodLoss,
/// SoftmaxCrossEntropyLoss.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

/// The `reduction` attribute of the loss operators as a Python literal.
inline std::string loss_reduction(op_context& c) {
  const std::string r = c.attr_string("reduction", "mean");
  if (r != "mean" && r != "sum" && r != "none") c.unsupported("reduction " + python_string(r));
  return "'" + r + "'";
}

/// F.nll_loss's ignore_index: the attribute, else one no valid class equals
/// (ONNX targets lie in [0, C) when no ignore_index is given).
inline std::string loss_ignore_index(op_context& c) {
  const auto i = c.attrs().find_int("ignore_index");
  return i ? std::to_string(*i) : std::string("-100");
}

inline void nll_loss(op_context& c) {
  check_types(c);
  require_float(c);
  if (c.need_rank(0) < 2) c.unsupported("input of rank below 2");
  const std::string red = loss_reduction(c), ii = loss_ignore_index(c);
  c.assign("F.nll_loss(" + c.in(0) + ", " + c.in(1) + ".to(torch.int64), " + (c.has_input(2) ? c.in(2) : "None") +
           ", None, " + ii + ", None, " + red + ")");
}

inline void softmax_cross_entropy_loss(op_context& c) {
  check_types(c);
  require_float(c);
  if (c.need_rank(0) < 2) c.unsupported("input of rank below 2");
  const std::string red = loss_reduction(c), ii = loss_ignore_index(c);
  const std::string lp = c.has_output(1) ? c.out(1) : temp(c, "log_prob");
  c.emit(lp + " = torch.log_softmax(" + c.in(0) + ", 1)");
  c.assign("F.nll_loss(" + lp + ", " + c.in(1) + ".to(torch.int64), " + (c.has_input(2) ? c.in(2) : "None") +
           ", None, " + ii + ", None, " + red + ")");
}

}  // namespace detail

/// Loss functions.
inline void add_loss_translations(op_registry& r) {
  using namespace detail;
  r.add("NegativeLogLikelihoodLoss", 12, nll_loss);
  r.add("SoftmaxCrossEntropyLoss", 12, softmax_cross_entropy_loss);
}

}  // namespace dfgpar::pytorch
