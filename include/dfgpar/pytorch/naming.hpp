#pragma once
/// \file naming.hpp
/// Python identifiers in model.py. `identifier_table` turns any text from a
/// model into a fresh, safe identifier; the words it never returns are
/// Python's keywords and the builtins and torch.nn.Module members the code
/// relies on (typed here: they are Python's and PyTorch's, not ours) plus
/// every name the fixed Python of runtime_text.hpp and the weights loader
/// define (read from that text, so the two cannot drift apart).
/// `module_names` is the one name space object of an emitted module: stage
/// and part methods, fork flags, weights (module attributes) and tensors
/// (local variables).
/// \code
///   dfgpar::pytorch::identifier_table ids;
///   ids.make("conv1.weight");          // "conv1_weight"
///   ids.make("class");                 // "class_"
///   ids.make("conv1/weight");          // "conv1_weight_2" (collision, resolved in call order)
///   ids.make("load_weights");          // "load_weights_" (defined by model.py)
/// \endcode

#include <dfgpar/onnx/op_table.hpp>
#include <dfgpar/pytorch/names.hpp>
#include <dfgpar/pytorch/plan.hpp>
#include <dfgpar/pytorch/runtime_text.hpp>
#include <dfgpar/pytorch/weights.hpp>

#include <onnx/onnx_pb.h>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace dfgpar::pytorch {

namespace detail {

/// The names the code generator itself gives to what is not in the runtime
/// text: the methods' `self` and `parallel` parameters, and the default
/// class name.
inline constexpr std::string_view codegen_names[] = {"self", "parallel", "Model"};

/// Python 3 keywords (hard and soft), TorchScript's reserved words, the
/// builtins and modules generated code reads, the torch.nn.Module members a
/// buffer must not shadow, and every name model.py's fixed text defines:
/// none of them may name a tensor, a weight or a method.
inline const std::unordered_set<std::string>& reserved_identifiers() {
  static const std::unordered_set<std::string> names = [] {
    std::unordered_set<std::string> r = {
        // keywords
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
        "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
        "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "match", "case", "_",
        "print", "exec",
        // builtins, and modules and typing names translations may use
        "nn", "sys", "math", "List", "Optional", "Future", "float", "int", "bool", "str", "len", "range", "list",
        "tuple", "dict", "min", "max", "abs", "sum", "open", "super", "object", "type", "isinstance", "getattr",
        "setattr", "__import__", "eval", "compile", "globals", "locals", "vars", "input",
        // torch.nn.Module members a buffer must not shadow
        "training", "train", "to", "cpu", "cuda", "double", "half", "apply", "buffers", "children", "modules",
        "parameters", "state_dict", "load_state_dict", "named_buffers", "named_children", "named_modules",
        "named_parameters", "register_buffer", "register_parameter", "register_module", "add_module",
        "requires_grad_", "zero_grad", "share_memory", "extra_repr", "dump_patches", "call_super_init",
        "T_destination", "xpu", "ipu", "bfloat16", "get_submodule", "get_parameter", "get_buffer",
        "get_extra_state", "set_extra_state", "register_forward_hook", "register_forward_pre_hook",
        "register_backward_hook", "register_full_backward_hook", "register_load_state_dict_post_hook"};
    // model.py's own definitions (imports, constants, functions, forward and
    // the other methods of the class), read from its text
    for (auto& n : runtime::defined_names(runtime::model_template)) r.insert(std::move(n));
    for (auto& n : runtime::defined_names(python_weights_loader())) r.insert(std::move(n));
    for (auto n : codegen_names) r.emplace(n);
    return r;
  }();
  return names;
}

inline bool is_ascii_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace detail

/// Python identifiers for names from a model: each call to `make` returns a
/// fresh, valid, ASCII identifier that is no keyword, no name the generated
/// code uses, and different from every earlier result. Deterministic: the
/// same calls in the same order give the same identifiers.
///
/// Rules: characters other than ASCII letters, digits and `_` become `_`
/// (runs collapse), leading/trailing `_` are dropped (no dunder or private
/// names), a leading digit gets the prefix `t_`, reserved words get a
/// trailing `_`, a name longer than `max_length` keeps its last path
/// components (24 characters, more if that tail is taken), and a collision
/// gets `_2`, `_3`, ... An empty result uses `fallback`.
class identifier_table {
 public:
  explicit identifier_table(std::size_t max_length = 48) : max_length_(max_length < 8 ? 8 : max_length) {}

  /// A fresh identifier for `name` (see the class comment for the rules).
  std::string make(std::string_view name, std::string_view fallback = "t") {
    std::string base = sanitize(name);
    if (base.empty()) base = sanitize(fallback);
    if (base.empty()) base = "t";
    if (base.size() > max_length_) {
      // a long hierarchical name: its tail distinguishes it
      // ("StatefulPartitionedCall/functional_1/conv2d_33/BiasAdd" ->
      // "conv2d_33_BiasAdd"); a longer tail when that is taken
      for (std::size_t room = tail_length(); room <= max_length_; room += 8) {
        std::string t = tail(name, room);
        if (!t.empty() && !taken(t)) {
          used_.insert(t);
          return t;
        }
      }
      base = tail(name, tail_length());
      if (base.empty()) base = "t";
    }
    const std::string first = detail::reserved_identifiers().count(base) ? base + "_" : base;
    if (!used_.count(first)) {
      used_.insert(first);
      return first;
    }
    for (std::size_t k = 2;; ++k) {
      std::string cand = base + "_" + std::to_string(k);
      if (!used_.count(cand) && !detail::reserved_identifiers().count(cand)) {
        used_.insert(cand);
        return cand;
      }
    }
  }

  /// The last path components of `name` (split at characters that are not
  /// ASCII letters, digits or `_`), sanitised and joined with `_`, at most
  /// `room` characters; a last component longer than that keeps its last
  /// `_`-separated words. "" when nothing fits.
  static std::string tail(std::string_view name, std::size_t room) {
    std::vector<std::string> parts;
    std::string cur;
    for (unsigned char ch : name) {
      if (detail::is_ascii_alnum(ch) || ch == '_') {
        cur += static_cast<char>(ch);
      } else if (!cur.empty()) {
        parts.push_back(std::move(cur));
        cur.clear();
      }
    }
    if (!cur.empty()) parts.push_back(std::move(cur));
    std::string out;
    for (std::size_t k = parts.size(); k-- > 0;) {
      const std::string p = sanitize(parts[k]);
      if (p.empty()) continue;
      const std::string joined = out.empty() ? p : p + "_" + out;
      if (sanitize(joined).size() <= room) {
        out = joined;
        continue;
      }
      // the component's last words that still fit, not starting with a digit
      const std::size_t used = out.empty() ? 0 : out.size() + 1;
      const std::size_t left = used >= room ? 0 : room - used;
      std::size_t start = p.size() - std::min(left, p.size());
      while (start < p.size() && (start == 0 || p[start - 1] != '_' || (p[start] >= '0' && p[start] <= '9'))) ++start;
      if (start < p.size()) out = p.substr(start) + (out.empty() ? "" : "_" + out);
      else if (out.empty()) out = p.substr(p.size() - room);  // no word boundary: its last characters
      break;
    }
    return sanitize(out);
  }

  /// Marks `id` as taken (a name the generator chose itself).
  void reserve(const std::string& id) { used_.insert(id); }
  bool taken(const std::string& id) const { return used_.count(id) > 0 || detail::reserved_identifiers().count(id); }

  /// The character mapping alone (no uniqueness, no reserved words).
  static std::string sanitize(std::string_view name) {
    std::string out;
    for (unsigned char c : name) {
      if (detail::is_ascii_alnum(c)) {
        out += static_cast<char>(c);
      } else if (!out.empty() && out.back() != '_') {
        out += '_';
      }
    }
    while (!out.empty() && out.back() == '_') out.pop_back();
    if (!out.empty() && out[0] >= '0' && out[0] <= '9') out = "t_" + out;
    return out;
  }

 private:
  std::size_t tail_length() const { return std::min<std::size_t>(24, max_length_); }

  std::size_t max_length_;
  std::unordered_set<std::string> used_;
};

/// True when `s` is an identifier `identifier_table` could return: ASCII
/// letters, digits and `_`, not starting with a digit or `_`, not reserved.
inline bool is_safe_identifier(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9') || s[0] == '_') return false;
  for (unsigned char c : s)
    if (!detail::is_ascii_alnum(c) && c != '_') return false;
  return !detail::reserved_identifiers().count(std::string(s));
}

namespace detail {

/// The longest common '/'-separated prefix of node names ("/inception3a/b1/Conv",
/// "/inception3a/b2/Conv" -> "/inception3a"); a single name is returned whole.
inline std::string common_name_prefix(const std::vector<std::string>& names) {
  if (names.empty()) return "";
  if (names.size() == 1) return names[0];
  std::string p = names[0];
  for (const auto& s : names) {
    std::size_t k = 0;
    while (k < p.size() && k < s.size() && p[k] == s[k]) ++k;
    p.resize(k);
  }
  // cut back to a component boundary unless every name continues with '/'
  bool boundary = true;
  for (const auto& s : names) boundary = boundary && (s.size() == p.size() || s[p.size()] == '/');
  if (!boundary) {
    const auto slash = p.rfind('/');
    p.resize(slash == std::string::npos ? 0 : slash);
  }
  return p;
}

/// Drops the repetitions of PyTorch's export names: a path component that
/// the next one extends ("features/features.2/conv/conv.0" ->
/// "features.2/conv.0"), and empty components.
inline std::string compact_path(const std::string& name) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t end = std::min(name.find('/', start), name.size());
    if (end > start) parts.push_back(name.substr(start, end - start));
    start = end + 1;
  }
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i + 1 < parts.size() && parts[i + 1].starts_with(parts[i] + ".")) continue;
    out += (out.empty() ? "" : "/") + parts[i];
  }
  return out;
}

/// The state_dict-like role of input `k` of node `nd` from the operator
/// table ("weight", "bias", "running_mean", ...), or "input<k>" for an
/// input the table names no role for.
inline std::string weight_role(const ::onnx::NodeProto& nd, int k) {
  const auto* op = onnx::find_op(nd.domain(), nd.op_type());
  const std::string_view role = op ? onnx::input_role(*op, static_cast<std::size_t>(k)) : std::string_view{};
  return role.empty() ? "input" + std::to_string(k) : std::string(role);
}

}  // namespace detail

/// The names of one emitted module. Module attributes (methods, fork flags,
/// weights) and local variables (tensors) are two name spaces; methods are
/// named first, then graph inputs, initializers and node outputs, in graph
/// order, so the same model always gets the same names.
///
/// Readable names: PyTorch exports call tensors "/block/conv/Conv_output_0"
/// (named "block_conv_Conv") and folded weights "onnx::Conv_542"; the latter
/// are named after the one node that reads them ("block_conv_weight", as in
/// the state_dict). A stage method is named after the common prefix of its
/// nodes' names ("inception3a"), its parts "<stage>_worker<w>[_part<k>]".
class module_names {
 public:
  module_names(const model_view& view, const stage_plan& p)
      : view_(view), stage_method_(p.stages.size()), stage_flag_(p.stages.size()), unit_method_(p.units.size()) {
    const auto& g = view.m->proto.graph();
    for (std::size_t v = 0; v < static_cast<std::size_t>(g.node_size()); ++v)
      for (int k = 0; k < g.node(static_cast<int>(v)).input_size(); ++k)
        readers_[g.node(static_cast<int>(v)).input(k)].emplace_back(v, k);
    name_methods(p);
    for (const auto& in : g.input()) {
      if (view.initializer.count(in.name())) continue;
      inputs_.push_back(in.name());
      name_of(in.name(), "input");
    }
    for (int i = 0; i < g.initializer_size(); ++i)
      if (view.initializer.count(g.initializer(i).name())) name_of(g.initializer(i).name(), "weight");
    for (const auto& nd : g.node())
      for (const auto& t : nd.output())
        if (!t.empty()) name_of(t, view.constant_node.count(t) ? "constant" : "t");
    // then the values of subgraphs (If branches, Loop and Scan bodies), in
    // the order their nodes come
    for (const auto& nd : g.node()) name_subgraphs(nd, 0);
  }

  /// The method of stage `i` (a region's wrapper, or the inline stage's method).
  const std::string& stage_method(std::size_t i) const { return stage_method_.at(i); }
  /// The fork flag attribute of region `i` ("" for an inline stage).
  const std::string& stage_flag(std::size_t i) const { return stage_flag_.at(i); }
  /// The method of unit `u` ("" for a region's epilogue, which has none).
  const std::string& unit_method(std::size_t u) const { return unit_method_.at(u); }
  /// The identifier of tensor `t` (a local variable, or a weight's attribute name).
  const std::string& var(const std::string& t) const { return var_.at(t); }
  /// How code reads tensor `t`: `self.<name>` for a weight, its local otherwise.
  std::string expr(const std::string& t) const { return view_.is_weight(t) ? "self." + var(t) : var(t); }
  /// The graph inputs that are no initializers, in forward's parameter order.
  const std::vector<std::string>& inputs() const { return inputs_; }

 private:
  /// "/inception3a/Conv_output_0" -> "inception3a/Conv"; split parts
  /// (onnx/split.hpp): "/conv1/Relu_output_0/part0" -> "conv1/Relu/part0".
  static std::string display(const std::string& t) {
    std::string d = t;
    if (d.size() > 9 && d.ends_with("_output_0")) d.resize(d.size() - 9);
    if (auto k = d.rfind("_output_0/part"); k != std::string::npos) d.erase(k, 9);
    return detail::compact_path(d);
  }

  std::string weight_display(const std::string& t) const {
    auto it = readers_.find(t);
    if (!t.starts_with("onnx::") || it == readers_.end() || it->second.size() != 1) return display(t);
    const auto [v, k] = it->second[0];
    const auto& nd = view_.m->proto.graph().node(static_cast<int>(v));
    std::string base = nd.name();
    if (base.empty()) return display(t);
    // "/layer1/conv/Conv" -> "/layer1/conv"
    if (auto slash = base.rfind('/'); slash != std::string::npos && base.substr(slash + 1).starts_with(nd.op_type()))
      base.resize(slash);
    return base + "_" + detail::weight_role(nd, k);
  }

  const std::string& name_of(const std::string& t, const char* fallback) {
    auto it = var_.find(t);
    if (it == var_.end())
      it = var_.emplace(t, view_.is_weight(t) ? attrs_.make(weight_display(t), fallback) : ids_.make(display(t), fallback))
               .first;
    return it->second;
  }

  void name_subgraphs(const ::onnx::NodeProto& nd, int depth) {
    if (depth > 64) throw graph_error("subgraphs nested more than 64 deep");
    auto walk = [&](const ::onnx::GraphProto& sg) {
      for (const auto& in : sg.input()) name_of(in.name(), "t");
      for (const auto& t : sg.initializer()) name_of(t.name(), "weight");
      for (const auto& n : sg.node()) {
        for (const auto& t : n.output())
          if (!t.empty()) name_of(t, view_.sub_constant.count(t) ? "constant" : "t");
        name_subgraphs(n, depth + 1);
      }
    };
    for (const auto& a : nd.attribute()) {
      if (a.has_g()) walk(a.g());
      for (const auto& sg : a.graphs()) walk(sg);
    }
  }

  void name_methods(const stage_plan& p) {
    const auto& g = view_.m->proto.graph();
    for (std::size_t si = 0; si < p.stages.size(); ++si) {
      const plan_stage& st = p.stages[si];
      std::vector<std::string> node_names;
      for (std::size_t ui : st.units)
        for (std::size_t v : p.units[ui].vertices) {
          const std::string& nm = g.node(static_cast<int>(v)).name();
          if (!nm.empty()) node_names.push_back(nm);
        }
      std::string label = detail::compact_path(detail::common_name_prefix(node_names));
      // "conv1/Conv" -> "conv1": the op type says little in a method name
      if (auto slash = label.rfind('/'); slash != std::string::npos) {
        const std::string last = label.substr(slash + 1);
        bool op_name = false;
        for (std::size_t ui : st.units)
          for (std::size_t v : p.units[ui].vertices) {
            const std::string& op = g.node(static_cast<int>(v)).op_type();
            op_name = op_name || last == op || last.starts_with(op + "_");
          }
        if (op_name) label.resize(slash);
      }
      const std::string fallback = "stage" + std::to_string(si + 1);
      label = identifier_table::sanitize(label);
      if (label.empty() || p.stages.size() == 1) label = fallback;
      if (label.size() > 36) {  // room for "fork_" and "_worker1_part2" within a line; the tail distinguishes
        label = identifier_table::tail(label, 24);
        if (label.empty()) label = fallback;
      }
      stage_method_[si] = attrs_.make(label, fallback);
      if (st.region) stage_flag_[si] = attrs_.make("fork_" + stage_method_[si]);
      ids_.reserve("out_" + stage_method_[si]);
      std::map<std::size_t, std::size_t> parts;
      for (std::size_t ui : st.units) parts[p.units[ui].worker] = std::max(parts[p.units[ui].worker], p.units[ui].part);
      for (std::size_t ui : st.units) {
        const plan_unit& u = p.units[ui];
        if (!st.region) {
          unit_method_[ui] = stage_method_[si];
          continue;
        }
        std::string name = stage_method_[si] + "_worker" + std::to_string(u.worker);
        if (parts[u.worker] > 1) name += "_part" + std::to_string(u.part);
        unit_method_[ui] = attrs_.make(name);
        ids_.reserve("fut_" + unit_method_[ui]);
        ids_.reserve("out_" + unit_method_[ui]);
      }
    }
  }

  const model_view& view_;
  identifier_table attrs_, ids_;  // module attributes, local variables
  std::vector<std::string> stage_method_, stage_flag_, unit_method_;
  std::unordered_map<std::string, std::string> var_;  // tensor name -> identifier
  std::vector<std::string> inputs_;
  std::unordered_map<std::string, std::vector<std::pair<std::size_t, int>>> readers_;  // tensor -> (node, input)
};

}  // namespace dfgpar::pytorch
