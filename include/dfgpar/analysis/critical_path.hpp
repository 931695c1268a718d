#pragma once
/// \file critical_path.hpp
/// The longest path through a dataflow graph (length and vertex sequence).

#include <dfgpar/analysis/levels.hpp>

#include <vector>

namespace dfgpar {

/// A critical path: its length and its vertices (as descriptors), entry first.
template <class Vertex>
struct critical_path_result {
  double length = 0;
  std::vector<Vertex> vertices;
};

namespace detail {

/// Vertex indices of one longest path, from an entry to an exit.
inline std::vector<std::uint32_t> critical_path_indices(const flat_dag& d, const levels& l) {
  std::vector<std::uint32_t> path;
  if (d.n == 0) return path;
  std::uint32_t v = 0;
  double best = -1;
  for (std::uint32_t u : d.topo)  // first entry vertex with maximal bottom level
    if (d.preds(u).empty() && l.bottom[u] > best) best = l.bottom[u], v = u;
  for (;;) {
    path.push_back(v);
    const double rest = l.bottom[v] - d.w[v];
    bool moved = false;
    for (const arc& a : d.succs(v))
      if (a.cost + l.bottom[a.v] >= rest) {  // the successor that realises bl(v)
        v = a.v;
        moved = true;
        break;
      }
    if (!moved) break;
  }
  return path;
}

}  // namespace detail

/// Length and vertex sequence of a critical path.
/// \code auto cp = dfgpar::critical_path(g, cost); // cp.length, cp.vertices \endcode
template <class Graph, class CostMap, class CommMap = no_edge_cost>
critical_path_result<detail::vertex_t<Graph>> critical_path(const Graph& g, const CostMap& cost,
                                                            const CommMap& comm = {}) {
  detail::check_graph<Graph>();
  detail::check_vertex_cost<CostMap, Graph>();
  detail::check_edge_cost<CommMap, Graph>();
  const auto d = detail::make_flat_dag(g, cost, comm);
  const auto l = detail::compute_levels(d);
  const auto by_index = detail::vertices_by_index(g);
  critical_path_result<detail::vertex_t<Graph>> r;
  r.length = l.critical_path;
  for (auto i : detail::critical_path_indices(d, l)) r.vertices.push_back(by_index[i]);
  return r;
}

}  // namespace dfgpar
