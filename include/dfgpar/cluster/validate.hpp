#pragma once
/// \file validate.hpp
/// Checks a schedule against its graph.

#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/concepts.hpp>
#include <dfgpar/detail/plan.hpp>

#include <string>

namespace dfgpar {

namespace detail {
/// Empty string when valid, otherwise why not.
inline std::string why_invalid(const flat_dag& d, const schedule& s) {
  try {
    const auto p = make_plan(d, s);
    (void)simulate(d, p);
    // cross_edges, when present, must match what the plan resolves
    if (!s.cross_edges.empty()) {
      std::size_t k = 0;
      for (const auto& st : p.steps)
        for (auto i = st.dep_begin; i < st.dep_end; ++i) k += p.steps[p.deps[i].step].cluster != st.cluster ? 1 : 0;
      if (k != s.cross_edges.size()) return "cross_edges is out of date (call dfgpar::finalize)";
    }
  } catch (const graph_error& e) {
    return e.what();
  }
  return {};
}
}  // namespace detail

/// Why `s` is not a valid schedule of `g`, or an empty string when it is:
/// every vertex scheduled (at least once, more only as clones), each at most
/// once per cluster, workers in range, and the run order honours every edge
/// without deadlock.
template <class Graph>
std::string validation_error(const Graph& g, const schedule& s) {
  detail::check_graph<Graph>();
  try {
    return detail::why_invalid(detail::make_flat_dag(g, detail::unit_cost{}, no_edge_cost{}), s);
  } catch (const graph_error& e) {
    return e.what();
  }
}

/// True when `s` is a valid schedule of `g` (see validation_error).
template <class Graph>
bool validate(const Graph& g, const schedule& s) {
  return validation_error(g, s).empty();
}

}  // namespace dfgpar
