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
/// Structure of model.py: the graph is cut into *stages* at its width-1
/// points (nodes that every other node is an ancestor or a descendant of,
/// such as GoogLeNet's Concats). Between two such points lies a *region*:
/// there the schedule's clusters run in parallel. Each worker's part of a
/// region is a method (cut into several parts where a value crosses to
/// another worker mid-way, so every hand-off is a method's return value),
/// and the region's method either forks all of them (`torch.jit.fork`, one
/// intra-op thread each, the calling thread only waits and hands values on)
/// or runs them one after the other on the calling thread with all its
/// intra-op threads. Which one is a per-region flag: set from the cost model
/// (forked makespan against the work divided by the intra-op speed-up) and
/// re-measured by `tune()` in model.py. Runs of width-1 nodes are inline
/// stages: one method each, run on the calling thread with all intra-op
/// threads. `forward` runs the stages with the flags, `forward_serial` the
/// same methods with no fork. `set_threads()` in model.py starts PyTorch's
/// inter-op pool with one intra-op thread per pool thread and then gives the
/// calling thread the requested intra-op threads, so the two kinds of
/// parallelism never oversubscribe the cores.

#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/error.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/tensor.hpp>
#include <dfgpar/pytorch/names.hpp>
#include <dfgpar/pytorch/ops.hpp>
#include <dfgpar/pytorch/weights.hpp>

#include <boost/graph/adjacency_list.hpp>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
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
  enum class fork_choice { cost_model, always, never } fork = fork_choice::cost_model;
};

/// One output file: its name (relative to the output folder) and bytes.
struct emitted_file {
  std::string name;
  std::string content;
};

namespace detail {

/// One generated method: vertices run in order by one thread.
struct unit {
  std::size_t stage = 0;
  std::size_t worker = 0, part = 0;          // region units: worker and 1-based part
  std::vector<std::size_t> vertices;
  std::string method;
  std::vector<std::string> inputs;           // tensors read from outside (graph inputs or other units)
  std::vector<std::string> outputs;          // tensors it hands out
  std::set<std::size_t> deps;                // units of the same region it reads from
  double cost = 0, est_start = 0, est_finish = 0;
};

/// A run of width-1 nodes (one inline unit) or a region (units that may run forked).
struct stage {
  bool region = false;
  std::vector<std::size_t> units;            // in predicted start order (a valid serial order)
  std::size_t workers = 0;                   // region: distinct workers among its units
  std::string method, flag;                  // region: wrapper method and its fork flag attribute
  std::vector<std::string> inputs, outputs;
  double work = 0, makespan = 0;             // predicted, one intra-op thread per unit
  bool fork = false;
  std::size_t epilogue = static_cast<std::size_t>(-1);  // region: inline unit run after its parts (e.g. the Concat)
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

/// The vertices of `g` (those not in `skip`) that every other such vertex is
/// an ancestor or a descendant of: the points where the graph has width 1.
/// Vertices must be numbered in a topological order (ONNX node order);
/// otherwise, or past `max_vertices` (the pass keeps an n x n bit matrix),
/// none is reported.
template <class Graph>
std::vector<char> width_one_vertices(const Graph& g, const std::vector<char>& skip, std::size_t max_vertices = 20000) {
  const std::size_t n = num_vertices(g);
  std::vector<char> spine(n, 0);
  if (n == 0 || n > max_vertices) return spine;
  for (auto [e, end] = edges(g); e != end; ++e)
    if (source(*e, g) >= target(*e, g)) return spine;
  std::size_t live = 0;
  for (std::size_t v = 0; v < n; ++v) live += skip[v] ? 0 : 1;
  const std::size_t words = (n + 63) / 64;
  std::vector<std::uint64_t> bits(n * words);
  std::vector<std::size_t> related(n, 0);
  auto pass = [&](bool forward) {
    std::fill(bits.begin(), bits.end(), 0);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t v = forward ? k : n - 1 - k;
      if (skip[v]) continue;
      std::uint64_t* row = &bits[v * words];
      auto add = [&](std::size_t u) {
        if (skip[u]) return;
        const std::uint64_t* from = &bits[u * words];
        for (std::size_t w = 0; w < words; ++w) row[w] |= from[w];
        row[u / 64] |= std::uint64_t{1} << (u % 64);
      };
      if (forward) {
        for (auto [e, end] = in_edges(v, g); e != end; ++e) add(source(*e, g));
      } else {
        for (auto [e, end] = out_edges(v, g); e != end; ++e) add(target(*e, g));
      }
      for (std::size_t w = 0; w < words; ++w) related[v] += static_cast<std::size_t>(std::popcount(row[w]));
    }
  };
  pass(true);
  pass(false);
  for (std::size_t v = 0; v < n; ++v) spine[v] = !skip[v] && related[v] + 1 == live;
  return spine;
}

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

}  // namespace detail

/// Emits model.py and the weights for `m` run as `s` says. `s` must be a
/// finalized schedule of `m.g` (vertex i = node i of m.proto).
/// \throws unsupported_op for an operator it cannot translate (the message
/// names it), dfgpar::graph_error for other problems.
inline std::vector<emitted_file> emit_pytorch(const onnx::model& m, const schedule& s, const emit_options& o = {}) {
  using detail::stage;
  using detail::unit;
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


  // ---- stages: runs of width-1 nodes run inline; the regions between them
  // are cut into one unit per worker part, as the schedule says
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::size_t workers = 0;
  for (const auto& c : s.clusters) workers = std::max(workers, c.worker + 1);
  workers = std::max<std::size_t>(workers, 1);
  std::vector<char> is_const(n, 0);
  for (const auto& [t, v] : constant_node) is_const[v] = 1;
  for (std::size_t v = 0; v < n; ++v)
    if (detail::has_subgraph_like(g.node(static_cast<int>(v))))
      throw unsupported_op("dfgpar: pytorch: operator " + python_string(g.node(static_cast<int>(v)).op_type()) +
                           ": subgraphs (If/Loop/Scan) are not supported");
  const std::vector<char> spine =
      workers > 1 ? detail::width_one_vertices(m.g, is_const) : std::vector<char>(n, 0);
  std::vector<std::size_t> spine_index(n, none), region_of(n, 0);
  std::size_t spines = 0;
  for (std::size_t v = 0; v < n; ++v)
    if (spine[v]) spine_index[v] = spines++;
  for (std::size_t v = 0; v < n; ++v) {
    if (is_const[v]) continue;
    std::size_t r = 0;
    for (auto [e, end] = in_edges(v, m.g); e != end; ++e) {
      const std::size_t u = source(*e, m.g);
      if (is_const[u] || u >= v) continue;
      r = std::max(r, spine[u] ? spine_index[u] + 1 : region_of[u]);
    }
    region_of[v] = r;
  }
  // per region, per worker: its vertices in the worker's order
  std::vector<std::vector<std::vector<std::size_t>>> rseq(spines + 1, std::vector<std::vector<std::size_t>>(workers));
  for (std::size_t w = 0; w < workers; ++w)
    for (std::size_t c : s.clusters_of(w))
      for (std::size_t v : s.clusters[c].vertices)
        if (v < n && !is_const[v] && !spine[v]) rseq[region_of[v]][w].push_back(v);
  auto home_worker = [&](std::size_t v) { return s.clusters[s.home[v]].worker; };

  std::vector<unit> units;
  std::vector<stage> stages;
  std::vector<std::size_t> provider(n, none);  // unit that computes the copy other units read
  std::vector<std::size_t> unit_region(0);     // per unit: region index, or none for inline units
  struct region_layout {
    std::size_t base = 0;                                          // first unit
    std::vector<std::unordered_map<std::size_t, std::size_t>> pos;  // per worker: vertex -> first position
    std::vector<std::vector<std::size_t>> unit_at;                  // per worker position: unit
  };
  std::map<std::size_t, region_layout> layouts;
  // where the worker-w part at position i of region k gets producer p's value
  // from: (worker, position) in the region, or nullopt when p lies outside it
  auto region_source = [&](std::size_t k, const region_layout& lay, std::size_t w, std::size_t i,
                           std::size_t p) -> std::optional<std::pair<std::size_t, std::size_t>> {
    if (is_const[p] || spine[p] || region_of[p] != k) return std::nullopt;
    if (auto it = lay.pos[w].find(p); it != lay.pos[w].end() && it->second < i) return std::pair{w, it->second};
    const std::size_t hw = home_worker(p);
    auto it = lay.pos[hw].find(p);
    if (it == lay.pos[hw].end()) throw graph_error("dfgpar: pytorch: the schedule lost a node's home copy");
    if (hw == w && it->second >= i) throw graph_error("dfgpar: pytorch: the schedule runs a node before its input");
    return std::pair{hw, it->second};
  };
  std::vector<std::size_t> pending;  // width-1 (and one-unit region) vertices not yet in an inline stage
  auto flush = [&]() {
    if (pending.empty()) return;
    unit u;
    u.stage = stages.size();
    std::unordered_set<std::size_t> seen;
    for (std::size_t v : pending)
      if (seen.insert(v).second) {
        u.vertices.push_back(v);
        u.cost += m.g[v].cost;
        provider[v] = units.size();
      }
    stage st;
    st.units = {units.size()};
    st.work = st.makespan = u.cost;
    units.push_back(std::move(u));
    unit_region.push_back(none);
    stages.push_back(std::move(st));
    pending.clear();
  };
  for (std::size_t k = 0; k <= spines; ++k) {
    const auto& rs = rseq[k];
    region_layout lay;
    lay.pos.resize(workers);
    lay.unit_at.resize(workers);
    for (std::size_t w = 0; w < workers; ++w)
      for (std::size_t i = 0; i < rs[w].size(); ++i) lay.pos[w].emplace(rs[w][i], i);
    // cut points: after a producer another worker reads, before a consumer of another worker's value
    std::vector<std::set<std::size_t>> cut_after(workers);
    for (std::size_t w = 0; w < workers; ++w) {
      std::unordered_set<std::string> received;
      for (std::size_t i = 0; i < rs[w].size(); ++i) {
        std::map<std::size_t, std::size_t> last;  // one cut per source worker, after its last value needed here
        for (const auto& t : g.node(static_cast<int>(rs[w][i])).input()) {
          auto p = t.empty() ? std::nullopt : producer_of(t);
          if (!p) continue;
          auto src = region_source(k, lay, w, i, *p);
          if (!src || src->first == w || !received.insert(t).second) continue;
          auto [it, fresh] = last.emplace(src->first, src->second);
          if (!fresh) it->second = std::max(it->second, src->second);
          if (i > 0) cut_after[w].insert(i - 1);
        }
        for (auto [sw, sj] : last) cut_after[sw].insert(sj);
      }
    }
    std::vector<unit> local;
    for (std::size_t w = 0; w < workers; ++w) {
      std::size_t part = 0;
      for (std::size_t i = 0; i < rs[w].size(); ++i) {
        if (i == 0 || cut_after[w].count(i - 1)) {
          unit u;
          u.worker = w;
          u.part = ++part;
          local.push_back(std::move(u));
        }
        local.back().vertices.push_back(rs[w][i]);
        local.back().cost += m.g[rs[w][i]].cost;
        lay.unit_at[w].push_back(local.size() - 1);
      }
    }
    if (local.size() == 1) {
      pending.insert(pending.end(), local[0].vertices.begin(), local[0].vertices.end());
    } else if (local.size() > 1) {
      flush();
      lay.base = units.size();
      stage st;
      st.region = true;
      std::set<std::size_t> used;
      for (auto& u : local) {
        u.stage = stages.size();
        used.insert(u.worker);
        st.work += u.cost;
        units.push_back(std::move(u));
        unit_region.push_back(k);
      }
      st.workers = used.size();
      for (std::size_t w = 0; w < workers; ++w) {
        for (auto& x : lay.unit_at[w]) x += lay.base;
        for (std::size_t i = 0; i < rs[w].size(); ++i)
          if (home_worker(rs[w][i]) == w && lay.pos[w].at(rs[w][i]) == i) provider[rs[w][i]] = lay.unit_at[w][i];
      }
      stages.push_back(std::move(st));
      layouts.emplace(k, std::move(lay));
    }
    if (k < spines)
      for (std::size_t v = 0; v < n; ++v)
        if (spine[v] && spine_index[v] == k) pending.push_back(v);
  }
  flush();
  // the inline stage after a region becomes the region's epilogue (its
  // method joins the parts, e.g. GoogLeNet's Concat, on the calling thread)
  for (std::size_t i = 0; i + 1 < stages.size(); ++i) {
    if (!stages[i].region || stages[i + 1].region) continue;
    const std::size_t e = stages[i + 1].units[0];
    stages[i].epilogue = e;
    stages[i].work += units[e].cost;
    stages.erase(stages.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    for (auto& u : units)
      if (u.stage > i) --u.stage;
    units[e].stage = i;
  }
  for (std::size_t v = 0; v < n; ++v)
    if (!is_const[v] && provider[v] == none) throw graph_error("dfgpar: pytorch: node " + std::to_string(v) + " is not scheduled");

  // ---- hand-offs: what each unit reads from outside itself, and from whom
  auto add_unique = [](std::vector<std::string>& v, const std::string& t) {
    if (std::find(v.begin(), v.end(), t) == v.end()) v.push_back(t);
  };
  for (std::size_t ui = 0; ui < units.size(); ++ui) {
    unit& u = units[ui];
    std::unordered_set<std::size_t> done;
    const std::size_t k = unit_region[ui];
    std::size_t first = 0;  // position of the unit's first vertex in its worker's region sequence
    if (k != none) {
      const auto& lay = layouts.at(k);
      first = static_cast<std::size_t>(std::find(lay.unit_at[u.worker].begin(), lay.unit_at[u.worker].end(), ui) -
                                       lay.unit_at[u.worker].begin());
    }
    for (std::size_t j = 0; j < u.vertices.size(); ++j) {
      const auto& nd = g.node(static_cast<int>(u.vertices[j]));
      for (const auto& t : nd.input()) {
        if (t.empty() || initializer.count(t) || constant_node.count(t)) continue;
        if (graph_inputs.count(t)) {
          add_unique(u.inputs, t);
          stage& st = stages[u.stage];
          add_unique(st.inputs, t);
          continue;
        }
        auto p = producer_of(t);
        if (!p) throw graph_error("dfgpar: pytorch: tensor " + python_string(t) + " has no producer");
        if (done.count(*p)) continue;
        std::size_t from = provider[*p];
        if (k != none) {
          const auto& lay = layouts.at(k);
          if (auto src = region_source(k, lay, u.worker, first + j, *p)) from = lay.unit_at[src->first][src->second];
        }
        if (from == ui) continue;
        add_unique(u.inputs, t);
        add_unique(units[from].outputs, t);
        if (units[from].stage == u.stage) {
          u.deps.insert(from);
        } else {
          add_unique(stages[u.stage].inputs, t);
          add_unique(stages[units[from].stage].outputs, t);
        }
      }
      done.insert(u.vertices[j]);
    }
  }
  std::vector<std::string> outputs_needed;
  for (const auto& out : g.output()) {
    const std::string& t = out.name();
    outputs_needed.push_back(t);
    auto p = producer_of(t);
    if (!p) continue;
    add_unique(units[provider[*p]].outputs, t);
    add_unique(stages[units[provider[*p]].stage].outputs, t);
  }

  // ---- order within a region: list simulation by predicted start, one
  // intra-op thread per unit; then the default fork/inline choice
  for (auto& st : stages) {
    if (!st.region) continue;
    std::vector<std::size_t> todo;
    for (std::size_t ui = 0; ui < units.size(); ++ui)
      if (units[ui].stage == static_cast<std::size_t>(&st - stages.data()) && ui != st.epilogue) todo.push_back(ui);
    std::map<std::size_t, double> worker_free;
    std::set<std::size_t> done;
    while (st.units.size() < todo.size()) {
      std::size_t best = none;
      double best_start = 0;
      for (std::size_t ui : todo) {
        if (done.count(ui)) continue;
        const unit& u = units[ui];
        bool ready = u.part == 1 || done.count(ui - 1);  // a worker's parts keep their order
        double start = worker_free[u.worker];
        for (std::size_t d : u.deps) {
          ready = ready && done.count(d);
          if (done.count(d)) start = std::max(start, units[d].est_finish);
        }
        if (ready && (best == none || start < best_start - 1e-12)) best = ui, best_start = start;
      }
      if (best == none) throw graph_error("dfgpar: pytorch: the units of a region have a cycle (invalid schedule)");
      done.insert(best);
      units[best].est_start = best_start;
      units[best].est_finish = best_start + units[best].cost;
      worker_free[units[best].worker] = units[best].est_finish;
      st.makespan = std::max(st.makespan, units[best].est_finish);
      st.units.push_back(best);
    }
    const double p = static_cast<double>(std::max<std::size_t>(s.workers, 1));
    const double epilogue = st.epilogue == none ? 0.0 : units[st.epilogue].cost;
    const double speedup = 1 + (p - 1) * std::clamp(o.intra_op_efficiency, 0.0, 1.0);
    st.fork = st.makespan + o.fork_overhead * static_cast<double>(st.units.size()) < (st.work - epilogue) / speedup;
    if (o.fork != emit_options::fork_choice::cost_model) st.fork = o.fork == emit_options::fork_choice::always;
    st.makespan += epilogue / speedup;
  }

  // readable names: PyTorch exports call tensors "/block/conv/Conv_output_0"
  // and folded weights "onnx::Conv_542"; the latter are named after the one
  // node that reads them ("block_conv_weight", as in the state_dict)
  auto display = [&](const std::string& t) {
    std::string d = t;
    if (d.size() > 9 && d.ends_with("_output_0")) d.resize(d.size() - 9);
    // split parts (onnx/split.hpp): "/conv1/Relu_output_0/part0" -> "/conv1/Relu/part0"
    if (auto k = d.rfind("_output_0/part"); k != std::string::npos) d.erase(k, 9);
    return detail::compact_path(d);
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
  // ---- names: module attributes (methods, fork flags, weights) and local
  // variables (tensors) are two name spaces; methods are named first
  identifier_table attrs, ids;
  {
    std::size_t number = 0;
    for (auto& st : stages) {
      ++number;
      std::vector<std::string> node_names;
      for (std::size_t ui : st.units)
        for (std::size_t v : units[ui].vertices) {
          const std::string& nm = g.node(static_cast<int>(v)).name();
          if (!nm.empty()) node_names.push_back(nm);
        }
      std::string label = detail::compact_path(detail::common_name_prefix(node_names));
      // "conv1/Conv" -> "conv1": the op type says little in a method name
      if (auto slash = label.rfind('/'); slash != std::string::npos) {
        const std::string last = label.substr(slash + 1);
        bool op_name = false;
        for (std::size_t ui : st.units)
          for (std::size_t v : units[ui].vertices) {
            const std::string& op = g.node(static_cast<int>(v)).op_type();
            op_name = op_name || last == op || last.starts_with(op + "_");
          }
        if (op_name) label.resize(slash);
      }
      const std::string fallback = "stage" + std::to_string(number);
      label = identifier_table::sanitize(label);
      if (label.empty() || stages.size() == 1) label = fallback;
      if (label.size() > 36) label.resize(36);  // room for "fork_" and "_worker1_part2" within a line
      st.method = attrs.make(label, fallback);
      if (st.region) st.flag = attrs.make("fork_" + st.method);
      ids.reserve("out_" + st.method);
      std::map<std::size_t, std::size_t> parts;
      for (std::size_t ui : st.units) parts[units[ui].worker] = std::max(parts[units[ui].worker], units[ui].part);
      for (std::size_t ui : st.units) {
        unit& u = units[ui];
        if (!st.region) {
          u.method = st.method;
          continue;
        }
        std::string name = st.method + "_worker" + std::to_string(u.worker);
        if (parts[u.worker] > 1) name += "_part" + std::to_string(u.part);
        u.method = attrs.make(name);
        ids.reserve("fut_" + u.method);
        ids.reserve("out_" + u.method);
      }
    }
  }
  std::unordered_map<std::string, std::string> var;  // tensor name -> identifier
  auto name_of = [&](const std::string& t, const char* fallback) -> const std::string& {
    auto it = var.find(t);
    if (it == var.end()) {
      const bool weight = initializer.count(t) || constant_node.count(t);
      it = var.emplace(t, weight ? attrs.make(weight_display(t), fallback) : ids.make(display(t), fallback)).first;
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

  // ---- translate every unit
  std::set<std::string> weights_used;
  std::vector<std::vector<std::string>> bodies(units.size());
  for (std::size_t k = 0; k < units.size(); ++k) {
    for (std::size_t v : units[k].vertices) {
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
  std::size_t regions = 0, forked = 0;
  for (const auto& st : stages) regions += st.region ? 1 : 0, forked += st.region && st.fork ? 1 : 0;
  py << "\"\"\"PyTorch module generated by dfgpar from an ONNX model.\n\n"
     << "Scheduled onto " << s.workers << (s.workers == 1 ? " worker" : " workers") << ": " << stages.size()
     << (stages.size() == 1 ? " stage" : " stages") << ", " << regions << " of them "
     << (regions == 1 ? "a region" : "regions") << "\nwhose parts can run in parallel (one method per part).\n\n"
     << "Run it: python3 model.py [--threads N] [--runs R] [--tune]\n"
     << "(checks the parallel forward against forward_serial on a random\n"
     << "input and prints both latencies)\n\"\"\"\n\n"
     << "import argparse\nimport json\nimport os\nimport statistics\nimport time\nfrom typing import Tuple\n\n"
     << "import torch\nimport torch.nn.functional as F\nfrom torch import Tensor\n\n"
     << "WORKERS = " << workers << "\n"
     << "WEIGHTS = " << python_string(o.weights_file) << "\n"
     << "# the fork flags measured by `model.py --tune`, read by " << cls << "()\n"
     << "FLAGS_FILE = 'fork_flags.json'\n"
     << "# (name, shape, dtype) of each input, in forward's order\nINPUTS = [\n";
  for (const auto& t : input_names) {
    const auto* info = info_of(t);
    std::vector<std::int64_t> shape = info ? info->shape : std::vector<std::int64_t>{};
    for (auto& d : shape) d = d < 0 ? 1 : d;
    std::string dt = info ? detail::torch_dtype(info->elem_type) : "";
    if (dt.empty()) dt = "torch.float32";
    py << "    (" << python_string(var.at(t)) << ", " << python_int_list(shape) << ", " << dt << "),\n";
  }
  py << "]\n# the stages in run()'s order: (method, fork flag or '' for an inline\n"
     << "# stage, input names, output names)\nSTAGES = [\n";
  auto name_list = [&](const std::vector<std::string>& ts) {
    std::vector<std::string> r;
    for (const auto& t : ts) r.push_back(python_string(var.at(t)));
    return "[" + detail::join(r) + "]";
  };
  for (const auto& st : stages)
    py << "    (" << python_string(st.method) << ", " << python_string(st.flag) << ", " << name_list(st.inputs) << ", "
       << name_list(st.outputs) << "),\n";
  py << "]\n\n\n" << python_weights_loader() << R"PY(

def read_fork_flags(path):
    """{flag: bool} from a file save_fork_flags() wrote; {} when there is
    none. Only known flag names with true/false values are taken."""
    if not os.path.exists(path):
        return {}
    try:
        with open(path, encoding='utf-8') as f:
            saved = json.load(f).get('flags', {})
    except (OSError, ValueError, AttributeError) as e:
        print('ignoring %s: %s' % (path, e))
        return {}
    known = {flag for _, flag, _, _ in STAGES if flag}
    return {k: v for k, v in saved.items()
            if k in known and isinstance(v, bool)}


def save_fork_flags(model, report, path=None):
    """Writes the fork flags of `model` (after prepare()) and the times
    behind them next to model.py, where the model's __init__ reads them."""
    if path is None:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            FLAGS_FILE)
    flags = {flag: bool(getattr(model, flag)) for flag in report}
    times = {flag: {'forked_ms': f, 'inline_ms': i}
             for flag, (f, i) in report.items()}
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump({'flags': flags, 'times': times}, f, indent=1)
    os.replace(tmp, path)

)PY" << "\n";
  // class
  py << "class " << cls << "(torch.nn.Module):\n"
     << "    \"\"\"The model; weights are buffers named after the ONNX tensors.\"\"\"\n\n"
     << "    def __init__(self, weights=None, fork_flags=None):\n"
     << "        super().__init__()\n"
     << "        here = os.path.dirname(os.path.abspath(__file__))\n"
     << "        if weights is None:\n"
     << "            weights = os.path.join(here, WEIGHTS)\n"
     << "        w = load_weights(weights)\n";
  for (const auto& [id, t] : weight_list)
    py << "        self.register_buffer(" << python_string(id) << ", w[" << python_string(id) << "])\n";
  if (regions) {
    py << "        # fork the parts of a region (True) or run them one after the\n"
       << "        # other with all intra-op threads (False); chosen from the cost\n"
       << "        # model (predicted work and forked makespan, 1 thread each),\n"
       << "        # replaced by what `model.py --tune` measured (FLAGS_FILE)\n";
    for (const auto& st : stages)
      if (st.region)
        py << "        # predicted: work " << std::llround(st.work) << ", forked " << std::llround(st.makespan) << "\n"
           << "        self." << st.flag << " = " << (st.fork ? "True" : "False") << "\n";
  }
  py << "        if fork_flags is None:\n"
     << "            fork_flags = os.path.join(here, FLAGS_FILE)\n"
     << "        for flag, fork in read_fork_flags(fork_flags).items():\n"
     << "            setattr(self, flag, fork)\n";
  std::string params, args;
  for (const auto& t : input_names) params += ", " + var.at(t) + ": Tensor", args += ", " + var.at(t);
  auto returns = [&]() {
    std::vector<std::string> r;
    for (const auto& t : outputs_needed) r.push_back(expr_of(t));
    return r.size() == 1 ? r[0] : "(" + detail::join(r) + ")";
  };
  auto joined = [&](const std::vector<std::string>& ts) {
    std::vector<std::string> a;
    for (const auto& t : ts) a.push_back(var.at(t));
    return detail::join(a);
  };
  auto unpacked = [&](const std::vector<std::string>& ts) { return ts.size() == 1 ? var.at(ts[0]) : "(" + joined(ts) + ")"; };
  // does `line` wrap within 79 columns (PEP 8)?
  auto fits = [](const std::string& line) {
    for (const auto& l : wrap_python_line(line))
      if (l.size() > 79) return false;
    return true;
  };
  // `(a, b) = rhs`; through a variable when that line would not wrap within
  // 79 columns (the tuple on the left leaves no room for the call)
  auto bind = [&](const std::string& indent, const std::vector<std::string>& outs, const std::string& tmp,
                  const std::string& rhs) {
    if (outs.empty()) {
      py << indent << rhs << "\n";
      return;
    }
    const std::string direct = indent + unpacked(outs) + " = " + rhs;
    if (fits(direct)) {
      py << direct << "\n";
    } else if (outs.size() == 1) {
      py << indent << var.at(outs[0]) << " = (" << rhs << ")\n";  // the wrapper hangs it after `(`
    } else {
      const std::string line = indent + tmp + " = " + rhs;
      py << (fits(line) ? line : indent + tmp + " = (" + rhs + ")") << "\n";
      for (std::size_t i = 0; i < outs.size(); ++i) {
        const std::string line = indent + var.at(outs[i]) + " = " + tmp + "[" + std::to_string(i) + "]";
        // too long: the wrapper gives `x = (` a hanging indent
        py << (line.size() <= 79 ? line : indent + var.at(outs[i]) + " = (" + tmp + "[" + std::to_string(i) + "])") << "\n";
      }
    }
  };
  const std::string ret_type = detail::tensor_type(outputs_needed.size());
  py << "\n    def forward(self" << params << ") -> " << ret_type << ":\n"
     << "        return self.run(True" << args << ")\n"
     << "\n    @torch.jit.export\n    def forward_serial(self" << params << ") -> " << ret_type << ":\n"
     << "        return self.run(False" << args << ")\n"
     << "\n    def run(self, parallel: bool" << params << ") -> " << ret_type << ":\n"
     << "        \"\"\"The stages in order; parallel=False runs every region inline.\"\"\"\n";
  for (const auto& st : stages) {
    const std::string call = "self." + st.method + "(" + (st.region ? std::string("parallel") : std::string()) +
                             (st.region && !st.inputs.empty() ? ", " : "") + joined(st.inputs) + ")";
    bind("        ", st.outputs, "out_" + st.method, call);
  }
  py << "        return " << returns() << "\n";
  auto unit_call = [&](const unit& u) { return "self." + u.method + "(" + joined(u.inputs) + ")"; };
  auto signature = [&](const std::string& method, const std::string& first, const std::vector<std::string>& ins,
                       std::size_t outs) {
    std::string ps = "self" + first;
    for (const auto& t : ins) ps += ", " + var.at(t) + ": Tensor";
    // TorchScript infers the return type; a tuple's is left out when it
    // would not fit within 79 columns
    const std::string annotated = "    def " + method + "(" + ps + ") -> " + detail::tensor_type(std::max<std::size_t>(outs, 1)) + ":";
    return "\n" + (fits(annotated) || outs <= 1 ? annotated : "    def " + method + "(" + ps + "):") + "\n";
  };
  auto unit_method = [&](std::size_t k) {
    const unit& u = units[k];
    py << signature(u.method, "", u.inputs, u.outputs.size());
    for (const auto& l : bodies[k]) py << l << "\n";
    if (u.outputs.empty()) py << "        return torch.empty(0)\n";
    else py << "        return " << unpacked(u.outputs) << "\n";
  };
  for (const auto& st : stages) {
    if (!st.region) {
      unit_method(st.units[0]);
      continue;
    }
    py << signature(st.method, ", parallel: bool", st.inputs, st.outputs.size());
    py << "        \"\"\"" << st.units.size() << " parts on " << st.workers
       << " workers, forked when parallel and the flag is set"
       << (st.epilogue == none ? "" : ";\n        then what joins them") << ".\"\"\"\n"
       << "        if parallel and self." << st.flag << ":\n";
    std::set<std::size_t> pending;  // forked, not yet waited
    auto wait = [&](std::size_t d) {
      bind("            ", units[d].outputs, "out_" + units[d].method, "torch.jit.wait(fut_" + units[d].method + ")");
      pending.erase(d);
    };
    for (std::size_t ui : st.units) {
      for (std::size_t d : units[ui].deps)
        if (pending.count(d)) wait(d);
      const unit& u = units[ui];
      py << "            fut_" << u.method << " = torch.jit.fork(self." << u.method << (u.inputs.empty() ? "" : ", ")
         << joined(u.inputs) << ")\n";
      pending.insert(ui);
    }
    for (std::size_t ui : st.units)
      if (pending.count(ui)) wait(ui);
    py << "        else:\n";
    for (std::size_t ui : st.units) bind("            ", units[ui].outputs, "out_" + units[ui].method, unit_call(units[ui]));
    if (st.epilogue != none)
      for (const auto& l : bodies[st.epilogue]) py << l << "\n";
    if (st.outputs.empty()) py << "        return torch.empty(0)\n";
    else py << "        return " << unpacked(st.outputs) << "\n";
    for (std::size_t ui : st.units) unit_method(ui);
  }
  // module-level helpers and __main__
  py << "\n\nINPUT_NAMES = [";
  {
    std::vector<std::string> r;
    for (const auto& t : input_names) r.push_back(python_string(var.at(t)));
    py << detail::join(r) << "]\n";
  }
  py << R"PY(

@torch.jit.script
def pool_task(x: Tensor) -> Tensor:
    return x + 1


@torch.jit.script
def start_interop_pool(x: Tensor, n: int) -> Tensor:
    futures = [torch.jit.fork(pool_task, x) for _ in range(n)]
    return torch.stack([torch.jit.wait(f) for f in futures]).sum()


def set_threads(threads, workers=WORKERS):
    """Intra-op threads: `threads` for the calling thread (inline stages,
    forward_serial), 1 for each forked part.

    PyTorch's inter-op pool threads take the intra-op thread count of the
    moment they start, so the pool is started here with 1, then the calling
    thread gets `threads`: the forked parts of a region never oversubscribe
    the cores. Call it once per process, before the first forward.
    """
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(max(workers, 1))
    except RuntimeError:
        pass  # the pool runs already; it keeps its size and threads
    start_interop_pool(torch.zeros(1), 2 * max(workers, 1))
    time.sleep(0.05)  # let every pool thread finish starting
    torch.set_num_threads(threads)


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


def optimize(model, keep_flags=False):
    """torch.jit.freeze + torch.jit.optimize_for_inference of the scripted
    model (oneDNN-prepacked convolutions, fused operators): the fork flags
    become constants, so a region that runs inline is straight-line code.
    keep_flags=True keeps the flags and the stage methods settable, for
    tune(); returns a new module."""
    keep = ['forward_serial']
    if keep_flags:
        keep += [m for m, _, _, _ in STAGES] + [f for _, f, _, _ in STAGES if f]
    frozen = torch.jit.freeze(model, preserved_attrs=keep)
    return torch.jit.optimize_for_inference(frozen, other_methods=keep[:1] + [
        k for k in keep[1:] if not k.startswith('fork_')])


def tune(model, inputs, runs=20):
    """Times every region forked and inline on `inputs` (interleaved runs,
    medians) and keeps the faster way in the model's fork flags. `model` is
    the scripted module, or optimize(model, keep_flags=True); returns
    {flag: (forked ms, inline ms)}."""
    values = dict(zip(INPUT_NAMES, inputs))
    result = {}
    with torch.no_grad():
        for method, flag, names, outs in STAGES:
            fn = getattr(model, method)
            args = [values[n] for n in names]
            if flag:
                times = {True: [], False: []}
                for i in range(2 * runs + 4):
                    fork = i % 2 == 0
                    setattr(model, flag, fork)
                    t0 = time.perf_counter()
                    fn(True, *args)
                    times[fork].append((time.perf_counter() - t0) * 1000)
                forked = statistics.median(times[True][2:])
                inline = statistics.median(times[False][2:])
                setattr(model, flag, forked < inline)
                result[flag] = (forked, inline)
                out = fn(False, *args)
            else:
                out = fn(*args)
            if len(outs) == 1:
                out = (out,)
            values.update(zip(outs, out))
    return result


def prepare(model, inputs, runs=20):
    """The module to run: the fork flags of the scripted `model` measured on
    `inputs` (tune() on an optimized probe; a region forks only when that is
    at least 5% faster), then optimize(). If the whole forward is still
    slower than forward_serial, every region runs inline: forking is used
    only where it pays. Returns (module, {flag: (forked ms, inline ms)})."""
    report = tune(optimize(model, keep_flags=True), inputs, runs)
    for flag, (forked, inline) in report.items():
        setattr(model, flag, forked < 0.95 * inline)
    final = optimize(model)
    if any(forked < 0.95 * inline for forked, inline in report.values()):
        with torch.no_grad():
            whole = median_ms(final.forward, inputs, runs)
            serial = median_ms(final.forward_serial, inputs, runs)
        if whole > serial:
            for flag in report:
                setattr(model, flag, False)
            final = optimize(model)
    return final, report


def main():
    parser = argparse.ArgumentParser(
        description='Checks the parallel forward against forward_serial on '
                    'a random input and prints both latencies.')
    parser.add_argument('--threads', type=int, default=WORKERS,
                        help='intra-op threads of the inline stages and of '
                             'forward_serial (default: the workers)')
    parser.add_argument('--runs', type=int, default=30)
    parser.add_argument('--tune', action='store_true',
                        help='measure each region forked and inline first')
    parser.add_argument('--no-optimize', action='store_true',
                        help='run the scripted module as it is (no '
                             'freeze, no optimize_for_inference)')
    args = parser.parse_args()
    set_threads(args.threads)
    )PY" << "model = torch.jit.script(" << cls << "().eval())\n" << R"PY(    inputs = random_inputs()
    with torch.no_grad():
        if args.tune and args.no_optimize:
            tune(model, inputs)
        elif args.tune:
            scripted = model
            model, report = prepare(scripted, inputs)
            for flag, (forked, inline) in report.items():
                print('%s: forked %.3f ms, inline %.3f ms -> %s'
                      % (flag, forked, inline, 'fork' if getattr(
                          scripted, flag) else 'inline'))
            if report:
                save_fork_flags(scripted, report)
                print('wrote the flags to %s, which the model reads'
                      % FLAGS_FILE)
        elif not args.no_optimize:
            model = optimize(model)
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
    print('serial   %.3f ms (median of %d, %d intra-op threads)'
          % (t_ser, args.runs, args.threads))
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
