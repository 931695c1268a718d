#pragma once
/// \file inline_if.hpp
/// Replacing an `If` whose condition is known before run time by the nodes
/// of the branch it takes (what `optimize` does with a constant condition):
/// the branch's nodes and initializers move into the enclosing graph, the
/// branch's outputs become the If's outputs, and every name the branch
/// defines that is also defined elsewhere in the model is renamed so that
/// all names stay unique (ONNX's single static assignment, across scopes).
/// Not a user entry point: `optimize` calls it.

#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/model.hpp>

#include <onnx/onnx_pb.h>

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace dfgpar::onnx::detail {

/// How often each name is defined (graph input, initializer, node output) in
/// a graph and all its subgraphs, and every name used at all: what a rename
/// must avoid.
class name_pool {
 public:
  explicit name_pool(const ::onnx::GraphProto& g) { add_graph(g, 0); }

  /// Whether `name` is defined more than once in the model.
  bool defined_elsewhere(const std::string& name) const {
    auto it = defs_.find(name);
    return it != defs_.end() && it->second > 1;
  }
  /// A name based on `base` that nothing in the model uses; reserved.
  std::string fresh(const std::string& base) {
    std::string s = base;
    for (int k = 1; used_.count(s); ++k) s = base + "_" + std::to_string(k);
    used_.insert(s);
    ++defs_[s];
    return s;
  }

 private:
  void def(const std::string& s) {
    if (s.empty()) return;
    ++defs_[s];
    used_.insert(s);
  }
  void add_graph(const ::onnx::GraphProto& g, int depth) {
    if (depth > 64) fail("subgraphs nested more than 64 deep");
    for (const auto& v : g.input()) def(v.name());
    for (const auto& t : g.initializer()) def(t.name());
    for (const auto& t : g.sparse_initializer()) def(t.values().name());
    for (const auto& v : g.output()) used_.insert(v.name());
    for (const auto& n : g.node()) {
      for (const auto& i : n.input()) used_.insert(i);
      for (const auto& o : n.output()) def(o);
      for (const auto& a : n.attribute()) {
        if (a.has_g()) add_graph(a.g(), depth + 1);
        for (const auto& sg : a.graphs()) add_graph(sg, depth + 1);
      }
    }
  }

  std::unordered_map<std::string, int> defs_;
  std::unordered_set<std::string> used_;
};

/// The branch an If with condition `cond` takes, or null when the node has
/// no such attribute.
inline const ::onnx::GraphProto* taken_branch(const ::onnx::NodeProto& n, bool cond) {
  for (const auto& a : n.attribute())
    if (a.name() == (cond ? "then_branch" : "else_branch") && a.has_g()) return &a.g();
  return nullptr;
}

/// Appends to `nodes` and `inits` what replaces If node `n` taking `branch`:
/// the branch's nodes and initializers, renamed where needed, and an
/// Identity for each If output the branch does not compute itself (an outer
/// value or an initializer passed through).
inline void inline_branch(const ::onnx::NodeProto& n, const ::onnx::GraphProto& branch, name_pool& names,
                          std::vector<::onnx::NodeProto>& nodes, std::vector<::onnx::TensorProto>& inits) {
  if (branch.output_size() != n.output_size())
    fail(node_label(n, 0) + ": the branch has " + std::to_string(branch.output_size()) + " outputs, the If " +
         std::to_string(n.output_size()));
  std::unordered_set<std::string> produced;
  for (const auto& b : branch.node())
    for (const auto& o : b.output())
      if (!o.empty()) produced.insert(o);
  std::unordered_map<std::string, std::string> rename;
  // a branch output computed by a branch node is written straight to the If's output
  for (int k = 0; k < n.output_size(); ++k) {
    const std::string& o = branch.output(k).name();
    if (!n.output(k).empty() && produced.count(o) && !rename.count(o)) rename[o] = n.output(k);
  }
  auto local = [&](const std::string& s) {
    if (s.empty() || rename.count(s)) return;
    rename[s] = names.defined_elsewhere(s) ? names.fresh(s) : s;
  };
  for (const auto& b : branch.node())
    for (const auto& o : b.output()) local(o);
  for (const auto& t : branch.initializer()) local(t.name());
  const rename_fn map = [&](const std::string& s) -> std::string {
    auto it = rename.find(s);
    return it == rename.end() ? s : it->second;
  };
  for (const auto& b : branch.node()) {
    nodes.push_back(b);
    auto& c = nodes.back();
    for (auto& i : *c.mutable_input()) i = map(i);
    for (auto& o : *c.mutable_output()) o = map(o);
    rename_implicit_inputs(c, map);
  }
  for (const auto& t : branch.initializer()) {
    inits.push_back(t);
    inits.back().set_name(map(t.name()));
  }
  for (int k = 0; k < n.output_size(); ++k) {
    const std::string from = map(branch.output(k).name()), to = n.output(k);
    if (to.empty() || from == to) continue;
    ::onnx::NodeProto id;
    id.set_op_type("Identity");
    id.set_name(n.name().empty() ? to + "_identity" : n.name() + "_output_" + std::to_string(k));
    id.add_input(from);
    id.add_output(to);
    nodes.push_back(std::move(id));
  }
}

}  // namespace dfgpar::onnx::detail
