#pragma once
// A flat, index-based copy of a dataflow graph with its costs: every
// algorithm in dfgpar runs on this after one O(V+E) conversion, so that the
// hot loops touch contiguous arrays whatever graph type the user has.

#include <dfgpar/concepts.hpp>
#include <dfgpar/error.hpp>


#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace dfgpar::detail {

struct arc {
  std::uint32_t v;   // the other end
  double cost;       // communication cost of the edge
};

/// A cost map giving every vertex cost 1 (for structure-only checks).
struct unit_cost {
  template <class K>
  friend constexpr double get(const unit_cost&, const K&) noexcept {
    return 1.0;
  }
};

struct flat_dag {
  std::size_t n = 0;
  std::vector<double> w;                 // vertex cost
  std::vector<std::size_t> succ_begin;   // CSR offsets, size n+1
  std::vector<arc> succ;
  std::vector<std::size_t> pred_begin;
  std::vector<arc> pred;
  std::vector<std::uint32_t> topo;       // a topological order
  std::vector<std::uint32_t> topo_pos;   // position of each vertex in topo
  bool has_comm = false;

  std::span<const arc> succs(std::size_t v) const { return {succ.data() + succ_begin[v], succ.data() + succ_begin[v + 1]}; }
  std::span<const arc> preds(std::size_t v) const { return {pred.data() + pred_begin[v], pred.data() + pred_begin[v + 1]}; }
  double total_work() const {
    double s = 0;
    for (double x : w) s += x;
    return s;
  }
};

/// Kahn's algorithm on the flat arrays; throws graph_error on a cycle.
inline void topological_order(flat_dag& d) {
  std::vector<std::uint32_t> indeg(d.n);
  for (std::size_t v = 0; v < d.n; ++v) indeg[v] = static_cast<std::uint32_t>(d.pred_begin[v + 1] - d.pred_begin[v]);
  d.topo.clear();
  d.topo.reserve(d.n);
  for (std::size_t v = 0; v < d.n; ++v)
    if (indeg[v] == 0) d.topo.push_back(static_cast<std::uint32_t>(v));
  for (std::size_t i = 0; i < d.topo.size(); ++i)
    for (const arc& a : d.succs(d.topo[i]))
      if (--indeg[a.v] == 0) d.topo.push_back(a.v);
  if (d.topo.size() != d.n) throw graph_error("the graph has a cycle (" + std::to_string(d.n - d.topo.size()) + " vertices on or behind cycles)");
  d.topo_pos.assign(d.n, 0);
  for (std::size_t i = 0; i < d.n; ++i) d.topo_pos[d.topo[i]] = static_cast<std::uint32_t>(i);
}

/// Builds the flat copy. Vertex i of the copy is the vertex with index i.
template <class G, class CostMap, class CommMap>
flat_dag make_flat_dag(const G& g, const CostMap& cost, const CommMap& comm) {
  flat_dag d;
  d.n = num_vertices(g);
  if (d.n >= std::size_t{UINT32_MAX}) throw graph_error("too many vertices (limit 2^32-1)");
  d.w.assign(d.n, 0.0);
  d.succ_begin.assign(d.n + 1, 0);
  d.pred_begin.assign(d.n + 1, 0);
  const auto index = get(boost::vertex_index, g);
  for (auto [it, end] = vertices(g); it != end; ++it) {
    const std::size_t i = get(index, *it);
    if (i >= d.n) throw graph_error("vertex index out of range 0..num_vertices-1");
    const double c = static_cast<double>(get(cost, *it));
    if (!(c >= 0) || c == std::numeric_limits<double>::infinity()) throw graph_error("vertex " + std::to_string(i) + " has a negative or non-finite cost");
    d.w[i] = c;
    d.succ_begin[i + 1] = static_cast<std::size_t>(out_degree(*it, g));
  }
  for (std::size_t i = 0; i < d.n; ++i) d.succ_begin[i + 1] += d.succ_begin[i];
  d.succ.resize(d.succ_begin[d.n]);
  std::vector<std::size_t> fill(d.succ_begin.begin(), d.succ_begin.end() - 1);
  for (auto [it, end] = vertices(g); it != end; ++it) {
    const std::size_t u = get(index, *it);
    for (auto [e, eend] = out_edges(*it, g); e != eend; ++e) {
      const std::size_t v = get(index, target(*e, g));
      const double c = static_cast<double>(get(comm, *e));
      if (!(c >= 0) || c == std::numeric_limits<double>::infinity()) throw graph_error("an edge has a negative or non-finite communication cost");
      if (c != 0) d.has_comm = true;
      if (v == u) throw graph_error("vertex " + std::to_string(u) + " has a self-loop");
      d.succ[fill[u]++] = arc{static_cast<std::uint32_t>(v), c};
      ++d.pred_begin[v + 1];
    }
  }
  for (std::size_t i = 0; i < d.n; ++i) d.pred_begin[i + 1] += d.pred_begin[i];
  d.pred.resize(d.pred_begin[d.n]);
  fill.assign(d.pred_begin.begin(), d.pred_begin.end() - 1);
  for (std::size_t u = 0; u < d.n; ++u)
    for (const arc& a : d.succs(u)) d.pred[fill[a.v]++] = arc{static_cast<std::uint32_t>(u), a.cost};
  topological_order(d);
  return d;
}

}  // namespace dfgpar::detail
