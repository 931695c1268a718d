#pragma once
/// \file optimize.hpp
/// Graph clean-up for ONNX models before clustering: constant folding,
/// removal of Identity and inference-mode Dropout, dead-code elimination.
/// The result is a new, checked `model` built from the rewritten proto, so
/// vertex i is again node i.
/// \code
///   auto m   = dfgpar::onnx::load_model("resnet50.onnx");
///   dfgpar::onnx::optimize_report r;
///   auto opt = dfgpar::onnx::optimize(m, {}, &r);
///   dfgpar::onnx::save_model(opt, "resnet50.opt.onnx");   // save.hpp
/// \endcode
///
/// Folded values that a remaining node reads become initializers (named after
/// the tensor they replace); a folded graph output becomes a Constant node.
/// Graph inputs and outputs keep their names: an Identity that writes a graph
/// output is removed by renaming its input's producer to write the output
/// directly, and kept when that is impossible (its input is a graph input,
/// an initializer or another graph output).

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/args/dropout.hpp>
#include <dfgpar/onnx/attributes.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/fold_subgraph.hpp>
#include <dfgpar/onnx/inline_if.hpp>
#include <dfgpar/onnx/model.hpp>
#include <dfgpar/onnx/semantics.hpp>
#include <dfgpar/onnx/tensor.hpp>
#include <dfgpar/passes/constant_folding.hpp>
#include <dfgpar/passes/dead_code.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace dfgpar::onnx {

/// What `optimize` does.
struct optimize_options {
  bool fold = true;             ///< constant folding (incl. Shape of statically known shapes)
  bool remove_identity = true;  ///< drop Identity and inference-mode Dropout, rewiring their readers
  bool dead_code = true;        ///< drop nodes that reach no graph output
  bool prune_initializers = true;  ///< drop initializers nobody reads any more
  semantics_options semantics{};   ///< fold size cap, clone thresholds
  load_options load{};             ///< how the rewritten model is rebuilt (checker, shape inference, costs)
  /// Rounds of fold -> DCE -> rebuild (shape inference again) at most: a
  /// fold makes shapes known that the next round folds further (a Reshape's
  /// computed shape, a constant If's branch). Stops earlier when a round
  /// changes nothing. 1: a single pass.
  std::size_t max_rounds = 16;
};

/// What `optimize` did.
struct optimize_report {
  std::size_t nodes_before = 0, nodes_after = 0;
  std::size_t folded = 0;              ///< nodes whose value became known (incl. Constant nodes)
  std::size_t identities_removed = 0;  ///< Identity / Dropout nodes removed by rewiring
  std::size_t dead_removed = 0;        ///< non-constant nodes removed as dead
  std::size_t initializers_before = 0, initializers_after = 0;
  std::vector<std::string> warnings;   ///< e.g. folds declined because a node is invalid
  std::size_t rounds = 0;              ///< fold/DCE/shape-inference rounds run
  bool fixed_point = false;            ///< the last round changed nothing (false: stopped at max_rounds)
  std::size_t ifs_inlined = 0;         ///< If nodes with a constant condition replaced by their branch
  std::size_t subgraph_nodes_removed = 0;  ///< nodes folded or removed inside If/Loop/Scan bodies
  std::size_t constant_outputs = 0;    ///< folded graph outputs written as Constant nodes (last round)
};

namespace detail {

/// Dropout that is the identity: no mask read, not in training mode (the
/// rule is args/dropout.hpp's).
inline bool is_inference_dropout(const ::onnx::NodeProto& n, std::int64_t opset,
                                 const std::unordered_set<std::string>& needed, semantics& sem) {
  if (n.op_type() != "Dropout" || !semantics::is_standard(n.domain()) || n.input_size() < 1) return false;
  if (n.output_size() > 1 && !n.output(1).empty() && needed.count(n.output(1))) return false;
  std::vector<std::shared_ptr<const tensor>> values;  // keeps the known inputs alive
  const auto in = node_inputs::of(n, [&](std::size_t i) -> const tensor* {
    if (i == 0) return nullptr;  // the data: not needed
    values.push_back(sem.value(n.input(static_cast<int>(i))));
    return values.back().get();
  });
  attribute_reader a(n);
  try {
    return read_dropout(n, a, opset, in).mode == dropout_mode::inference;
  } catch (const argument_error&) {
    return false;  // an invalid node stays
  }
}

}  // namespace detail

namespace detail {

/// optimize_proto; with `take` (== &m) the kept initializers are moved out of
/// m instead of copied (m keeps their names, types and shapes).
inline ::onnx::ModelProto optimize_proto(const model& m, const optimize_options& o, optimize_report* report,
                                         model* take) {
  optimize_report r;
  const auto& g0 = m.proto.graph();
  const std::size_t n = static_cast<std::size_t>(g0.node_size());
  r.nodes_before = n;
  r.initializers_before = static_cast<std::size_t>(g0.initializer_size());
  if (num_vertices(m.g) != n) throw graph_error("dfgpar: optimize: the model's graph does not match its proto");

  semantics sem(m, o.semantics);
  std::vector<char> constant(n, 0), live(n, 1);
  if (o.fold) constant = fold_constants(m.g, sem);
  if (o.dead_code) live = live_vertices(m.g, sem, constant);

  std::unordered_set<std::string> graph_outputs, graph_inputs;
  for (const auto& out : g0.output()) graph_outputs.insert(out.name());
  for (const auto& in : g0.input()) graph_inputs.insert(in.name());

  // nodes that stay, and the tensors they (and the graph outputs) read
  std::vector<char> keep(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    keep[i] = live[i] && !constant[i];
    r.folded += constant[i] ? 1 : 0;
    r.dead_removed += !live[i] && !constant[i] ? 1 : 0;
  }
  // what each node reads: its inputs, and for If/Loop/Scan what their
  // bodies read from outside (outer-scope initializers and values)
  std::vector<std::set<std::string>> implicit(n);
  for (std::size_t i = 0; i < n; ++i)
    if (has_subgraph(g0.node(static_cast<int>(i)))) implicit[i] = implicit_inputs(g0.node(static_cast<int>(i)));
  auto reads_of = [&] {
    std::unordered_set<std::string> s(graph_outputs.begin(), graph_outputs.end());
    for (std::size_t i = 0; i < n; ++i)
      if (keep[i]) {
        for (const auto& in : g0.node(static_cast<int>(i)).input()) s.insert(in);
        s.insert(implicit[i].begin(), implicit[i].end());
      }
    return s;
  };
  auto needed = reads_of();

  // a constant vertex whose needed output has no value (cannot happen with
  // this policy, but the pass does not promise it) stays a node
  for (std::size_t i = 0; i < n; ++i)
    if (constant[i] && live[i])
      for (const auto& out : g0.node(static_cast<int>(i)).output())
        if (!out.empty() && needed.count(out) && !sem.value(out)) keep[i] = 1;

  // Identity / Dropout removal: readers of y read x instead (alias), or, for
  // a graph output y, x's producer writes y (rename)
  std::unordered_map<std::string, std::string> alias, rename;
  std::unordered_map<std::string, std::size_t> producer;  // tensor -> kept node
  for (std::size_t i = 0; i < n; ++i)
    if (keep[i])
      for (const auto& out : g0.node(static_cast<int>(i)).output()) producer.emplace(out, i);
  auto resolve = [&](std::string s) {
    for (auto it = alias.find(s); it != alias.end(); it = alias.find(s)) s = it->second;
    return s;
  };
  std::unordered_set<std::string> renamed_from;
  if (o.remove_identity) {
    for (std::size_t i = 0; i < n; ++i) {
      // a folded Identity is an alias too: readers take its input's value
      // rather than a copy (PyTorch exports share deduplicated weights this way)
      const bool folded = constant[i] && live[i] && !keep[i];
      if (!keep[i] && !folded) continue;
      const auto& nd = g0.node(static_cast<int>(i));
      const bool identity = nd.op_type() == "Identity" && semantics::is_standard(nd.domain()) && nd.input_size() == 1;
      if (!identity && !detail::is_inference_dropout(nd, sem.opset(), needed, sem)) continue;
      const std::string x = resolve(nd.input(0)), y = nd.output(0);
      if (x.empty() || y.empty()) continue;
      if (folded) {
        if (!graph_outputs.count(y)) alias[y] = x;
        continue;
      }
      if (!graph_outputs.count(y)) {
        alias[y] = x;
      } else {
        // y must keep its name: let x's producer write y, if x is an ordinary node output
        auto p = producer.find(x);
        if (p == producer.end() || graph_outputs.count(x) || graph_inputs.count(x) || renamed_from.count(x)) continue;
        rename[x] = y;
        renamed_from.insert(x);
      }
      keep[i] = 0;
      ++r.identities_removed;
    }
  }
  auto final_name = [&](const std::string& s) {
    if (s.empty()) return s;
    std::string t = resolve(s);
    if (auto it = rename.find(t); it != rename.end()) return it->second;
    return t;
  };
  needed.clear();
  for (const auto& out : graph_outputs) needed.insert(out);
  for (std::size_t i = 0; i < n; ++i)
    if (keep[i]) {
      for (const auto& in : g0.node(static_cast<int>(i)).input()) needed.insert(final_name(in));
      for (const auto& in : implicit[i]) needed.insert(final_name(in));
    }

  // the new proto: everything but nodes, initializers and value_info, which
  // are rebuilt below. Those three are moved aside while the rest is copied
  // (and put back right after): copying the weights twice would cost more
  // than all the passes together on a 100 MB model.
  ::onnx::ModelProto out;
  {
    auto* src = const_cast<::onnx::ModelProto&>(m.proto).mutable_graph();
    google::protobuf::RepeatedPtrField<::onnx::NodeProto> nodes;
    google::protobuf::RepeatedPtrField<::onnx::TensorProto> inits;
    google::protobuf::RepeatedPtrField<::onnx::ValueInfoProto> infos;
    nodes.Swap(src->mutable_node());
    inits.Swap(src->mutable_initializer());
    infos.Swap(src->mutable_value_info());
    struct put_back {
      ::onnx::GraphProto* g;
      google::protobuf::RepeatedPtrField<::onnx::NodeProto>& n;
      google::protobuf::RepeatedPtrField<::onnx::TensorProto>& i;
      google::protobuf::RepeatedPtrField<::onnx::ValueInfoProto>& v;
      ~put_back() {
        n.Swap(g->mutable_node());
        i.Swap(g->mutable_initializer());
        v.Swap(g->mutable_value_info());
      }
    } guard{src, nodes, inits, infos};
    out = m.proto;
  }
  auto& g = *out.mutable_graph();

  // kept nodes, renamed; an If whose condition is known becomes its branch
  std::unordered_set<std::string> defined;
  std::vector<::onnx::NodeProto> kept;
  std::vector<::onnx::TensorProto> branch_inits;
  std::unique_ptr<name_pool> names;  // built when the first If is inlined
  std::unique_ptr<value_scope> top_scope;  // what bodies see of this graph
  std::vector<std::string> body_warnings;
  for (std::size_t i = 0; i < n; ++i) {
    if (!keep[i]) continue;
    ::onnx::NodeProto nd = g0.node(static_cast<int>(i));
    for (auto& in : *nd.mutable_input()) in = final_name(in);
    if (!implicit[i].empty()) rename_implicit_inputs(nd, final_name);
    for (auto& o2 : *nd.mutable_output()) o2 = final_name(o2);
    if (o.fold && has_subgraph(nd) && semantics::is_standard(nd.domain())) {
      // fold and clean inside the bodies, with what is known out here
      if (!names) names = std::make_unique<name_pool>(g0);
      if (!top_scope) {
        top_scope = std::make_unique<value_scope>();
        top_scope->top_value = [&](const std::string& s) { return sem.value(s); };
        top_scope->top_info = [&](const std::string& s) -> const tensor_info* {
          auto it = m.tensors.find(s);
          return it == m.tensors.end() ? nullptr : &it->second;
        };
      }
      body_fold_context cx{.opset = sem.opset(), .max_elements = o.semantics.max_fold_elements, .names = names.get(),
                           .warnings = &body_warnings};
      r.subgraph_nodes_removed += optimize_bodies(nd, *top_scope, cx, 0);
    }
    const ::onnx::GraphProto* branch = nullptr;
    if (o.fold && nd.op_type() == "If" && semantics::is_standard(nd.domain()) && nd.input_size() == 1)
      if (auto c = sem.value(nd.input(0)); c && c->size() == 1) branch = taken_branch(nd, c->as_double(0) != 0);
    const std::size_t first = kept.size();
    if (branch) {
      if (!names) names = std::make_unique<name_pool>(g0);
      inline_branch(nd, *branch, *names, kept, branch_inits);
      ++r.ifs_inlined;
    } else {
      kept.push_back(std::move(nd));
    }
    for (std::size_t k = first; k < kept.size(); ++k)
      for (const auto& o2 : kept[k].output()) defined.insert(o2);
  }
  // folded graph outputs: Constant nodes, first (the order stays topological)
  for (const auto& o_ : g0.output()) {
    const std::string& name = o_.name();
    if (defined.count(name) || graph_inputs.count(name) || !m.producer.count(name)) continue;
    auto v = sem.value(name);
    if (!v) throw graph_error("dfgpar: optimize: graph output '" + name + "' lost its producer");
    auto* c = g.add_node();
    c->set_op_type("Constant");
    c->set_name(name + "_folded");
    c->add_output(name);
    auto* a = c->add_attribute();
    a->set_name("value");
    a->set_type(::onnx::AttributeProto::TENSOR);
    *a->mutable_t() = to_proto(*v, "");
    defined.insert(name);
    ++r.constant_outputs;
  }
  for (auto& nd : kept) *g.add_node() = std::move(nd);
  // initializers: the original ones still read, then folded values (the
  // originals are taken last: `sem` may still decode them until then)
  std::unordered_set<std::string> init_names;
  std::vector<int> kept_inits;
  for (int k = 0; k < g0.initializer_size(); ++k)
    if (const auto& t = g0.initializer(k); !o.prune_initializers || needed.count(t.name())) {
      kept_inits.push_back(k);
      init_names.insert(t.name());
    }
  std::vector<::onnx::TensorProto> folded_inits;
  for (const auto& name : needed) {
    if (name.empty() || init_names.count(name) || defined.count(name) || graph_inputs.count(name)) continue;
    auto v = sem.value(name);
    if (!v) throw graph_error("dfgpar: optimize: tensor '" + name + "' is read but neither produced nor known");
    folded_inits.push_back(to_proto(*v, name));
    init_names.insert(name);
  }
  g.mutable_initializer()->Reserve(static_cast<int>(kept_inits.size() + folded_inits.size()));
  for (int k : kept_inits) {
    auto* t = g.add_initializer();
    if (!take) {
      *t = g0.initializer(k);
      continue;
    }
    // the weights move (no byte is copied); the source keeps what describes them
    auto& src = *take->proto.mutable_graph()->mutable_initializer(k);
    t->Swap(&src);
    src.set_name(t->name());
    src.set_data_type(t->data_type());
    *src.mutable_dims() = t->dims();
  }
  for (auto& t : folded_inits) g.add_initializer()->Swap(&t);
  for (auto& t : branch_inits) g.add_initializer()->Swap(&t);
  // graph inputs that were only defaults of initializers we dropped go too
  if (o.prune_initializers) {
    std::unordered_set<std::string> old_inits;
    for (const auto& t : g0.initializer()) old_inits.insert(t.name());
    auto* inputs = g.mutable_input();
    for (int k = inputs->size() - 1; k >= 0; --k) {
      const std::string& name = inputs->Get(k).name();
      if (old_inits.count(name) && !init_names.count(name)) inputs->DeleteSubrange(k, 1);
    }
  }
  // value_info of tensors that still exist (shape inference refills the rest)
  for (const auto& vi : g0.value_info()) {
    const std::string name = final_name(vi.name());
    if (name != vi.name() || !defined.count(name) || graph_outputs.count(name)) continue;
    *g.add_value_info() = vi;
  }
  r.nodes_after = static_cast<std::size_t>(g.node_size());
  r.initializers_after = static_cast<std::size_t>(g.initializer_size());
  r.warnings = sem.warnings();
  r.warnings.insert(r.warnings.end(), body_warnings.begin(), body_warnings.end());
  if (report) *report = std::move(r);
  if (take && !kept_inits.empty()) take->weights_moved = true;
  return out;
}

/// Rebuilds the model from an optimised proto.
inline model rebuild(const model& m, ::onnx::ModelProto proto, const optimize_options& o, optimize_report* report) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path base = m.path;
  if (!base.empty() && !fs::is_directory(base, ec)) base = base.parent_path();
  model out = build_model(std::move(proto), base, o.load);
  if (report) out.warnings.insert(out.warnings.end(), report->warnings.begin(), report->warnings.end());
  return out;
}

}  // namespace detail

namespace detail {

/// Whether a round did anything (the next round would then see a new model).
inline bool round_changed(const optimize_report& r) {
  return r.nodes_after != r.nodes_before || r.initializers_after != r.initializers_before ||
         r.identities_removed > 0 || r.dead_removed > 0 || r.ifs_inlined > 0 || r.subgraph_nodes_removed > 0;
}

/// Adds round `k` (after the first) to the running total.
inline void add_round(optimize_report& total, const optimize_report& k) {
  // a folded graph output comes back as a Constant node and folds again each round: not a new fold
  total.folded += k.folded - std::min(k.folded, total.constant_outputs);
  total.identities_removed += k.identities_removed;
  total.dead_removed += k.dead_removed;
  total.ifs_inlined += k.ifs_inlined;
  total.subgraph_nodes_removed += k.subgraph_nodes_removed;
  total.nodes_after = k.nodes_after;
  total.initializers_after = k.initializers_after;
  total.constant_outputs = k.constant_outputs;
  for (const auto& w : k.warnings)
    if (std::find(total.warnings.begin(), total.warnings.end(), w) == total.warnings.end()) total.warnings.push_back(w);
  ++total.rounds;
}

/// Rounds 2.. of the fixed point, from the first round's result.
inline model more_rounds(model cur, const optimize_options& o, optimize_report& total) {
  // each round's warnings, but of the unknown dimensions only the last model's
  std::vector<std::string> warnings;
  auto keep = [&](const model& m) {
    const std::string unknown = unknown_dimensions_warning(m);
    for (const auto& w : m.warnings)
      if (w != unknown && std::find(warnings.begin(), warnings.end(), w) == warnings.end()) warnings.push_back(w);
  };
  keep(cur);
  bool changed = round_changed(total);
  while (changed && total.rounds < o.max_rounds) {
    optimize_report k;
    auto proto = optimize_proto(cur, o, &k, &cur);
    model next = rebuild(cur, std::move(proto), o, &k);
    changed = round_changed(k);
    add_round(total, k);
    keep(next);
    cur = std::move(next);
  }
  total.fixed_point = !changed;
  if (auto w = unknown_dimensions_warning(cur); !w.empty()) warnings.push_back(std::move(w));
  cur.warnings = std::move(warnings);
  return cur;
}

/// The fixed point (see optimize_options::max_rounds); `take`: move m's weights.
inline model optimize_to_fixed_point(const model& m, const optimize_options& o, optimize_report* report, model* take) {
  optimize_report total;
  auto proto = optimize_proto(m, o, &total, take);
  total.rounds = 1;
  model first = rebuild(m, std::move(proto), o, &total);
  if (o.max_rounds <= 1) {
    total.fixed_point = !round_changed(total);
    if (report) *report = std::move(total);
    return first;
  }
  model out = more_rounds(std::move(first), o, total);
  if (report) *report = std::move(total);
  return out;
}

}  // namespace detail

/// Rewrites `m`'s proto: folds constants, removes Identity/Dropout and dead
/// nodes, and drops unused initializers. Returns the proto (the weights it
/// keeps are copied); `optimize` also rebuilds the model from it.
inline ::onnx::ModelProto optimize_proto(const model& m, const optimize_options& o = {},
                                         optimize_report* report = nullptr) {
  return detail::optimize_proto(m, o, report, nullptr);
}

/// Folds constants, removes Identity/Dropout and dead code, and rebuilds the
/// model (ONNX checker and shape inference run again, per `o.load`). `m` is
/// left as it was: the weights the result keeps are copied (see
/// `optimize_moving_weights` to move them instead).
/// \throws dfgpar::graph_error
inline model optimize(const model& m, const optimize_options& o = {}, optimize_report* report = nullptr) {
  return detail::optimize_to_fixed_point(m, o, report, nullptr);
}

/// Same for a model that is not needed any more: its weights are moved.
inline model optimize(model&& m, const optimize_options& o = {}, optimize_report* report = nullptr) {
  return detail::optimize_to_fixed_point(m, o, report, &m);
}

/// Same, moving the initializers the result keeps out of `m` instead of
/// copying them, so the weights exist once: `m` keeps its graph, nodes,
/// tensor facts and the names, types and shapes of its initializers, but not
/// their data (`m.weights_moved` is set; `save_model` refuses such a model).
/// When the rebuilt model is rejected (graph_error), `m` may have lost its
/// weights all the same. What `compile` does (pipeline.hpp).
inline model optimize_moving_weights(model& m, const optimize_options& o = {}, optimize_report* report = nullptr) {
  return detail::optimize_to_fixed_point(m, o, report, &m);
}

}  // namespace dfgpar::onnx
