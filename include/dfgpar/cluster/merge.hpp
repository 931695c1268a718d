#pragma once
/// \file merge.hpp
/// Merging clusters onto P workers: the schedule with the smallest simulated
/// makespan among several list-scheduling heuristics, improved by
/// forward-backward passes.
///
/// Heuristics tried (all O((V+E) log V) per pass):
///  1. linear clusters kept whole, list-scheduled by bottom level onto the
///     worker where they start earliest (Das & Rauchwerger's merge step);
///  2. HLFET/ETF: vertices by bottom level onto their earliest-start worker;
///  3. CP/MISF (Kasahara & Narita): bottom level, ties by successor count;
///  4. Graham's time-driven list scheduling with both priorities (no
///     edge costs);
///  5. forward-backward improvement (Li & Willis 1992, "justification"):
///     the best schedule is re-run backwards on the reversed graph with
///     finish times as priorities, then forwards with the backward start
///     times, as long as it improves;
///  6. without edge costs, on graphs of at most 512 vertices, with effort > 0:
///     exact branch and bound (cluster/branch_and_bound.hpp) from the best
///     schedule, with 20000 x effort search nodes (and on more than 64
///     vertices once more after step 7, with 1e8 / (V+E) x effort): it proves optimality with
///     the stronger bounds of cluster/lower_bounds.hpp or finds a better schedule
///     (list schedules miss e.g. {3,3} | {2,2,2} for five independent tasks);
///  7. with effort > 0, randomly perturbed bottom levels, each followed by 5.
/// The search stops as soon as a schedule reaches the lower bound
/// max(CP, W/P) or step 6 proves it optimal.

#include <dfgpar/analysis/bounds.hpp>
#include <dfgpar/analysis/levels.hpp>
#include <dfgpar/cluster/branch_and_bound.hpp>
#include <dfgpar/cluster/finalize.hpp>
#include <dfgpar/cluster/linear_clustering.hpp>
#include <dfgpar/cluster/list_scheduling.hpp>
#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/detail/plan.hpp>

#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace dfgpar {

/// How hard `merge_clusters` / `parallelize` search.
struct merge_options {
  std::size_t workers = 2;        ///< P
  double effort = 1.0;            ///< 0: constructive heuristics only; 1: default search; more: longer search
  std::uint64_t seed = 1;         ///< for the randomised restarts (results are deterministic per seed)
  double time_limit_ms = 1000;    ///< wall-clock safety cap on the improvement search
};

/// What the merge step found.
struct merge_report {
  std::string heuristic;     ///< name of the heuristic whose schedule won
  double makespan = 0;       ///< simulated makespan of the result
  double lower_bound = 0;    ///< max(CP, W/P)
  std::size_t linear_clusters = 0;  ///< linear clusters that were merged (0 when no heuristic needed the clustering)
  std::size_t passes = 0;    ///< list-scheduling passes run
  bool proven_optimal = false;  ///< `makespan` reached max(CP, W/P) or the branch and bound proved it optimal
  /// Wall time of each phase of the call, in order (levels, bounds,
  /// clustering, heuristics, search, schedule; `parallelize` adds the
  /// conversion of the graph), for benchmarks and profiling.
  std::vector<std::pair<std::string, double>> phase_ms;
};

namespace detail {

/// One cluster per worker, vertices in start order; `makespan` receives the
/// simulated makespan.
inline schedule to_schedule(const flat_dag& d, std::size_t workers, const list_result& lr, double& makespan) {
  schedule s;
  s.workers = workers;
  s.num_vertices = d.n;
  // List schedulers place each worker's vertices in start order already;
  // other results (branch and bound) are sorted by start time.
  std::vector<std::uint32_t> sorted;
  if (lr.order.size() != d.n) {
    sorted.resize(d.n);
    std::iota(sorted.begin(), sorted.end(), 0u);
    std::sort(sorted.begin(), sorted.end(), [&](std::uint32_t a, std::uint32_t b) {
      return lr.start[a] != lr.start[b] ? lr.start[a] < lr.start[b] : d.topo_pos[a] < d.topo_pos[b];
    });
  }
  const std::vector<std::uint32_t>& order = lr.order.size() == d.n ? lr.order : sorted;
  std::vector<std::size_t> cluster_of_worker(workers, schedule::npos);
  for (std::uint32_t v : order) {
    auto& c = cluster_of_worker[lr.worker[v]];
    if (c == schedule::npos) {
      c = s.clusters.size();
      s.clusters.push_back({lr.worker[v], {}});
    }
    s.clusters[c].vertices.push_back(v);
  }
  // clusters ordered by worker (a worker runs its clusters in index order; one each here)
  std::sort(s.clusters.begin(), s.clusters.end(), [](const cluster& a, const cluster& b) { return a.worker < b.worker; });
  s.home.assign(d.n, schedule::npos);
  makespan = simulate(d, finalize(d, s)).makespan;
  return s;
}

struct merge_search {
  const flat_dag& d;
  std::size_t P;
  const merge_options& opt;
  merge_report report;
  list_result best;
  flat_dag rev;
  bool have_rev = false;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();

  bool proven = false;  // branch and bound proved `best` optimal
  double proven_bound = 0;  // the branch and bound's lower bound (its root bounds are stronger than max(CP, W/P))

  bool optimal() const { return proven || best.makespan <= std::max(report.lower_bound, proven_bound) * (1 + 1e-12); }
  std::size_t budget = 0;  // list-scheduling passes the improvement search may still run
  bool can_search() const {
    return report.passes < budget &&
           std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() < opt.time_limit_ms;
  }
  bool offer(list_result&& r, const char* name) {
    ++report.passes;
    if (best.worker.empty() || r.makespan < best.makespan) {
      best = std::move(r);
      report.heuristic = name;
      return true;
    }
    return false;
  }
  list_result pass(const flat_dag& g, const priority& p, bool time_driven) const {
    return time_driven ? list_schedule_time(g, P, p) : list_schedule_tasks(g, P, p);
  }
  // Forward-backward improvement from `r` until no gain.
  list_result improve(list_result r, bool time_driven) {
    if (!have_rev) rev = reversed(d), have_rev = true;
    std::vector<double> key(d.n);
    for (int round = 0; round < 50 && can_search(); ++round) {
      for (std::size_t v = 0; v < d.n; ++v) key[v] = r.start[v] + d.w[v];  // finish: latest first in reverse
      list_result b = pass(rev, priority{key, {}}, time_driven);
      ++report.passes;
      for (std::size_t v = 0; v < d.n; ++v) key[v] = b.start[v] + d.w[v];  // reverse finish = forward start mirror
      list_result f = pass(d, priority{key, {}}, time_driven);
      ++report.passes;
      if (!(f.makespan < r.makespan)) break;
      r = std::move(f);
      if (r.makespan <= std::max(report.lower_bound, proven_bound) * (1 + 1e-12)) break;
    }
    return r;
  }
};

/// Records the wall time of consecutive phases into a merge_report.
class phase_clock {
 public:
  explicit phase_clock(merge_report& r) : r_(r) {}
  /// Ends the current phase under `name`; a phase of the same name adds up.
  void lap(const char* name) {
    const auto now = std::chrono::steady_clock::now();
    const double ms = std::chrono::duration<double, std::milli>(now - t_).count();
    t_ = now;
    for (auto& [n, t] : r_.phase_ms)
      if (n == name) {
        t += ms;
        return;
      }
    r_.phase_ms.emplace_back(name, ms);
  }

 private:
  merge_report& r_;
  std::chrono::steady_clock::time_point t_ = std::chrono::steady_clock::now();
};

/// The merge step from the levels of `d` (`compute_levels(d)`) and a
/// callable returning its linear clustering (`const clustering&`). The
/// clustering is asked for only when a heuristic needs it: without edge
/// costs Graham's list schedule often reaches the lower bound first, and on
/// large graphs the clustering is the most expensive phase.
template <class Clusters>
std::pair<schedule, merge_report> merge(const flat_dag& d, const levels& lv, Clusters&& clusters, const merge_options& opt) {
  const std::size_t P = std::max<std::size_t>(opt.workers, 1);
  merge_search ms{d, P, opt, {}, {}, {}};
  phase_clock clock(ms.report);
  ms.report.lower_bound = compute_bounds(d, P, lv).lower_bound;
  clock.lap("bounds");
  if (d.n == 0) {
    schedule s;
    s.workers = P;
    return {s, ms.report};
  }
  std::vector<double> succ_count(d.n);
  for (std::size_t v = 0; v < d.n; ++v) succ_count[v] = static_cast<double>(d.succ_begin[v + 1] - d.succ_begin[v]);
  std::vector<std::uint32_t> aff;
  auto affinity = [&]() -> const std::vector<std::uint32_t>& {
    if (aff.empty()) {
      clock.lap("heuristics");
      const clustering& cl = clusters();
      clock.lap("linear clustering");
      ms.report.linear_clusters = cl.clusters.size();
      aff.resize(d.n);
      for (std::size_t v = 0; v < d.n; ++v) aff[v] = static_cast<std::uint32_t>(cl.cluster_of[v]);
    }
    return aff;
  };
  const priority bl{lv.bottom, {}}, misf{lv.bottom, succ_count};

  {  // everything on one worker: never worse than W, whatever the edge costs
    list_result serial;
    serial.worker.assign(d.n, 0);
    serial.start.assign(d.n, 0.0);
    double t = 0;
    for (std::uint32_t v : d.topo) serial.start[v] = t, t += d.w[v];
    serial.makespan = t;
    serial.order = d.topo;
    ms.offer(std::move(serial), "serial");
  }
  // Constructive heuristics, in the order they tend to win. Huge graphs
  // (millions of vertices) run only the first ones: ~1e7 * effort
  // vertex+edge visits, at least one. Without edge costs the linear clusters
  // cannot shorten anything, so Graham's list schedule goes first there.
  const double size = static_cast<double>(d.n + d.succ.size());
  const auto constructive = std::max<std::size_t>(1, static_cast<std::size_t>(std::max(opt.effort, 0.1) * 1e7 / std::max(size, 1.0)));
  std::size_t built = 0;
  auto construct = [&](auto&& make, const char* name) {
    if (ms.optimal() || built >= constructive) return;
    ++built;
    ms.offer(make(), name);
  };
  if (!d.has_comm) construct([&] { return list_schedule_time(d, P, bl); }, "Graham list by bottom level");
  construct([&] { return list_schedule_tasks(d, P, bl, affinity()); }, "linear clusters by bottom level");
  construct([&] { return list_schedule_tasks(d, P, bl); }, "HLFET/ETF");
  construct([&] { return list_schedule_tasks(d, P, misf); }, "CP/MISF");
  if (!d.has_comm) construct([&] { return list_schedule_time(d, P, misf); }, "Graham list CP/MISF");

  clock.lap("heuristics");
  if (opt.effort > 0 && !ms.optimal()) {
    // The search is bounded by a deterministic budget of list-scheduling
    // passes (~3e5 * effort vertex+edge visits in all), so results do not
    // depend on the machine; the time limit is only a safety net.
    ms.budget = ms.report.passes + static_cast<std::size_t>(opt.effort * 3e5 / std::max(size, 1.0));
    const bool time_driven = !d.has_comm;
    if (ms.can_search()) ms.offer(ms.improve(ms.best, time_driven), "forward-backward improvement");
    if (!d.has_comm && !ms.optimal() && ms.can_search()) ms.offer(ms.improve(ms.best, false), "forward-backward improvement");
    // Graphs of at most bnb_max_n vertices without edge costs: exact search
    // with a node budget (a node costs O(V+E)), in two rounds: 20000 x effort
    // nodes now (root proofs and quick wins), and on more than 64 vertices
    // 1e8 x effort vertex+edge visits (about 0.4 s) after the restarts, so
    // that its wall time never cuts the restarts short.
    const bool exact = !d.has_comm && d.n <= bnb_max_n;
    auto run_exact = [&](double nodes) {
      bnb_result r = branch_and_bound(d, {.workers = P, .node_limit = static_cast<std::uint64_t>(nodes)}, ms.best.start);
      if (r.makespan < ms.best.makespan) ms.offer(list_result{std::move(r.worker), std::move(r.start), {}, r.makespan}, "branch and bound");
      ms.proven = r.optimal;
      ms.proven_bound = std::max(ms.proven_bound, r.lower_bound);  // the restarts stop when they reach it
    };
    if (exact && !ms.optimal()) run_exact(opt.effort * 20000.0);
    std::mt19937_64 rng(opt.seed);
    std::vector<double> key(d.n);
    for (std::size_t k = 0; !ms.optimal() && ms.can_search(); ++k) {
      const double amp = 0.02 + 0.3 * static_cast<double>(k % 8) / 8;
      std::uniform_real_distribution<double> noise(1 - amp, 1 + amp);
      for (std::size_t v = 0; v < d.n; ++v) key[v] = lv.bottom[v] * noise(rng);
      const bool td = !d.has_comm && (k % 2 == 0);
      list_result r = ms.pass(d, priority{key, {}}, td);
      ++ms.report.passes;
      ms.offer(ms.improve(std::move(r), td), "perturbed bottom level + forward-backward");
    }
    if (exact && d.n > 64 && !ms.optimal()) run_exact(opt.effort * std::max(20000.0, 1e8 / std::max(size, 1.0)));
  }
  ms.report.proven_optimal = ms.optimal();
  clock.lap("search");
  schedule s = to_schedule(d, P, ms.best, ms.report.makespan);
  clock.lap("schedule");
  return {std::move(s), ms.report};
}

inline std::pair<schedule, merge_report> merge(const flat_dag& d, const clustering& cl, const merge_options& opt) {
  return merge(d, compute_levels(d), [&]() -> const clustering& { return cl; }, opt);
}

}  // namespace detail

/// Merges linear clusters onto `opt.workers` workers (see the file comment
/// for the heuristics). Returns the schedule; `report` (optional) says which
/// heuristic won and how close it is to the lower bound.
template <class Graph, class CostMap, class CommMap = no_edge_cost>
schedule merge_clusters(const Graph& g, const clustering& cl, const CostMap& cost, const CommMap& comm = {},
                        const merge_options& opt = {}, merge_report* report = nullptr) {
  detail::check_graph<Graph>();
  detail::check_vertex_cost<CostMap, Graph>();
  detail::check_edge_cost<CommMap, Graph>();
  const auto d = detail::make_flat_dag(g, cost, comm);
  if (cl.cluster_of.size() != d.n) throw graph_error("the clustering does not match the graph");
  auto [s, r] = detail::merge(d, cl, opt);
  if (report) *report = r;
  return s;
}

}  // namespace dfgpar
