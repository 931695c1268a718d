#pragma once
/// \file op_table.hpp
/// The operator table: one row per ONNX operator, holding what every layer of
/// the ONNX adapter and the back ends needs to know about it. The cost model
/// (cost_model.hpp), the op semantics (semantics.hpp: clone classes), the
/// folding evaluator (evaluate.hpp), the loader's guards (model.hpp) and the
/// PyTorch emitter (weight roles, translation) read it; none keeps its own
/// list of operators.
///
/// How to use it:
/// \code
///   if (const auto* op = dfgpar::onnx::find_op(node.domain(), node.op_type())) {
///     op->cost.kind;      // how the cost model estimates it
///     op->clone;          // whether the scheduler may duplicate it
///     op->foldable;       // whether evaluate() computes it
///     op->pytorch;        // whether the PyTorch back end translates it
///     dfgpar::onnx::input_role(*op, 1);        // "weight" (Conv), "" when none
///     dfgpar::onnx::since_version(*op, 13);    // the operator version a model of opset 13 uses
///   }
/// \endcode
///
/// Where a new operator goes: one row below (alphabetical; a test checks the
/// order and that the flags agree with what each layer does), its argument
/// rules in onnx/args/ when they depend on the opset or come from inputs,
/// and its translation in pytorch/. Since-versions come from the ONNX schema
/// registry (`since_version`, `since_versions`), not typed by hand.
///
/// A row may describe an operator only some layers handle: the cost model
/// knows Gelu, the Bitwise* ops, GroupNormalization and LpPool, which no back
/// end translates (`pytorch = false`); the ONNX library this is built with
/// (1.12, opset 17) has no schema for the newer ones (their `since_versions`
/// are empty), so the loader passes them unchecked.

#include <onnx/defs/schema.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dfgpar::onnx {

/// How the cost model (cost_model.hpp) estimates an operator's FLOPs and
/// bytes moved (bytes are inputs + outputs unless said otherwise).
enum class cost_kind : std::uint8_t {
  generic,         ///< not modelled: FLOPs = output elements when ONNX has a schema for it (memory-bound), else unknown
  elementwise,     ///< FLOPs = factor x output elements
  view,            ///< metadata only: no FLOPs, no bytes
  copy,            ///< data movement: no FLOPs, bytes = 2 x outputs (data-dependent reads touch about what they write)
  conv,            ///< FLOPs = 2 x output elements x elements per output channel of the weight (input `weight_input`)
  conv_transpose,  ///< FLOPs = 2 x input elements x elements per input channel of the weight (input 1)
  gemm,            ///< FLOPs = 2 x output elements x K (+ output elements with C)
  matmul,          ///< FLOPs = 2 x output elements x the last dimension of A
  einsum,          ///< FLOPs = 2 x max(output elements, input 0 elements x the last dimension of input 1)
  window,          ///< FLOPs = output elements x product of the attribute `window_attr`
  per_input,       ///< FLOPs = factor x input 0 elements (pools, normalisations, softmax, reductions, TopK)
  lrn,             ///< FLOPs = (2 + size) x input elements
  resize,          ///< FLOPs = 4 x output elements; bytes = output + input 0
  recurrent,       ///< FLOPs = 2 x seq x batch x (W + R elements) + 10 x output elements
  nms,             ///< FLOPs = scores elements x boxes' dimension 1
  control_flow,    ///< If (the dearer branch), Loop (one iteration), Scan (x trip count): the body's estimate
};

/// The cost model's inputs for one operator.
struct op_cost {
  cost_kind kind = cost_kind::generic;
  float factor = 1;                              ///< FLOPs per element (elementwise, per_input)
  std::int8_t weight_input = 1;                  ///< conv: the input holding the weight
  std::string_view window_attr = "kernel_shape"; ///< window: the attribute whose product is the window size
};

/// Whether the scheduler may duplicate a node on another worker (semantics.hpp).
enum class clone_class : std::uint8_t {
  never,     ///< not cloned
  constant,  ///< always (a Constant)
  view,      ///< a pure view: at any size when semantics_options::clone_views_any_size, else as `cheap`
  cheap,     ///< when its outputs total at most semantics_options::clone_max_bytes
};

/// A rank an input must have for ONNX 1.12's shape inference not to index
/// past the end of its dimensions (model.hpp's guards).
struct rank_rule {
  std::int8_t input = -1;  ///< -1: no rule
  std::int8_t lo = 0, hi = 64;
  bool same_as_input0 = false;  ///< when input 0's rank is known, exactly that rank
  std::string_view what{};      ///< "input A", for the message
};

/// The guards that protect ONNX's shape inference from a malformed node.
struct op_guard {
  std::array<rank_rule, 3> ranks{};
  /// kernel_shape, strides, dilations, output_padding and output_shape have
  /// rank(input 0) - 2 values, pads twice that.
  bool spatial_attributes = false;
  /// Whether any guard applies.
  constexpr bool any() const noexcept { return spatial_attributes || ranks[0].input >= 0; }
};

/// One operator's row.
struct op_info {
  std::string_view domain{};  ///< "" for the default domain (ai.onnx)
  std::string_view op_type{};
  op_cost cost{};
  clone_class clone = clone_class::never;
  std::string_view weight_roles{};  ///< names of the inputs, comma-separated ("x,weight,bias"), for weight names
  op_guard guard{};
  bool foldable = false;  ///< evaluate.hpp computes it (constant folding)
  bool pytorch = false;   ///< the PyTorch back end translates it (pytorch/ops.hpp)
};

namespace detail {

inline constexpr op_guard guard_gemm{.ranks = {{{0, 2, 2, false, "input A"}, {1, 2, 2, false, "input B"}, {2, 0, 2, false, "input C"}}}};
inline constexpr op_guard guard_conv{.ranks = {{{0, 3, 64, false, "input X"}, {1, 3, 64, true, "weight W"}, {}}},
                                     .spatial_attributes = true};
inline constexpr op_guard guard_qlinear_conv{.ranks = {{{0, 3, 64, false, "input X"}, {3, 3, 64, true, "weight W"}, {}}},
                                             .spatial_attributes = true};
inline constexpr op_guard guard_pool{.ranks = {{{0, 3, 64, false, "input X"}, {}, {}}}, .spatial_attributes = true};
inline constexpr op_guard guard_unpool{
    .ranks = {{{0, 3, 64, false, "input X"}, {1, 3, 64, true, "input I"}, {2, 1, 1, false, "input output_shape"}}},
    .spatial_attributes = true};
inline constexpr op_guard guard_rank2{.ranks = {{{0, 2, 64, false, "input X"}, {}, {}}}};
inline constexpr op_guard guard_rank1{.ranks = {{{0, 1, 64, false, "input X"}, {}, {}}}};

}  // namespace detail

/// The table, sorted by (domain, op_type).
inline constexpr op_info op_table[] = {
    {.op_type = "Abs", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Acos", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "Acosh", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "Add", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "AffineGrid", .cost = {.kind = cost_kind::resize}},
    {.op_type = "And", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "ArgMax", .cost = {.kind = cost_kind::per_input}, .foldable = true, .pytorch = true},
    {.op_type = "ArgMin", .cost = {.kind = cost_kind::per_input}, .foldable = true, .pytorch = true},
    {.op_type = "Asin", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "Asinh", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "Atan", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "Atanh", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "AveragePool", .cost = {.kind = cost_kind::window}, .guard = detail::guard_pool, .pytorch = true},
    {.op_type = "BatchNormalization", .cost = {.kind = cost_kind::per_input, .factor = 2}, .weight_roles = "x,weight,bias,running_mean,running_var", .guard = detail::guard_rank1, .pytorch = true},
    {.op_type = "BitShift", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
    {.op_type = "BitwiseAnd", .cost = {.kind = cost_kind::elementwise}},
    {.op_type = "BitwiseNot", .cost = {.kind = cost_kind::elementwise}},
    {.op_type = "BitwiseOr", .cost = {.kind = cost_kind::elementwise}},
    {.op_type = "BitwiseXor", .cost = {.kind = cost_kind::elementwise}},
    {.op_type = "BlackmanWindow", .pytorch = true},
    {.op_type = "Cast", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "CastLike", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Ceil", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Celu", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
    {.op_type = "CenterCropPad", .cost = {.kind = cost_kind::copy}},
    {.op_type = "Clip", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Col2Im", .cost = {.kind = cost_kind::copy}},
    {.op_type = "Compress", .cost = {.kind = cost_kind::copy}, .pytorch = true},
    {.op_type = "Concat", .cost = {.kind = cost_kind::copy}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "ConcatFromSequence", .cost = {.kind = cost_kind::copy}},
    {.op_type = "Constant", .cost = {.kind = cost_kind::view}, .clone = clone_class::constant, .foldable = true},
    {.op_type = "ConstantOfShape", .cost = {.kind = cost_kind::copy}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Conv", .cost = {.kind = cost_kind::conv}, .weight_roles = "x,weight,bias", .guard = detail::guard_conv, .pytorch = true},
    {.op_type = "ConvInteger", .cost = {.kind = cost_kind::conv}, .guard = detail::guard_conv, .pytorch = true},
    {.op_type = "ConvTranspose", .cost = {.kind = cost_kind::conv_transpose}, .weight_roles = "x,weight,bias", .guard = detail::guard_conv, .pytorch = true},
    {.op_type = "Cos", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "Cosh", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "CumSum", .cost = {.kind = cost_kind::per_input}, .foldable = true, .pytorch = true},
    {.op_type = "DFT", .pytorch = true},
    {.op_type = "DeformConv", .cost = {.kind = cost_kind::conv}, .guard = detail::guard_conv},
    {.op_type = "DepthToSpace", .cost = {.kind = cost_kind::copy}, .foldable = true, .pytorch = true},
    {.op_type = "DequantizeLinear", .cost = {.kind = cost_kind::elementwise}, .pytorch = true},
    {.op_type = "Det", .pytorch = true},
    {.op_type = "Div", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Dropout", .cost = {.kind = cost_kind::view}, .clone = clone_class::view, .foldable = true, .pytorch = true},
    {.op_type = "DynamicQuantizeLinear", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .pytorch = true},
    {.op_type = "Einsum", .cost = {.kind = cost_kind::einsum}, .foldable = true, .pytorch = true},
    {.op_type = "Elu", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
    {.op_type = "Equal", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Erf", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "Exp", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Expand", .cost = {.kind = cost_kind::copy}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "EyeLike", .cost = {.kind = cost_kind::copy}, .foldable = true, .pytorch = true},
    {.op_type = "Flatten", .cost = {.kind = cost_kind::view}, .clone = clone_class::view, .foldable = true, .pytorch = true},
    {.op_type = "Floor", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "GRU", .cost = {.kind = cost_kind::recurrent}, .foldable = true, .pytorch = true},
    {.op_type = "Gather", .cost = {.kind = cost_kind::copy}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "GatherElements", .cost = {.kind = cost_kind::copy}, .foldable = true, .pytorch = true},
    {.op_type = "GatherND", .cost = {.kind = cost_kind::copy}, .foldable = true, .pytorch = true},
    {.op_type = "Gelu", .cost = {.kind = cost_kind::elementwise, .factor = 8}},
    {.op_type = "Gemm", .cost = {.kind = cost_kind::gemm}, .weight_roles = "a,weight,bias", .guard = detail::guard_gemm, .pytorch = true},
    {.op_type = "GlobalAveragePool", .cost = {.kind = cost_kind::per_input}, .guard = detail::guard_rank2, .pytorch = true},
    {.op_type = "GlobalLpPool", .cost = {.kind = cost_kind::per_input}, .guard = detail::guard_rank2},
    {.op_type = "GlobalMaxPool", .cost = {.kind = cost_kind::per_input}, .guard = detail::guard_rank2, .pytorch = true},
    {.op_type = "Greater", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "GreaterOrEqual", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
    {.op_type = "GridSample", .cost = {.kind = cost_kind::resize}, .pytorch = true},
    {.op_type = "GroupNormalization", .cost = {.kind = cost_kind::per_input, .factor = 5}},
    {.op_type = "HammingWindow", .pytorch = true},
    {.op_type = "HannWindow", .pytorch = true},
    {.op_type = "HardSigmoid", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "HardSwish", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Hardmax", .cost = {.kind = cost_kind::per_input, .factor = 5}, .foldable = true, .pytorch = true},
    {.op_type = "Identity", .cost = {.kind = cost_kind::view}, .clone = clone_class::view, .foldable = true, .pytorch = true},
    {.op_type = "If", .cost = {.kind = cost_kind::control_flow}, .pytorch = true},
    {.op_type = "InstanceNormalization", .cost = {.kind = cost_kind::per_input, .factor = 5}, .weight_roles = "x,weight,bias", .guard = detail::guard_rank2, .pytorch = true},
    {.op_type = "IsInf", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
    {.op_type = "IsNaN", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
    {.op_type = "LRN", .cost = {.kind = cost_kind::lrn}, .guard = detail::guard_rank2, .pytorch = true},
    {.op_type = "LSTM", .cost = {.kind = cost_kind::recurrent}, .foldable = true, .pytorch = true},
    {.op_type = "LayerNormalization", .cost = {.kind = cost_kind::per_input, .factor = 5}, .weight_roles = "x,weight,bias", .foldable = true, .pytorch = true},
    {.op_type = "LeakyRelu", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Less", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "LessOrEqual", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
    {.op_type = "Log", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "LogSoftmax", .cost = {.kind = cost_kind::per_input, .factor = 5}, .pytorch = true},
    {.op_type = "Loop", .cost = {.kind = cost_kind::control_flow}, .pytorch = true},
    {.op_type = "LpNormalization", .cost = {.kind = cost_kind::per_input, .factor = 5}},
    {.op_type = "LpPool", .cost = {.kind = cost_kind::window}, .guard = detail::guard_pool},
    {.op_type = "MatMul", .cost = {.kind = cost_kind::matmul}, .pytorch = true},
    {.op_type = "MatMulInteger", .cost = {.kind = cost_kind::matmul}, .pytorch = true},
    {.op_type = "Max", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "MaxPool", .cost = {.kind = cost_kind::window}, .guard = detail::guard_pool, .pytorch = true},
    {.op_type = "MaxRoiPool", .cost = {.kind = cost_kind::window, .window_attr = "pooled_shape"}},
    {.op_type = "MaxUnpool", .cost = {.kind = cost_kind::per_input}, .guard = detail::guard_unpool, .pytorch = true},
    {.op_type = "Mean", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
    {.op_type = "MeanVarianceNormalization", .cost = {.kind = cost_kind::per_input, .factor = 5}, .pytorch = true},
    {.op_type = "Min", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Mish", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .pytorch = true},
    {.op_type = "Mod", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
    {.op_type = "Mul", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Neg", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "NegativeLogLikelihoodLoss", .foldable = true, .pytorch = true},
    {.op_type = "NonMaxSuppression", .cost = {.kind = cost_kind::nms}, .pytorch = true},
    {.op_type = "NonZero", .cost = {.kind = cost_kind::copy}, .pytorch = true},
    {.op_type = "Not", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "OneHot", .cost = {.kind = cost_kind::copy}, .foldable = true, .pytorch = true},
    {.op_type = "Optional", .cost = {.kind = cost_kind::view}},
    {.op_type = "OptionalGetElement", .cost = {.kind = cost_kind::view}},
    {.op_type = "OptionalHasElement", .cost = {.kind = cost_kind::view}},
    {.op_type = "Or", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "PRelu", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
    {.op_type = "Pad", .cost = {.kind = cost_kind::copy}, .foldable = true, .pytorch = true},
    {.op_type = "Pow", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "QLinearConv", .cost = {.kind = cost_kind::conv, .weight_input = 3}, .guard = detail::guard_qlinear_conv, .pytorch = true},
    {.op_type = "QLinearMatMul", .cost = {.kind = cost_kind::matmul}, .pytorch = true},
    {.op_type = "QuantizeLinear", .cost = {.kind = cost_kind::elementwise}, .pytorch = true},
    {.op_type = "RNN", .cost = {.kind = cost_kind::recurrent}, .foldable = true, .pytorch = true},
    {.op_type = "Range", .cost = {.kind = cost_kind::copy}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Reciprocal", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "ReduceL1", .cost = {.kind = cost_kind::per_input}, .foldable = true, .pytorch = true},
    {.op_type = "ReduceL2", .cost = {.kind = cost_kind::per_input}, .foldable = true, .pytorch = true},
    {.op_type = "ReduceLogSum", .cost = {.kind = cost_kind::per_input}, .foldable = true, .pytorch = true},
    {.op_type = "ReduceLogSumExp", .cost = {.kind = cost_kind::per_input, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "ReduceMax", .cost = {.kind = cost_kind::per_input}, .foldable = true, .pytorch = true},
    {.op_type = "ReduceMean", .cost = {.kind = cost_kind::per_input}, .foldable = true, .pytorch = true},
    {.op_type = "ReduceMin", .cost = {.kind = cost_kind::per_input}, .foldable = true, .pytorch = true},
    {.op_type = "ReduceProd", .cost = {.kind = cost_kind::per_input}, .foldable = true, .pytorch = true},
    {.op_type = "ReduceSum", .cost = {.kind = cost_kind::per_input}, .foldable = true, .pytorch = true},
    {.op_type = "ReduceSumSquare", .cost = {.kind = cost_kind::per_input}, .foldable = true, .pytorch = true},
    {.op_type = "Relu", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Reshape", .cost = {.kind = cost_kind::view}, .clone = clone_class::view, .foldable = true, .pytorch = true},
    {.op_type = "Resize", .cost = {.kind = cost_kind::resize}, .foldable = true, .pytorch = true},
    {.op_type = "ReverseSequence", .cost = {.kind = cost_kind::copy}, .foldable = true, .pytorch = true},
    // RoiAlign: each output element averages sampling_ratio^2 bilinear samples (about 10 FLOPs each; 2x2 assumed, the adaptive default)
    {.op_type = "RoiAlign", .cost = {.kind = cost_kind::elementwise, .factor = 40}, .pytorch = true},
    {.op_type = "Round", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
    {.op_type = "STFT", .pytorch = true},
    {.op_type = "Scan", .cost = {.kind = cost_kind::control_flow}, .pytorch = true},
    {.op_type = "Scatter", .cost = {.kind = cost_kind::copy}, .foldable = true, .pytorch = true},
    {.op_type = "ScatterElements", .cost = {.kind = cost_kind::copy}, .foldable = true, .pytorch = true},
    {.op_type = "ScatterND", .cost = {.kind = cost_kind::copy}, .foldable = true, .pytorch = true},
    {.op_type = "Selu", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
    {.op_type = "SequenceAt", .cost = {.kind = cost_kind::copy}},
    {.op_type = "SequenceConstruct", .cost = {.kind = cost_kind::copy}},
    {.op_type = "SequenceEmpty", .cost = {.kind = cost_kind::copy}},
    {.op_type = "SequenceErase", .cost = {.kind = cost_kind::copy}},
    {.op_type = "SequenceInsert", .cost = {.kind = cost_kind::copy}},
    {.op_type = "SequenceLength", .cost = {.kind = cost_kind::copy}},
    {.op_type = "Shape", .cost = {.kind = cost_kind::view}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Shrink", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
    {.op_type = "Sigmoid", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Sign", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Sin", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "Sinh", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "Size", .cost = {.kind = cost_kind::view}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Slice", .cost = {.kind = cost_kind::copy}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Softmax", .cost = {.kind = cost_kind::per_input, .factor = 5}, .pytorch = true},
    {.op_type = "SoftmaxCrossEntropyLoss", .foldable = true, .pytorch = true},
    {.op_type = "Softplus", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "Softsign", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "SpaceToDepth", .cost = {.kind = cost_kind::copy}, .foldable = true, .pytorch = true},
    {.op_type = "Split", .cost = {.kind = cost_kind::copy}, .foldable = true, .pytorch = true},
    {.op_type = "SplitToSequence", .cost = {.kind = cost_kind::copy}},
    {.op_type = "Sqrt", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Squeeze", .cost = {.kind = cost_kind::view}, .clone = clone_class::view, .foldable = true, .pytorch = true},
    {.op_type = "Sub", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Sum", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
    {.op_type = "Tan", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .foldable = true, .pytorch = true},
    {.op_type = "Tanh", .cost = {.kind = cost_kind::elementwise, .factor = 8}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "TfIdfVectorizer", .pytorch = true},
    {.op_type = "ThresholdedRelu", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
    {.op_type = "Tile", .cost = {.kind = cost_kind::copy}, .foldable = true, .pytorch = true},
    {.op_type = "TopK", .cost = {.kind = cost_kind::per_input, .factor = 4}, .foldable = true, .pytorch = true},
    {.op_type = "Transpose", .cost = {.kind = cost_kind::copy}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Trilu", .cost = {.kind = cost_kind::copy}, .foldable = true, .pytorch = true},
    {.op_type = "Unique", .cost = {.kind = cost_kind::copy}, .pytorch = true},
    {.op_type = "Unsqueeze", .cost = {.kind = cost_kind::view}, .clone = clone_class::view, .foldable = true, .pytorch = true},
    {.op_type = "Upsample", .cost = {.kind = cost_kind::resize}, .foldable = true, .pytorch = true},
    {.op_type = "Where", .cost = {.kind = cost_kind::elementwise}, .clone = clone_class::cheap, .foldable = true, .pytorch = true},
    {.op_type = "Xor", .cost = {.kind = cost_kind::elementwise}, .foldable = true, .pytorch = true},
};

namespace detail {

inline bool is_default_op_domain(std::string_view d) noexcept { return d.empty() || d == "ai.onnx"; }

}  // namespace detail

/// The row of operator `op_type` in `domain` ("" or "ai.onnx": the default
/// domain), or null when the table has none.
inline const op_info* find_op(std::string_view domain, std::string_view op_type) {
  static const auto index = [] {
    std::unordered_map<std::string, const op_info*> m;
    for (const auto& r : op_table) m.emplace(std::string(r.domain) + '\x1f' + std::string(r.op_type), &r);
    return m;
  }();
  const std::string_view d = detail::is_default_op_domain(domain) ? std::string_view() : domain;
  auto it = index.find(std::string(d) + '\x1f' + std::string(op_type));
  return it == index.end() ? nullptr : it->second;
}

/// The role of input `k` of `op` ("weight", "bias"), "" when the row names none.
inline std::string_view input_role(const op_info& op, std::size_t k) {
  std::string_view s = op.weight_roles;
  for (std::size_t i = 0; !s.empty(); ++i) {
    const auto comma = s.find(',');
    if (i == k) return s.substr(0, comma);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return {};
}

/// The version of `op` a model importing operator set `opset` of its domain
/// uses (the schema's since-version), 0 when the ONNX library knows none.
inline int since_version(const op_info& op, std::int64_t opset) {
  const auto* s = ::onnx::OpSchemaRegistry::Schema(std::string(op.op_type), static_cast<int>(opset), std::string(op.domain));
  return s ? s->SinceVersion() : 0;
}

/// Every version of `op` the ONNX library knows (its since-versions, ascending).
inline std::vector<int> since_versions(const op_info& op) {
  std::vector<int> v;
  const auto& ranges = ::onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = ranges.find(std::string(op.domain));
  const int last = it == ranges.end() ? 0 : it->second.second;
  for (int opset = 1; opset <= last; ++opset) {
    const int s = since_version(op, opset);
    if (s > 0 && (v.empty() || v.back() != s)) v.push_back(s);
  }
  return v;
}

}  // namespace dfgpar::onnx
