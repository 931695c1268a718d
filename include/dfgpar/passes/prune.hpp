#pragma once
/// \file prune.hpp
/// Rebuilds a graph without the vertices a pass dropped.
///
/// With `vecS` vertex storage `remove_vertex` renumbers the vertices and
/// invalidates every descriptor, and CSR graphs cannot remove at all, so the
/// passes mark (a mask by vertex index) and this helper builds a fresh
/// `adjacency_list<vecS, vecS, bidirectionalS>` with the same bundled
/// properties, plus the index maps both ways.
/// \code
///   auto p = dfgpar::prune(g, live, constant);
///   // p.graph, p.old_index[new_v], p.new_index[old_v] (npos when dropped)
/// \endcode

#include <dfgpar/concepts.hpp>
#include <dfgpar/error.hpp>

#include <boost/graph/adjacency_list.hpp>

#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace dfgpar {

namespace detail {

template <class G>
struct vertex_bundle_of {
  using type = boost::no_property;
};
template <class G>
  requires requires { typename G::vertex_bundled; }
struct vertex_bundle_of<G> {
  using type = typename G::vertex_bundled;
};
template <class G>
struct edge_bundle_of {
  using type = boost::no_property;
};
template <class G>
  requires requires { typename G::edge_bundled; }
struct edge_bundle_of<G> {
  using type = typename G::edge_bundled;
};

}  // namespace detail

/// The graph type `prune` builds from a G: vecS/vecS/bidirectionalS with G's
/// bundled vertex and edge properties (no_property when G has none).
template <class G>
using pruned_graph_t = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS,
                                             typename detail::vertex_bundle_of<G>::type,
                                             typename detail::edge_bundle_of<G>::type>;

/// The result of `prune`: the new graph and the vertex index maps both ways.
template <class G>
struct pruned {
  static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();
  pruned_graph_t<G> graph;
  std::vector<std::size_t> old_index;  ///< per new vertex: its index in the old graph
  std::vector<std::size_t> new_index;  ///< per old vertex: its index in the new graph, npos when dropped
};

/// Builds a copy of `g` keeping the vertices with `keep[index]` set, in index
/// order, with their bundled properties. Edges between kept vertices are
/// copied (with their bundled properties, in out-edge order) except edges
/// into vertices with `folded[index]` set (optional): a folded vertex's value
/// is known, so it becomes a source. O(V+E).
template <class Graph>
pruned<Graph> prune(const Graph& g, const std::vector<char>& keep, const std::vector<char>& folded = {}) {
  detail::check_graph<Graph>();
  const std::size_t n = num_vertices(g);
  if (keep.size() != n)
    throw graph_error("prune: the keep mask has " + std::to_string(keep.size()) + " entries, the graph has " +
                      std::to_string(n) + " vertices");
  if (!folded.empty() && folded.size() != n)
    throw graph_error("prune: the folded mask has " + std::to_string(folded.size()) + " entries, the graph has " +
                      std::to_string(n) + " vertices");
  using out_graph = pruned_graph_t<Graph>;
  using vertex_bundle = typename detail::vertex_bundle_of<Graph>::type;
  using edge_bundle = typename detail::edge_bundle_of<Graph>::type;
  constexpr bool copy_vertex = !std::is_same_v<vertex_bundle, boost::no_property>;
  constexpr bool copy_edge = !std::is_same_v<edge_bundle, boost::no_property>;

  pruned<Graph> r;
  const auto by_index = detail::vertices_by_index(g);
  r.new_index.assign(n, pruned<Graph>::npos);
  for (std::size_t i = 0; i < n; ++i)
    if (keep[i]) {
      r.new_index[i] = r.old_index.size();
      r.old_index.push_back(i);
    }
  r.graph = out_graph(r.old_index.size());
  for (std::size_t k = 0; k < r.old_index.size(); ++k) {
    const auto v = by_index[r.old_index[k]];
    if constexpr (copy_vertex) r.graph[k] = g[v];
    for (auto [e, end] = out_edges(v, g); e != end; ++e) {
      const std::size_t t = detail::index_of(g, target(*e, g));
      if (!keep[t] || (!folded.empty() && folded[t])) continue;
      if constexpr (copy_edge)
        add_edge(k, r.new_index[t], g[*e], r.graph);
      else
        add_edge(k, r.new_index[t], r.graph);
    }
  }
  return r;
}

}  // namespace dfgpar
