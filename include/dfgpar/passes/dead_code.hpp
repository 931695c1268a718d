#pragma once
/// \file dead_code.hpp
/// Dead-code elimination driven by a liveness policy: a vertex is live when
/// it is an output, has side effects, or a live vertex needs its value.
///
/// A vertex folded to a constant (see constant_folding.hpp) is live when a
/// live vertex reads it, but its own inputs are not needed any more: its
/// value is known. `live_vertices` only marks; `prune` (prune.hpp) rebuilds
/// the graph without the dead vertices.
/// \code
///   auto live   = dfgpar::live_vertices(g, sem, constant);
///   auto pruned = dfgpar::prune(g, live, constant);
/// \endcode

#include <dfgpar/concepts.hpp>
#include <dfgpar/detail/flat_dag.hpp>
#include <dfgpar/error.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace dfgpar {

/// What dead-code elimination needs to know about the vertices of a graph G.
///
/// * `s.is_output(v)`: v's value leaves the graph (a graph output).
/// * `s.has_side_effects(v)`: v must run even when nobody reads its value
///   (I/O, state updates, assertions). Constant folding never folds it.
template <class S, class G>
concept liveness_semantics = dataflow_graph<G> && requires(S& s, detail::vertex_t<G> v) {
  { s.is_output(v) } -> std::convertible_to<bool>;
  { s.has_side_effects(v) } -> std::convertible_to<bool>;
};

namespace detail {

template <class S, class G>
constexpr void check_liveness_semantics() {
  static_assert(liveness_semantics<S, G>,
                "dfgpar: the liveness policy must provide, for a vertex_descriptor v, s.is_output(v) -> bool and "
                "s.has_side_effects(v) -> bool (see passes/dead_code.hpp)");
}

/// Backward reachability on the flat graph from `root`, not crossing into the
/// inputs of `known` vertices unless they are roots with side effects.
inline std::vector<char> live_from(const flat_dag& d, const std::vector<char>& root, const std::vector<char>& effect,
                                   const std::vector<char>& known) {
  std::vector<char> live(d.n, 0);
  std::vector<std::uint32_t> stack;
  for (std::uint32_t v = 0; v < d.n; ++v)
    if (root[v]) live[v] = 1, stack.push_back(v);
  while (!stack.empty()) {
    const std::uint32_t v = stack.back();
    stack.pop_back();
    // a known (folded) value needs none of its inputs; a side effect still runs on them
    if (!known.empty() && known[v] && !effect[v]) continue;
    for (const arc& a : d.preds(v))
      if (!live[a.v]) live[a.v] = 1, stack.push_back(a.v);
  }
  return live;
}

}  // namespace detail

/// Marks the live vertices of `g`: outputs, vertices with side effects, and
/// everything they read, transitively. `constant` (optional, by vertex index,
/// as returned by `fold_constants`) marks vertices whose value is known: they
/// stay live when read, but their inputs are not followed. Returns a mask by
/// vertex index. O(V+E).
/// \code std::vector<char> live = dfgpar::live_vertices(g, sem, constant); \endcode
template <class Graph, class Semantics>
std::vector<char> live_vertices(const Graph& g, Semantics& sem, const std::vector<char>& constant = {}) {
  detail::check_graph<Graph>();
  detail::check_liveness_semantics<Semantics, Graph>();
  const auto d = detail::make_flat_dag(g, detail::unit_cost{}, no_edge_cost{});
  if (!constant.empty() && constant.size() != d.n)
    throw graph_error("the constant mask has " + std::to_string(constant.size()) + " entries, the graph has " +
                      std::to_string(d.n) + " vertices");
  std::vector<char> root(d.n, 0), effect(d.n, 0);
  for (auto [it, end] = vertices(g); it != end; ++it) {
    const auto i = detail::index_of(g, *it);
    effect[i] = sem.has_side_effects(*it) ? 1 : 0;
    root[i] = effect[i] || sem.is_output(*it) ? 1 : 0;
  }
  return detail::live_from(d, root, effect, constant);
}

/// Same for a policy passed as a temporary.
template <class Graph, class Semantics>
  requires(!std::is_lvalue_reference_v<Semantics>)
std::vector<char> live_vertices(const Graph& g, Semantics&& sem, const std::vector<char>& constant = {}) {
  return live_vertices(g, sem, constant);
}

}  // namespace dfgpar
