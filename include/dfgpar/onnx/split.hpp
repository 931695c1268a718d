#pragma once
/// \file split.hpp
/// Output-channel splitting of heavy convolutions, so that inter-op
/// parallelism can balance work that one operator dominates. A Conv with M
/// output channels becomes `parts` Convs on slices of its weight and bias
/// (W[m_i:m_i+1], B[m_i:m_i+1]) whose results are concatenated along the
/// channel axis. A Relu that is the only reader of the Conv is applied to
/// every part before the Concat, and a channel Concat that is the only reader
/// of the result takes the parts directly (no extra copy). The parts compute
/// exactly what the Conv computed, channel by channel.
///
/// Why: GoogLeNet's inception regions are dominated by their 3x3 branch and
/// SqueezeNet's fire modules by expand3x3, so the branches alone cannot keep
/// two workers busy (W/CP of a fire module is about 1.1); the halves of the
/// heavy Conv can. A width-1 Conv (a stem convolution, a classifier) becomes
/// a region of its own.
/// \code
///   auto m = dfgpar::onnx::optimize(dfgpar::onnx::load_model("squeezenet1_1.onnx"));
///   dfgpar::onnx::apply_costs(m, {});
///   dfgpar::onnx::split_report r;
///   auto s = dfgpar::onnx::split_convolutions(m, {.parts = 2}, &r);  // r.split Convs became 2 each
/// \endcode

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/attributes.hpp>
#include <dfgpar/onnx/cost_model.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/model.hpp>
#include <dfgpar/onnx/tensor.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace dfgpar::onnx {

/// Which Convs `split_convolutions` splits, and into how many parts.
struct split_options {
  std::size_t parts = 2;           ///< parts per split Conv (the workers); < 2 splits nothing
  double min_fraction = 0.02;      ///< split Convs whose cost is at least this share of the model's total
  std::int64_t channel_multiple = 8;  ///< part sizes are multiples of this (SIMD-friendly), where possible
  load_options load{};             ///< how the rewritten model is rebuilt
};

/// What `split_convolutions` did.
struct split_report {
  std::size_t split = 0;            ///< Convs split
  std::size_t relus_moved = 0;      ///< Relus applied per part
  std::size_t concats_merged = 0;   ///< parts handed straight to an existing channel Concat
};

namespace detail {

/// Rows [begin, end) of `t` along axis 0.
inline tensor slice_rows(const tensor& t, std::int64_t begin, std::int64_t end) {
  tensor out;
  out.elem_type = t.elem_type;
  out.dims = t.dims;
  out.dims[0] = end - begin;
  std::size_t row = 1;
  for (std::size_t i = 1; i < t.dims.size(); ++i) row *= static_cast<std::size_t>(t.dims[i]);
  std::visit(
      [&](const auto& v) {
        using vec = std::decay_t<decltype(v)>;
        out.data = vec(v.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(begin) * row),
                       v.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(end) * row));
      },
      t.data);
  return out;
}

}  // namespace detail

/// Rewrites `m`'s proto with its heavy Convs split (node costs from m.g).
inline ::onnx::ModelProto split_convolutions_proto(const model& m, const split_options& o = {},
                                                   split_report* report = nullptr) {
  split_report r;
  ::onnx::ModelProto proto = m.proto;
  auto& g = *proto.mutable_graph();
  const int n = g.node_size();
  if (o.parts < 2 || n == 0) {
    if (report) *report = r;
    return proto;
  }
  double total = 0;
  for (std::size_t v = 0; v < num_vertices(m.g); ++v) total += m.g[v].cost;
  std::unordered_map<std::string, int> initializer;
  for (int i = 0; i < g.initializer_size(); ++i) initializer.emplace(g.initializer(i).name(), i);
  std::unordered_set<std::string> graph_inputs, graph_outputs, names;
  for (const auto& in : g.input()) graph_inputs.insert(in.name()), names.insert(in.name());
  for (const auto& out : g.output()) graph_outputs.insert(out.name());
  std::unordered_map<std::string, std::vector<int>> readers;
  for (int v = 0; v < n; ++v) {
    for (const auto& t : g.node(v).input()) readers[t].push_back(v);
    for (const auto& t : g.node(v).output()) names.insert(t);
  }
  for (const auto& [t, i] : initializer) names.insert(t);
  auto fresh = [&](const std::string& base) {
    std::string s = base;
    for (int k = 2; names.count(s); ++k) s = base + "_" + std::to_string(k);
    names.insert(s);
    return s;
  };
  auto only_reader = [&](const std::string& t) -> int {
    auto it = readers.find(t);
    if (graph_outputs.count(t) || it == readers.end() || it->second.size() != 1) return -1;
    return it->second[0];
  };

  // plan: which Convs, their part outputs, where the parts go
  struct plan {
    std::vector<::onnx::NodeProto> nodes;   // replaces the Conv (and the Relu, when moved)
    int relu = -1, concat = -1;             // node removed / Concat whose input is replaced
    std::string result;                     // tensor the parts replace
    std::vector<std::string> parts;
  };
  std::unordered_map<int, plan> plans;
  std::vector<::onnx::TensorProto> new_initializers;
  for (int v = 0; v < n; ++v) {
    const auto& nd = g.node(v);
    if (nd.op_type() != "Conv" || !detail::is_default_domain(nd.domain()) || nd.output_size() != 1 || nd.input_size() < 2) continue;
    if (attribute_reader(nd).get_int("group", 1) != 1) continue;
    if (total <= 0 || m.g[static_cast<std::size_t>(v)].cost < o.min_fraction * total) continue;
    auto w = initializer.find(nd.input(1));
    if (w == initializer.end() || graph_inputs.count(nd.input(1))) continue;
    const bool has_bias = nd.input_size() > 2 && !nd.input(2).empty();
    auto b = has_bias ? initializer.find(nd.input(2)) : initializer.end();
    if (has_bias && (b == initializer.end() || graph_inputs.count(nd.input(2)))) continue;
    const tensor wt = from_proto(g.initializer(w->second));
    if (wt.rank() < 3 || !wt.is_floating()) continue;
    const std::int64_t channels = wt.dims[0];
    const auto parts = static_cast<std::int64_t>(o.parts);
    if (channels < 2 * parts) continue;
    tensor bt;
    if (has_bias) {
      bt = from_proto(g.initializer(b->second));
      if (bt.rank() != 1 || bt.dims[0] != channels) continue;
    }
    // part boundaries: equal, rounded to the channel multiple where that leaves every part non-empty
    std::int64_t chunk = (channels + parts - 1) / parts;
    const std::int64_t mult = std::max<std::int64_t>(o.channel_multiple, 1);
    if (((chunk + mult - 1) / mult) * mult * (parts - 1) < channels) chunk = ((chunk + mult - 1) / mult) * mult;
    plan p;
    std::string result = nd.output(0);
    int relu = only_reader(result);
    if (relu >= 0 && !(g.node(relu).op_type() == "Relu" && detail::is_default_domain(g.node(relu).domain()))) relu = -1;
    if (relu >= 0) result = g.node(relu).output(0), p.relu = relu;
    int concat = only_reader(result);
    if (concat >= 0) {
      const auto& c = g.node(concat);
      const bool is_concat = c.op_type() == "Concat" && detail::is_default_domain(c.domain());
      const std::int64_t axis = is_concat ? attribute_reader(c).get_int("axis", 0) : 0;
      const auto rank = static_cast<std::int64_t>(wt.rank());
      if (!is_concat || (axis != 1 && axis != 1 - rank)) concat = -1;
    }
    p.concat = concat;
    p.result = result;
    const std::string base = nd.name().empty() ? nd.output(0) : nd.name();
    for (std::int64_t k = 0, begin = 0; k < parts && begin < channels; ++k) {
      const std::int64_t end = k + 1 == parts ? channels : std::min(channels, begin + chunk);
      ::onnx::NodeProto conv = nd;
      conv.set_name(fresh(base + "/part" + std::to_string(k)));
      const std::string wname = fresh(nd.input(1) + "/part" + std::to_string(k));
      new_initializers.push_back(to_proto(detail::slice_rows(wt, begin, end), wname));
      conv.set_input(1, wname);
      if (has_bias) {
        const std::string bname = fresh(nd.input(2) + "/part" + std::to_string(k));
        new_initializers.push_back(to_proto(detail::slice_rows(bt, begin, end), bname));
        conv.set_input(2, bname);
      }
      conv.set_output(0, fresh(nd.output(0) + "/part" + std::to_string(k)));
      p.nodes.push_back(conv);
      std::string part = conv.output(0);
      if (relu >= 0) {
        ::onnx::NodeProto rl = g.node(relu);
        rl.set_name(fresh((rl.name().empty() ? rl.output(0) : rl.name()) + "/part" + std::to_string(k)));
        rl.set_input(0, part);
        rl.set_output(0, fresh(g.node(relu).output(0) + "/part" + std::to_string(k)));
        part = rl.output(0);
        p.nodes.push_back(rl);
      }
      p.parts.push_back(part);
      begin = end;
    }
    if (concat < 0) {
      ::onnx::NodeProto cat;
      cat.set_op_type("Concat");
      cat.set_name(fresh(base + "/concat"));
      for (const auto& t : p.parts) cat.add_input(t);
      cat.add_output(result);
      auto* a = cat.add_attribute();
      a->set_name("axis");
      a->set_type(::onnx::AttributeProto::INT);
      a->set_i(1);
      p.nodes.push_back(cat);
    }
    ++r.split;
    r.relus_moved += relu >= 0 ? 1 : 0;
    r.concats_merged += concat >= 0 ? 1 : 0;
    plans.emplace(v, std::move(p));
  }
  if (plans.empty()) {
    if (report) *report = r;
    return proto;
  }
  std::unordered_set<int> removed;
  std::unordered_map<int, std::vector<std::pair<std::string, std::vector<std::string>>>> concat_inputs;
  for (const auto& [v, p] : plans) {
    if (p.relu >= 0) removed.insert(p.relu);
    if (p.concat >= 0) concat_inputs[p.concat].emplace_back(p.result, p.parts);
  }
  google::protobuf::RepeatedPtrField<::onnx::NodeProto> nodes;
  for (int v = 0; v < n; ++v) {
    if (removed.count(v)) continue;
    if (auto it = plans.find(v); it != plans.end()) {
      for (const auto& x : it->second.nodes) *nodes.Add() = x;
      continue;
    }
    ::onnx::NodeProto nd = g.node(v);
    if (auto it = concat_inputs.find(v); it != concat_inputs.end()) {
      std::vector<std::string> ins;
      for (const auto& t : nd.input()) {
        auto rep = std::find_if(it->second.begin(), it->second.end(), [&](const auto& x) { return x.first == t; });
        if (rep == it->second.end()) ins.push_back(t);
        else ins.insert(ins.end(), rep->second.begin(), rep->second.end());
      }
      nd.clear_input();
      for (const auto& t : ins) nd.add_input(t);
    }
    *nodes.Add() = std::move(nd);
  }
  g.mutable_node()->Swap(&nodes);
  for (auto& t : new_initializers) *g.add_initializer() = std::move(t);
  // drop the whole weights the parts replaced, when nothing else reads them
  std::unordered_set<std::string> read;
  for (const auto& nd : g.node())
    for (const auto& t : nd.input()) read.insert(t);
  for (const auto& out : g.output()) read.insert(out.name());
  google::protobuf::RepeatedPtrField<::onnx::TensorProto> kept;
  for (auto& t : *g.mutable_initializer())
    if (read.count(t.name()) || graph_inputs.count(t.name())) *kept.Add() = std::move(t);
  g.mutable_initializer()->Swap(&kept);
  // value_info of the removed tensors would go stale; shape inference refills it
  google::protobuf::RepeatedPtrField<::onnx::ValueInfoProto> infos;
  for (auto& vi : *g.mutable_value_info())
    if (read.count(vi.name())) *infos.Add() = std::move(vi);
  g.mutable_value_info()->Swap(&infos);
  if (report) *report = r;
  return proto;
}

/// Splits `m`'s heavy Convs (see the file comment) and rebuilds the model;
/// node costs come from the cost model (`o.load.costs`), and a part keeps
/// its share of the Conv's cost in `m` (so a measured profile carries over).
/// \throws dfgpar::graph_error
inline model split_convolutions(const model& m, const split_options& o = {}, split_report* report = nullptr) {
  split_report r;
  auto proto = split_convolutions_proto(m, o, &r);
  if (report) *report = r;
  if (r.split == 0) return m;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path base = m.path;
  if (!base.empty() && !fs::is_directory(base, ec)) base = base.parent_path();
  model out = build_model(std::move(proto), base, o.load);
  out.path = m.path;
  apply_costs(out, o.load.costs);
  // costs of unchanged nodes (by name), and shares of the split ones
  std::unordered_map<std::string, double> cost;
  for (std::size_t v = 0; v < num_vertices(m.g); ++v) {
    const auto& nd = m.proto.graph().node(static_cast<int>(v));
    if (!nd.name().empty()) cost.emplace(nd.name(), m.g[v].cost);
  }
  for (std::size_t v = 0; v < num_vertices(out.g); ++v) {
    const auto& nm = out.proto.graph().node(static_cast<int>(v)).name();
    if (auto it = cost.find(nm); it != cost.end()) {
      out.g[v].cost = it->second;
    } else if (auto slash = nm.rfind("/part"); slash != std::string::npos) {
      if (auto whole = cost.find(nm.substr(0, slash)); whole != cost.end())
        out.g[v].cost = whole->second / static_cast<double>(o.parts);
    }
  }
  return out;
}

}  // namespace dfgpar::onnx
