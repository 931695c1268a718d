#pragma once
/// \file levels.hpp
/// Top and bottom levels of every vertex.
///
/// With vertex cost w and edge cost c:
///   tl(v) = max over predecessors u of tl(u) + w(u) + c(u,v)   (0 at entries)
///   bl(v) = w(v) + max over successors s of c(v,s) + bl(s)       (w(v) at exits)
/// and the critical path length is max over v of tl(v) + bl(v). One
/// topological sweep each, O(V+E).

#include <dfgpar/concepts.hpp>
#include <dfgpar/detail/flat_dag.hpp>

#include <algorithm>
#include <vector>

namespace dfgpar {

/// Per-vertex levels, indexed by vertex index.
struct levels {
  std::vector<double> top;     ///< tl(v): earliest start if every worker were free
  std::vector<double> bottom;  ///< bl(v): length of the longest path from v to an exit, w(v) included
  double critical_path = 0;    ///< max tl(v) + bl(v)
};

namespace detail {

inline levels compute_levels(const flat_dag& d) {
  levels l;
  l.top.assign(d.n, 0.0);
  l.bottom.assign(d.n, 0.0);
  for (std::uint32_t v : d.topo) {
    double t = 0;
    for (const arc& a : d.preds(v)) t = std::max(t, l.top[a.v] + d.w[a.v] + a.cost);
    l.top[v] = t;
  }
  for (auto it = d.topo.rbegin(); it != d.topo.rend(); ++it) {
    double b = 0;
    for (const arc& a : d.succs(*it)) b = std::max(b, a.cost + l.bottom[a.v]);
    l.bottom[*it] = d.w[*it] + b;
  }
  for (std::size_t v = 0; v < d.n; ++v) l.critical_path = std::max(l.critical_path, l.top[v] + l.bottom[v]);
  return l;
}

}  // namespace detail

/// Top level, bottom level and critical path length of a dataflow graph.
/// \code auto l = dfgpar::compute_levels(g, get(boost::vertex_weight, g)); \endcode
template <class Graph, class CostMap, class CommMap = no_edge_cost>
levels compute_levels(const Graph& g, const CostMap& cost, const CommMap& comm = {}) {
  detail::check_graph<Graph>();
  detail::check_vertex_cost<CostMap, Graph>();
  detail::check_edge_cost<CommMap, Graph>();
  return detail::compute_levels(detail::make_flat_dag(g, cost, comm));
}

}  // namespace dfgpar
