#pragma once
/// \file finalize.hpp
/// Fills in the derived parts of a schedule (home copies, cross edges).

#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/concepts.hpp>
#include <dfgpar/detail/plan.hpp>

namespace dfgpar {

namespace detail {
/// Sets home[v] to the first cluster holding v where unset or out of range, then recomputes
/// cross_edges from the resolved plan, which it returns.
inline plan finalize(const flat_dag& d, schedule& s) {
  s.num_vertices = d.n;
  s.home.resize(d.n, schedule::npos);
  for (std::size_t c = 0; c < s.clusters.size(); ++c)
    for (std::size_t v : s.clusters[c].vertices)
      if (v < d.n && (s.home[v] == schedule::npos || s.home[v] >= s.clusters.size())) s.home[v] = c;
  const auto p = make_plan(d, s);
  s.cross_edges.clear();
  std::size_t k = 0;
  for (const auto& st : p.steps)
    for (auto i = st.dep_begin; i < st.dep_end; ++i) k += p.steps[p.deps[i].step].cluster != st.cluster ? 1 : 0;
  s.cross_edges.reserve(k);
  for (const auto& st : p.steps)
    for (auto i = st.dep_begin; i < st.dep_end; ++i) {
      const auto& src = p.steps[p.deps[i].step];
      if (src.cluster != st.cluster) s.cross_edges.push_back({src.vertex, st.vertex, src.cluster, st.cluster, src.worker != st.worker});
    }
  return p;
}
}  // namespace detail

/// Completes a hand-built schedule: home copies and cross edges. Throws
/// graph_error when the clusters do not fit the graph.
template <class Graph>
void finalize(const Graph& g, schedule& s) {
  detail::check_graph<Graph>();
  detail::finalize(detail::make_flat_dag(g, detail::unit_cost{}, no_edge_cost{}), s);
}

}  // namespace dfgpar
