#pragma once
/// \file makespan.hpp
/// Simulated makespan of a schedule: every vertex starts when its worker is
/// free and every input has arrived (plus the edge's communication cost when
/// the input comes from another worker). A multi-core copy also waits until
/// its reserved workers are free, and they wait for it.
///
/// With a plain cost map, get(cost, v) is the time of every copy of v
/// whatever its cores; with a moldable cost (cluster/moldable_cost.hpp) a
/// copy on k cores takes t(v, k).

#include <dfgpar/cluster/moldable_cost.hpp>
#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/concepts.hpp>
#include <dfgpar/detail/plan.hpp>

namespace dfgpar {

/// Simulated makespan. Throws graph_error when the schedule does not fit the
/// graph or deadlocks.
/// \code double m = dfgpar::makespan(g, s, cost); \endcode
template <class Graph, class CostMap, class CommMap = no_edge_cost>
  requires(!moldable_cost<CostMap, Graph>)
double makespan(const Graph& g, const schedule& s, const CostMap& cost, const CommMap& comm = {}) {
  detail::check_graph<Graph>();
  detail::check_vertex_cost<CostMap, Graph>();
  detail::check_edge_cost<CommMap, Graph>();
  const auto d = detail::make_flat_dag(g, cost, comm);
  return detail::simulate(d, detail::make_plan(d, s)).makespan;
}

/// Simulated makespan under a moldable cost: a copy on k cores takes t(v, k)
/// (the repaired table, see moldable_cost.hpp).
/// \code double m = dfgpar::makespan(g, s, dfgpar::amdahl_cost(time, serial)); \endcode
template <class Graph, class Moldable, class CommMap = no_edge_cost>
  requires moldable_cost<Moldable, Graph>
double makespan(const Graph& g, const schedule& s, const Moldable& cost, const CommMap& comm = {}) {
  detail::check_graph<Graph>();
  detail::check_edge_cost<CommMap, Graph>();
  const auto tab = detail::make_moldable_table(g, cost, s.workers);
  const auto d = detail::flat_dag_of(g, tab, comm);
  const auto p = detail::make_plan(d, s);
  return detail::simulate(d, p, detail::step_times(p, tab)).makespan;
}

/// Simulated start and finish of every cluster (earliest start and latest
/// finish of its vertices), indexed like `s.clusters`.
struct cluster_times {
  std::vector<double> start, finish;
  double makespan = 0;
};

namespace detail {
inline cluster_times times_of_clusters(const flat_dag& d, const schedule& s, std::span<const double> step_time = {}) {
  const auto p = make_plan(d, s);
  const auto t = simulate(d, p, step_time);
  cluster_times ct;
  ct.start.assign(s.clusters.size(), std::numeric_limits<double>::infinity());
  ct.finish.assign(s.clusters.size(), 0.0);
  for (std::size_t id = 0; id < p.steps.size(); ++id) {
    const auto c = p.steps[id].cluster;
    ct.start[c] = std::min(ct.start[c], t.start[id]);
    ct.finish[c] = std::max(ct.finish[c], t.finish[id]);
  }
  for (auto& x : ct.start)
    if (x == std::numeric_limits<double>::infinity()) x = 0;
  ct.makespan = t.makespan;
  return ct;
}
}  // namespace detail

/// Start/finish of each cluster in the simulated schedule.
template <class Graph, class CostMap, class CommMap = no_edge_cost>
  requires(!moldable_cost<CostMap, Graph>)
cluster_times simulate_clusters(const Graph& g, const schedule& s, const CostMap& cost, const CommMap& comm = {}) {
  detail::check_graph<Graph>();
  detail::check_vertex_cost<CostMap, Graph>();
  detail::check_edge_cost<CommMap, Graph>();
  return detail::times_of_clusters(detail::make_flat_dag(g, cost, comm), s);
}

/// Same under a moldable cost.
template <class Graph, class Moldable, class CommMap = no_edge_cost>
  requires moldable_cost<Moldable, Graph>
cluster_times simulate_clusters(const Graph& g, const schedule& s, const Moldable& cost, const CommMap& comm = {}) {
  detail::check_graph<Graph>();
  detail::check_edge_cost<CommMap, Graph>();
  const auto tab = detail::make_moldable_table(g, cost, s.workers);
  const auto d = detail::flat_dag_of(g, tab, comm);
  return detail::times_of_clusters(d, s, detail::step_times(detail::make_plan(d, s), tab));
}

}  // namespace dfgpar
