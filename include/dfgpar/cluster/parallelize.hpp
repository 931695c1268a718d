#pragma once
/// \file parallelize.hpp
/// The whole pipeline in one call: levels, critical-path linear clustering,
/// merging onto P workers, optional cloning; returns a finalized schedule.

#include <dfgpar/cluster/linear_clustering.hpp>
#include <dfgpar/cluster/merge.hpp>
#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/concepts.hpp>

namespace dfgpar {

/// Options of `parallelize`, meant for designated initialisers:
/// `dfgpar::options{.workers = 4, .clone = true}`.
struct options {
  std::size_t workers = 2;              ///< P: workers to schedule onto
  bool clone = false;                   ///< clone cheap vertices into consumer workers when it shortens the makespan
  double effort = 1.0;                  ///< search effort of the merge step (0: constructive only)
  std::uint64_t seed = 1;               ///< seed of the randomised search (deterministic per seed)
  double time_limit_ms = 1000;          ///< cap on the merge step's improvement search
  merge_report* report = nullptr;       ///< if set, receives what the merge step found
};

namespace detail {
inline merge_options to_merge_options(const options& o) {
  return merge_options{.workers = o.workers, .effort = o.effort, .seed = o.seed, .time_limit_ms = o.time_limit_ms};
}
inline schedule parallelize(const flat_dag& d, const options& o) {
  const clustering cl = linear_clustering(d);
  auto [s, r] = merge(d, cl, to_merge_options(o));
  if (o.report) *o.report = r;
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
  return detail::parallelize(detail::make_flat_dag(g, cost, comm), o);
}

/// Same without communication costs.
/// \code auto s = dfgpar::parallelize(g, cost, dfgpar::options{.workers = 4}); \endcode
template <class Graph, class CostMap>
schedule parallelize(const Graph& g, const CostMap& cost, const options& o = {}) {
  return parallelize(g, cost, no_edge_cost{}, o);
}

}  // namespace dfgpar
