#pragma once
/// \file linear_clustering.hpp
/// Critical-path linear clustering: repeatedly take the longest path through
/// the vertices not yet clustered and make it a cluster.
///
/// Levels are kept for the unclustered subgraph and updated incrementally:
/// when a path is removed only the bottom levels of its ancestors and the top
/// levels of its descendants can shrink, and they are recomputed in
/// topological order, stopping wherever a value does not change. The next
/// path is found through a max-heap of tl+bl with lazy invalidation (values
/// only decrease, so a stale heap key is never too small).

#include <dfgpar/analysis/levels.hpp>
#include <dfgpar/concepts.hpp>
#include <dfgpar/detail/flat_dag.hpp>

#include <cstdint>
#include <algorithm>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

namespace dfgpar {

/// Linear clusters: each a path of the graph (every vertex feeds the next),
/// longest first. Vertex indices.
struct clustering {
  std::vector<std::vector<std::size_t>> clusters;
  std::vector<std::size_t> cluster_of;  ///< per vertex index
};

namespace detail {

/// Clusters `d` starting from its levels `l` (`compute_levels(d)`, taken by
/// value: they are updated as paths are removed), so that a caller that
/// needs the levels anyway computes them once.
inline clustering linear_clustering(const flat_dag& d, levels l) {
  clustering out;
  out.cluster_of.assign(d.n, SIZE_MAX);
  if (d.n == 0) return out;
  std::vector<double>& tl = l.top;
  std::vector<double>& bl = l.bottom;
  std::vector<char> alive(d.n, 1);

  using entry = std::pair<double, std::uint32_t>;
  std::vector<entry> best;  // max-heap of tl+bl
  best.reserve(d.n);
  for (std::uint32_t v = 0; v < d.n; ++v) best.emplace_back(tl[v] + bl[v], v);
  std::make_heap(best.begin(), best.end());
  // worklists keyed by topological position; `queued` avoids duplicates
  std::priority_queue<std::uint32_t> up;                                                 // bl: latest first
  std::priority_queue<std::uint32_t, std::vector<std::uint32_t>, std::greater<>> down;  // tl: earliest first
  std::vector<char> queued_up(d.n, 0), queued_down(d.n, 0);
  std::vector<std::uint32_t> path;
  // Incremental updates are exact but can touch most of a dense random DAG
  // per cluster; past a budget (a few passes over the graph, at most ~4M
  // edge visits) the levels are frozen (they stay upper bounds) so the whole
  // run stays O((V+E) log V). ML models (thousands of nodes) stay exact.
  std::size_t update_budget = std::min<std::size_t>(4 * (d.n + d.succ.size()), std::size_t{1} << 22) + 1024;

  // Once frozen, keys no longer change: the rest is taken from one sorted
  // array instead of the heap (cheaper on millions of vertices).
  std::vector<entry> frozen;
  std::size_t frozen_next = 0;
  for (;;) {
    std::uint32_t v = 0;
    if (update_budget > 0) {
      if (best.empty()) break;
      std::pop_heap(best.begin(), best.end());
      const auto [key, top] = best.back();
      best.pop_back();
      if (!alive[top]) continue;
      if (key != tl[top] + bl[top]) {  // stale
        best.emplace_back(tl[top] + bl[top], top);
        std::push_heap(best.begin(), best.end());
        continue;
      }
      v = top;
    } else {
      if (frozen_next == 0 && frozen.empty()) {
        frozen.reserve(best.size());
        for (const auto& [key, u] : best)
          if (alive[u]) frozen.emplace_back(tl[u] + bl[u], u);
        best = {};
        std::sort(frozen.begin(), frozen.end(), std::greater<>{});
        frozen.erase(std::unique(frozen.begin(), frozen.end()), frozen.end());
      }
      while (frozen_next < frozen.size() && !alive[frozen[frozen_next].second]) ++frozen_next;
      if (frozen_next == frozen.size()) break;
      v = frozen[frozen_next++].second;
    }
    // Walk back to an entry, then forward to an exit, along tight edges.
    path.clear();
    std::uint32_t u = v;
    for (;;) {
      std::uint32_t next = UINT32_MAX;  // the alive predecessor on the longest way in (tight when levels are exact)
      double best_in = -1;
      for (const arc& a : d.preds(u))
        if (alive[a.v] && tl[a.v] + d.w[a.v] + a.cost > best_in) best_in = tl[a.v] + d.w[a.v] + a.cost, next = a.v;
      if (next == UINT32_MAX) break;
      path.push_back(next);
      u = next;
    }
    std::reverse(path.begin(), path.end());
    path.push_back(v);
    u = v;
    for (;;) {
      std::uint32_t next = UINT32_MAX;
      double best_out = -1;
      for (const arc& a : d.succs(u))
        if (alive[a.v] && a.cost + bl[a.v] > best_out) best_out = a.cost + bl[a.v], next = a.v;
      if (next == UINT32_MAX) break;
      path.push_back(next);
      u = next;
    }
    const std::size_t id = out.clusters.size();
    out.clusters.emplace_back();
    for (std::uint32_t x : path) {
      alive[x] = 0;
      out.cluster_of[x] = id;
      out.clusters.back().push_back(x);
    }
    // Incremental level update of the remaining subgraph.
    if (update_budget == 0) continue;
    for (std::uint32_t x : path) {
      for (const arc& a : d.preds(x))
        if (alive[a.v] && !queued_up[a.v]) queued_up[a.v] = 1, up.push(d.topo_pos[a.v]);
      for (const arc& a : d.succs(x))
        if (alive[a.v] && !queued_down[a.v]) queued_down[a.v] = 1, down.push(d.topo_pos[a.v]);
    }
    while (!up.empty() && update_budget > 0) {
      const std::uint32_t x = d.topo[up.top()];
      up.pop();
      queued_up[x] = 0;
      double b = 0;
      update_budget -= std::min(update_budget, d.succs(x).size() + 1);
      for (const arc& a : d.succs(x))
        if (alive[a.v]) b = std::max(b, a.cost + bl[a.v]);
      if (d.w[x] + b == bl[x]) continue;
      bl[x] = d.w[x] + b;
      for (const arc& a : d.preds(x))
        if (alive[a.v] && !queued_up[a.v]) queued_up[a.v] = 1, up.push(d.topo_pos[a.v]);
    }
    while (!down.empty() && update_budget > 0) {
      const std::uint32_t x = d.topo[down.top()];
      down.pop();
      queued_down[x] = 0;
      double t = 0;
      update_budget -= std::min(update_budget, d.preds(x).size() + 1);
      for (const arc& a : d.preds(x))
        if (alive[a.v]) t = std::max(t, tl[a.v] + d.w[a.v] + a.cost);
      if (t == tl[x]) continue;
      tl[x] = t;
      for (const arc& a : d.succs(x))
        if (alive[a.v] && !queued_down[a.v]) queued_down[a.v] = 1, down.push(d.topo_pos[a.v]);
    }
    if (update_budget == 0) {  // frozen from now on
      up = {};
      down = {};
    }
  }
  return out;
}

inline clustering linear_clustering(const flat_dag& d) { return linear_clustering(d, compute_levels(d)); }

}  // namespace detail

/// Critical-path linear clustering (edges inside a cluster cost nothing).
/// \code auto cl = dfgpar::linear_clustering(g, cost, comm); // cl.clusters[0] is a critical path \endcode
template <class Graph, class CostMap, class CommMap = no_edge_cost>
clustering linear_clustering(const Graph& g, const CostMap& cost, const CommMap& comm = {}) {
  detail::check_graph<Graph>();
  detail::check_vertex_cost<CostMap, Graph>();
  detail::check_edge_cost<CommMap, Graph>();
  return detail::linear_clustering(detail::make_flat_dag(g, cost, comm));
}

}  // namespace dfgpar
