#pragma once
/// \file semantics.hpp
/// The ONNX op-semantics policy for the generic passes: what is constant,
/// what can be folded (and folding it, with evaluate.hpp), what is an output,
/// what has side effects, and what is cheap enough to clone. It models
/// `dfgpar::op_semantics`, `dfgpar::liveness_semantics` and
/// `dfgpar::clone_policy` for `dfgpar::onnx::graph`.
/// \code
///   dfgpar::onnx::semantics sem(m);
///   auto constant = dfgpar::fold_constants(m.g, sem);
///   auto live     = dfgpar::live_vertices(m.g, sem, constant);
///   auto value    = sem.value("some_tensor");   // shared_ptr<const tensor>, null if unknown
/// \endcode
///
/// Values live in the policy, keyed by tensor name; initializers are decoded
/// lazily, when a fold reads them.

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/attributes.hpp>
#include <dfgpar/onnx/evaluate.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/op_table.hpp>
#include <dfgpar/onnx/tensor.hpp>

#include <onnx/onnx_pb.h>

#include <boost/graph/graph_traits.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace dfgpar::onnx {

/// Thresholds of the ONNX semantics.
struct semantics_options {
  /// A fold whose output has more elements is declined (1M elements = 4 MiB
  /// of float): folding is for shape arithmetic and small tables, not for
  /// duplicating weights or precomputing activations.
  std::size_t max_fold_elements = std::size_t{1} << 20;
  /// Shape and element-wise ops whose outputs together are at most this many
  /// bytes may be cloned. 64 KiB: a clone then costs a few µs at most (about
  /// one L2-resident pass), below a cross-core hand-off of the same data.
  std::uint64_t clone_max_bytes = 64 << 10;
  /// Pure views (Reshape, Flatten, Squeeze, Unsqueeze, Identity, inference
  /// Dropout) may be cloned at any size when true: ATen and the PyTorch back
  /// end run them as metadata changes without copying.
  bool clone_views_any_size = true;
};

/// The op-semantics / liveness / clone policy for a `dfgpar::onnx::model`.
/// Keeps a pointer to the model: the model must outlive it.
class semantics {
 public:
  using vertex = boost::graph_traits<graph>::vertex_descriptor;

  explicit semantics(const model& m, semantics_options o = {}) : m_(&m), o_(o) {
    const auto& g = m.proto.graph();
    for (const auto& op : m.proto.opset_import())
      if (op.domain().empty() || op.domain() == "ai.onnx") opset_ = op.version();
    for (const auto& in : g.input()) graph_inputs_.insert(in.name());
    for (const auto& out : g.output()) graph_outputs_.insert(out.name());
    for (int i = 0; i < g.initializer_size(); ++i)
      // an initializer that is also a graph input is only a default: the caller may override it
      if (!graph_inputs_.count(g.initializer(i).name())) initializers_.emplace(g.initializer(i).name(), i);
  }

  /// The default-domain operator set version of the model.
  std::int64_t opset() const noexcept { return opset_; }
  const model& source() const noexcept { return *m_; }
  const semantics_options& options() const noexcept { return o_; }

  /// Source constants: Constant nodes with a supported value, Shape/Size of a
  /// tensor whose shape is known statically (from shape inference), and
  /// Gather of known dimensions out of a Shape whose other dimensions are not
  /// known (the `x.size(1)` of a model exported with a dynamic batch). The
  /// latter depend on a vertex that is not constant, but only on its shape:
  /// `fold_constants` only folds a vertex whose inputs are all constant, so
  /// they are reported as sources; `live_vertices` then does not keep their
  /// input alive for them.
  bool is_constant(vertex v) {
    try {
      return constant_source(v);
    } catch (const argument_error& e) {  // a wrongly typed attribute: the node is not folded
      warnings_.push_back(std::string("not folded: ") + e.what());
      return false;
    }
  }

  /// Pure, evaluable by evaluate.hpp, and every input is constant or omitted
  /// (a graph input never is).
  bool is_foldable(vertex v) const {
    const auto& n = node(v);
    if (!is_standard(n.domain()) || !can_evaluate(n.op_type())) return false;
    for (const auto& in : n.input())
      if (!in.empty() && !initializers_.count(in) && !m_->producer.count(in)) return false;
    return true;
  }

  /// Evaluates v on its (constant) inputs and keeps the outputs. Declines
  /// (false) when an input value is unknown, the op/type/attribute
  /// combination is not supported, or an output is too large; an invalid
  /// node is declined too and noted in `warnings()`.
  bool fold(vertex v) {
    const auto& n = node(v);
    return store_outputs(n, [&] { return evaluate_node(n); });
  }

  /// v writes a graph output.
  bool is_output(vertex v) const {
    for (const auto& out : node(v).output())
      if (graph_outputs_.count(out)) return true;
    return false;
  }

  /// Standard ONNX operators are pure; operators of other domains are
  /// assumed to have side effects (they are kept, never folded).
  bool has_side_effects(vertex v) const { return !is_known_domain(node(v).domain()); }

  /// Cheap enough to duplicate on another worker, by the clone class of the
  /// op's row in op_table.hpp: Constant; shape and element-wise ops whose
  /// outputs total at most `clone_max_bytes`; pure views at any size (see
  /// semantics_options). Needs known output sizes.
  bool may_clone(vertex v) const {
    const auto& n = node(v);
    if (!is_standard(n.domain())) return false;
    const op_info* op = find_op(n.domain(), n.op_type());
    const clone_class c = op ? op->clone : clone_class::never;
    if (c == clone_class::never) return false;
    if (c == clone_class::constant) return true;
    // a Dropout that produces its mask is not a view (nor cheap)
    if (n.op_type() == "Dropout" && n.output_size() > 1 && !n.output(1).empty()) return false;
    if (c == clone_class::view && o_.clone_views_any_size) return true;
    std::uint64_t bytes = 0;
    for (const auto& out : n.output()) {
      if (out.empty()) continue;
      const auto* t = info(out);
      if (!t || !t->shape_known) return false;
      bytes += t->bytes;
    }
    return bytes <= o_.clone_max_bytes;
  }

  /// The known value of a tensor (an initializer, or an output of a folded
  /// or constant vertex), or null.
  std::shared_ptr<const tensor> value(const std::string& name) {
    if (auto it = values_.find(name); it != values_.end()) return it->second;
    if (auto it = initializers_.find(name); it != initializers_.end()) {
      const auto& p = m_->proto.graph().initializer(it->second);
      if (!is_supported_elem_type(p.data_type())) return nullptr;
      auto t = std::make_shared<const tensor>(from_proto(p));
      values_.emplace(name, t);
      return t;
    }
    return nullptr;
  }

  /// Whether `name` is an initializer the caller cannot override.
  bool is_initializer(const std::string& name) const { return initializers_.count(name) > 0; }

  /// Notes on declined folds of invalid nodes.
  const std::vector<std::string>& warnings() const noexcept { return warnings_; }

  static bool is_standard(std::string_view domain) noexcept { return domain.empty() || domain == "ai.onnx"; }
  static bool is_known_domain(std::string_view domain) noexcept {
    return is_standard(domain) || domain == "ai.onnx.ml" || domain == "ai.onnx.preview.training" ||
           domain == "com.microsoft";
  }

 private:
  /// Whether v is a source constant (see is_constant); stores its outputs.
  bool constant_source(vertex v) {
    const auto& n = node(v);
    if (!is_standard(n.domain())) return false;
    if (n.op_type() == "Constant") return store_outputs(n, [&] { return evaluate_node(n); });
    if ((n.op_type() == "Shape" || n.op_type() == "Size") && n.input_size() == 1 && n.output_size() == 1) {
      const auto* t = info(n.input(0));
      if (!t || !t->shape_known) return false;
      return store_outputs(n, [&]() -> std::optional<std::vector<tensor>> {
        std::vector<tensor> out;
        if (n.op_type() == "Shape") {
          out.push_back(shape_value(n, t->shape, opset_));
        } else {
          std::int64_t size = 1;
          for (std::int64_t d : t->shape) size *= d;
          out.push_back(make_tensor<std::int64_t>(::onnx::TensorProto::INT64, {}, {size}));
        }
        return out;
      });
    }
    if (n.op_type() == "Gather" && n.input_size() == 2 && n.output_size() == 1) return gather_of_shape(n);
    return false;
  }

  const ::onnx::NodeProto& node(vertex v) const { return m_->proto.graph().node(static_cast<int>((*m_).g[v].node)); }

  const tensor_info* info(const std::string& name) const {
    auto it = m_->tensors.find(name);
    return it == m_->tensors.end() ? nullptr : &it->second;
  }

  // Gather(Shape(x), k) with constant k picking only dimensions of x that are known.
  bool gather_of_shape(const ::onnx::NodeProto& n) {
    auto p = m_->producer.find(n.input(0));
    if (p == m_->producer.end()) return false;
    const auto& shape_node = m_->proto.graph().node(static_cast<int>(p->second));
    if (shape_node.op_type() != "Shape" || !is_standard(shape_node.domain()) || shape_node.input_size() != 1)
      return false;
    const auto* t = info(shape_node.input(0));
    if (!t || !t->rank_known()) return false;  // rank unknown
    const std::int64_t axis = attribute_reader(n).get_int("axis", 0);
    if (axis != 0 && axis != -1) return false;
    const auto indices = static_value(n.input(1));
    if (!indices || !indices->is_integer()) return false;
    const auto dims = detail::shape_slice(shape_node, t->shape, opset_);  // -1: unknown
    const auto r = static_cast<std::int64_t>(dims.size());
    std::vector<std::int64_t> picked;
    for (std::int64_t k : indices->to_int64()) {
      if (k < -r || k >= r) return false;
      const std::int64_t d = dims[static_cast<std::size_t>(k < 0 ? k + r : k)];
      if (d < 0) return false;
      picked.push_back(d);
    }
    return store_outputs(n, [&]() -> std::optional<std::vector<tensor>> {
      std::vector<tensor> out;
      out.push_back(make_tensor<std::int64_t>(::onnx::TensorProto::INT64, indices->dims, std::move(picked)));
      return out;
    });
  }

  // The value of an initializer or of a Constant node's output, without folding anything else.
  std::shared_ptr<const tensor> static_value(const std::string& name) {
    if (auto v = value(name)) return v;
    auto p = m_->producer.find(name);
    if (p == m_->producer.end()) return nullptr;
    const auto& c = m_->proto.graph().node(static_cast<int>(p->second));
    if (c.op_type() != "Constant" || !is_standard(c.domain())) return nullptr;
    if (!store_outputs(c, [&] { return evaluate_node(c); })) return nullptr;
    return value(name);
  }

  std::optional<std::vector<tensor>> evaluate_node(const ::onnx::NodeProto& n) {
    std::vector<std::shared_ptr<const tensor>> keep;
    std::vector<const tensor*> in;
    for (const auto& name : n.input()) {
      if (name.empty()) {
        in.push_back(nullptr);
        continue;
      }
      auto t = value(name);
      if (!t) return std::nullopt;
      if (t->size() > o_.max_fold_elements && (n.op_type() == "Identity" || n.op_type() == "Dropout"))
        return std::nullopt;  // would copy a weight; the optimiser removes the node instead
      in.push_back(t.get());
      keep.push_back(std::move(t));
    }
    try {
      return evaluate(n, in, opset_, eval_options{.max_elements = o_.max_fold_elements});
    } catch (const graph_error& e) {
      warnings_.push_back(std::string("not folded: ") + e.what());
      return std::nullopt;
    }
  }

  template <class F>
  bool store_outputs(const ::onnx::NodeProto& n, F&& compute) {
    bool all_known = true;
    for (const auto& out : n.output()) all_known = all_known && (out.empty() || values_.count(out));
    if (all_known) return true;
    auto r = compute();
    if (!r) return false;
    for (int i = 0; i < n.output_size(); ++i)
      if (!n.output(i).empty() && static_cast<std::size_t>(i) >= r->size()) return false;
    for (int i = 0; i < n.output_size(); ++i)
      if (!n.output(i).empty())
        values_[n.output(i)] = std::make_shared<const tensor>(std::move((*r)[static_cast<std::size_t>(i)]));
    return true;
  }

  const model* m_;
  semantics_options o_;
  std::int64_t opset_ = 1;
  std::unordered_set<std::string> graph_inputs_, graph_outputs_;
  std::unordered_map<std::string, int> initializers_;  // name -> index in graph().initializer()
  std::unordered_map<std::string, std::shared_ptr<const tensor>> values_;
  std::vector<std::string> warnings_;
};

}  // namespace dfgpar::onnx
