#pragma once
/// \file cloning.hpp
/// Cloning: a cheap vertex whose value is read on other workers is
/// duplicated onto those workers when that shortens the simulated makespan,
/// so their consumers stop waiting for the hand-off (the communication
/// cost). A policy says which vertices may be cloned.
/// \code
///   auto s2 = dfgpar::clone_vertices(g, s, cost, comm, dfgpar::clone_if_cheaper_than{5.0, cost});
///   // or, inside the pipeline:
///   auto s3 = dfgpar::parallelize(g, cost, comm, dfgpar::options{.workers = 4, .clone = true});
/// \endcode
///
/// The search is greedy and never makes the makespan worse:
///  1. simulate the schedule; every remote read of a clonable vertex v by a
///     consumer on worker w whose start it delays (the value arrives no
///     earlier than the consumer starts) makes (v, w) a candidate, weighed by
///     the communication cost of those reads; heaviest first;
///  2. a copy of v goes on w right before v's first consumer there (later
///     consumers on w read it too, per the schedule's clone rule), and the
///     schedule is re-simulated. The copy is kept when the makespan drops,
///     or stays equal while the workers' finish times drop in sum (so that
///     with three workers waiting on one value, the first copy is kept
///     although only the second shortens the makespan); otherwise
///  3. the clonable inputs of the copy that would arrive late are cloned in
///     front of it as well (then theirs, up to `max_group` vertices),
///     keeping the first group that improves; otherwise everything is
///     reverted;
///  4. passes repeat while they improve (at most `max_passes`).
/// A trial is skipped without simulating when the current timing shows it
/// cannot pay off (w is busy until the value would arrive anyway).
/// Each trial is one plan + simulation, O(V+E). The number of trials is
/// capped (`max_trials`, by default about 3e7 / (V+E), at least 64) and so is
/// the time (`time_limit_ms`), so huge graphs get a partial, still valid,
/// never worse result.

#include <dfgpar/cluster/finalize.hpp>
#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/concepts.hpp>
#include <dfgpar/detail/flat_dag.hpp>
#include <dfgpar/detail/plan.hpp>
#include <dfgpar/error.hpp>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace dfgpar {

/// Says which vertices of a graph G may be duplicated: `p.may_clone(v)`.
/// A clonable vertex must be pure (running it twice is harmless) and is
/// usually cheap; the makespan check decides whether a copy pays off.
template <class P, class G>
concept clone_policy = dataflow_graph<G> && requires(P& p, detail::vertex_t<G> v) {
  { p.may_clone(v) } -> std::convertible_to<bool>;
};

/// Clones nothing.
struct clone_none {
  template <class V>
  constexpr bool may_clone(const V&) const noexcept {
    return false;
  }
};

/// Any vertex may be cloned (every vertex must be pure).
struct clone_all {
  template <class V>
  constexpr bool may_clone(const V&) const noexcept {
    return true;
  }
};

/// Vertices whose cost is below `threshold` may be cloned.
/// \code dfgpar::clone_if_cheaper_than{10.0, get(&node::cost, g)} \endcode
template <class CostMap>
struct clone_if_cheaper_than {
  double threshold = 0;
  CostMap cost;
  template <class V>
  bool may_clone(const V& v) const {
    return static_cast<double>(get(cost, v)) < threshold;
  }
};
template <class CostMap>
clone_if_cheaper_than(double, CostMap) -> clone_if_cheaper_than<CostMap>;

/// Limits of the cloning search.
struct clone_options {
  std::size_t max_trials = 0;     ///< simulations to try at most (0: about 3e7 / (V+E), at least 64)
  double time_limit_ms = 1000;    ///< wall-clock cap on the search
  std::size_t max_group = 8;      ///< vertices cloned together at most (a vertex and the inputs it needs)
  std::size_t max_passes = 4;     ///< passes over the candidates at most
};

/// Fraction of the mean vertex cost below which `parallelize` clones a vertex
/// when `options::clone` is set and no policy is given.
inline constexpr double default_clone_cost_fraction = 0.5;

namespace detail {

template <class P, class G>
constexpr void check_clone_policy() {
  static_assert(clone_policy<P, G>,
                "dfgpar: the clone policy must provide p.may_clone(v) -> bool for a vertex_descriptor v "
                "(e.g. dfgpar::clone_all, dfgpar::clone_none, dfgpar::clone_if_cheaper_than{threshold, cost})");
}

/// The default policy of `parallelize`: cost below a fraction of the mean.
inline std::vector<char> default_clone_mask(const flat_dag& d) {
  std::vector<char> m(d.n, 0);
  if (d.n == 0) return m;
  const double limit = default_clone_cost_fraction * d.total_work() / static_cast<double>(d.n);
  for (std::size_t v = 0; v < d.n; ++v) m[v] = d.w[v] < limit ? 1 : 0;
  return m;
}

class clone_search {
 public:
  clone_search(const flat_dag& d, schedule& s, const std::vector<char>& may_clone, const clone_options& o)
      : d_(d), s_(s), may_(may_clone), o_(o), edge_cost_(d.n, -1.0) {
    if (may_.size() != d.n) throw graph_error("the clone mask does not match the graph");
    const std::size_t size = d.n + d.succ.size();
    max_trials_ = o.max_trials ? o.max_trials : std::max<std::size_t>(64, static_cast<std::size_t>(3e7 / static_cast<double>(size + 1)));
  }

  /// Runs the search; returns the number of copies added.
  std::size_t run() {
    if (s_.home.size() != d_.n || s_.num_vertices != d_.n) finalize(d_, s_);
    plan_ = make_plan(d_, s_);
    timing_ = simulate(d_, plan_);
    score_ = score_of(plan_, timing_);
    index_plan();
    for (const auto& st : plan_.steps) on_worker_.insert(key(st.vertex, st.worker));
    std::size_t added = 0;
    for (std::size_t pass = 0; pass < o_.max_passes && !exhausted(); ++pass) {
      bool improved = false;
      for (const auto& [v, w] : candidates()) {
        if (exhausted()) break;
        if (const std::size_t k = try_clone(v, w)) added += k, improved = true;
      }
      if (!improved) break;
    }
    finalize(d_, s_);
    return added;
  }

 private:
  struct score {
    double makespan = 0, finish_sum = 0;
  };
  static std::uint64_t key(std::uint32_t v, std::size_t w) { return (std::uint64_t{v} << 32) | w; }

  bool exhausted() const {
    return trials_ >= max_trials_ ||
           std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count() > o_.time_limit_ms;
  }
  score score_of(const plan& p, const timing& t) const {
    score sc{t.makespan, 0};
    for (const auto& ws : p.worker_steps)
      if (!ws.empty()) sc.finish_sum += t.finish[ws.back()];
    return sc;
  }
  static bool better(const score& a, const score& b) {
    const double tol = 1e-9 * std::max(1.0, b.makespan);
    if (a.makespan < b.makespan - tol) return true;
    return a.makespan <= b.makespan && a.finish_sum < b.finish_sum - 1e-9 * std::max(1.0, b.finish_sum);
  }

  // (vertex, worker) pairs whose remote reads delay a consumer, heaviest first
  std::vector<std::pair<std::uint32_t, std::size_t>> candidates() const {
    struct cand {
      std::uint32_t v;
      std::size_t w;
      double weight;
    };
    std::vector<cand> out;
    std::unordered_map<std::uint64_t, std::size_t> at;
    const double tol = 1e-9 * std::max(1.0, timing_.makespan);
    for (std::uint32_t id = 0; id < plan_.steps.size(); ++id) {
      const auto& st = plan_.steps[id];
      for (auto k = st.dep_begin; k < st.dep_end; ++k) {
        const auto& dep = plan_.deps[k];
        const std::uint32_t v = plan_.steps[dep.step].vertex;
        if (!dep.remote || !may_[v]) continue;
        if (timing_.finish[dep.step] + dep.cost < timing_.start[id] - tol) continue;  // not what it waits for
        auto [it, fresh] = at.emplace(key(v, st.worker), out.size());
        if (fresh) out.push_back({v, st.worker, 0.0});
        out[it->second].weight += dep.cost;
      }
    }
    std::stable_sort(out.begin(), out.end(), [&](const cand& a, const cand& b) {
      return a.weight != b.weight ? a.weight > b.weight : d_.topo_pos[a.v] < d_.topo_pos[b.v];
    });
    std::vector<std::pair<std::uint32_t, std::size_t>> r;
    r.reserve(out.size());
    for (const auto& c : out) r.emplace_back(c.v, c.w);
    return r;
  }

  // Re-plans and simulates the current schedule; nullopt when it is invalid.
  std::optional<std::pair<plan, timing>> evaluate() {
    ++trials_;
    try {
      plan p = make_plan(d_, s_);
      timing t = simulate(d_, p);
      return std::pair{std::move(p), std::move(t)};
    } catch (const graph_error&) {
      return std::nullopt;
    }
  }

  // Step positions within their worker and the home step of every vertex,
  // for the current plan.
  void index_plan() {
    pos_.assign(plan_.steps.size(), 0);
    for (const auto& ws : plan_.worker_steps)
      for (std::uint32_t i = 0; i < ws.size(); ++i) pos_[ws[i]] = i;
    home_step_.assign(d_.n, UINT32_MAX);
    for (std::uint32_t id = 0; id < plan_.steps.size(); ++id)
      if (s_.home[plan_.steps[id].vertex] == plan_.steps[id].cluster) home_step_[plan_.steps[id].vertex] = id;
  }

  // Clones v (and, if needed, inputs it would read remotely) onto worker w;
  // returns the number of copies kept. Bounds from the current timing skip
  // the simulations that cannot pay off.
  std::size_t try_clone(std::uint32_t v, std::size_t w) {
    if (on_worker_.contains(key(v, w))) return 0;
    const double tol = 1e-9 * std::max(1.0, timing_.makespan);
    // v's first consumer on w, and the latest arrival of v a consumer on w waits for
    for (const arc& a : d_.succs(v)) edge_cost_[a.v] = std::max(edge_cost_[a.v], a.cost);
    const double home_finish = timing_.finish[home_step_[v]];
    std::uint32_t first = UINT32_MAX;
    double awaited = -1;
    for (std::uint32_t id : plan_.worker_steps[w]) {
      const double c = edge_cost_[plan_.steps[id].vertex];
      if (c < 0) continue;
      if (first == UINT32_MAX) first = id;
      if (home_finish + c >= timing_.start[id] - tol) awaited = std::max(awaited, home_finish + c);
    }
    for (const arc& a : d_.succs(v)) edge_cost_[a.v] = -1;
    if (first == UINT32_MAX || awaited < 0) return 0;
    // a copy cannot start before w is done with what runs ahead of it
    const double free_at = pos_[first] > 0 ? timing_.finish[plan_.worker_steps[w][pos_[first] - 1]] : 0.0;
    if (free_at + d_.w[v] >= awaited - tol) return 0;
    auto late_inputs = [&](std::uint32_t x, auto&& on_late) {
      for (const arc& a : d_.preds(x))
        if (!on_worker_.contains(key(a.v, w)) && timing_.finish[home_step_[a.v]] + a.cost > free_at + tol) on_late(a);
    };
    double inputs_at = 0;
    bool clonable_late_input = false;
    late_inputs(v, [&](const arc& a) {
      inputs_at = std::max(inputs_at, timing_.finish[home_step_[a.v]] + a.cost);
      clonable_late_input = clonable_late_input || may_[a.v];
    });
    const bool alone_may_help = std::max(free_at, inputs_at) + d_.w[v] < awaited - tol;
    if (!alone_may_help && !clonable_late_input) return 0;

    const std::size_t c = plan_.steps[first].cluster;
    auto& vs = s_.clusters[c].vertices;
    const std::size_t at = static_cast<std::size_t>(std::find(vs.begin(), vs.end(), plan_.steps[first].vertex) - vs.begin());
    // the group's copies occupy vs[at, at + group.size()), in topological order
    std::vector<std::uint32_t> group{v};
    vs.insert(vs.begin() + static_cast<std::ptrdiff_t>(at), v);
    bool simulate_now = alone_may_help;
    while (true) {
      if (simulate_now) {
        auto r = evaluate();
        if (!r) break;
        const score sc = score_of(r->first, r->second);
        if (better(sc, score_)) {
          plan_ = std::move(r->first);
          timing_ = std::move(r->second);
          score_ = sc;
          for (std::uint32_t u : group) on_worker_.insert(key(u, w));
          index_plan();
          return group.size();
        }
      }
      if (group.size() >= o_.max_group || exhausted()) break;
      // grow: clonable inputs of the group that have no copy on w and arrive late
      std::vector<std::uint32_t> more;
      for (std::uint32_t x : group)
        late_inputs(x, [&](const arc& a) {
          if (may_[a.v] && std::find(group.begin(), group.end(), a.v) == group.end() &&
              std::find(more.begin(), more.end(), a.v) == more.end())
            more.push_back(a.v);
        });
      if (more.empty()) break;
      std::sort(more.begin(), more.end(), [&](auto a, auto b) { return d_.topo_pos[a] > d_.topo_pos[b]; });
      for (std::uint32_t u : more) {
        if (group.size() >= o_.max_group) break;
        vs.insert(vs.begin() + static_cast<std::ptrdiff_t>(at), u);
        group.push_back(u);
      }
      std::sort(vs.begin() + static_cast<std::ptrdiff_t>(at), vs.begin() + static_cast<std::ptrdiff_t>(at + group.size()),
                [&](std::size_t a, std::size_t b) { return d_.topo_pos[a] < d_.topo_pos[b]; });
      simulate_now = true;
    }
    vs.erase(vs.begin() + static_cast<std::ptrdiff_t>(at), vs.begin() + static_cast<std::ptrdiff_t>(at + group.size()));
    return 0;
  }

  const flat_dag& d_;
  schedule& s_;
  const std::vector<char>& may_;
  clone_options o_;
  std::vector<double> edge_cost_;      // scratch: cost of the edge from the vertex tried, -1 elsewhere
  std::vector<std::uint32_t> pos_;     // per step of plan_: position in its worker's run order
  std::vector<std::uint32_t> home_step_;  // per vertex: step of its home copy in plan_
  std::size_t max_trials_ = 0, trials_ = 0;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  plan plan_;
  timing timing_;
  score score_;
  std::unordered_set<std::uint64_t> on_worker_;  // (vertex, worker) pairs that have a copy
};

/// Clones into `s` in place (see the file comment); returns the copies added.
/// `s` must be a valid schedule of `d`; it is finalized on return.
inline std::size_t clone_vertices(const flat_dag& d, schedule& s, const std::vector<char>& may_clone,
                                  const clone_options& o = {}) {
  return clone_search(d, s, may_clone, o).run();
}

}  // namespace detail

namespace detail {
/// Per vertex index: whether `policy` lets it be cloned.
template <class Graph, class Policy>
std::vector<char> clone_mask(const Graph& g, Policy& policy) {
  std::vector<char> may(num_vertices(g), 0);
  for (auto [it, end] = vertices(g); it != end; ++it) may[index_of(g, *it)] = policy.may_clone(*it) ? 1 : 0;
  return may;
}
}  // namespace detail

/// Returns `s` with clonable vertices (per `policy`) duplicated onto the
/// workers that read them, where that shortens the simulated makespan with
/// communication costs `comm` (see the file comment). The result is
/// finalized and valid, and its makespan is never larger than that of `s`.
/// Throws graph_error when `s` is not a valid schedule of `g`.
template <class Graph, class CostMap, class CommMap, class Policy>
schedule clone_vertices(const Graph& g, schedule s, const CostMap& cost, const CommMap& comm, Policy&& policy,
                        const clone_options& o = {}) {
  detail::check_graph<Graph>();
  detail::check_vertex_cost<CostMap, Graph>();
  detail::check_edge_cost<CommMap, Graph>();
  detail::check_clone_policy<std::remove_reference_t<Policy>, Graph>();
  const auto d = detail::make_flat_dag(g, cost, comm);
  detail::clone_vertices(d, s, detail::clone_mask(g, policy), o);
  return s;
}

}  // namespace dfgpar
