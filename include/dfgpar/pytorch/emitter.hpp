#pragma once
/// \file emitter.hpp
/// The PyTorch back end: `emit_pytorch(model, schedule)` writes a readable,
/// runnable `model.py` (a `torch.nn.Module`) plus its weights
/// (`weights.safetensors`), with the schedule's clusters running in parallel
/// through `torch.jit.fork` / `torch.jit.wait` in the scripted module.
/// No libtorch is needed to emit.
/// \code
///   auto m = dfgpar::onnx::optimize(dfgpar::onnx::load_model("googlenet.onnx"));
///   auto s = dfgpar::parallelize(m.g, get(&dfgpar::onnx::node_info::cost, m.g),
///                                get(&dfgpar::onnx::edge_info::comm, m.g), dfgpar::options{.workers = 2});
///   for (const auto& f : dfgpar::pytorch::emit_pytorch(m, s)) write(dir / f.name, f.content);
/// \endcode
///
/// Structure of model.py: one method per cluster segment. A worker's
/// clusters run in order; its vertex sequence is cut into segments wherever
/// a value crosses to another worker (after the producer, before the
/// consumer), so every hand-off happens at a segment boundary. `forward`
/// runs the segments of worker 0 inline and forks the others
/// (`torch.jit.fork`), waiting on a future right before its values are first
/// needed; `forward_serial` calls the same segments one after the other.
/// Segments are ordered by their predicted start (list simulation with the
/// model's node costs).
///
/// Limits (next steps): a forked segment whose input comes from another
/// forked segment is forked only after the main thread has waited for that
/// input (futures are not yet passed into segments).

#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/error.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/tensor.hpp>
#include <dfgpar/pytorch/names.hpp>
#include <dfgpar/pytorch/ops.hpp>
#include <dfgpar/pytorch/weights.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
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
  std::string class_name = "Model";                    ///< the nn.Module subclass
  std::string weights_file = "weights.safetensors";    ///< file name of the weights, next to model.py
  bool shape_comments = true;                          ///< `# Conv -> [1, 64, 112, 112]` above each op
  const op_registry* ops = nullptr;                    ///< translations (null: op_registry::standard())
};

/// One output file: its name (relative to the output folder) and bytes.
struct emitted_file {
  std::string name;
  std::string content;
};

namespace detail {

struct segment {
  std::size_t worker = 0, part = 0;          // part: 1-based within the worker
  std::vector<std::size_t> vertices;
  std::string method;
  std::vector<std::string> inputs;           // tensor names read from outside (graph inputs or other segments)
  std::vector<std::string> outputs;          // tensor names it hands out
  std::set<std::size_t> deps;                // producing segments
  double cost = 0, est_start = 0, est_finish = 0;
};

inline std::string shape_text(const onnx::tensor_info* info) {
  if (!info || (info->shape.empty() && !info->shape_known)) return "";
  std::string s = "[";
  for (std::size_t i = 0; i < info->shape.size(); ++i)
    s += (i ? ", " : "") + (info->shape[i] < 0 ? std::string("?") : std::to_string(info->shape[i]));
  return s + "]";
}

inline bool has_subgraph_like(const ::onnx::NodeProto& n) {
  for (const auto& a : n.attribute())
    if (a.has_g() || a.graphs_size() > 0) return true;
  return false;
}

inline std::string tensor_type(std::size_t n) {
  if (n == 1) return "Tensor";
  std::string s = "Tuple[";
  for (std::size_t i = 0; i < n; ++i) s += (i ? ", " : "") + std::string("Tensor");
  return s + "]";
}

}  // namespace detail

/// Emits model.py and the weights for `m` run as `s` says. `s` must be a
/// finalized schedule of `m.g` (vertex i = node i of m.proto).
/// \throws unsupported_op for an operator it cannot translate (the message
/// names it), dfgpar::graph_error for other problems.
inline std::vector<emitted_file> emit_pytorch(const onnx::model& m, const schedule& s, const emit_options& o = {}) {
  using detail::segment;
  const auto& reg = o.ops ? *o.ops : op_registry::standard();
  if (o.weights_file.empty() || o.weights_file == "model.py" ||
      o.weights_file.find_first_of("/\\") != std::string::npos || o.weights_file[0] == '.')
    throw graph_error("dfgpar: pytorch: the weights file name must be a plain file name, not " +
                      python_string(o.weights_file));
  const auto& g = m.proto.graph();
  const std::size_t n = static_cast<std::size_t>(g.node_size());
  if (s.num_vertices != n || num_vertices(m.g) != n)
    throw graph_error("dfgpar: pytorch: the schedule was not made for this model");
  std::int64_t opset = 0;
  for (const auto& op : m.proto.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") opset = op.version();

  // ---- the vertex sequence of each worker, and who reads what
  std::size_t workers = 0;
  for (const auto& c : s.clusters) workers = std::max(workers, c.worker + 1);
  std::vector<std::vector<std::size_t>> seq(workers);
  for (std::size_t w = 0; w < workers; ++w)
    for (std::size_t c : s.clusters_of(w))
      for (std::size_t v : s.clusters[c].vertices) seq[w].push_back(v);
  std::vector<std::unordered_map<std::size_t, std::size_t>> pos(workers);  // first occurrence
  for (std::size_t w = 0; w < workers; ++w)
    for (std::size_t i = 0; i < seq[w].size(); ++i) pos[w].emplace(seq[w][i], i);
  for (std::size_t v = 0; v < n; ++v)
    if (v >= s.home.size() || s.home[v] == schedule::npos)
      throw graph_error("dfgpar: pytorch: node " + std::to_string(v) + " is not scheduled");

  auto tensor_typed = [](const ::onnx::ValueInfoProto& v, const char* what) {
    if (v.has_type() && !v.type().has_tensor_type())
      throw unsupported_op(std::string("dfgpar: pytorch: graph ") + what + " " + python_string(v.name()) +
                           " is not a tensor (sequence, map and optional values are not supported)");
  };
  for (const auto& v : g.input()) tensor_typed(v, "input");
  for (const auto& v : g.output()) tensor_typed(v, "output");
  std::unordered_set<std::string> graph_inputs;
  std::unordered_map<std::string, int> initializer;  // name -> index
  for (const auto& in : g.input()) graph_inputs.insert(in.name());
  for (int i = 0; i < g.initializer_size(); ++i)
    if (!graph_inputs.count(g.initializer(i).name())) initializer.emplace(g.initializer(i).name(), i);
  std::unordered_map<std::string, std::size_t> constant_node;  // output of a Constant node -> node
  for (std::size_t v = 0; v < n; ++v) {
    const auto& nd = g.node(static_cast<int>(v));
    if (nd.op_type() == "Constant" && (nd.domain().empty() || nd.domain() == "ai.onnx") && nd.output_size() == 1)
      constant_node.emplace(nd.output(0), v);
  }
  auto producer_of = [&](const std::string& t) -> std::optional<std::size_t> {
    if (graph_inputs.count(t) || initializer.count(t) || constant_node.count(t)) return std::nullopt;
    auto it = m.producer.find(t);
    if (it == m.producer.end()) return std::nullopt;
    return it->second;
  };

  // where does worker w at position i get tensor t from: (worker, position)
  auto source_of = [&](std::size_t w, std::size_t i, std::size_t p) -> std::pair<std::size_t, std::size_t> {
    if (auto it = pos[w].find(p); it != pos[w].end() && it->second < i) return {w, it->second};
    const std::size_t hw = s.clusters[s.home[p]].worker;
    auto it = pos[hw].find(p);
    if (it == pos[hw].end()) throw graph_error("dfgpar: pytorch: the schedule lost a node's home copy");
    if (hw == w && it->second >= i) throw graph_error("dfgpar: pytorch: the schedule runs a node before its input");
    return {hw, it->second};
  };

  // ---- cut points: after a producer another worker reads, before a consumer of another worker's value
  // (a value another worker produced is received once, before its first reader)
  std::vector<std::set<std::size_t>> cut_after(workers);
  for (std::size_t w = 0; w < workers; ++w) {
    std::unordered_set<std::string> received;
    for (std::size_t i = 0; i < seq[w].size(); ++i) {
      const auto& nd = g.node(static_cast<int>(seq[w][i]));
      // one cut per source worker: after the last of the values this node needs from it
      std::map<std::size_t, std::size_t> last;
      for (const auto& t : nd.input()) {
        auto p = t.empty() ? std::nullopt : producer_of(t);
        if (!p) continue;
        auto [sw, sj] = source_of(w, i, *p);
        if (sw == w || !received.insert(t).second) continue;
        auto [it, fresh] = last.emplace(sw, sj);
        if (!fresh) it->second = std::max(it->second, sj);
        if (i > 0) cut_after[w].insert(i - 1);
      }
      for (auto [sw, sj] : last) cut_after[sw].insert(sj);
      if (detail::has_subgraph_like(nd))
        throw unsupported_op("dfgpar: pytorch: operator " + python_string(nd.op_type()) +
                             ": subgraphs (If/Loop/Scan) are not supported");
    }
  }
  std::vector<segment> segs;
  std::vector<std::vector<std::size_t>> seg_at(workers);  // per worker position: segment index
  for (std::size_t w = 0; w < workers; ++w) {
    std::size_t part = 0;
    for (std::size_t i = 0; i < seq[w].size(); ++i) {
      if (i == 0 || cut_after[w].count(i - 1)) {
        segment sg;
        sg.worker = w;
        sg.part = ++part;
        segs.push_back(std::move(sg));
      }
      segs.back().vertices.push_back(seq[w][i]);
      segs.back().cost += m.g[seq[w][i]].cost;
      seg_at[w].push_back(segs.size() - 1);
    }
  }

  // ---- hand-offs between segments
  std::unordered_map<std::string, std::size_t> home_seg;  // tensor -> segment that exports it
  auto add_output = [&](std::size_t sg, const std::string& t) {
    auto& outs = segs[sg].outputs;
    if (std::find(outs.begin(), outs.end(), t) == outs.end()) outs.push_back(t);
  };
  for (std::size_t w = 0; w < workers; ++w)
    for (std::size_t i = 0; i < seq[w].size(); ++i) {
      const std::size_t me = seg_at[w][i];
      const auto& nd = g.node(static_cast<int>(seq[w][i]));
      for (const auto& t : nd.input()) {
        if (t.empty() || initializer.count(t) || constant_node.count(t)) continue;
        auto& ins = segs[me].inputs;
        if (graph_inputs.count(t)) {
          if (std::find(ins.begin(), ins.end(), t) == ins.end()) ins.push_back(t);
          continue;
        }
        auto p = producer_of(t);
        if (!p) throw graph_error("dfgpar: pytorch: tensor " + python_string(t) + " has no producer");
        auto [sw, sj] = source_of(w, i, *p);
        const std::size_t from = seg_at[sw][sj];
        if (from == me) continue;
        add_output(from, t);
        segs[me].deps.insert(from);
        if (std::find(ins.begin(), ins.end(), t) == ins.end()) ins.push_back(t);
        home_seg.emplace(t, from);
      }
    }
  std::vector<std::string> outputs_needed;
  for (const auto& out : g.output()) {
    const std::string& t = out.name();
    outputs_needed.push_back(t);
    auto p = producer_of(t);
    if (!p) continue;
    const std::size_t hw = s.clusters[s.home[*p]].worker;
    const std::size_t sg = seg_at[hw][pos[hw].at(*p)];
    add_output(sg, t);
    home_seg.emplace(t, sg);
  }

  // ---- order: list simulation by predicted start; the main thread is worker 0
  {
    std::vector<char> done(segs.size(), 0);
    std::vector<double> worker_free(workers, 0);
    std::vector<std::size_t> order;
    while (order.size() < segs.size()) {
      std::size_t best = segs.size();
      double best_start = 0;
      for (std::size_t k = 0; k < segs.size(); ++k) {
        if (done[k]) continue;
        bool ready = true;
        double start = worker_free[segs[k].worker];
        for (std::size_t d : segs[k].deps) {
          ready = ready && done[d];
          if (done[d]) start = std::max(start, segs[d].est_finish);
        }
        // same-worker segments keep their order
        if (segs[k].part > 1 && !done[k - 1]) ready = false;
        if (!ready) continue;
        if (best == segs.size() || start < best_start - 1e-12 ||
            (start <= best_start + 1e-12 && (segs[k].worker != 0) > (segs[best].worker != 0))) {
          best = k;
          best_start = start;
        }
      }
      if (best == segs.size()) throw graph_error("dfgpar: pytorch: the segments have a cycle (invalid schedule)");
      done[best] = 1;
      segs[best].est_start = best_start;
      segs[best].est_finish = best_start + segs[best].cost;
      worker_free[segs[best].worker] = segs[best].est_finish;
      order.push_back(best);
    }
    std::vector<segment> sorted;
    std::vector<std::size_t> new_index(segs.size());
    for (std::size_t k = 0; k < order.size(); ++k) new_index[order[k]] = k;
    for (std::size_t k : order) sorted.push_back(segs[k]);
    for (auto& sg : sorted) {
      std::set<std::size_t> d;
      for (std::size_t x : sg.deps) d.insert(new_index[x]);
      sg.deps = d;
    }
    for (auto& [t, k] : home_seg) k = new_index[k];
    segs = std::move(sorted);
  }

  // readable names: PyTorch exports call tensors "/block/conv/Conv_output_0"
  // and folded weights "onnx::Conv_542"; the latter are named after the one
  // node that reads them ("block_conv_weight", as in the state_dict)
  auto display = [&](const std::string& t) {
    std::string d = t;
    if (d.size() > 9 && d.ends_with("_output_0")) d.resize(d.size() - 9);
    return d;
  };
  std::unordered_map<std::string, std::vector<std::pair<std::size_t, int>>> readers;
  for (std::size_t v = 0; v < n; ++v)
    for (int k = 0; k < g.node(static_cast<int>(v)).input_size(); ++k)
      readers[g.node(static_cast<int>(v)).input(k)].emplace_back(v, k);
  auto weight_display = [&](const std::string& t) {
    auto it = readers.find(t);
    if (!t.starts_with("onnx::") || it == readers.end() || it->second.size() != 1) return display(t);
    const auto [v, k] = it->second[0];
    const auto& nd = g.node(static_cast<int>(v));
    std::string base = nd.name();
    if (base.empty()) return display(t);
    // "/layer1/conv/Conv" -> "/layer1/conv"
    if (auto slash = base.rfind('/'); slash != std::string::npos && base.substr(slash + 1).starts_with(nd.op_type()))
      base.resize(slash);
    static const std::map<std::string, std::vector<std::string>> roles = {
        {"Conv", {"x", "weight", "bias"}},
        {"ConvTranspose", {"x", "weight", "bias"}},
        {"Gemm", {"a", "weight", "bias"}},
        {"BatchNormalization", {"x", "weight", "bias", "running_mean", "running_var"}},
        {"InstanceNormalization", {"x", "weight", "bias"}},
        {"LayerNormalization", {"x", "weight", "bias"}}};
    auto r = roles.find(nd.op_type());
    const std::string role = r != roles.end() && static_cast<std::size_t>(k) < r->second.size()
                                 ? r->second[static_cast<std::size_t>(k)]
                                 : "input" + std::to_string(k);
    return base + "_" + role;
  };
  // ---- names: methods first, then graph inputs, initializers and tensors
  identifier_table ids;
  std::vector<std::size_t> count(workers, 0);
  for (const auto& sg : segs) ++count[sg.worker];
  for (auto& sg : segs) {
    sg.method = count[sg.worker] == 1 && workers == 1 ? std::string("run")
                : count[sg.worker] == 1               ? "worker" + std::to_string(sg.worker)
                                                      : "worker" + std::to_string(sg.worker) + "_part" + std::to_string(sg.part);
    ids.reserve(sg.method);
    ids.reserve("fut_" + sg.method);
    ids.reserve("out_" + sg.method);
  }
  std::unordered_map<std::string, std::string> var;  // tensor name -> identifier
  auto name_of = [&](const std::string& t, const char* fallback) -> const std::string& {
    auto it = var.find(t);
    if (it == var.end()) {
      const bool weight = initializer.count(t) || constant_node.count(t);
      it = var.emplace(t, ids.make(weight ? weight_display(t) : display(t), fallback)).first;
    }
    return it->second;
  };
  std::vector<std::string> input_names;
  for (const auto& in : g.input()) {
    if (initializer.count(in.name())) continue;
    input_names.push_back(in.name());
    name_of(in.name(), "input");
  }
  for (int i = 0; i < g.initializer_size(); ++i)
    if (initializer.count(g.initializer(i).name())) name_of(g.initializer(i).name(), "weight");
  for (std::size_t v = 0; v < n; ++v)
    for (const auto& t : g.node(static_cast<int>(v)).output())
      if (!t.empty()) name_of(t, constant_node.count(t) ? "constant" : "t");

  // ---- constant values (initializers, Constant nodes), decoded on demand
  std::unordered_map<std::string, std::shared_ptr<const onnx::tensor>> values;
  auto value_of = [&](const std::string& t) -> std::shared_ptr<const onnx::tensor> {
    if (auto it = values.find(t); it != values.end()) return it->second;
    std::shared_ptr<const onnx::tensor> v;
    if (auto it = initializer.find(t); it != initializer.end()) {
      v = std::make_shared<const onnx::tensor>(onnx::from_proto(g.initializer(it->second)));
    } else if (auto c = constant_node.find(t); c != constant_node.end()) {
      const auto& nd = g.node(static_cast<int>(c->second));
      for (const auto& a : nd.attribute())
        if (a.name() == "value" && a.has_t()) v = std::make_shared<const onnx::tensor>(onnx::from_proto(a.t()));
      if (!v)
        throw unsupported_op("dfgpar: pytorch: Constant node " + python_string(nd.name()) +
                             ": only the 'value' attribute is supported");
    }
    values.emplace(t, v);
    return v;
  };
  auto info_of = [&](const std::string& t) -> const onnx::tensor_info* {
    auto it = m.tensors.find(t);
    return it == m.tensors.end() ? nullptr : &it->second;
  };
  auto expr_of = [&](const std::string& t) -> std::string {
    if (initializer.count(t) || constant_node.count(t)) return "self." + var.at(t);
    return var.at(t);
  };

  // ---- translate every segment
  std::set<std::string> weights_used;
  std::vector<std::vector<std::string>> bodies(segs.size());
  for (std::size_t k = 0; k < segs.size(); ++k) {
    for (std::size_t v : segs[k].vertices) {
      const auto& nd = g.node(static_cast<int>(v));
      if (constant_node.count(nd.output_size() ? nd.output(0) : std::string())) continue;  // a weight
      op_context c;
      c.node = &nd;
      c.opset = opset;
      for (const auto& t : nd.input()) {
        c.inputs.push_back(t.empty() ? std::string() : expr_of(t));
        c.input_info.push_back(t.empty() ? nullptr : info_of(t));
        c.constants.push_back(t.empty() ? nullptr : value_of(t));
      }
      for (const auto& t : nd.output()) {
        c.outputs.push_back(t.empty() ? std::string() : var.at(t));
        c.output_info.push_back(t.empty() ? nullptr : info_of(t));
      }
      reg.translate(c);
      for (std::size_t i = 0; i < c.inputs.size(); ++i)
        if (c.input_used[i] && (initializer.count(nd.input(static_cast<int>(i))) || constant_node.count(nd.input(static_cast<int>(i)))))
          weights_used.insert(nd.input(static_cast<int>(i)));
      if (o.shape_comments) {
        std::string cm = "        # " + nd.op_type();
        const std::string sh = nd.output_size() ? detail::shape_text(info_of(nd.output(0))) : "";
        if (!sh.empty()) cm += " -> " + sh;
        bodies[k].push_back(cm);
      }
      for (auto& l : c.lines) bodies[k].push_back("        " + l);
    }
  }
  for (const auto& t : outputs_needed)
    if (initializer.count(t) || constant_node.count(t)) weights_used.insert(t);

  // ---- weights: in the order the graph first reads them
  std::vector<std::pair<std::string, std::string>> weight_list;  // (identifier, tensor name)
  {
    std::unordered_set<std::string> listed;
    auto list = [&](const std::string& t) {
      if (weights_used.count(t) && listed.insert(t).second) weight_list.emplace_back(var.at(t), t);
    };
    for (std::size_t v = 0; v < n; ++v)
      for (const auto& t : g.node(static_cast<int>(v)).input()) list(t);
    for (const auto& t : outputs_needed) list(t);
  }
  std::vector<named_tensor> stored;
  std::vector<std::shared_ptr<const onnx::tensor>> keep;
  for (const auto& [id, t] : weight_list) {
    auto v = value_of(t);
    if (!v) throw graph_error("dfgpar: pytorch: weight " + python_string(t) + " has no value");
    if (detail::torch_dtype(v->elem_type).empty() && v->elem_type != ::onnx::TensorProto::UINT16 &&
        v->elem_type != ::onnx::TensorProto::UINT32 && v->elem_type != ::onnx::TensorProto::UINT64)
      throw unsupported_op("dfgpar: pytorch: weight " + python_string(t) + " has element type " +
                           onnx::elem_type_name(v->elem_type));
    keep.push_back(v);
    stored.push_back({id, v.get()});
  }
  std::ostringstream wbuf;
  write_safetensors(wbuf, stored);

  // ---- model.py
  std::ostringstream py;
  const std::string cls = identifier_table::sanitize(o.class_name).empty() ? "Model" : identifier_table::sanitize(o.class_name);
  py << "\"\"\"PyTorch module generated by dfgpar from an ONNX model.\n\n"
     << "Scheduled onto " << s.workers
     << (s.workers == 1 ? " worker" : " workers") << ", " << segs.size()
     << (segs.size() == 1 ? " segment" : " segments") << " (one method each).\n\n"
     << "Run it: python3 model.py [--threads N] [--runs R]\n"
     << "(checks the parallel forward against forward_serial on a random\n"
     << "input and prints both latencies)\n\"\"\"\n\n"
     << "import argparse\nimport json\nimport os\nimport statistics\nimport time\nfrom typing import Tuple\n\n"
     << "import torch\nimport torch.nn.functional as F\nfrom torch import Tensor\n\n"
     << "WORKERS = " << std::max<std::size_t>(workers, 1) << "\n"
     << "WEIGHTS = " << python_string(o.weights_file) << "\n"
     << "# (name, shape, dtype) of each input, in forward's order\nINPUTS = [\n";
  for (const auto& t : input_names) {
    const auto* info = info_of(t);
    std::vector<std::int64_t> shape = info ? info->shape : std::vector<std::int64_t>{};
    for (auto& d : shape) d = d < 0 ? 1 : d;
    std::string dt = info ? detail::torch_dtype(info->elem_type) : "";
    if (dt.empty()) dt = "torch.float32";
    py << "    (" << python_string(var.at(t)) << ", " << python_int_list(shape) << ", " << dt << "),\n";
  }
  py << "]\n\n\n" << python_weights_loader() << "\n\n";
  // class
  py << "class " << cls << "(torch.nn.Module):\n"
     << "    \"\"\"The model; weights are buffers named after the ONNX tensors.\"\"\"\n\n"
     << "    def __init__(self, weights=None):\n"
     << "        super().__init__()\n"
     << "        if weights is None:\n"
     << "            here = os.path.dirname(os.path.abspath(__file__))\n"
     << "            weights = os.path.join(here, WEIGHTS)\n"
     << "        w = load_weights(weights)\n";
  for (const auto& [id, t] : weight_list)
    py << "        self.register_buffer(" << python_string(id) << ", w[" << python_string(id) << "])\n";
  // forward (parallel) and forward_serial
  std::string params;
  for (const auto& t : input_names) params += ", " + var.at(t);
  auto returns = [&]() {
    std::vector<std::string> r;
    for (const auto& t : outputs_needed) r.push_back(expr_of(t));
    return r.size() == 1 ? r[0] : "(" + detail::join(r) + ")";
  };
  auto call = [&](const segment& sg) {
    std::vector<std::string> a;
    for (const auto& t : sg.inputs) a.push_back(var.at(t));
    return detail::join(a);
  };
  auto unpack = [&](const segment& sg) {
    std::vector<std::string> r;
    for (const auto& t : sg.outputs) r.push_back(var.at(t));
    return r.size() == 1 ? r[0] : "(" + detail::join(r) + ")";
  };
  // `(a, b) = rhs`; through a variable when that line would not wrap
  // within 79 columns (the tuple on the left leaves no room for the call)
  auto bind = [&](const segment& src, const std::string& rhs) {
    const std::string direct = "        " + unpack(src) + " = " + rhs;
    bool fits = true;
    for (const auto& l : wrap_python_line(direct)) fits = fits && l.size() <= 79;
    if (fits || src.outputs.size() == 1) {
      py << direct << "\n";
    } else {
      py << "        out_" << src.method << " = " << rhs << "\n"
         << "        " << unpack(src) << " = out_" << src.method << "\n";
    }
  };
  const std::string ret_type = detail::tensor_type(outputs_needed.size());
  py << "\n    def forward(self" << params << ") -> " << ret_type << ":\n";
  {
    std::set<std::size_t> pending;  // forked, not yet waited
    // `(a, b) = torch.jit.wait(fut)`; through a variable when that line would
    // not wrap within 79 columns
    auto wait_line = [&](const segment& src) { bind(src, "torch.jit.wait(fut_" + src.method + ")"); };
    auto wait_for = [&](const segment& sg) {
      for (const auto& t : sg.inputs) {
        auto it = home_seg.find(t);
        if (it == home_seg.end() || !pending.count(it->second)) continue;
        wait_line(segs[it->second]);
        pending.erase(it->second);
      }
    };
    for (std::size_t k = 0; k < segs.size(); ++k) {
      const auto& sg = segs[k];
      wait_for(sg);
      if (sg.worker == 0) {
        if (sg.outputs.empty()) py << "        self." << sg.method << "(" << call(sg) << ")\n";
        else bind(sg, "self." + sg.method + "(" + call(sg) + ")");
      } else {
        py << "        fut_" << sg.method << " = torch.jit.fork(self." << sg.method << (sg.inputs.empty() ? "" : ", ")
           << call(sg) << ")\n";
        pending.insert(k);
      }
    }
    for (const auto& t : outputs_needed) {
      auto it = home_seg.find(t);
      if (it == home_seg.end() || !pending.count(it->second)) continue;
      wait_line(segs[it->second]);
      pending.erase(it->second);
    }
    py << "        return " << returns() << "\n";
  }
  py << "\n    @torch.jit.export\n    def forward_serial(self" << params << ") -> " << ret_type << ":\n";
  for (const auto& sg : segs) {
    if (sg.outputs.empty()) py << "        self." << sg.method << "(" << call(sg) << ")\n";
    else bind(sg, "self." + sg.method + "(" + call(sg) + ")");
  }
  py << "        return " << returns() << "\n";
  for (std::size_t k = 0; k < segs.size(); ++k) {
    const auto& sg = segs[k];
    std::string ps;
    for (const auto& t : sg.inputs) ps += ", " + var.at(t) + ": Tensor";
    py << "\n    def " << sg.method << "(self" << ps << ") -> " << detail::tensor_type(std::max<std::size_t>(sg.outputs.size(), 1))
       << ":\n";
    for (const auto& l : bodies[k]) py << l << "\n";
    if (sg.outputs.empty()) py << "        return torch.empty(0)\n";
    else if (sg.outputs.size() == 1) py << "        return " << var.at(sg.outputs[0]) << "\n";
    else py << "        return " << unpack(sg) << "\n";
  }
  // __main__
  py << R"PY(

def random_inputs():
    inputs = []
    for _name, shape, dtype in INPUTS:
        if dtype.is_floating_point:
            inputs.append(torch.randn(shape, dtype=dtype))
        elif dtype == torch.bool:
            inputs.append(torch.rand(shape) < 0.5)
        else:
            inputs.append(torch.randint(0, 4, shape, dtype=dtype))
    return inputs


def median_ms(fn, inputs, runs):
    for _ in range(3):
        fn(*inputs)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(*inputs)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(
        description='Checks the parallel forward against forward_serial on '
                    'a random input and prints both latencies.')
    parser.add_argument('--threads', type=int, default=1,
                        help='intra-op threads (torch.set_num_threads)')
    parser.add_argument('--interop', type=int, default=WORKERS,
                        help='inter-op threads (default: the workers)')
    parser.add_argument('--runs', type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.interop)
    )PY" << "model = torch.jit.script(" << cls << "().eval())\n" << R"PY(    inputs = random_inputs()
    with torch.no_grad():
        par = model(*inputs)
        ser = model.forward_serial(*inputs)
        if isinstance(par, torch.Tensor):
            par, ser = (par,), (ser,)
        diff = 0.0
        for a, b in zip(par, ser):
            if a.dtype.is_floating_point:
                d = (a - b).abs().max().item() if a.numel() else 0.0
            else:
                d = 0.0 if torch.equal(a, b) else float('inf')
            diff = max(diff, d)
        t_ser = median_ms(model.forward_serial, inputs, args.runs)
        t_par = median_ms(model.forward, inputs, args.runs)
    print('max |parallel - serial| = %g' % diff)
    print('serial   %.3f ms (median of %d)' % (t_ser, args.runs))
    print('parallel %.3f ms (median of %d, %d workers)'
          % (t_par, args.runs, WORKERS))
    return 0 if diff <= 1e-5 else 1


if __name__ == '__main__':
    raise SystemExit(main())
)PY";
  // PEP 8: wrap long lines at their brackets
  std::string text;
  {
    std::istringstream lines(py.str());
    for (std::string line; std::getline(lines, line);)
      for (const auto& l : wrap_python_line(line)) text += l + "\n";
  }
  return {{"model.py", std::move(text)}, {o.weights_file, wbuf.str()}};
}

}  // namespace dfgpar::pytorch
