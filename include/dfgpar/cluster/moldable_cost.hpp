#pragma once
/// \file moldable_cost.hpp
/// Moldable costs: a vertex's time as a function of its core count,
/// t(v, k) for k = 1..P, and the helpers for common speed-up models.
///
/// A moldable cost is either
///  * a readable property map from a vertex to a small table of times
///    (`get(m, v)[k - 1]` = t(v, k); a table shorter than P repeats its last
///    entry: more cores than measured are assumed not to help), or
///  * a callable `m(v, k)` returning t(v, k) for k = 1..P.
///
/// Times must not grow with k, and the work k·t(v, k) must not shrink with k.
/// dfgpar repairs a table that breaks either rule instead of refusing it,
/// because measured tables do so through noise: t(v, k) becomes the best of
/// t(v, 1..k) (k cores can always run the j-core version and idle), then a
/// superlinear step is capped at linear, t(v, k) >= (k-1)/k · t(v, k-1).
/// `moldable_cost_error` reports the first violation for callers that want
/// to reject such input instead.
///
/// \code
/// auto t = dfgpar::amdahl_cost(get(&node::ms, g), get(&node::serial, g));  // t1 · (s + (1 - s) / k)
/// auto s = dfgpar::parallelize(g, t, dfgpar::options{.workers = 8});
/// \endcode

#include <dfgpar/concepts.hpp>
#include <dfgpar/detail/flat_dag.hpp>
#include <dfgpar/detail/plan.hpp>
#include <dfgpar/error.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <functional>
#include <iterator>
#include <limits>
#include <ranges>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace dfgpar {

/// A readable property map from the vertices of G to a table of times
/// (a random-access range of numbers; entry k-1 is the time on k cores).
template <class M, class G>
concept moldable_cost_map = dataflow_graph<G> && requires(const M& m, detail::vertex_t<G> v) {
  requires std::ranges::random_access_range<decltype(get(m, v))>;
  requires std::ranges::sized_range<decltype(get(m, v))>;
  requires detail::arithmetic<std::ranges::range_value_t<decltype(get(m, v))>>;
};

/// A callable t(v, k): the time of vertex v on k cores.
template <class M, class G>
concept moldable_cost_function = dataflow_graph<G> && !vertex_cost_map<M, G> &&
                                 requires(const M& m, detail::vertex_t<G> v, std::size_t k) {
                                   { std::invoke(m, v, k) } -> detail::arithmetic;
                                 };

/// A vertex's time as a function of its core count, as a table map or a callable.
template <class M, class G>
concept moldable_cost = moldable_cost_map<M, G> || moldable_cost_function<M, G>;

/// Amdahl's law per vertex: t(v, k) = t1(v) · (s(v) + (1 - s(v)) / k), with
/// t1 and the serial fraction s in [0, 1] read from property maps.
template <class TimeMap, class SerialMap>
struct amdahl_cost {
  TimeMap time;      ///< t(v, 1)
  SerialMap serial;  ///< serial fraction s(v)

  template <class V>
  double operator()(const V& v, std::size_t k) const {
    const double s = std::clamp(static_cast<double>(get(serial, v)), 0.0, 1.0);
    return static_cast<double>(get(time, v)) * (s + (1 - s) / static_cast<double>(k));
  }
};
template <class TimeMap, class SerialMap>
amdahl_cost(TimeMap, SerialMap) -> amdahl_cost<TimeMap, SerialMap>;

/// Perfectly parallel up to k_max(v) cores: t(v, k) = t1(v) / min(k, k_max(v))
/// (k_max < 1 counts as 1).
template <class TimeMap, class LimitMap>
struct perfectly_parallel_cost {
  TimeMap time;     ///< t(v, 1)
  LimitMap k_max;   ///< cores beyond which v does not get faster

  template <class V>
  double operator()(const V& v, std::size_t k) const {
    const double limit = std::max(1.0, static_cast<double>(get(k_max, v)));
    return static_cast<double>(get(time, v)) / std::min(static_cast<double>(k), limit);
  }
};
template <class TimeMap, class LimitMap>
perfectly_parallel_cost(TimeMap, LimitMap) -> perfectly_parallel_cost<TimeMap, LimitMap>;

/// A measured table per vertex index: `table[i][k-1]` is the time of the
/// vertex with index i on k cores (rows may differ in length; a short row
/// repeats its last entry).
/// \code auto t = dfgpar::measured_cost(g, {{4, 2.1}, {3, 3}, {8, 4.2, 3, 2.4}}); \endcode
template <class IndexMap>
struct measured_cost {
  IndexMap index;
  std::vector<std::vector<double>> table;

  template <class V>
  double operator()(const V& v, std::size_t k) const {
    const std::size_t i = static_cast<std::size_t>(get(index, v));
    if (i >= table.size() || table[i].empty())
      throw graph_error("measured_cost: no times for vertex " + std::to_string(i));
    return table[i][std::min(k, table[i].size()) - 1];
  }
};
/// A measured_cost reading the graph's vertex index map.
template <class Graph>
auto make_measured_cost(const Graph& g, std::vector<std::vector<double>> table) {
  detail::check_graph<Graph>();
  return measured_cost<decltype(get(boost::vertex_index, g))>{get(boost::vertex_index, g), std::move(table)};
}

namespace detail {

template <class M, class G>
constexpr void check_moldable_cost() {
  static_assert(moldable_cost<M, G>,
                "dfgpar: a moldable cost must be a readable property map from vertex_descriptor to a table of times "
                "(get(m, v)[k-1] = time on k cores) or a callable m(v, k) -> number");
}

/// t(v, k) of every vertex for k = 1..P, flat: t[v * P + k - 1].
struct moldable_table {
  std::size_t n = 0, P = 1;
  std::vector<double> t;
  double at(std::size_t v, std::size_t k) const { return t[v * P + k - 1]; }
  std::span<const double> row(std::size_t v) const { return {t.data() + v * P, P}; }
  /// Fewest cores that reach v's fastest time.
  std::size_t fastest_k(std::size_t v) const {
    std::size_t best = 1;
    for (std::size_t k = 2; k <= P; ++k)
      if (at(v, k) < at(v, best)) best = k;
    return best;
  }
};

/// The raw times, as given (checked finite and non-negative, not repaired).
template <class G, class M>
moldable_table raw_moldable_table(const G& g, const M& m, std::size_t P) {
  check_moldable_cost<M, G>();
  if (P == 0) throw graph_error("moldable cost: 0 workers");
  moldable_table tab;
  tab.n = num_vertices(g);
  tab.P = P;
  tab.t.assign(tab.n * P, 0.0);
  for (auto [it, end] = vertices(g); it != end; ++it) {
    const std::size_t i = index_of(g, *it);
    if (i >= tab.n) throw graph_error("vertex index out of range 0..num_vertices-1");
    double* row = tab.t.data() + i * P;
    if constexpr (moldable_cost_map<M, G>) {
      const auto& r = get(m, *it);
      const std::size_t len = static_cast<std::size_t>(std::ranges::size(r));
      if (len == 0) throw graph_error("vertex " + std::to_string(i) + " has an empty table of times");
      for (std::size_t k = 1; k <= P; ++k) row[k - 1] = static_cast<double>(std::ranges::begin(r)[std::min(k, len) - 1]);
    } else {
      for (std::size_t k = 1; k <= P; ++k) row[k - 1] = static_cast<double>(std::invoke(m, *it, k));
    }
    for (std::size_t k = 1; k <= P; ++k)
      if (!(row[k - 1] >= 0) || row[k - 1] == std::numeric_limits<double>::infinity())
        throw graph_error("vertex " + std::to_string(i) + ": t(v, " + std::to_string(k) + ") is negative or not finite");
  }
  return tab;
}

/// First violation of "time non-increasing, work non-decreasing in k", or "".
inline std::string moldable_violation(const moldable_table& tab) {
  constexpr double tol = 1e-12;
  for (std::size_t v = 0; v < tab.n; ++v)
    for (std::size_t k = 2; k <= tab.P; ++k) {
      const double a = tab.at(v, k - 1), b = tab.at(v, k);
      if (b > a * (1 + tol))
        return "vertex " + std::to_string(v) + ": t(v, " + std::to_string(k) + ") = " + std::to_string(b) + " is above t(v, " +
               std::to_string(k - 1) + ") = " + std::to_string(a) + " (time must not grow with cores)";
      if (static_cast<double>(k) * b < static_cast<double>(k - 1) * a * (1 - tol))
        return "vertex " + std::to_string(v) + ": " + std::to_string(k) + " x t(v, " + std::to_string(k) + ") = " +
               std::to_string(static_cast<double>(k) * b) + " is below " + std::to_string(k - 1) + " x t(v, " +
               std::to_string(k - 1) + ") = " + std::to_string(static_cast<double>(k - 1) * a) +
               " (work must not shrink with cores: superlinear speed-up)";
    }
  return {};
}

/// Repairs in place: best of smaller k, then superlinear steps capped at linear.
inline void repair(moldable_table& tab) {
  for (std::size_t v = 0; v < tab.n; ++v) {
    double* row = tab.t.data() + v * tab.P;
    for (std::size_t k = 2; k <= tab.P; ++k) row[k - 1] = std::min(row[k - 1], row[k - 2]);
    for (std::size_t k = 2; k <= tab.P; ++k)
      row[k - 1] = std::max(row[k - 1], row[k - 2] * static_cast<double>(k - 1) / static_cast<double>(k));
  }
}

/// The repaired table dfgpar schedules with.
template <class G, class M>
moldable_table make_moldable_table(const G& g, const M& m, std::size_t P) {
  moldable_table tab = raw_moldable_table(g, m, P);
  repair(tab);
  return tab;
}

/// Per-step durations of a plan under a moldable table (t(v, k) of each copy).
inline std::vector<double> step_times(const plan& p, const moldable_table& tab) {
  std::vector<double> out(p.steps.size());
  for (std::size_t id = 0; id < p.steps.size(); ++id)
    out[id] = tab.at(p.steps[id].vertex, std::min<std::size_t>(p.steps[id].threads, tab.P));
  return out;
}

/// A vertex cost map reading t(v, 1) from a table.
template <class G>
struct first_column {
  const moldable_table* tab;
  const G* g;
  friend double get(const first_column& c, const vertex_t<G>& v) { return c.tab->at(index_of(*c.g, v), 1); }
};

/// Flat copy of the graph with w(v) = t(v, 1).
template <class G, class CommMap = no_edge_cost>
flat_dag flat_dag_of(const G& g, const moldable_table& tab, const CommMap& comm = {}) {
  return make_flat_dag(g, first_column<G>{&tab, &g}, comm);
}

}  // namespace detail

/// Why the moldable cost `m` breaks "time non-increasing and work
/// non-decreasing in k" for k = 1..P, or "" when it does not (dfgpar would
/// repair it; see the file comment). Throws graph_error on negative or
/// non-finite times.
template <class Graph, class Moldable>
std::string moldable_cost_error(const Graph& g, const Moldable& m, std::size_t P) {
  detail::check_graph<Graph>();
  return detail::moldable_violation(detail::raw_moldable_table(g, m, P));
}

/// The lower bound of a moldable schedule on P workers.
struct moldable_bounds {
  double critical_path = 0;  ///< longest path with every vertex at its fastest, min_k t(v, k)
  double area = 0;           ///< sum over v of min_k k·t(v, k), divided by P
  std::size_t workers = 1;   ///< P
  double lower_bound = 0;    ///< max(critical_path, area): no schedule on P cores is shorter
};

namespace detail {
inline moldable_bounds compute_moldable_bounds(const flat_dag& d, const moldable_table& tab) {
  moldable_bounds b;
  b.workers = tab.P;
  std::vector<double> finish(d.n, 0.0);
  double work = 0;
  for (std::uint32_t v : d.topo) {
    double start = 0, fastest = std::numeric_limits<double>::infinity(), least = fastest;
    for (const arc& a : d.preds(v)) start = std::max(start, finish[a.v]);
    for (std::size_t k = 1; k <= tab.P; ++k) {
      fastest = std::min(fastest, tab.at(v, k));
      least = std::min(least, static_cast<double>(k) * tab.at(v, k));
    }
    finish[v] = start + fastest;
    b.critical_path = std::max(b.critical_path, finish[v]);
    work += least;
  }
  b.area = work / static_cast<double>(tab.P);
  b.lower_bound = std::max(b.critical_path, b.area);
  return b;
}
}  // namespace detail

/// max(CP at every vertex's fastest, sum_v min_k k·t(v, k) / P) for the
/// repaired moldable cost `m` on P workers.
template <class Graph, class Moldable>
moldable_bounds compute_moldable_bounds(const Graph& g, const Moldable& m, std::size_t P) {
  detail::check_graph<Graph>();
  const auto tab = detail::make_moldable_table(g, m, P);
  return detail::compute_moldable_bounds(detail::flat_dag_of(g, tab), tab);
}

}  // namespace dfgpar
