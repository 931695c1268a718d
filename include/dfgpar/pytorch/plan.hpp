#pragma once
/// \file plan.hpp
/// Stage planning for the PyTorch back end: how model.py runs a schedule,
/// decided before any text is written (and testable without it).
///
/// The graph is cut into *stages* at its width-1 points (nodes that every
/// other node is an ancestor or a descendant of, such as GoogLeNet's
/// Concats). Between two such points lies a *region*: there the schedule's
/// clusters run in parallel. Each worker's part of a region is a *unit* (one
/// method of model.py), cut into several parts where a value crosses to
/// another worker mid-way, so that every hand-off is a method's return value.
/// Runs of width-1 nodes are inline stages of one unit; the inline stage that
/// follows a region becomes its epilogue (it joins the parts, e.g. the
/// Concat). Within a region the units are ordered by a list simulation (one
/// intra-op thread each), and the region gets its default fork/inline choice
/// from the cost model.
/// \code
///   const dfgpar::pytorch::model_view view(m);
///   const auto p = dfgpar::pytorch::plan_stages(m, view, s);
///   for (const auto& st : p.stages) std::cout << (st.region ? "region " : "inline ") << st.units.size() << "\n";
/// \endcode

#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/error.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/model.hpp>
#include <dfgpar/pytorch/names.hpp>
#include <dfgpar/pytorch/ops.hpp>

#include <boost/graph/adjacency_list.hpp>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace dfgpar::pytorch {

/// A region's fork flag in model.py: chosen by the cost model, or all true /
/// all false (tests, experiments; `tune()` still re-measures).
enum class fork_choice { cost_model, always, never };

/// How regions are ordered and their default fork/inline choice is made.
struct plan_options {
  /// Fork a region when its predicted forked makespan (one intra-op thread
  /// per part, node costs) plus `fork_overhead` per part is below
  /// work / (1 + (P - 1) * efficiency), the time its nodes take on one
  /// thread with P intra-op threads. 0.8: PyTorch's intra-op efficiency at
  /// batch 1 on 2 cores (GoogLeNet, SqueezeNet eager).
  double intra_op_efficiency = 0.8;
  double fork_overhead = 20;  ///< per forked part, in the cost unit (us for the cost model)
  fork_choice fork = fork_choice::cost_model;
  /// A moldable schedule of the same graph (`parallelize_moldable` on
  /// measured t(v, k)), or null. When set it decides each region's fork flag
  /// instead of the rule above, so that model.py runs side by side what the
  /// native runtime runs side by side: a region forks when the moldable
  /// schedule runs most of its work (node costs) on one core per node, spread
  /// over two or more workers; it runs inline with all intra-op threads when
  /// the schedule gives most of it several cores (intra-op). `fork` other
  /// than cost_model still overrides both.
  const schedule* moldable = nullptr;
};

/// What the planner, the namer and the code generator need to know about a
/// model's tensors: graph inputs, initializers (those that are not also
/// graph inputs) and the outputs of Constant nodes; the last two are the
/// model's weights.
struct model_view {
  const onnx::model* m = nullptr;
  std::unordered_set<std::string> graph_inputs;
  std::unordered_map<std::string, int> initializer;             ///< name -> index in graph.initializer
  std::unordered_map<std::string, std::size_t> constant_node;  ///< output of a Constant node -> node
  /// Initializers and Constant nodes of subgraphs (If branches, Loop and
  /// Scan bodies, at any depth): weights too.
  std::unordered_map<std::string, const ::onnx::TensorProto*> sub_initializer;
  std::unordered_map<std::string, const ::onnx::NodeProto*> sub_constant;

  explicit model_view(const onnx::model& model) : m(&model) {
    const auto& g = model.proto.graph();
    for (const auto& in : g.input()) graph_inputs.insert(in.name());
    for (int i = 0; i < g.initializer_size(); ++i)
      if (!graph_inputs.count(g.initializer(i).name())) initializer.emplace(g.initializer(i).name(), i);
    for (int v = 0; v < g.node_size(); ++v) {
      const auto& nd = g.node(v);
      if (is_constant_node(nd)) constant_node.emplace(nd.output(0), static_cast<std::size_t>(v));
      subgraph_weights(nd, 0);
    }
  }

  /// An initializer or a Constant node's output: a buffer of the module.
  bool is_weight(const std::string& t) const {
    return initializer.count(t) > 0 || constant_node.count(t) > 0 || sub_initializer.count(t) > 0 ||
           sub_constant.count(t) > 0;
  }

  static bool is_constant_node(const ::onnx::NodeProto& nd) {
    return nd.op_type() == "Constant" && (nd.domain().empty() || nd.domain() == "ai.onnx") && nd.output_size() == 1;
  }

  /// Every value `nd` reads: its inputs, then what its subgraphs read from
  /// outside themselves (sorted); "" for a missing optional input.
  static std::vector<std::string> reads(const ::onnx::NodeProto& nd) {
    std::vector<std::string> r(nd.input().begin(), nd.input().end());
    if (onnx::detail::has_subgraph(nd))
      for (const auto& t : onnx::detail::implicit_inputs(nd)) r.push_back(t);
    return r;
  }

  /// The node that computes `t`, or nullopt for graph inputs, weights and
  /// names nothing produces.
  std::optional<std::size_t> producer_of(const std::string& t) const {
    if (graph_inputs.count(t) || is_weight(t)) return std::nullopt;
    auto it = m->producer.find(t);
    if (it == m->producer.end()) return std::nullopt;
    return it->second;
  }

 private:
  void subgraph_weights(const ::onnx::NodeProto& nd, int depth) {
    if (depth > 64) throw graph_error("subgraphs nested more than 64 deep");
    auto walk = [&](const ::onnx::GraphProto& sg) {
      for (const auto& t : sg.initializer()) sub_initializer.emplace(t.name(), &t);
      for (const auto& n : sg.node()) {
        if (is_constant_node(n)) sub_constant.emplace(n.output(0), &n);
        subgraph_weights(n, depth + 1);
      }
    };
    for (const auto& a : nd.attribute()) {
      if (a.has_g()) walk(a.g());
      for (const auto& sg : a.graphs()) walk(sg);
    }
  }
};

/// One unit: vertices one thread runs in order, one method of model.py.
struct plan_unit {
  static constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::size_t stage = 0;
  std::size_t region = none;                 ///< region index (between width-1 points), none for inline units
  std::size_t worker = 0, part = 0;          ///< region units: worker and 1-based part
  std::vector<std::size_t> vertices;
  std::vector<std::string> inputs;           ///< tensors read from outside (graph inputs or other units)
  std::vector<std::string> outputs;          ///< tensors it hands out
  std::set<std::size_t> deps;                ///< units of the same stage it reads from
  double cost = 0, est_start = 0, est_finish = 0;
};

/// A run of width-1 nodes (one inline unit) or a region (units that may run forked).
struct plan_stage {
  static constexpr std::size_t none = static_cast<std::size_t>(-1);
  bool region = false;
  std::vector<std::size_t> units;            ///< in predicted start order (a valid serial order); not the epilogue
  std::size_t workers = 0;                   ///< region: distinct workers among its units
  std::vector<std::string> inputs, outputs;  ///< tensors the stage reads from / hands to other stages
  double work = 0, makespan = 0;             ///< predicted, one intra-op thread per unit
  bool fork = false;                         ///< the default fork/inline choice
  std::size_t epilogue = none;               ///< region: inline unit run after its parts (e.g. the Concat)
  /// Region, with plan_options::moldable: the most cores the moldable
  /// schedule gives one of its nodes (1: every node on one core) and the
  /// workers its one-core nodes are spread over; 0 without a moldable schedule.
  std::size_t moldable_cores = 0, moldable_workers = 0;
};

/// How model.py runs a schedule: its stages in run order and their units.
struct stage_plan {
  std::size_t workers = 1;             ///< workers the schedule's clusters use (highest + 1)
  std::size_t schedule_workers = 1;    ///< P of the schedule
  std::vector<char> width_one;         ///< per vertex: a width-1 point (none when workers == 1)
  std::vector<char> weight_node;       ///< per vertex: a Constant node (a weight, never run)
  std::vector<plan_unit> units;
  std::vector<plan_stage> stages;
  std::vector<std::size_t> provider;   ///< per vertex: the unit whose copy other stages read (none for weights)
  std::vector<std::string> outputs;    ///< the graph's outputs, in order

  std::size_t regions() const {
    std::size_t k = 0;
    for (const auto& st : stages) k += st.region ? 1 : 0;
    return k;
  }
};

namespace detail {

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

/// Builds a stage_plan in four steps: cut (stages, units, cut points),
/// join_epilogues, hand_offs, order (and the fork choice).
class planner {
 public:
  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  planner(const onnx::model& m, const model_view& view, const schedule& s, const plan_options& o)
      : m_(m), view_(view), s_(s), o_(o), g_(m.proto.graph()), n_(static_cast<std::size_t>(g_.node_size())) {}

  stage_plan run() {
    check();
    cut();
    join_epilogues();
    hand_offs();
    order();
    return std::move(p_);
  }

 private:
  struct region_layout {
    std::size_t base = 0;                                          // first unit
    std::vector<std::unordered_map<std::size_t, std::size_t>> pos;  // per worker: vertex -> first position
    std::vector<std::vector<std::size_t>> unit_at;                  // per worker position: unit
  };

  /// Refuses what model.py cannot run, before planning anything.
  void check() const {
    if (s_.num_vertices != n_ || num_vertices(m_.g) != n_)
      throw graph_error("the schedule was not made for this model");
    for (std::size_t v = 0; v < n_; ++v)
      if (v >= s_.home.size() || s_.home[v] == schedule::npos)
        throw graph_error("node " + std::to_string(v) + " is not scheduled");
    auto tensor_typed = [](const ::onnx::ValueInfoProto& v, const char* what) {
      if (v.has_type() && !v.type().has_tensor_type())
        throw unsupported_op(std::string("graph ") + what + " " + python_string(v.name()) +
                             " is not a tensor (sequence, map and optional values are not supported)");
    };
    for (const auto& v : g_.input()) tensor_typed(v, "input");
    for (const auto& v : g_.output()) tensor_typed(v, "output");
  }

  std::size_t home_worker(std::size_t v) const { return s_.clusters[s_.home[v]].worker; }

  /// Where the worker-w part at position i of region k gets producer p's
  /// value from: (worker, position) in the region, or nullopt when p lies
  /// outside it.
  std::optional<std::pair<std::size_t, std::size_t>> region_source(std::size_t k, const region_layout& lay,
                                                                   std::size_t w, std::size_t i,
                                                                   std::size_t p) const {
    if (p_.weight_node[p] || p_.width_one[p] || region_of_[p] != k) return std::nullopt;
    if (auto it = lay.pos[w].find(p); it != lay.pos[w].end() && it->second < i) return std::pair{w, it->second};
    const std::size_t hw = home_worker(p);
    auto it = lay.pos[hw].find(p);
    if (it == lay.pos[hw].end()) throw graph_error("the schedule lost a node's home copy");
    if (hw == w && it->second >= i) throw graph_error("the schedule runs a node before its input");
    return std::pair{hw, it->second};
  }

  /// The width-1 (and one-unit region) vertices gathered so far become one inline stage.
  void flush() {
    if (pending_.empty()) return;
    plan_unit u;
    u.stage = p_.stages.size();
    std::unordered_set<std::size_t> seen;
    for (std::size_t v : pending_)
      if (seen.insert(v).second) {
        u.vertices.push_back(v);
        u.cost += m_.g[v].cost;
        p_.provider[v] = p_.units.size();
      }
    plan_stage st;
    st.units = {p_.units.size()};
    st.work = st.makespan = u.cost;
    p_.units.push_back(std::move(u));
    p_.stages.push_back(std::move(st));
    pending_.clear();
  }

  /// Stages: runs of width-1 nodes run inline; the regions between them are
  /// cut into one unit per worker part, as the schedule says.
  void cut() {
    std::size_t workers = 0;
    for (const auto& c : s_.clusters) workers = std::max(workers, c.worker + 1);
    workers = std::max<std::size_t>(workers, 1);
    p_.workers = workers;
    p_.schedule_workers = s_.workers;
    p_.weight_node.assign(n_, 0);
    for (const auto& [t, v] : view_.constant_node) p_.weight_node[v] = 1;
    p_.width_one = workers > 1 ? width_one_vertices(m_.g, p_.weight_node) : std::vector<char>(n_, 0);
    const auto& spine = p_.width_one;
    std::vector<std::size_t> spine_index(n_, none);
    region_of_.assign(n_, 0);
    std::size_t spines = 0;
    for (std::size_t v = 0; v < n_; ++v)
      if (spine[v]) spine_index[v] = spines++;
    for (std::size_t v = 0; v < n_; ++v) {
      if (p_.weight_node[v]) continue;
      std::size_t r = 0;
      for (auto [e, end] = in_edges(v, m_.g); e != end; ++e) {
        const std::size_t u = source(*e, m_.g);
        if (p_.weight_node[u] || u >= v) continue;
        r = std::max(r, spine[u] ? spine_index[u] + 1 : region_of_[u]);
      }
      region_of_[v] = r;
    }
    // per region, per worker: its vertices in the worker's order
    rseq_.assign(spines + 1, std::vector<std::vector<std::size_t>>(workers));
    for (std::size_t w = 0; w < workers; ++w)
      for (std::size_t c : s_.clusters_of(w))
        for (std::size_t v : s_.clusters[c].vertices)
          if (v < n_ && !p_.weight_node[v] && !spine[v]) rseq_[region_of_[v]][w].push_back(v);

    p_.provider.assign(n_, none);
    for (std::size_t k = 0; k <= spines; ++k) {
      const auto& rs = rseq_[k];
      region_layout lay;
      lay.pos.resize(workers);
      lay.unit_at.resize(workers);
      for (std::size_t w = 0; w < workers; ++w)
        for (std::size_t i = 0; i < rs[w].size(); ++i) lay.pos[w].emplace(rs[w][i], i);
      const auto cut_after = cut_points(k, lay);
      std::vector<plan_unit> local;
      for (std::size_t w = 0; w < workers; ++w) {
        std::size_t part = 0;
        for (std::size_t i = 0; i < rs[w].size(); ++i) {
          if (i == 0 || cut_after[w].count(i - 1)) {
            plan_unit u;
            u.worker = w;
            u.part = ++part;
            local.push_back(std::move(u));
          }
          local.back().vertices.push_back(rs[w][i]);
          local.back().cost += m_.g[rs[w][i]].cost;
          lay.unit_at[w].push_back(local.size() - 1);
        }
      }
      if (local.size() == 1) {
        pending_.insert(pending_.end(), local[0].vertices.begin(), local[0].vertices.end());
      } else if (local.size() > 1) {
        flush();
        lay.base = p_.units.size();
        plan_stage st;
        st.region = true;
        std::set<std::size_t> used;
        for (auto& u : local) {
          u.stage = p_.stages.size();
          u.region = k;
          used.insert(u.worker);
          st.work += u.cost;
          p_.units.push_back(std::move(u));
        }
        st.workers = used.size();
        for (std::size_t w = 0; w < workers; ++w) {
          for (auto& x : lay.unit_at[w]) x += lay.base;
          for (std::size_t i = 0; i < rs[w].size(); ++i)
            if (home_worker(rs[w][i]) == w && lay.pos[w].at(rs[w][i]) == i) p_.provider[rs[w][i]] = lay.unit_at[w][i];
        }
        p_.stages.push_back(std::move(st));
        layouts_.emplace(k, std::move(lay));
      }
      if (k < spines)
        for (std::size_t v = 0; v < n_; ++v)
          if (spine[v] && spine_index[v] == k) pending_.push_back(v);
    }
    flush();
  }

  /// Per worker of region k: the positions after which its sequence is cut
  /// (after a producer another worker reads, before a consumer of another
  /// worker's value), so that every hand-off is a method's return value.
  std::vector<std::set<std::size_t>> cut_points(std::size_t k, const region_layout& lay) const {
    const auto& rs = rseq_[k];
    std::vector<std::set<std::size_t>> cut_after(rs.size());
    for (std::size_t w = 0; w < rs.size(); ++w) {
      std::unordered_set<std::string> received;
      for (std::size_t i = 0; i < rs[w].size(); ++i) {
        std::map<std::size_t, std::size_t> last;  // one cut per source worker, after its last value needed here
        for (const auto& t : model_view::reads(g_.node(static_cast<int>(rs[w][i])))) {
          auto p = t.empty() ? std::nullopt : view_.producer_of(t);
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
    return cut_after;
  }

  /// The inline stage after a region becomes the region's epilogue (its
  /// method joins the parts, e.g. GoogLeNet's Concat, on the calling thread).
  void join_epilogues() {
    auto& stages = p_.stages;
    for (std::size_t i = 0; i + 1 < stages.size(); ++i) {
      if (!stages[i].region || stages[i + 1].region) continue;
      const std::size_t e = stages[i + 1].units[0];
      stages[i].epilogue = e;
      stages[i].work += p_.units[e].cost;
      stages.erase(stages.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      for (auto& u : p_.units)
        if (u.stage > i) --u.stage;
      p_.units[e].stage = i;
    }
    for (std::size_t v = 0; v < n_; ++v)
      if (!p_.weight_node[v] && p_.provider[v] == none)
        throw graph_error("node " + std::to_string(v) + " is not scheduled");
  }

  /// What each unit reads from outside itself, and from whom; what each
  /// stage reads and hands on; the graph's outputs.
  void hand_offs() {
    auto add_unique = [](std::vector<std::string>& v, const std::string& t) {
      if (std::find(v.begin(), v.end(), t) == v.end()) v.push_back(t);
    };
    auto& units = p_.units;
    auto& stages = p_.stages;
    for (std::size_t ui = 0; ui < units.size(); ++ui) {
      plan_unit& u = units[ui];
      std::unordered_set<std::size_t> done;
      const std::size_t k = u.region;
      std::size_t first = 0;  // position of the unit's first vertex in its worker's region sequence
      if (k != none) {
        const auto& lay = layouts_.at(k);
        first = static_cast<std::size_t>(std::find(lay.unit_at[u.worker].begin(), lay.unit_at[u.worker].end(), ui) -
                                         lay.unit_at[u.worker].begin());
      }
      for (std::size_t j = 0; j < u.vertices.size(); ++j) {
        const auto& nd = g_.node(static_cast<int>(u.vertices[j]));
        for (const auto& t : model_view::reads(nd)) {
          if (t.empty() || view_.is_weight(t)) continue;
          if (view_.graph_inputs.count(t)) {
            add_unique(u.inputs, t);
            add_unique(stages[u.stage].inputs, t);
            continue;
          }
          auto p = view_.producer_of(t);
          if (!p) throw graph_error("tensor " + python_string(t) + " has no producer");
          if (done.count(*p)) continue;
          std::size_t from = p_.provider[*p];
          if (k != none) {
            const auto& lay = layouts_.at(k);
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
    for (const auto& out : g_.output()) {
      const std::string& t = out.name();
      p_.outputs.push_back(t);
      auto p = view_.producer_of(t);
      if (!p) continue;
      add_unique(units[p_.provider[*p]].outputs, t);
      add_unique(stages[units[p_.provider[*p]].stage].outputs, t);
    }
  }

  /// Order within a region: list simulation by predicted start, one intra-op
  /// thread per unit; then the default fork/inline choice.
  void order() {
    auto& units = p_.units;
    for (std::size_t si = 0; si < p_.stages.size(); ++si) {
      plan_stage& st = p_.stages[si];
      if (!st.region) continue;
      std::vector<std::size_t> todo;
      for (std::size_t ui = 0; ui < units.size(); ++ui)
        if (units[ui].stage == si && ui != st.epilogue) todo.push_back(ui);
      std::map<std::size_t, double> worker_free;
      std::set<std::size_t> done;
      while (st.units.size() < todo.size()) {
        std::size_t best = none;
        double best_start = 0;
        for (std::size_t ui : todo) {
          if (done.count(ui)) continue;
          const plan_unit& u = units[ui];
          bool ready = u.part == 1 || done.count(ui - 1);  // a worker's parts keep their order
          double start = worker_free[u.worker];
          for (std::size_t d : u.deps) {
            ready = ready && done.count(d);
            if (done.count(d)) start = std::max(start, units[d].est_finish);
          }
          if (ready && (best == none || start < best_start - 1e-12)) best = ui, best_start = start;
        }
        if (best == none) throw graph_error("the units of a region have a cycle (invalid schedule)");
        done.insert(best);
        units[best].est_start = best_start;
        units[best].est_finish = best_start + units[best].cost;
        worker_free[units[best].worker] = units[best].est_finish;
        st.makespan = std::max(st.makespan, units[best].est_finish);
        st.units.push_back(best);
      }
      const double p = static_cast<double>(std::max<std::size_t>(s_.workers, 1));
      const double epilogue = st.epilogue == none ? 0.0 : units[st.epilogue].cost;
      const double speedup = 1 + (p - 1) * std::clamp(o_.intra_op_efficiency, 0.0, 1.0);
      st.fork = o_.moldable ? moldable_fork(st)
                            : st.makespan + o_.fork_overhead * static_cast<double>(st.units.size()) <
                                  (st.work - epilogue) / speedup;
      if (o_.fork != fork_choice::cost_model) st.fork = o_.fork == fork_choice::always;
      st.makespan += epilogue / speedup;
    }
  }

  /// The moldable schedule's verdict on region `st` (see plan_options::moldable);
  /// records its cores and workers in `st`.
  bool moldable_fork(plan_stage& st) const {
    const schedule& ms = *o_.moldable;
    if (ms.num_vertices != n_ || ms.home.size() != n_)
      throw graph_error("the moldable schedule was not made for this model");
    double side_by_side = 0, intra_op = 0;
    std::set<std::size_t> workers;
    std::size_t cores = 1;
    for (std::size_t ui : st.units)
      for (std::size_t v : p_.units[ui].vertices) {
        const std::size_t c = ms.home[v];
        if (c >= ms.clusters.size()) throw graph_error("node " + std::to_string(v) + " is not in the moldable schedule");
        const auto& vs = ms.clusters[c].vertices;
        const std::size_t k = ms.threads_of(c, static_cast<std::size_t>(std::find(vs.begin(), vs.end(), v) - vs.begin()));
        cores = std::max(cores, k);
        if (k > 1) {
          intra_op += m_.g[v].cost;
        } else {
          side_by_side += m_.g[v].cost;
          workers.insert(ms.clusters[c].worker);
        }
      }
    st.moldable_cores = cores;
    st.moldable_workers = workers.size();
    return workers.size() > 1 && side_by_side >= intra_op;
  }

  const onnx::model& m_;
  const model_view& view_;
  const schedule& s_;
  const plan_options& o_;
  const ::onnx::GraphProto& g_;
  const std::size_t n_;
  stage_plan p_;
  std::vector<std::size_t> region_of_;                            // per vertex: its region
  std::vector<std::vector<std::vector<std::size_t>>> rseq_;       // per region, per worker: vertices in order
  std::map<std::size_t, region_layout> layouts_;                  // per region with more than one unit
  std::vector<std::size_t> pending_;                              // width-1 vertices not yet in an inline stage
};

}  // namespace detail

/// The stage plan for running `m` as `s` says (`view` must be `m`'s). `s`
/// must be a finalized schedule of `m.g` (vertex i = node i of m.proto).
/// \throws unsupported_op for what model.py cannot run (non-tensor graph
/// inputs or outputs), graph_error for a schedule that does not
/// fit the model.
inline stage_plan plan_stages(const onnx::model& m, const model_view& view, const schedule& s,
                              const plan_options& o = {}) {
  return detail::planner(m, view, s, o).run();
}

}  // namespace dfgpar::pytorch
