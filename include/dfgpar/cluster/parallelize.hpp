#pragma once
/// \file parallelize.hpp
/// The whole pipeline in one call: levels, critical-path linear clustering,
/// merging onto P workers, optional cloning; returns a finalized schedule.

#include <dfgpar/cluster/linear_clustering.hpp>
#include <dfgpar/cluster/merge.hpp>
#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/concepts.hpp>
#include <dfgpar/passes/cloning.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace dfgpar {

/// Options of `parallelize`, meant for designated initialisers:
/// `dfgpar::options{.workers = 4, .clone = true}`.
struct options {
  std::size_t workers = 2;              ///< P: workers to schedule onto
  bool clone = false;                   ///< clone cheap vertices into consumer workers when it shortens the makespan
                                        ///< (without a policy: cost below default_clone_cost_fraction x the mean cost)
  double effort = 1.0;                  ///< search effort of the merge step (0: constructive only)
  std::uint64_t seed = 1;               ///< seed of the randomised search (deterministic per seed)
  double time_limit_ms = 1000;          ///< cap on the merge step's improvement search
  merge_report* report = nullptr;       ///< if set, receives what the merge step found
};

namespace detail {
inline merge_options to_merge_options(const options& o) {
  return merge_options{.workers = o.workers, .effort = o.effort, .seed = o.seed, .time_limit_ms = o.time_limit_ms};
}
/// `may_clone` (by vertex index) turns cloning on with that policy; without
/// it `o.clone` turns it on with the default policy.
inline schedule parallelize(const flat_dag& d, const options& o, const std::vector<char>* may_clone = nullptr) {
  const auto t0 = std::chrono::steady_clock::now();
  // One level computation serves the bounds, the priorities and (when a
  // heuristic needs it) the clustering.
  const levels lv = compute_levels(d);
  const double levels_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::optional<clustering> cl;
  auto clusters = [&]() -> const clustering& {
    if (!cl) cl = linear_clustering(d, lv);
    return *cl;
  };
  auto [s, r] = merge(d, lv, clusters, to_merge_options(o));
  r.phase_ms.insert(r.phase_ms.begin(), {"levels", levels_ms});
  if (may_clone != nullptr || o.clone) {
    const auto c0 = std::chrono::steady_clock::now();
    const std::size_t copies = may_clone != nullptr ? clone_vertices(d, s, *may_clone, clone_options{.time_limit_ms = o.time_limit_ms})
                                                    : clone_vertices(d, s, default_clone_mask(d), clone_options{.time_limit_ms = o.time_limit_ms});
    if (copies > 0) {
      r.makespan = simulate(d, make_plan(d, s)).makespan;
      r.heuristic += " + cloning (" + std::to_string(copies) + (copies == 1 ? " copy)" : " copies)");
    }
    r.phase_ms.emplace_back("cloning", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - c0).count());
  }
  if (o.report) *o.report = std::move(r);
  return s;
}
}  // namespace detail

/// Clusters `g` along its critical paths and maps the clusters onto
/// `o.workers` workers. Edge costs (`comm`) are paid only between workers.
/// \code auto s = dfgpar::parallelize(g, cost, comm, dfgpar::options{.workers = 4}); \endcode
template <class Graph, class CostMap, class CommMap>
  requires(!std::is_same_v<std::remove_cvref_t<CommMap>, options>)
schedule parallelize(const Graph& g, const CostMap& cost, const CommMap& comm, const options& o = {}) {
  detail::check_graph<Graph>();
  detail::check_vertex_cost<CostMap, Graph>();
  detail::check_edge_cost<CommMap, Graph>();
  const auto t0 = std::chrono::steady_clock::now();
  const auto d = detail::make_flat_dag(g, cost, comm);
  const double flat_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  schedule s = detail::parallelize(d, o);
  if (o.report) o.report->phase_ms.insert(o.report->phase_ms.begin(), {"flat graph", flat_ms});
  return s;
}

/// Same, cloning the vertices `policy` allows (see passes/cloning.hpp)
/// wherever that shortens the makespan; giving a policy turns cloning on
/// whatever `o.clone` says (pass `clone_none{}` to turn it off).
/// \code auto s = dfgpar::parallelize(g, cost, comm, dfgpar::options{.workers = 4}, dfgpar::clone_all{}); \endcode
template <class Graph, class CostMap, class CommMap, class Policy>
  requires(!std::is_same_v<std::remove_cvref_t<CommMap>, options>)
schedule parallelize(const Graph& g, const CostMap& cost, const CommMap& comm, const options& o, Policy&& policy) {
  detail::check_graph<Graph>();
  detail::check_vertex_cost<CostMap, Graph>();
  detail::check_edge_cost<CommMap, Graph>();
  detail::check_clone_policy<std::remove_reference_t<Policy>, Graph>();
  const auto d = detail::make_flat_dag(g, cost, comm);  // checks the vertex indices first
  const auto may = detail::clone_mask(g, policy);
  return detail::parallelize(d, o, &may);
}

/// Same without communication costs.
/// \code auto s = dfgpar::parallelize(g, cost, dfgpar::options{.workers = 4}); \endcode
template <class Graph, class CostMap>
schedule parallelize(const Graph& g, const CostMap& cost, const options& o = {}) {
  return parallelize(g, cost, no_edge_cost{}, o);
}

/// Same with a clone policy and without communication costs (cloning then
/// only helps where a worker would otherwise idle waiting for a value).
template <class Graph, class CostMap, class Policy>
schedule parallelize(const Graph& g, const CostMap& cost, const options& o, Policy&& policy) {
  return parallelize(g, cost, no_edge_cost{}, o, std::forward<Policy>(policy));
}

}  // namespace dfgpar
