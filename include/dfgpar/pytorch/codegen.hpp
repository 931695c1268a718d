#pragma once
/// \file codegen.hpp
/// Code generation for the PyTorch back end: from a stage plan (plan.hpp)
/// and the module's names (naming.hpp) to model.py and the weights file.
/// `module_codegen` translates every node through the op registry, collects
/// the weights the translations read, and fills the slots of the fixed
/// Python (runtime_text.hpp). Its protected virtual hooks (one node, one
/// unit's method, one region's method) let a subclass change one piece of
/// the text, as torch.fx's CodeGen does, without copying the rest.
/// \code
///   const dfgpar::pytorch::model_view view(m);
///   const auto plan = dfgpar::pytorch::plan_stages(m, view, s);
///   const dfgpar::pytorch::module_names names(view, plan);
///   auto files = dfgpar::pytorch::module_codegen(view, plan, names, {}).generate();
/// \endcode

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/cost_model.hpp>
#include <dfgpar/onnx/evaluate.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/tensor.hpp>
#include <dfgpar/pytorch/names.hpp>
#include <dfgpar/pytorch/naming.hpp>
#include <dfgpar/pytorch/ops.hpp>
#include <dfgpar/pytorch/plan.hpp>
#include <dfgpar/pytorch/runtime_text.hpp>
#include <dfgpar/pytorch/weights.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace dfgpar::pytorch {

/// What `emit_pytorch` writes.
struct emit_options {
  using fork_choice = pytorch::fork_choice;
  std::string class_name = "Model";                    ///< the nn.Module subclass
  std::string weights_file = "weights.safetensors";    ///< file name of the weights, next to model.py
  bool shape_comments = true;                          ///< `# Conv -> [1, 64, 112, 112]` above each op
  /// Input shapes the model was specialised to (graph input name ->
  /// dimensions, e.g. by `--input-shape`): model.py says so in a comment and
  /// `run()` refuses an input of another shape with a clear error.
  std::map<std::string, std::vector<std::int64_t>> input_shapes = {};
  const op_registry* ops = nullptr;                    ///< translations (null: op_registry::standard())
  /// Default fork/inline choice of a region: fork when its predicted forked
  /// makespan (one intra-op thread per part, node costs) plus
  /// `fork_overhead` per part is below work / (1 + (P - 1) * efficiency),
  /// the time its nodes take on one thread with P intra-op threads.
  /// 0.8: PyTorch's intra-op efficiency at batch 1 on 2 cores (GoogLeNet,
  /// SqueezeNet eager). model.py's `tune()` re-measures the choice.
  double intra_op_efficiency = 0.8;
  double fork_overhead = 20;                           ///< per forked part, in the cost unit (us for the cost model)
  /// The regions' fork flags in model.py: chosen by the cost model as above,
  /// or all true / all false (tests, experiments; tune() still re-measures).
  fork_choice fork = fork_choice::cost_model;
  /// A moldable schedule of the same graph (`parallelize_moldable` on
  /// measured t(v, k)): when set, it decides the fork flags instead of the
  /// cost rule above (see plan_options::moldable). Must outlive the call.
  const schedule* moldable = nullptr;

  /// The part of these options stage planning reads.
  plan_options planning() const {
    return {.intra_op_efficiency = intra_op_efficiency, .fork_overhead = fork_overhead, .fork = fork,
            .moldable = moldable};
  }
};

/// One output file: its name (relative to the output folder) and bytes.
struct emitted_file {
  std::string name;
  std::string content;
};

namespace detail {

inline std::string shape_text(const onnx::tensor_info* info) {
  if (!info || !info->rank_known()) return "";
  std::string s = "[";
  for (std::size_t i = 0; i < info->shape.size(); ++i)
    s += (i ? ", " : "") + (info->shape[i] < 0 ? std::string("?") : std::to_string(info->shape[i]));
  return s + "]";
}

inline std::string tensor_type(std::size_t n) {
  if (n == 1) return "Tensor";
  std::string s = "Tuple[";
  for (std::size_t i = 0; i < n; ++i) s += (i ? ", " : "") + std::string("Tensor");
  return s + "]";
}

/// Does `line` wrap within 79 columns (PEP 8)?
inline bool fits(const std::string& line) {
  for (const auto& l : wrap_python_line(line))
    if (l.size() > 79) return false;
  return true;
}

}  // namespace detail

/// Writes model.py and the weights of one planned, named module.
/// `generate()` runs three steps: `translate()` (every node, through the op
/// registry), `weights()` (the safetensors file of what the translations
/// read) and `module_text()` (the runtime template, filled).
class module_codegen {
 public:
  module_codegen(const model_view& view, const stage_plan& plan, const module_names& names, const emit_options& o)
      : view_(view), plan_(plan), names_(names), o_(o), g_(view.m->proto.graph()),
        bodies_(plan.units.size()) {
    for (const auto& op : view.m->proto.opset_import())
      if (op.domain().empty() || op.domain() == "ai.onnx") opset_ = op.version();
  }
  virtual ~module_codegen() = default;
  module_codegen(const module_codegen&) = delete;
  module_codegen& operator=(const module_codegen&) = delete;

  /// model.py and the weights file, in this order.
  std::vector<emitted_file> generate() {
    translate();
    std::string w = weights();
    return {{"model.py", module_text()}, {o_.weights_file, std::move(w)}};
  }

 protected:
  // ---- hooks

  /// Translates one node: fills `c.lines` and `c.input_used`. The one call
  /// into the op registry.
  virtual void translate_node(op_context& c) const { (o_.ops ? *o_.ops : op_registry::standard()).translate(c); }

  /// The lines above a node's code: `# Conv -> [1, 64, 112, 112]`.
  virtual std::vector<std::string> node_comment(const ::onnx::NodeProto& nd) const {
    if (!o_.shape_comments) return {};
    std::string cm = "        # " + nd.op_type();
    const std::string sh = nd.output_size() ? detail::shape_text(info_of(nd.output(0))) : "";
    if (!sh.empty()) cm += " -> " + sh;
    return {cm};
  }

  /// The method of unit `k`: its signature, its nodes' code, its return.
  virtual void write_unit(std::ostream& py, std::size_t k) const {
    const plan_unit& u = plan_.units[k];
    py << signature(names_.unit_method(k), "", u.inputs, u.outputs.size());
    for (const auto& l : bodies_[k]) py << l << "\n";
    if (u.outputs.empty()) py << "        return torch.empty(0)\n";
    else py << "        return " << unpacked(u.outputs) << "\n";
  }

  /// The method of region `si`: forks its parts (waiting where a part reads
  /// another's values) or runs them in order, then its epilogue; then the
  /// parts' methods.
  virtual void write_region(std::ostream& py, std::size_t si) const {
    const plan_stage& st = plan_.stages[si];
    const auto& units = plan_.units;
    py << signature(names_.stage_method(si), ", parallel: bool", st.inputs, st.outputs.size());
    py << "        \"\"\"" << st.units.size() << " parts on " << st.workers
       << " workers, forked when parallel and the flag is set"
       << (st.epilogue == plan_stage::none ? "" : ";\n        then what joins them") << ".\"\"\"\n"
       << "        if parallel and self." << names_.stage_flag(si) << ":\n";
    std::set<std::size_t> pending;  // forked, not yet waited
    auto wait = [&](std::size_t d) {
      const std::string& m = names_.unit_method(d);
      bind(py, "            ", units[d].outputs, "out_" + m, "torch.jit.wait(fut_" + m + ")");
      pending.erase(d);
    };
    for (std::size_t ui : st.units) {
      for (std::size_t d : units[ui].deps)
        if (pending.count(d)) wait(d);
      const plan_unit& u = units[ui];
      py << "            fut_" << names_.unit_method(ui) << " = torch.jit.fork(self." << names_.unit_method(ui)
         << (u.inputs.empty() ? "" : ", ") << joined(u.inputs) << ")\n";
      pending.insert(ui);
    }
    for (std::size_t ui : st.units)
      if (pending.count(ui)) wait(ui);
    py << "        else:\n";
    for (std::size_t ui : st.units)
      bind(py, "            ", units[ui].outputs, "out_" + names_.unit_method(ui),
           "self." + names_.unit_method(ui) + "(" + joined(units[ui].inputs) + ")");
    if (st.epilogue != plan_stage::none)
      for (const auto& l : bodies_[st.epilogue]) py << l << "\n";
    if (st.outputs.empty()) py << "        return torch.empty(0)\n";
    else py << "        return " << unpacked(st.outputs) << "\n";
    for (std::size_t ui : st.units) write_unit(py, ui);
  }

  // ---- helpers for hooks

  const onnx::tensor_info* info_of(const std::string& t) const {
    for (auto sc = scopes_.rbegin(); sc != scopes_.rend(); ++sc)  // the subgraphs being translated, innermost first
      if (auto it = sc->find(t); it != sc->end()) {
        if (it->second.rank_known()) return &it->second;
        if (auto g = guessed_.find(t); g != guessed_.end()) return &g->second;
        return &it->second;
      }
    auto it = view_.m->tensors.find(t);
    const onnx::tensor_info* found = it == view_.m->tensors.end() ? nullptr : &it->second;
    if (!found || !found->rank_known())
      if (auto g = guessed_.find(t); g != guessed_.end()) return &g->second;
    return found;
  }

  /// `a, b` for tensors `ts`.
  std::string joined(const std::vector<std::string>& ts) const {
    std::vector<std::string> a;
    for (const auto& t : ts) a.push_back(names_.var(t));
    return detail::join(a);
  }

  /// `a` or `(a, b)`: the left side that takes a method's result.
  std::string unpacked(const std::vector<std::string>& ts) const {
    return ts.size() == 1 ? names_.var(ts[0]) : "(" + joined(ts) + ")";
  }

  /// `(a, b) = rhs`; through the variable `tmp` when that line would not
  /// wrap within 79 columns (the tuple on the left leaves no room for the call).
  void bind(std::ostream& py, const std::string& indent, const std::vector<std::string>& outs, const std::string& tmp,
            const std::string& rhs) const {
    if (outs.empty()) {
      py << indent << rhs << "\n";
      return;
    }
    const std::string direct = indent + unpacked(outs) + " = " + rhs;
    if (detail::fits(direct)) {
      py << direct << "\n";
    } else if (outs.size() == 1) {
      py << indent << names_.var(outs[0]) << " = (" << rhs << ")\n";  // the wrapper hangs it after `(`
    } else {
      const std::string line = indent + tmp + " = " + rhs;
      py << (detail::fits(line) ? line : indent + tmp + " = (" + rhs + ")") << "\n";
      for (std::size_t i = 0; i < outs.size(); ++i) {
        const std::string item = indent + names_.var(outs[i]) + " = " + tmp + "[" + std::to_string(i) + "]";
        // too long: the wrapper gives `x = (` a hanging indent
        py << (item.size() <= 79 ? item : indent + names_.var(outs[i]) + " = (" + tmp + "[" + std::to_string(i) + "])")
           << "\n";
      }
    }
  }

  /// `\n    def method(self<first>, a: Tensor, ...) -> Tensor:\n`.
  std::string signature(const std::string& method, const std::string& first, const std::vector<std::string>& ins,
                        std::size_t outs) const {
    std::string ps = "self" + first;
    for (const auto& t : ins) ps += ", " + names_.var(t) + ": Tensor";
    // TorchScript infers the return type; a tuple's is left out when it
    // would not fit within 79 columns
    const std::string annotated =
        "    def " + method + "(" + ps + ") -> " + detail::tensor_type(std::max<std::size_t>(outs, 1)) + ":";
    return "\n" + (detail::fits(annotated) || outs <= 1 ? annotated : "    def " + method + "(" + ps + "):") + "\n";
  }

  const model_view& view_;
  const stage_plan& plan_;
  const module_names& names_;
  const emit_options& o_;
  const ::onnx::GraphProto& g_;
  std::int64_t opset_ = 0;
  std::vector<std::vector<std::string>> bodies_;  // per unit: its nodes' lines
  std::set<std::string> weights_used_;            // weights the translations read, and weight outputs
  std::vector<std::unordered_map<std::string, onnx::tensor_info>> scopes_;  // tensor facts of the open subgraphs
  bool uses_list_ = false;                        // some code annotates List[Tensor]
  std::unordered_map<std::string, onnx::tensor_info> guessed_;  // ranks shape inference left unknown (guess_ranks)

 private:
  /// A constant's value (initializer or Constant node), decoded once.
  std::shared_ptr<const onnx::tensor> value_of(const std::string& t) {
    if (auto it = values_.find(t); it != values_.end()) return it->second;
    std::shared_ptr<const onnx::tensor> v;
    if (auto it = view_.initializer.find(t); it != view_.initializer.end()) {
      v = std::make_shared<const onnx::tensor>(onnx::from_proto(g_.initializer(it->second)));
    } else if (auto si = view_.sub_initializer.find(t); si != view_.sub_initializer.end()) {
      v = std::make_shared<const onnx::tensor>(onnx::from_proto(*si->second));
    } else if (auto sc = view_.sub_constant.find(t); sc != view_.sub_constant.end()) {
      onnx::attribute_reader a(*sc->second);
      auto value = onnx::detail::eval_constant(a);
      if (!value)
        throw unsupported_op("Constant node " + python_string(sc->second->name()) +
                             ": only numeric values are supported");
      v = std::make_shared<const onnx::tensor>(std::move(*value));
    } else if (auto c = view_.constant_node.find(t); c != view_.constant_node.end()) {
      const auto& nd = g_.node(static_cast<int>(c->second));
      for (const auto& a : nd.attribute())
        if (a.name() == "value" && a.has_t()) v = std::make_shared<const onnx::tensor>(onnx::from_proto(a.t()));
      if (!v)
        throw unsupported_op("Constant node " + python_string(nd.name()) +
                             ": only the 'value' attribute is supported");
    }
    values_.emplace(t, v);
    return v;
  }

  /// Translates one node into `out` (its comment, then its code, each line
  /// prefixed with `indent`), noting the weights it reads.
  void translate_one(const ::onnx::NodeProto& nd, std::vector<std::string>& out, const std::string& indent) {
    op_context c;
    c.node = &nd;
    c.opset = opset_;
    for (const auto& t : nd.input()) {
      c.inputs.push_back(t.empty() ? std::string() : names_.expr(t));
      c.input_info.push_back(t.empty() ? nullptr : info_of(t));
      c.constants.push_back(t.empty() ? nullptr : value_of(t));
    }
    for (const auto& t : nd.output()) {
      c.outputs.push_back(t.empty() ? std::string() : names_.var(t));
      c.output_info.push_back(t.empty() ? nullptr : info_of(t));
    }
    c.translate_body = [this](const ::onnx::GraphProto& sg) { return translate_body(sg); };
    translate_node(c);
    uses_list_ = uses_list_ || c.uses_list;
    for (std::size_t i = 0; i < c.inputs.size(); ++i)
      if (c.input_used[i] && view_.is_weight(nd.input(static_cast<int>(i))))
        weights_used_.insert(nd.input(static_cast<int>(i)));
    // node_comment() indents for a method's body (8 columns): re-indent it
    for (auto& l : node_comment(nd)) {
      std::size_t lead = 0;
      while (lead < l.size() && lead < 8 && l[lead] == ' ') ++lead;
      out.push_back(indent + l.substr(lead));
    }
    for (auto& l : c.lines) out.push_back(indent + l);
  }

  /// Ranks that ONNX shape inference left unknown (often inside If and
  /// Loop bodies), where an operator's output rank follows from its inputs'
  /// ranks and constant arguments alone; the dimension values stay unknown.
  void guess_ranks(const ::onnx::GraphProto& g) {
    static const std::unordered_set<std::string> elementwise = {
        "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Sum", "Mean", "Where", "Equal", "Less",
        "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor", "Not", "Relu", "Sigmoid", "Tanh", "Exp",
        "Log", "Sqrt", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Round", "Erf", "Sign", "Sin", "Cos", "Clip",
        "Cast", "CastLike", "Identity", "LeakyRelu", "Elu", "Selu", "HardSigmoid", "HardSwish", "Softplus",
        "PRelu", "IsNaN", "IsInf", "Dropout"};
    static const std::unordered_set<std::string> like_first = {
        "Softmax", "LogSoftmax", "Pad", "Slice", "Transpose", "Conv", "ConvTranspose", "MaxPool", "AveragePool",
        "BatchNormalization", "InstanceNormalization", "LayerNormalization", "Resize", "Tile", "CumSum", "Split",
        "Concat", "TopK", "LRN", "GlobalAveragePool", "GlobalMaxPool"};
    auto rank_of = [&](const std::string& t) -> int {
      if (t.empty()) return -1;
      if (const auto* i = info_of(t); i && i->rank_known()) return static_cast<int>(i->shape.size());
      if (auto v = value_of(t)) return static_cast<int>(v->dims.size());
      return -1;
    };
    auto count = [&](const std::string& t) -> int {  // elements of a constant, or the length of a known 1-D tensor
      if (t.empty()) return -1;
      if (auto v = value_of(t)) return static_cast<int>(v->to_int64().size());
      if (const auto* i = info_of(t); i && i->rank_known() && i->shape.size() == 1 && i->shape[0] >= 0)
        return static_cast<int>(i->shape[0]);
      return -1;
    };
    auto ints_attr = [](const ::onnx::NodeProto& nd, const char* name) -> int {
      for (const auto& a : nd.attribute())
        if (a.name() == name) return a.ints_size();
      return -1;
    };
    auto int_attr = [](const ::onnx::NodeProto& nd, const char* name, std::int64_t def) {
      for (const auto& a : nd.attribute())
        if (a.name() == name) return a.i();
      return def;
    };
    for (const auto& nd : g.node()) {
      if (!nd.domain().empty() && nd.domain() != "ai.onnx") continue;
      std::vector<int> out(static_cast<std::size_t>(nd.output_size()), -1);
      const std::string& op = nd.op_type();
      const int r0 = nd.input_size() ? rank_of(nd.input(0)) : -1;
      if (elementwise.count(op)) {
        int r = 0;
        for (const auto& t : nd.input())
          if (!t.empty()) r = rank_of(t) < 0 || r < 0 ? -1 : std::max(r, rank_of(t));
        if (!out.empty()) out[0] = r;
      } else if (like_first.count(op)) {
        int r = r0;
        if (op == "Concat")
          for (const auto& t : nd.input()) r = r >= 0 ? r : rank_of(t);
        for (auto& o : out) o = r;
        if (op == "TopK" && out.size() > 1) out[1] = r;
      } else if (op == "Unsqueeze" || op == "Squeeze") {
        const int n = nd.input_size() > 1 ? count(nd.input(1)) : ints_attr(nd, "axes");
        if (r0 >= 0 && n >= 0 && !out.empty()) out[0] = op == "Unsqueeze" ? r0 + n : r0 - n;
      } else if (op == "Reshape" && nd.input_size() > 1) {
        out[0] = count(nd.input(1));
      } else if (op == "ConstantOfShape" || op == "Expand") {
        const int n = count(nd.input(op == "Expand" ? 1 : 0));
        out[0] = op == "Expand" && n >= 0 && r0 >= 0 ? std::max(n, r0) : n;
      } else if (op == "Shape" || op == "Range" || op == "NonZero") {
        out[0] = op == "NonZero" ? 2 : 1;
      } else if (op == "Gather" && nd.input_size() > 1) {
        const int r1 = rank_of(nd.input(1));
        if (r0 >= 1 && r1 >= 0) out[0] = r0 + r1 - 1;
      } else if (op == "MatMul" && nd.input_size() > 1) {
        const int r1 = rank_of(nd.input(1));
        if (r0 >= 2 && r1 >= 2) out[0] = std::max(r0, r1);
      } else if (op == "Gemm" || op == "Flatten") {
        out[0] = 2;
      } else if (op == "If") {
        // an output's rank when both branches give it the same one (exports
        // of a conditional squeeze do not: then it stays unknown)
        std::vector<std::vector<int>> branch;
        for (const auto& a : nd.attribute()) {
          if (!a.has_g() || (a.name() != "then_branch" && a.name() != "else_branch")) continue;
          scopes_.emplace_back();
          onnx::detail::collect_tensors(a.g(), scopes_.back());
          guess_ranks(a.g());
          branch.emplace_back();
          for (int k = 0; k < a.g().output_size(); ++k) branch.back().push_back(rank_of(a.g().output(k).name()));
          scopes_.pop_back();
        }
        if (branch.size() == 2)
          for (std::size_t k = 0; k < out.size() && k < branch[0].size() && k < branch[1].size(); ++k)
            if (branch[0][k] == branch[1][k]) out[k] = branch[0][k];
      } else if (op == "LSTM" || op == "GRU" || op == "RNN") {
        for (std::size_t k = 0; k < out.size(); ++k) out[k] = k == 0 ? 4 : 3;
      } else if (op.starts_with("Reduce") || op == "ArgMax" || op == "ArgMin") {
        const bool keep = int_attr(nd, "keepdims", 1) != 0;
        const int n = op.starts_with("Arg") ? 1 : nd.input_size() > 1 ? count(nd.input(1)) : ints_attr(nd, "axes");
        if (r0 >= 0) out[0] = keep ? r0 : (n >= 0 ? r0 - n : -1);
      }
      for (std::size_t k = 0; k < out.size(); ++k) {
        const std::string& t = nd.output(static_cast<int>(k));
        if (t.empty() || out[k] < 0 || rank_of(t) >= 0) continue;
        onnx::tensor_info info;
        if (const auto* i = info_of(t)) info = *i;
        info.name = t;
        info.shape.assign(static_cast<std::size_t>(out[k]), -1);
        info.shape_known = out[k] == 0;
        guessed_[t] = std::move(info);
      }
    }
  }

  /// A subgraph's code for the translation of the node that holds it: its
  /// nodes in order (Constant nodes are weights), with the subgraph's own
  /// tensor facts (ONNX shape inference writes them into its value_info).
  body_code translate_body(const ::onnx::GraphProto& sg) {
    if (scopes_.size() > 64) throw graph_error("subgraphs nested more than 64 deep");
    scopes_.emplace_back();
    onnx::detail::collect_tensors(sg, scopes_.back());
    guess_ranks(sg);
    body_code b;
    for (const auto& in : sg.input()) b.inputs.push_back(names_.var(in.name()));
    for (const auto& nd : sg.node()) {
      if (model_view::is_constant_node(nd)) continue;  // a weight
      translate_one(nd, b.lines, "");
    }
    for (const auto& out : sg.output()) {
      if (view_.is_weight(out.name())) weights_used_.insert(out.name());
      b.outputs.push_back(names_.expr(out.name()));
    }
    scopes_.pop_back();
    return b;
  }

  /// Translates every unit's nodes into `bodies_`, noting the weights read.
  void translate() {
    guess_ranks(g_);
    for (std::size_t k = 0; k < plan_.units.size(); ++k) {
      for (std::size_t v : plan_.units[k].vertices) {
        const auto& nd = g_.node(static_cast<int>(v));
        if (view_.constant_node.count(nd.output_size() ? nd.output(0) : std::string())) continue;  // a weight
        translate_one(nd, bodies_[k], "        ");
      }
    }
    for (const auto& t : plan_.outputs)
      if (view_.is_weight(t)) weights_used_.insert(t);
  }

  /// Calls f(tensor name) for what the subgraphs of `nd` read and return, in order.
  template <class F>
  static void subgraph_reads(const ::onnx::NodeProto& nd, F& f, int depth = 0) {
    if (depth > 64) throw graph_error("subgraphs nested more than 64 deep");
    auto walk = [&](const ::onnx::GraphProto& sg) {
      for (const auto& n : sg.node()) {
        for (const auto& t : n.input()) f(t);
        subgraph_reads(n, f, depth + 1);
      }
      for (const auto& o : sg.output()) f(o.name());
    };
    for (const auto& a : nd.attribute()) {
      if (a.has_g()) walk(a.g());
      for (const auto& sg : a.graphs()) walk(sg);
    }
  }

  /// The weights file: the weights used, in the order the graph first reads them.
  std::string weights() {
    std::unordered_set<std::string> listed;
    auto list = [&](const std::string& t) {
      if (weights_used_.count(t) && listed.insert(t).second) weight_list_.emplace_back(names_.var(t), t);
    };
    for (const auto& nd : g_.node())
      for (const auto& t : nd.input()) list(t);
    for (const auto& t : plan_.outputs) list(t);
    for (const auto& nd : g_.node()) subgraph_reads(nd, list);
    std::vector<named_tensor> stored;
    std::vector<std::shared_ptr<const onnx::tensor>> keep;
    for (const auto& [id, t] : weight_list_) {
      auto v = value_of(t);
      if (!v) throw graph_error("weight " + python_string(t) + " has no value");
      if (detail::torch_dtype(v->elem_type).empty() && v->elem_type != ::onnx::TensorProto::UINT16 &&
          v->elem_type != ::onnx::TensorProto::UINT32 && v->elem_type != ::onnx::TensorProto::UINT64)
        throw unsupported_op("weight " + python_string(t) + " has element type " +
                             onnx::elem_type_name(v->elem_type));
      keep.push_back(v);
      stored.push_back({id, v.get()});
    }
    std::ostringstream wbuf;
    write_safetensors(wbuf, stored);
    return wbuf.str();
  }

  /// model.py: the runtime template with its slots filled, lines wrapped at
  /// their brackets (PEP 8).
  std::string module_text() const {
    const std::string sanitized = identifier_table::sanitize(o_.class_name);
    const std::string cls = sanitized.empty() ? "Model" : sanitized;
    const auto& stages = plan_.stages;
    const std::size_t regions = plan_.regions();
    const std::size_t sw = plan_.schedule_workers;
    std::ostringstream inputs, stage_rows, buffers, flags, run, methods;
    for (const auto& t : names_.inputs()) {
      const auto* info = info_of(t);
      std::vector<std::int64_t> shape = info ? info->shape : std::vector<std::int64_t>{};
      for (auto& d : shape) d = d < 0 ? 1 : d;
      std::string dt = info ? detail::torch_dtype(info->elem_type) : "";
      if (dt.empty()) dt = "torch.float32";
      inputs << "    (" << python_string(names_.var(t)) << ", " << python_int_list(shape) << ", " << dt << "),\n";
    }
    auto name_list = [&](const std::vector<std::string>& ts) {
      std::vector<std::string> r;
      for (const auto& t : ts) r.push_back(python_string(names_.var(t)));
      return "[" + detail::join(r) + "]";
    };
    for (std::size_t si = 0; si < stages.size(); ++si)
      stage_rows << "    (" << python_string(names_.stage_method(si)) << ", " << python_string(names_.stage_flag(si))
                 << ", " << name_list(stages[si].inputs) << ", " << name_list(stages[si].outputs) << "),\n";
    for (const auto& [id, t] : weight_list_)
      buffers << "        self.register_buffer(" << python_string(id) << ", w[" << python_string(id) << "])\n";
    if (regions) {
      flags << (o_.moldable ? runtime::moldable_fork_flags_comment : runtime::fork_flags_comment);
      for (std::size_t si = 0; si < stages.size(); ++si) {
        const plan_stage& st = stages[si];
        if (!st.region) continue;
        if (o_.moldable && st.moldable_cores > 1 && !st.fork)
          flags << "        # moldable schedule: intra-op, up to " << st.moldable_cores << " cores per node\n";
        else if (o_.moldable)
          flags << "        # moldable schedule: side by side on " << st.moldable_workers << " workers"
                << (st.moldable_cores > 1 ? ", some nodes on up to " + std::to_string(st.moldable_cores) + " cores"
                                          : ", 1 core per node")
                << "\n";
        else
          flags << "        # predicted: work " << std::llround(st.work) << ", forked " << std::llround(st.makespan) << "\n";
        flags << "        self." << names_.stage_flag(si) << " = " << (st.fork ? "True" : "False") << "\n";
      }
    }
    std::string params, args;
    for (const auto& t : names_.inputs()) params += ", " + names_.var(t) + ": Tensor", args += ", " + names_.var(t);
    run << shape_checks();
    std::vector<std::string> result;
    for (const auto& t : plan_.outputs) result.push_back(names_.expr(t));
    for (std::size_t si = 0; si < stages.size(); ++si) {
      const plan_stage& st = stages[si];
      const std::string& m = names_.stage_method(si);
      const std::string call = "self." + m + "(" + (st.region ? std::string("parallel") : std::string()) +
                               (st.region && !st.inputs.empty() ? ", " : "") + joined(st.inputs) + ")";
      bind(run, "        ", st.outputs, "out_" + m, call);
      if (st.region) write_region(methods, si);
      else write_unit(methods, st.units[0]);
    }
    std::vector<std::string> input_names;
    for (const auto& t : names_.inputs()) input_names.push_back(python_string(names_.var(t)));
    const std::string text = runtime::fill(
        runtime::model_template,
        {{"schedule", std::to_string(sw) + (sw == 1 ? " worker" : " workers")},
         {"stage_count", std::to_string(stages.size()) + (stages.size() == 1 ? " stage" : " stages")},
         {"region_count", std::to_string(regions) + " of them " + (regions == 1 ? "a region" : "regions")},
         {"workers", std::to_string(plan_.workers)},
         {"weights_file", python_string(o_.weights_file)},
         {"class", cls},
         {"inputs", inputs.str()},
         {"stages", stage_rows.str()},
         {"weights_loader", python_weights_loader()},
         {"buffers", buffers.str()},
         {"fork_flags", flags.str()},
         {"params", params},
         {"args", args},
         {"returns", detail::tensor_type(plan_.outputs.size())},
         {"run", run.str()},
         {"result", result.size() == 1 ? result[0] : "(" + detail::join(result) + ")"},
         {"methods", methods.str()},
         {"input_names", detail::join(input_names)}});
    // PEP 8: wrap long lines at their brackets
    std::string wrapped;
    std::istringstream lines(uses_list_ ? with_list_import(text) : text);
    for (std::string line; std::getline(lines, line);)
      for (const auto& l : wrap_python_line(line)) wrapped += l + "\n";
    return wrapped;
  }

  /// run()'s first lines when the model was specialised to input shapes
  /// (emit_options::input_shapes): a comment, then one check per input.
  std::string shape_checks() const {
    if (o_.input_shapes.empty()) return "";
    std::string out =
        "        # shapes were folded for these input shapes (dfgpar emit\n"
        "        # --input-shape); an input of another shape is refused:\n";
    auto shown = [](const std::vector<std::int64_t>& d) {  // "[1, 3, ?, ?]": ? = left open
      std::string w = "[";
      for (std::size_t k = 0; k < d.size(); ++k) w += (k ? ", " : "") + (d[k] < 0 ? std::string("?") : std::to_string(d[k]));
      return w + "]";
    };
    for (const auto& [name, d] : o_.input_shapes)
      out += "        #   " + python_comment_text(name, 48) + " " + shown(d) + "\n";
    for (const auto& t : names_.inputs()) {
      auto it = o_.input_shapes.find(t);
      if (it == o_.input_shapes.end()) continue;
      const std::string& x = names_.var(t);
      const auto& dims = it->second;  // -1: a dimension left open (only the batch was fixed)
      const bool all_fixed = std::none_of(dims.begin(), dims.end(), [](std::int64_t d) { return d < 0; });
      std::string want = "[", v, cond;
      for (std::size_t k = 0; k < dims.size(); ++k) {
        want += (k ? ", " : "") + (dims[k] < 0 ? std::string("?") : std::to_string(dims[k]));
        v += (k ? "," : "") + (dims[k] < 0 ? std::string("D") : std::to_string(dims[k]));
        if (dims[k] >= 0) cond += " or " + x + ".shape[" + std::to_string(k) + "] != " + std::to_string(dims[k]);
      }
      want += "]";
      if (all_fixed) out += "        if " + x + ".shape != " + python_int_list(dims) + ":\n";
      else out += "        if " + x + ".dim() != " + std::to_string(dims.size()) + cond + ":\n";
      out += "            raise RuntimeError(\n";
      out += "                " + python_string("input '" + t + "' has shape ") + " + str(" + x + ".shape) +\n";
      out += "                " + python_string("; this module was emitted for " + want) + " +\n";
      out += "                " + python_string(" (dfgpar emit --input-shape " + t + "=" + v + ")") + ")\n";
    }
    return out;
  }

  /// The runtime text imports Tuple from typing; loops' scan outputs need List too.
  static std::string with_list_import(std::string text) {
    const std::string from = "\nfrom typing import Tuple\n";
    if (auto k = text.find(from); k != std::string::npos) text.replace(k, from.size(), "\nfrom typing import List, Tuple\n");
    return text;
  }

  std::unordered_map<std::string, std::shared_ptr<const onnx::tensor>> values_;
  std::vector<std::pair<std::string, std::string>> weight_list_;  // (identifier, tensor name)
};

}  // namespace dfgpar::pytorch
