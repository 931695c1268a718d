#pragma once
/// \file concepts.hpp
/// What dfgpar asks of a graph and of its cost maps.
///
/// A dataflow graph is a directed Boost.Graph that is a BidirectionalGraph
/// (in- and out-edges) and a VertexListGraph, and has a vertex index map
/// (`get(boost::vertex_index, g)`) numbering the vertices 0..n-1. Costs are
/// readable property maps to arithmetic values.

#include <boost/graph/graph_concepts.hpp>
#include <boost/graph/graph_traits.hpp>
#include <boost/graph/properties.hpp>
#include <boost/property_map/property_map.hpp>

#include <concepts>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

namespace dfgpar {

/// Opt-in for graph types whose `boost::graph_traits` is specialised without
/// member typedefs on the type itself (see examples/custom_graph.cpp):
/// `template <> inline constexpr bool dfgpar::enable_graph<my_graph> = true;`
template <class G>
inline constexpr bool enable_graph = false;

namespace detail {

// boost::graph_traits<G> hard-errors for non-graphs, so ask first whether G is
// a graph at all before anything touches the traits.
template <class G>
concept has_graph_typedefs = requires {
  typename G::vertex_descriptor;
  typename G::edge_descriptor;
  typename G::directed_category;
  typename G::traversal_category;
};

template <class G>
concept graph_type = std::is_class_v<G> && (has_graph_typedefs<G> || enable_graph<G>);

template <class G>
using vertex_t = typename boost::graph_traits<G>::vertex_descriptor;
template <class G>
using edge_t = typename boost::graph_traits<G>::edge_descriptor;

template <class G, class Tag>
concept traversal_has = std::is_convertible_v<typename boost::graph_traits<G>::traversal_category, Tag>;

template <class T>
concept arithmetic = std::is_arithmetic_v<std::remove_cvref_t<T>>;

}  // namespace detail

/// A directed BidirectionalGraph + VertexListGraph with a vertex index map.
template <class G>
concept dataflow_graph =
    detail::graph_type<G> &&
    std::is_convertible_v<typename boost::graph_traits<G>::directed_category, boost::directed_tag> &&
    detail::traversal_has<G, boost::bidirectional_graph_tag> &&
    detail::traversal_has<G, boost::vertex_list_graph_tag> &&
    requires(const G& g, detail::vertex_t<G> v, detail::edge_t<G> e) {
      { num_vertices(g) } -> std::convertible_to<std::size_t>;
      vertices(g);
      out_edges(v, g);
      in_edges(v, g);
      { source(e, g) } -> std::convertible_to<detail::vertex_t<G>>;
      { target(e, g) } -> std::convertible_to<detail::vertex_t<G>>;
      { get(get(boost::vertex_index, g), v) } -> std::convertible_to<std::size_t>;
    };

/// A readable property map from the vertices of G to an arithmetic cost.
template <class M, class G>
concept vertex_cost_map = dataflow_graph<G> && requires(const M& m, detail::vertex_t<G> v) {
  { get(m, v) } -> detail::arithmetic;
};

/// A readable property map from the edges of G to an arithmetic cost
/// (the time it takes to hand the edge's value to another worker).
template <class M, class G>
concept edge_cost_map = dataflow_graph<G> && requires(const M& m, detail::edge_t<G> e) {
  { get(m, e) } -> detail::arithmetic;
};

/// The edge cost map used when none is given: every edge costs 0.
struct no_edge_cost {
  template <class Key>
  friend constexpr double get(const no_edge_cost&, const Key&) noexcept {
    return 0.0;
  }
};

namespace detail {

template <class G>
constexpr void check_graph() {
  static_assert(graph_type<G>,
                "dfgpar: the type is not a Boost.Graph graph (no vertex_descriptor/edge_descriptor/"
                "directed_category/traversal_category typedefs; for a graph_traits specialisation set "
                "dfgpar::enable_graph<G> = true)");
  if constexpr (graph_type<G>) {
    static_assert(std::is_convertible_v<typename boost::graph_traits<G>::directed_category, boost::directed_tag>,
                  "dfgpar: the graph must be directed");
    static_assert(traversal_has<G, boost::bidirectional_graph_tag>,
                  "dfgpar: the graph must be a BidirectionalGraph (use bidirectionalS; in_edges are needed)");
    static_assert(traversal_has<G, boost::vertex_list_graph_tag>,
                  "dfgpar: the graph must be a VertexListGraph (vertices(g), num_vertices(g))");
    static_assert(dataflow_graph<G>,
                  "dfgpar: the graph must provide get(boost::vertex_index, g) numbering vertices 0..n-1");
  }
}

template <class M, class G>
constexpr void check_vertex_cost() {
  static_assert(vertex_cost_map<M, G>,
                "dfgpar: the cost map must be a readable property map from vertex_descriptor to an arithmetic "
                "type (get(cost, v) -> number)");
}

template <class M, class G>
constexpr void check_edge_cost() {
  static_assert(edge_cost_map<M, G>,
                "dfgpar: the communication cost map must be a readable property map from edge_descriptor to an "
                "arithmetic type (get(comm, e) -> number)");
}

/// Vertex index of v as std::size_t.
template <class G>
std::size_t index_of(const G& g, vertex_t<G> v) {
  return static_cast<std::size_t>(get(get(boost::vertex_index, g), v));
}

/// Descriptors ordered by vertex index: lets index-based results map back.
template <class G>
std::vector<vertex_t<G>> vertices_by_index(const G& g) {
  std::vector<vertex_t<G>> out(num_vertices(g));
  for (auto [it, end] = vertices(g); it != end; ++it) out[index_of(g, *it)] = *it;
  return out;
}

}  // namespace detail
}  // namespace dfgpar
