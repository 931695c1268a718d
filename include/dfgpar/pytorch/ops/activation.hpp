#pragma once
/// \file activation.hpp
/// The PyTorch translations of activations: the ReLU family, sigmoids,
/// Softmax/LogSoftmax and Hardmax.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/onnx/args/softmax.hpp>
#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/elementwise.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

inline void relu(op_context& c) { unary("torch.relu")(c); }

inline void leaky_relu(op_context& c) {
  check_types(c);
  c.assign("F.leaky_relu(" + c.in(0) + ", " + python_float(c.attr_float("alpha", 0.01)) + ")");
}

inline void elu(op_context& c) {
  check_types(c);
  c.assign("F.elu(" + c.in(0) + ", " + python_float(c.attr_float("alpha", 1.0)) + ")");
}

inline void selu(op_context& c) {
  check_types(c);
  const double alpha = c.attr_float("alpha", 1.67326319217681884765625);
  const double gamma = c.attr_float("gamma", 1.05070102214813232421875);
  c.assign(python_float(gamma) + " * torch.where(" + c.in(0) + " > 0, " + c.in(0) + ", " + python_float(alpha) +
           " * torch.expm1(" + c.in(0) + "))");
}

inline void hard_sigmoid(op_context& c) {
  check_types(c);
  c.assign("torch.clamp(" + python_float(c.attr_float("alpha", 0.2)) + " * " + c.in(0) + " + " +
           python_float(c.attr_float("beta", 0.5)) + ", 0.0, 1.0)");
}

/// Softmax/LogSoftmax (`fn`) with the argument layer's axis rule: before
/// opset 13 the input is coerced to 2-D at `axis`, since the op works along it.
inline op_translation softmax_like(std::string fn) {
  return [fn](op_context& c) {
    check_types(c);
    const auto a = onnx::read_softmax(*c.node, c.attrs(), c.opset);
    const int r = c.rank(0);
    if (r < 0) {
      // the rank is known at run time only: torch takes the axis as it is
      // (negative from the end), flatten's start too
      const std::string ax = std::to_string(a.axis);
      if (!a.coerce_2d) c.assign(fn + "(" + c.in(0) + ", " + ax + ")");
      else c.assign(fn + "(torch.flatten(" + c.in(0) + ", " + ax + "), -1).reshape(" + c.in(0) + ".shape)");
      return;
    }
    const std::int64_t axis = normalize_axis(c, a.axis, r);
    if (!a.coerce_2d || axis == r - 1) {
      c.assign(fn + "(" + c.in(0) + ", " + std::to_string(axis) + ")");
    } else {
      c.assign(fn + "(torch.flatten(" + c.in(0) + ", " + std::to_string(axis) + "), -1).reshape(" + c.in(0) +
               ".shape)");
    }
  };
}

inline void shrink(op_context& c) {
  check_types(c);
  require_float(c);
  const std::string l = python_float(c.attr_float("lambd", 0.5)), b = python_float(c.attr_float("bias", 0.0)), x = c.in(0);
  c.assign("torch.where(" + x + " < -" + l + ", " + x + " + " + b + ", torch.where(" + x + " > " + l + ", " + x + " - " + b +
           ", torch.zeros_like(" + x + ")))");
}

/// Hardmax; coerced to 2-D (before opset 13) only along the last axis.
inline void hardmax(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const auto a = onnx::read_softmax(*c.node, c.attrs(), c.opset);
  const std::int64_t axis = normalize_axis(c, a.axis, r);
  if (a.coerce_2d && axis != r - 1) c.unsupported("opset < 13 with an axis other than the last");
  const std::string x = c.in(0), ax = std::to_string(axis);
  c.assign("F.one_hot(torch.argmax(" + x + ", " + ax + "), " + x + ".shape[" + ax + "]).movedim(-1, " + ax + ").to(" +
           x + ".dtype)");
}

inline void prelu(op_context& c) {
  check_types(c);
  c.assign("torch.where(" + c.in(0) + " < 0, " + c.in(0) + " * " + c.in(1) + ", " + c.in(0) + ")");
}

inline void thresholded_relu(op_context& c) {
  check_types(c);
  require_float(c);
  c.assign("F.threshold(" + c.in(0) + ", " + python_float(c.attr_float("alpha", 1.0)) + ", 0.0)");
}

inline void celu(op_context& c) {
  check_types(c);
  c.assign("F.celu(" + c.in(0) + ", " + python_float(c.attr_float("alpha", 1.0)) + ")");
}

}  // namespace detail

/// Activations: the ReLU family, sigmoids, softmax and hardmax.
inline void add_activation_translations(op_registry& r) {
  using namespace detail;
  r.add("Relu", 1, relu);
  r.add("Sigmoid", 1, unary("torch.sigmoid"));
  r.add("Tanh", 1, unary("torch.tanh"));
  r.add("Softplus", 1, unary("F.softplus"));
  r.add("Softsign", 1, unary("F.softsign"));
  r.add("HardSwish", 14, unary("F.hardswish"));
  r.add("Mish", 18, unary("F.mish"));
  r.add("LeakyRelu", 1, leaky_relu);
  r.add("Elu", 1, elu);
  r.add("Selu", 1, selu);
  r.add("Celu", 12, celu);
  r.add("HardSigmoid", 1, hard_sigmoid);
  r.add("PRelu", 1, prelu);
  r.add("ThresholdedRelu", 10, thresholded_relu);
  r.add("Shrink", 9, shrink);
  r.add("Softmax", 1, softmax_like("torch.softmax"));
  r.add("LogSoftmax", 1, softmax_like("torch.log_softmax"));
  r.add("Hardmax", 1, hardmax);
}

}  // namespace dfgpar::pytorch
