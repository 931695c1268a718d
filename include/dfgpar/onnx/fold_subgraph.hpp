#pragma once
/// \file fold_subgraph.hpp
/// Constant folding and dead-code elimination inside If/Loop/Scan bodies, in
/// place: a body node whose inputs are all known (the body's initializers and
/// Constants, values of enclosing scopes that are known, Shape of a value
/// whose shape shape inference knows) is evaluated and dropped; an If inside
/// a body whose condition is known becomes its branch; nodes whose outputs
/// reach no body output (nor a nested body) are dropped. Folded values a
/// remaining node reads become body initializers, a folded body output a
/// Constant node. What `optimize` does to the bodies of the nodes it keeps;
/// not a user entry point.

#include <dfgpar/onnx/cost_model.hpp>
#include <dfgpar/onnx/evaluate.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/inline_if.hpp>
#include <dfgpar/onnx/model.hpp>
#include <dfgpar/onnx/tensor.hpp>

#include <onnx/onnx_pb.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace dfgpar::onnx::detail {

/// What is known in one scope (a body), falling back to the enclosing ones.
struct value_scope {
  using value_ptr = std::shared_ptr<const tensor>;
  const value_scope* parent = nullptr;
  /// The outermost scope (the model's graph): its known values and tensor facts.
  std::function<value_ptr(const std::string&)> top_value;
  std::function<const tensor_info*(const std::string&)> top_info;
  std::unordered_map<std::string, value_ptr> values;        // known here
  std::unordered_set<std::string> unknown;                  // defined here without a known value (hides outer names)
  std::unordered_map<std::string, tensor_info> infos;       // shape inference's facts about this body

  value_ptr value(const std::string& name) const {
    if (auto it = values.find(name); it != values.end()) return it->second;
    if (unknown.count(name)) return nullptr;
    if (parent) return parent->value(name);
    return top_value ? top_value(name) : nullptr;
  }
  /// Whether `name` is defined in this body or an enclosing body (not the model's graph).
  bool defined_in_bodies(const std::string& name) const {
    if (infos.count(name) || values.count(name) || unknown.count(name)) return true;
    return parent && parent->defined_in_bodies(name);
  }
  const tensor_info* info(const std::string& name) const {
    if (auto it = infos.find(name); it != infos.end()) return &it->second;
    if (unknown.count(name) || values.count(name)) return nullptr;
    if (parent) return parent->info(name);
    return top_info ? top_info(name) : nullptr;
  }
};

/// What folding inside bodies needs besides the scope.
struct body_fold_context {
  std::int64_t opset = 13;
  /// Inside a Loop or Scan body: a value defined there may change its shape
  /// from one iteration to the next, so Shape/Size fold only what comes
  /// from the model's graph.
  bool iterating = false;
  std::size_t max_elements = std::size_t{1} << 20;
  name_pool* names = nullptr;  // for inlining nested constant Ifs
  std::vector<std::string>* warnings = nullptr;
};

inline std::size_t optimize_bodies(::onnx::NodeProto& n, const value_scope& scope, body_fold_context& cx, int depth);

/// Folds and cleans one body in place; returns how many of its nodes went
/// (folded, inlined or dead), nested bodies included.
inline std::size_t optimize_body(::onnx::GraphProto& body, const value_scope& parent, body_fold_context& cx,
                                 int depth) {
  if (depth > 64) fail("subgraphs nested more than 64 deep");
  value_scope scope;
  scope.parent = &parent;
  collect_tensors(body, scope.infos);
  std::unordered_map<std::string, int> init_index;
  for (int k = 0; k < body.initializer_size(); ++k) init_index.emplace(body.initializer(k).name(), k);
  for (const auto& v : body.input()) scope.unknown.insert(v.name());
  auto value = [&](const std::string& name) -> value_scope::value_ptr {
    if (auto it = init_index.find(name); it != init_index.end()) {
      if (auto v = scope.values.find(name); v != scope.values.end()) return v->second;
      const auto& t = body.initializer(it->second);
      if (!is_supported_elem_type(t.data_type())) return nullptr;
      auto p = std::make_shared<const tensor>(from_proto(t));
      scope.values.emplace(name, p);
      return p;
    }
    return scope.value(name);
  };
  std::size_t removed = 0;
  std::vector<::onnx::NodeProto> nodes;
  std::unordered_set<std::string> folded;  // outputs of dropped nodes whose value is known
  std::unordered_set<std::string> outputs;
  for (const auto& o : body.output()) outputs.insert(o.name());
  auto try_fold = [&](const ::onnx::NodeProto& nd) -> bool {
    if (!is_default_domain(nd.domain()) || has_subgraph(nd)) return false;
    // a Constant that writes a body output is what folding leaves there: it stays
    if (nd.op_type() == "Constant" && nd.output_size() == 1 && outputs.count(nd.output(0))) return false;
    std::optional<std::vector<tensor>> out;
    try {
      if ((nd.op_type() == "Shape" || nd.op_type() == "Size") && nd.input_size() == 1 && nd.output_size() == 1) {
        const tensor_info* t = cx.iterating && scope.defined_in_bodies(nd.input(0)) ? nullptr : scope.info(nd.input(0));
        if (t && t->shape_known) {
          out.emplace();
          if (nd.op_type() == "Shape") {
            out->push_back(shape_value(nd, t->shape, cx.opset));
          } else {
            std::int64_t size = 1;
            for (auto d : t->shape) size *= d;
            out->push_back(make_tensor<std::int64_t>(::onnx::TensorProto::INT64, {}, {size}));
          }
        }
      }
      if (!out) {
        if (!can_evaluate(nd.op_type(), nd.domain())) return false;
        std::vector<value_scope::value_ptr> keep;
        std::vector<const tensor*> in;
        for (const auto& i : nd.input()) {
          if (i.empty()) {
            in.push_back(nullptr);
            continue;
          }
          auto v = value(i);
          if (!v) return false;
          in.push_back(v.get());
          keep.push_back(std::move(v));
        }
        out = evaluate(nd, in, cx.opset, eval_options{.max_elements = cx.max_elements});
      }
    } catch (const graph_error& e) {
      if (cx.warnings) cx.warnings->push_back(std::string("not folded (in a subgraph): ") + e.what());
      return false;
    }
    if (!out) return false;
    for (int k = 0; k < nd.output_size(); ++k)
      if (!nd.output(k).empty() && static_cast<std::size_t>(k) >= out->size()) return false;
    for (int k = 0; k < nd.output_size(); ++k) {
      if (nd.output(k).empty()) continue;
      scope.values[nd.output(k)] = std::make_shared<const tensor>(std::move((*out)[static_cast<std::size_t>(k)]));
      folded.insert(nd.output(k));
    }
    return true;
  };
  for (auto& nd : *body.mutable_node()) {
    if (try_fold(nd)) {
      ++removed;
      continue;
    }
    if (has_subgraph(nd)) removed += optimize_bodies(nd, scope, cx, depth + 1);
    // an If whose condition is known here: its branch's nodes take its place
    if (nd.op_type() == "If" && is_default_domain(nd.domain()) && nd.input_size() == 1 && cx.names) {
      if (auto c = value(nd.input(0)); c && c->size() == 1)
        if (const auto* branch = taken_branch(nd, c->as_double(0) != 0)) {
          std::vector<::onnx::NodeProto> inlined;
          std::vector<::onnx::TensorProto> inits;
          inline_branch(nd, *branch, *cx.names, inlined, inits);
          for (auto& t : inits) {
            init_index.emplace(t.name(), body.initializer_size());
            *body.add_initializer() = std::move(t);
          }
          for (auto& x : inlined) {
            for (const auto& o : x.output()) scope.unknown.insert(o);
            nodes.push_back(std::move(x));
          }
          ++removed;
          continue;
        }
    }
    for (const auto& o : nd.output()) scope.unknown.insert(o);
    nodes.push_back(std::move(nd));
  }
  // dead code: what no body output and no later live node reads
  std::unordered_set<std::string> needed;
  for (const auto& o : body.output()) needed.insert(o.name());
  std::vector<char> live(nodes.size(), 0);
  for (std::size_t k = nodes.size(); k-- > 0;) {
    const auto& nd = nodes[k];
    bool l = !is_default_domain(nd.domain()) && nd.domain() != "ai.onnx.ml";  // unknown ops may have effects
    for (const auto& o : nd.output()) l = l || (!o.empty() && needed.count(o));
    if (!l) {
      ++removed;
      continue;
    }
    live[k] = 1;
    for (const auto& i : nd.input()) needed.insert(i);
    if (has_subgraph(nd))
      for (const auto& i : implicit_inputs(nd)) needed.insert(i);
  }
  std::unordered_set<std::string> defined;
  for (std::size_t k = 0; k < nodes.size(); ++k)
    if (live[k])
      for (const auto& o : nodes[k].output()) defined.insert(o);
  auto* out_nodes = body.mutable_node();
  out_nodes->Clear();
  // folded body outputs: Constant nodes, first
  for (const auto& o : body.output()) {
    if (!folded.count(o.name()) || defined.count(o.name())) continue;
    auto* c = out_nodes->Add();
    c->set_op_type("Constant");
    c->set_name(o.name() + "_folded");
    c->add_output(o.name());
    auto* a = c->add_attribute();
    a->set_name("value");
    a->set_type(::onnx::AttributeProto::TENSOR);
    *a->mutable_t() = to_proto(*scope.values.at(o.name()), "");
    defined.insert(o.name());
  }
  for (std::size_t k = 0; k < nodes.size(); ++k)
    if (live[k]) *out_nodes->Add() = std::move(nodes[k]);
  // initializers: the body's own that are still read, then folded values read
  google::protobuf::RepeatedPtrField<::onnx::TensorProto> inits;
  inits.Swap(body.mutable_initializer());
  for (auto& t : inits)
    if (needed.count(t.name())) body.add_initializer()->Swap(&t);
  for (const auto& name : folded)
    if (needed.count(name) && !defined.count(name)) *body.add_initializer() = to_proto(*scope.values.at(name), name);
  // value_info of what still exists
  google::protobuf::RepeatedPtrField<::onnx::ValueInfoProto> infos;
  infos.Swap(body.mutable_value_info());
  for (auto& v : infos)
    if (defined.count(v.name())) body.add_value_info()->Swap(&v);
  return removed;
}

/// Folds and cleans the bodies of node `n` (see optimize_body).
inline std::size_t optimize_bodies(::onnx::NodeProto& n, const value_scope& scope, body_fold_context& cx, int depth) {
  std::size_t removed = 0;
  const bool was = cx.iterating;
  cx.iterating = was || n.op_type() == "Loop" || n.op_type() == "Scan";
  for (auto& a : *n.mutable_attribute()) {
    if (a.has_g()) removed += optimize_body(*a.mutable_g(), scope, cx, depth);
    for (auto& g : *a.mutable_graphs()) removed += optimize_body(g, scope, cx, depth);
  }
  cx.iterating = was;
  return removed;
}

}  // namespace dfgpar::onnx::detail
