#pragma once
/// \file context.hpp
/// What a PyTorch translation of one ONNX node works with: the `op_context`
/// (the node, the Python expressions of its inputs, the names of its
/// outputs, known shapes/types, constant input values, the lines it emits)
/// and the helpers every operator family shares. A translation either emits
/// code that computes exactly the ONNX semantics or throws `unsupported_op`
/// naming the op and the attribute or input it cannot handle.

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/args/common.hpp>
#include <dfgpar/onnx/attributes.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/tensor.hpp>
#include <dfgpar/pytorch/names.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace dfgpar::pytorch {

/// An operator, or an attribute/input combination of one, that the PyTorch
/// back end cannot translate faithfully.
struct unsupported_op : graph_error {
  using graph_error::graph_error;
};

/// A subgraph (If's branches, Loop's and Scan's body) as the code generator
/// translated it: its nodes' lines (indented relative to the node's code),
/// the variables its inputs are read from (the translation assigns them) and
/// the Python expressions of its outputs.
struct body_code {
  std::vector<std::string> lines;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
};

/// Everything a translation needs to know about one node.
struct op_context {
  const ::onnx::NodeProto* node = nullptr;
  std::int64_t opset = 0;                                       ///< the model's default-domain opset
  int since_version = 0;                                        ///< the op version in effect (set by op_registry::translate)
  std::vector<std::string> inputs;                              ///< Python expressions ("" = missing optional input)
  std::vector<const onnx::tensor_info*> input_info;             ///< per input, may be null
  std::vector<std::shared_ptr<const onnx::tensor>> constants;   ///< per input: value if constant, else null
  std::vector<std::string> outputs;                             ///< variable names ("" = output not produced)
  std::vector<const onnx::tensor_info*> output_info;            ///< per output, may be null
  std::vector<std::string> lines;                               ///< the translation's result
  ///< (a temporary a translation needs is named after an output plus a part
  ///< with "__", which no identifier_table name contains, so it cannot collide)
  std::vector<char> input_used;                                 ///< which inputs the code reads as tensors
  /// Translates one of the node's subgraphs (set by the code generator).
  std::function<body_code(const ::onnx::GraphProto&)> translate_body;
  bool uses_list = false;  ///< the code annotates a `List[Tensor]` (model.py then imports List)

  const std::string& op() const { return node->op_type(); }

  /// A one-line description for error messages.
  std::string where() const {
    std::string s = "operator " + python_string(node->op_type());
    if (!node->name().empty()) s += " (node " + python_string(node->name()) + ")";
    return s;
  }
  [[noreturn]] void unsupported(const std::string& why) const {
    throw unsupported_op(where() + ": " + why);
  }

  std::size_t num_inputs() const { return inputs.size(); }
  bool has_input(std::size_t i) const { return i < inputs.size() && !inputs[i].empty(); }
  bool has_output(std::size_t i) const { return i < outputs.size() && !outputs[i].empty(); }

  /// Input i as a tensor expression (marks it read).
  const std::string& in(std::size_t i) {
    if (!has_input(i)) unsupported("input " + std::to_string(i) + " is missing");
    if (input_used.size() < inputs.size()) input_used.resize(inputs.size(), 0);
    input_used[i] = 1;
    return inputs[i];
  }
  /// Output i's variable name.
  const std::string& out(std::size_t i = 0) const {
    if (!has_output(i)) unsupported("output " + std::to_string(i) + " is not produced");
    return outputs[i];
  }
  /// The value of input i when it is a compile-time constant, else null.
  const onnx::tensor* constant(std::size_t i) const {
    return i < constants.size() && constants[i] ? constants[i].get() : nullptr;
  }
  /// Input i as int64 values; it must be constant.
  std::vector<std::int64_t> constant_ints(std::size_t i, const char* what) const {
    const auto* t = constant(i);
    if (!t) unsupported(std::string(what) + " (input " + std::to_string(i) + ") must be a constant");
    return t->to_int64();
  }
  /// Rank of input i when known, else -1 (dimension values may be unknown).
  int rank(std::size_t i) const {
    const auto* info = i < input_info.size() ? input_info[i] : nullptr;
    if (info && info->rank_known()) return static_cast<int>(info->shape.size());
    if (const auto* c = constant(i)) return static_cast<int>(c->dims.size());
    return -1;
  }
  int need_rank(std::size_t i) const {
    const int r = rank(i);
    if (r < 0) unsupported("the rank of input " + std::to_string(i) + " is not known");
    return r;
  }
  /// Shape of input i when every dimension is known.
  std::optional<std::vector<std::int64_t>> shape(std::size_t i) const {
    const auto* info = i < input_info.size() ? input_info[i] : nullptr;
    if (info && info->shape_known) return info->shape;
    if (const auto* c = constant(i)) return c->dims;
    return std::nullopt;
  }
  /// Dimensions of input i when its rank is known, -1 for a dimension whose
  /// value is not (a symbolic `dim_param`): read it at run time (`x.shape[d]`).
  std::optional<std::vector<std::int64_t>> dims(std::size_t i) const {
    const auto* info = i < input_info.size() ? input_info[i] : nullptr;
    if (info && info->rank_known()) return info->shape;
    if (const auto* c = constant(i)) return c->dims;
    return std::nullopt;
  }
  /// Element type of input i (0 when unknown).
  std::int32_t elem_type(std::size_t i) const {
    const auto* info = i < input_info.size() ? input_info[i] : nullptr;
    if (info && info->elem_type) return info->elem_type;
    if (const auto* c = constant(i)) return c->elem_type;
    return 0;
  }
  std::int32_t out_elem_type(std::size_t i = 0) const {
    const auto* info = i < output_info.size() ? output_info[i] : nullptr;
    return info ? info->elem_type : 0;
  }

  /// The node's attributes, read through the adapter's one typed reader
  /// (onnx/attributes.hpp), which remembers what was read: the registry
  /// refuses a node with an attribute its translation did not read, and a
  /// wrongly typed attribute, by name.
  onnx::attribute_reader& attrs() {
    if (!attrs_ || &attrs_->node() != node) attrs_.emplace(*node);
    return *attrs_;
  }
  std::int64_t attr_int(std::string_view name, std::int64_t def) { return attrs().get_int(name, def); }
  double attr_float(std::string_view name, double def) { return attrs().get_float(name, def); }
  std::string attr_string(std::string_view name, std::string def) { return attrs().get_string(name, std::move(def)); }
  std::vector<std::int64_t> attr_ints(std::string_view name, std::vector<std::int64_t> def = {}) {
    return attrs().get_ints(name, std::move(def));
  }
  /// Whether the node has attribute `name` (not a read).
  bool has_attr(std::string_view name) const {
    for (const auto& a : node->attribute())
      if (a.name() == name) return true;
    return false;
  }
  /// Marks attributes whose value does not change the result (e.g. a seed).
  void ignore(std::string_view name) { attrs().ignore(name); }

  /// The inputs as the argument layer (onnx/args/) sees them: given or not,
  /// and the value of those that are constants.
  onnx::node_inputs known_inputs() const {
    std::vector<char> given(inputs.size());
    std::vector<const onnx::tensor*> values(inputs.size(), nullptr);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      given[i] = has_input(i);
      values[i] = constant(i);
    }
    return onnx::node_inputs(std::move(given), std::move(values));
  }

  /// Graph attribute `name` translated (see body_code).
  body_code body(std::string_view name) {
    const auto* g = attrs().find_graph(name);
    if (!g) unsupported("attribute " + python_string(name) + " (a graph) is missing");
    if (!translate_body) unsupported("subgraphs need the code generator");
    return translate_body(*g);
  }

  void emit(std::string line) { lines.push_back(std::move(line)); }
  /// `out = expr`.
  void assign(const std::string& expr, std::size_t output = 0) { emit(out(output) + " = " + expr); }

 private:
  std::optional<onnx::attribute_reader> attrs_;
};

/// Signature of one translation.
using op_translation = std::function<void(op_context&)>;

namespace detail {

inline std::string torch_dtype(std::int32_t t) {
  using tp = ::onnx::TensorProto;
  switch (t) {
    case tp::FLOAT: return "torch.float32";
    case tp::DOUBLE: return "torch.float64";
    case tp::FLOAT16: return "torch.float16";
    case tp::BFLOAT16: return "torch.bfloat16";
    case tp::INT8: return "torch.int8";
    case tp::UINT8: return "torch.uint8";
    case tp::INT16: return "torch.int16";
    case tp::INT32: return "torch.int32";
    case tp::INT64: return "torch.int64";
    case tp::BOOL: return "torch.bool";
    default: return "";
  }
}

inline bool is_float_type(std::int32_t t) {
  using tp = ::onnx::TensorProto;
  return t == tp::FLOAT || t == tp::DOUBLE || t == tp::FLOAT16 || t == tp::BFLOAT16;
}

inline std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

inline std::int64_t normalize_axis(op_context& c, std::int64_t axis, int rank, const char* what = "axis") {
  if (axis < -rank || axis >= std::max(rank, 1)) c.unsupported(std::string(what) + " " + std::to_string(axis) + " out of range");
  return axis < 0 ? axis + rank : axis;
}

/// Types PyTorch can hold: refuses unsigned 16/32/64-bit and the rest.
inline void check_types(op_context& c) {
  for (std::size_t i = 0; i < c.inputs.size(); ++i)
    if (c.has_input(i) && c.elem_type(i) != 0 && torch_dtype(c.elem_type(i)).empty())
      c.unsupported("input " + std::to_string(i) + " has element type " + onnx::elem_type_name(c.elem_type(i)) +
                    ", which PyTorch does not have");
  for (std::size_t i = 0; i < c.outputs.size(); ++i)
    if (c.has_output(i) && c.out_elem_type(i) != 0 && torch_dtype(c.out_elem_type(i)).empty())
      c.unsupported("output " + std::to_string(i) + " has element type " + onnx::elem_type_name(c.out_elem_type(i)) +
                    ", which PyTorch does not have");
}

inline void require_float(op_context& c, std::size_t i = 0) {
  const auto t = c.elem_type(i);
  if (t == 0) c.unsupported("the element type of input " + std::to_string(i) + " is not known");
  if (!is_float_type(t)) c.unsupported("input " + std::to_string(i) + " of type " + onnx::elem_type_name(t));
}

/// Input i as a Python list of ints: a literal when it is constant, else
/// read from the tensor at run time.
inline std::string int_list(op_context& c, std::size_t i) {
  if (const auto* t = c.constant(i)) return python_int_list(t->to_int64());
  // a line of its own: a comprehension cannot be wrapped at a comma
  const std::string v = c.out(0) + "__in" + std::to_string(i);
  c.emit(v + " = [int(d__) for d__ in " + c.in(i) + ".reshape(-1)]");
  return v;
}

/// Input i, a one-element tensor, as a Python int (literal when constant).
inline std::string int_scalar(op_context& c, std::size_t i, const char* what) {
  if (const auto* t = c.constant(i)) {
    const auto v = t->to_int64();
    if (v.size() != 1) c.unsupported(std::string(what) + " must be one value");
    return std::to_string(v[0]);
  }
  if (const auto s = c.shape(i)) {
    std::int64_t n = 1;
    for (auto d : *s) n *= d;
    if (n != 1) c.unsupported(std::string(what) + " must be one value");
  }
  return "int(" + c.in(i) + ".reshape(-1)[0])";
}

/// A temporary of the translation: the first produced output's name plus
/// "__" and a part (no identifier_table name contains "__").
inline std::string temp(const op_context& c, const std::string& part) {
  for (std::size_t i = 0; i < c.outputs.size(); ++i)
    if (c.has_output(i)) return c.outputs[i] + "__" + part;
  return c.out(0) + "__" + part;  // throws: no output at all
}

}  // namespace detail

}  // namespace dfgpar::pytorch
