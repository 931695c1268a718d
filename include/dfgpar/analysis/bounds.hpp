#pragma once
/// \file bounds.hpp
/// Total work W, critical path CP, and the makespan lower bound max(CP, W/P).

#include <dfgpar/analysis/levels.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace dfgpar {

/// Work/span figures of a graph for P workers.
struct bounds {
  double work = 0;           ///< W: sum of vertex costs
  double critical_path = 0;  ///< CP without communication costs (any schedule is at least this long)
  std::size_t workers = 1;   ///< P
  double lower_bound = 0;    ///< max(CP, W/P); W/P rounded up when every cost is an integer
  /// Inter-operator parallelism W/CP (1 for a chain).
  double parallelism() const { return critical_path > 0 ? work / critical_path : 1.0; }
};

namespace detail {

/// max(CP, W/P) from a critical path `cp` computed without edge costs.
inline bounds bounds_from_critical_path(const flat_dag& d, std::size_t workers, double cp) {
  bounds b;
  b.workers = std::max<std::size_t>(workers, 1);
  b.work = d.total_work();
  b.critical_path = cp;
  double share = b.work / static_cast<double>(b.workers);
  // with integer costs (as in STG) some worker gets at least ceil(W/P)
  bool integral = true;
  for (double x : d.w) integral = integral && x == std::floor(x) && x < 9e15;
  if (integral) share = std::ceil(share);
  b.lower_bound = std::max(b.critical_path, share);
  return b;
}

inline bounds compute_bounds(const flat_dag& d, std::size_t workers) {
  // Communication can always be avoided by running a path on one worker, so
  // the bound uses CP without edge costs.
  std::vector<double> bl(d.n, 0.0);
  double cp = 0;
  for (auto it = d.topo.rbegin(); it != d.topo.rend(); ++it) {
    double m = 0;
    for (const arc& a : d.succs(*it)) m = std::max(m, bl[a.v]);
    bl[*it] = d.w[*it] + m;
    cp = std::max(cp, bl[*it]);
  }
  return bounds_from_critical_path(d, workers, cp);
}

/// Same, reusing the bottom levels of `lv` (`compute_levels(d)`) when the
/// graph has no edge costs: they are then the ones above, bit for bit.
inline bounds compute_bounds(const flat_dag& d, std::size_t workers, const levels& lv) {
  if (d.has_comm) return compute_bounds(d, workers);
  double cp = 0;
  for (double b : lv.bottom) cp = std::max(cp, b);
  return bounds_from_critical_path(d, workers, cp);
}

}  // namespace detail

/// W, CP and the lower bound max(CP, W/P) on the makespan of any schedule.
template <class Graph, class CostMap>
bounds compute_bounds(const Graph& g, const CostMap& cost, std::size_t workers) {
  detail::check_graph<Graph>();
  detail::check_vertex_cost<CostMap, Graph>();
  return detail::compute_bounds(detail::make_flat_dag(g, cost, no_edge_cost{}), workers);
}

}  // namespace dfgpar
