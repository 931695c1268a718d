#pragma once
/// \file args/dropout.hpp
/// Dropout's mode across opsets, the rule that decides when it is the
/// identity: before opset 7 the `is_test` attribute (default 0: training);
/// opsets 7-11 inference only (`ratio` attribute); since opset 12 the
/// optional inputs ratio (1) and training_mode (2, absent: inference). The
/// optional mask output (1) is all true in inference. `seed` never changes an
/// inference result.
/// \code
///   auto d = dfgpar::onnx::read_dropout(node, attrs, opset, inputs);
///   if (d.mode == dfgpar::onnx::dropout_mode::inference) y = x;
/// \endcode

#include <dfgpar/onnx/args/common.hpp>

#include <cstdint>

namespace dfgpar::onnx {

/// Whether a Dropout node drops anything.
enum class dropout_mode : std::uint8_t {
  inference,    ///< output = input, mask all true
  training,     ///< random: never folded, refused by the back ends
  at_run_time,  ///< training_mode is computed at run time
};

/// Dropout's arguments.
struct dropout_args {
  dropout_mode mode = dropout_mode::inference;
  arg<double> ratio;          ///< attribute before opset 12, input 1 since (default 0.5)
  bool mask_output = false;   ///< the node names output 1 (the mask)
  /// Output 0 is input 0 (inference) and no mask is produced.
  bool is_identity() const noexcept { return mode == dropout_mode::inference && !mask_output; }
};

/// Reads Dropout's arguments. \throws argument_error when training_mode has more than one element.
inline dropout_args read_dropout(const ::onnx::NodeProto& n, attribute_reader& a, std::int64_t opset,
                                 const node_inputs& in) {
  dropout_args d;
  a.ignore("seed");
  a.ignore("consumed_inputs");  // opset 1, legacy
  d.mask_output = n.output_size() > 1 && !n.output(1).empty();
  if (opset < 12) {
    if (auto r = a.find_float("ratio")) {
      d.ratio.source = arg_source::attribute;
      d.ratio.value = *r;
    }
    if (opset < 7) d.mode = a.get_int("is_test", 0) != 0 ? dropout_mode::inference : dropout_mode::training;
  } else {
    d.ratio = detail::scalar_from_input(n, in, 1, "ratio");
    const auto t = detail::scalar_from_input(n, in, 2, "training_mode");
    if (t.at_run_time()) d.mode = dropout_mode::at_run_time;
    else if (t.known() && *t.value != 0) d.mode = dropout_mode::training;
  }
  if (!d.ratio.given()) d.ratio.value = 0.5;
  return d;
}

}  // namespace dfgpar::onnx
