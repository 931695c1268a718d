#pragma once
/// \file constant_folding.hpp
/// Constant folding driven by an op-semantics policy: a vertex whose inputs
/// are all constant is evaluated once, at compile time, and becomes a
/// constant itself.
///
/// dfgpar knows nothing about what a vertex computes; the policy does. It
/// says which vertices are constants, which may be evaluated ahead of time,
/// and evaluates them (keeping the values itself, keyed however it likes).
/// The pass only decides the order (topological) and which vertices qualify.
/// \code
///   auto constant = dfgpar::fold_constants(g, my_semantics);   // mask by vertex index
///   auto live     = dfgpar::live_vertices(g, my_semantics, constant);
///   auto pruned   = dfgpar::prune(g, live, constant);
/// \endcode

#include <dfgpar/concepts.hpp>
#include <dfgpar/detail/flat_dag.hpp>

#include <concepts>
#include <cstddef>
#include <type_traits>
#include <vector>

namespace dfgpar {

/// What constant folding needs to know about the operations of a graph G.
///
/// * `s.is_constant(v)`: v is a source constant (a literal, a weight).
/// * `s.is_foldable(v)`: v is pure and may be evaluated ahead of time once
///   its inputs are known (false for inputs, random ops, I/O, ops the policy
///   cannot evaluate).
/// * `s.fold(v)`: evaluate v now and store the value. Called only when every
///   input of v is constant, after all of them were folded, in topological
///   order. Returns false to decline (e.g. the result would be too large to
///   keep as a constant); v then stays an ordinary vertex.
///
/// If the policy also has `s.has_side_effects(v)` (the liveness semantics of
/// dead-code elimination), vertices for which it is true are never folded,
/// whatever `is_foldable` says.
template <class S, class G>
concept op_semantics = dataflow_graph<G> && requires(S& s, detail::vertex_t<G> v) {
  { s.is_constant(v) } -> std::convertible_to<bool>;
  { s.is_foldable(v) } -> std::convertible_to<bool>;
  { s.fold(v) } -> std::convertible_to<bool>;
};

namespace detail {

template <class S, class G>
constexpr void check_op_semantics() {
  static_assert(op_semantics<S, G>,
                "dfgpar: the op-semantics policy must provide, for a vertex_descriptor v, s.is_constant(v) -> bool, "
                "s.is_foldable(v) -> bool and s.fold(v) -> bool (see passes/constant_folding.hpp)");
}

template <class S, class V>
bool side_effects_of(S& s, const V& v) {
  if constexpr (requires { { s.has_side_effects(v) } -> std::convertible_to<bool>; })
    return static_cast<bool>(s.has_side_effects(v));
  else
    return false;
}

}  // namespace detail

/// Folds constants through `sem` in topological order. Returns a mask by
/// vertex index: 1 for vertices whose value is known at compile time (source
/// constants and folded vertices), 0 otherwise. A vertex is folded when it is
/// foldable, has no side effects, every input is constant and `sem.fold(v)`
/// accepts; a foldable vertex without inputs is folded too. O(V+E) plus the
/// policy's work. Throws graph_error on a cycle.
/// \code std::vector<char> constant = dfgpar::fold_constants(g, sem); \endcode
template <class Graph, class Semantics>
std::vector<char> fold_constants(const Graph& g, Semantics& sem) {
  detail::check_graph<Graph>();
  detail::check_op_semantics<Semantics, Graph>();
  const auto d = detail::make_flat_dag(g, detail::unit_cost{}, no_edge_cost{});
  const auto by_index = detail::vertices_by_index(g);
  std::vector<char> constant(d.n, 0);
  for (std::uint32_t i : d.topo) {
    const auto v = by_index[i];
    if (sem.is_constant(v)) {
      constant[i] = 1;
      continue;
    }
    bool inputs_known = true;
    for (const detail::arc& a : d.preds(i)) inputs_known = inputs_known && constant[a.v];
    if (inputs_known && sem.is_foldable(v) && !detail::side_effects_of(sem, v) && sem.fold(v)) constant[i] = 1;
  }
  return constant;
}

/// Same for a policy passed as a temporary (its stored values are lost
/// afterwards, so this is only useful for policies that keep them elsewhere).
template <class Graph, class Semantics>
  requires(!std::is_lvalue_reference_v<Semantics>)
std::vector<char> fold_constants(const Graph& g, Semantics&& sem) {
  return fold_constants(g, sem);
}

}  // namespace dfgpar
