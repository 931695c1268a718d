#pragma once
/// \file ops.hpp
/// ONNX operator -> PyTorch translation: every operator family under
/// <dfgpar/pytorch/ops/> and the standard registry that holds them all.
/// A translation gets an `op_context` (ops/context.hpp) and appends lines of
/// Python that are valid TorchScript; the registry (ops/registry.hpp) picks
/// it by (domain, op type, since version), resolved against the ONNX schema
/// registry for the model's opset.
///
/// Safety rule: a translation either produces code that computes exactly the
/// ONNX semantics or throws `unsupported_op` naming the op and the attribute
/// or input that it cannot handle. Every attribute a node carries must be
/// read (or explicitly ignored) by its translation; the registry refuses the
/// node otherwise, so a new attribute never silently changes the meaning.
/// \code
///   auto& reg = dfgpar::pytorch::op_registry::standard();
///   if (!reg.supports("Conv")) ...
///   reg.translate(ctx);   // appends ctx.lines or throws unsupported_op
/// \endcode
/// Adding an operator: one row in <dfgpar/onnx/op_table.hpp> and one
/// translation in the family header it belongs to, registered there with the
/// op version it starts at (`r.add("Op", since, f)`).

#include <dfgpar/pytorch/ops/activation.hpp>
#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/control_flow.hpp>
#include <dfgpar/pytorch/ops/conv_pool.hpp>
#include <dfgpar/pytorch/ops/detection.hpp>
#include <dfgpar/pytorch/ops/elementwise.hpp>
#include <dfgpar/pytorch/ops/generator.hpp>
#include <dfgpar/pytorch/ops/index.hpp>
#include <dfgpar/pytorch/ops/linalg.hpp>
#include <dfgpar/pytorch/ops/loss.hpp>
#include <dfgpar/pytorch/ops/normalization.hpp>
#include <dfgpar/pytorch/ops/quantization.hpp>
#include <dfgpar/pytorch/ops/recurrent.hpp>
#include <dfgpar/pytorch/ops/reduce.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>
#include <dfgpar/pytorch/ops/resize.hpp>
#include <dfgpar/pytorch/ops/shape.hpp>
#include <dfgpar/pytorch/ops/signal.hpp>
#include <dfgpar/pytorch/ops/text.hpp>

namespace dfgpar::pytorch {

/// Adds the translations of every operator family to `r`.
inline void add_standard_translations(op_registry& r) {
  add_elementwise_translations(r);
  add_activation_translations(r);
  add_conv_pool_translations(r);
  add_normalization_translations(r);
  add_linalg_translations(r);
  add_shape_translations(r);
  add_reduce_translations(r);
  add_index_translations(r);
  add_quantization_translations(r);
  add_resize_translations(r);
  add_recurrent_translations(r);
  add_signal_translations(r);
  add_loss_translations(r);
  add_generator_translations(r);
  add_detection_translations(r);
  add_text_translations(r);
  add_control_flow_translations(r);
}

inline const op_registry& op_registry::standard() {
  static const op_registry r = [] {
    op_registry t;
    add_standard_translations(t);
    return t;
  }();
  return r;
}

}  // namespace dfgpar::pytorch
