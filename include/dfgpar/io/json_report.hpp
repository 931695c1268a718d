#pragma once
/// \file json_report.hpp
/// A JSON report of a schedule: per cluster its worker, its vertices and the
/// simulated start/finish times; totals W, CP, lower bound, makespan,
/// speedup, cross-worker edges and clones. Deterministic output; no JSON
/// library needed. A vertex copy on k > 1 cores has "threads": k and
/// "reserved_workers"; with a moldable cost (cluster/moldable_cost.hpp) the
/// times are t(v, k) and the bounds are the moldable ones.
///
/// \code
/// std::ofstream f("report.json");
/// dfgpar::write_json_report(f, g, s, cost, [&](auto v) { return g[v].name; });
/// \endcode

#include <dfgpar/analysis/bounds.hpp>
#include <dfgpar/cluster/makespan.hpp>
#include <dfgpar/cluster/moldable_cost.hpp>
#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/concepts.hpp>
#include <dfgpar/detail/flat_dag.hpp>
#include <dfgpar/detail/json.hpp>
#include <dfgpar/detail/plan.hpp>
#include <dfgpar/io/text.hpp>

#include <cmath>
#include <cstddef>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dfgpar {

namespace detail {

/// A JSON number; NaN and infinities (which JSON lacks) become null.
inline std::string json_number(double x) { return std::isfinite(x) ? format_number(x) : std::string("null"); }

inline void write_json_report(std::ostream& os, const flat_dag& d, const schedule& s,
                              const std::vector<std::string>& label, std::span<const double> step_time = {},
                              const moldable_bounds* mb = nullptr) {
  const plan p = make_plan(d, s);  // throws graph_error when s does not fit the graph
  const timing t = simulate(d, p, step_time);
  const cluster_times ct = times_of_clusters(d, s, step_time);
  bounds b = compute_bounds(d, s.workers);
  if (mb != nullptr) b.critical_path = mb->critical_path, b.lower_bound = mb->lower_bound;
  const auto reserved = reserved_workers(p);
  std::size_t cross_worker = 0, cross_cluster = 0;
  for (const auto& st : p.steps)
    for (std::uint32_t k = st.dep_begin; k < st.dep_end; ++k) {
      cross_worker += p.deps[k].remote ? 1 : 0;
      cross_cluster += p.steps[p.deps[k].step].cluster != st.cluster ? 1 : 0;
    }
  const double m = t.makespan;
  const double speedup = m > 0 ? b.work / m : 1.0;
  const double ratio = b.lower_bound > 0 ? m / b.lower_bound : 1.0;
  os << "{\n  \"totals\": {\n"
     << "    \"vertices\": " << d.n << ",\n"
     << "    \"edges\": " << d.succ.size() << ",\n"
     << "    \"workers\": " << s.workers << ",\n"
     << "    \"clusters\": " << s.clusters.size() << ",\n"
     << "    \"work\": " << json_number(b.work) << ",\n"
     << "    \"critical_path\": " << json_number(b.critical_path) << ",\n"
     << "    \"lower_bound\": " << json_number(b.lower_bound) << ",\n"
     << "    \"makespan\": " << json_number(m) << ",\n"
     << "    \"makespan_over_lower_bound\": " << json_number(ratio) << ",\n"
     << "    \"speedup\": " << json_number(speedup) << ",\n"
     << "    \"cross_worker_edges\": " << cross_worker << ",\n"
     << "    \"cross_cluster_edges\": " << cross_cluster << ",\n"
     << "    \"clones\": " << p.steps.size() - d.n << ",\n"
     << "    \"reservations\": " << s.reservations.size() << "\n"
     << "  },\n  \"clusters\": [";
  std::vector<std::vector<std::uint32_t>> steps_of(s.clusters.size());
  for (std::uint32_t id = 0; id < p.steps.size(); ++id) steps_of[p.steps[id].cluster].push_back(id);
  for (std::size_t c = 0; c < s.clusters.size(); ++c) {
    os << (c ? ",\n" : "\n") << "    {\"index\": " << c << ", \"worker\": " << s.clusters[c].worker
       << ", \"start\": " << json_number(ct.start[c]) << ", \"finish\": " << json_number(ct.finish[c])
       << ", \"vertices\": [";
    for (std::size_t i = 0; i < steps_of[c].size(); ++i) {
      const std::uint32_t id = steps_of[c][i];
      const std::uint32_t v = p.steps[id].vertex;
      os << (i ? ",\n" : "\n") << "      {\"id\": " << v << ", \"label\": " << json::quote(label[v])
         << ", \"start\": " << json_number(t.start[id]) << ", \"finish\": " << json_number(t.finish[id]);
      if (s.home[v] != c) os << ", \"clone\": true";
      if (p.steps[id].threads > 1) {
        os << ", \"threads\": " << p.steps[id].threads << ", \"reserved_workers\": [";
        for (std::size_t k = 0; k < reserved[id].size(); ++k) os << (k ? ", " : "") << reserved[id][k];
        os << ']';
      }
      os << '}';
    }
    os << (steps_of[c].empty() ? "]}" : "\n    ]}");
  }
  os << (s.clusters.empty() ? "]\n}\n" : "\n  ]\n}\n");
}

template <class Graph, class CostMap, class CommMap, class Label>
void json_report(std::ostream& os, const Graph& g, const schedule& s, const CostMap& cost, const CommMap& comm,
                 const Label& label) {
  check_graph<Graph>();
  check_edge_cost<CommMap, Graph>();
  if constexpr (moldable_cost<CostMap, Graph>) {
    const auto tab = make_moldable_table(g, cost, s.workers);
    const auto d = flat_dag_of(g, tab, comm);
    const auto mb = compute_moldable_bounds(d, tab);
    write_json_report(os, d, s, labels_by_index(g, label), step_times(make_plan(d, s), tab), &mb);
  } else {
    check_vertex_cost<CostMap, Graph>();
    write_json_report(os, make_flat_dag(g, cost, comm), s, labels_by_index(g, label));
  }
}

}  // namespace detail

/// Writes a JSON report of schedule `s` of `g` (costs `cost`, edge costs
/// `comm` paid between workers, vertex names from `label`). Throws
/// graph_error when `s` does not fit `g`.
template <class Graph, class CostMap, class CommMap, class Label>
  requires edge_cost_map<CommMap, Graph> && vertex_label_function<Label, Graph>
void write_json_report(std::ostream& os, const Graph& g, const schedule& s, const CostMap& cost, const CommMap& comm,
                       const Label& label) {
  detail::json_report(os, g, s, cost, comm, label);
}

/// Same with vertex indices as labels.
template <class Graph, class CostMap, class CommMap = no_edge_cost>
  requires(!vertex_label_function<CommMap, Graph>)
void write_json_report(std::ostream& os, const Graph& g, const schedule& s, const CostMap& cost,
                       const CommMap& comm = {}) {
  detail::json_report(os, g, s, cost, comm, index_label{});
}

/// Same without edge costs, with labels.
template <class Graph, class CostMap, class Label>
  requires(vertex_label_function<Label, Graph> && !edge_cost_map<Label, Graph>)
void write_json_report(std::ostream& os, const Graph& g, const schedule& s, const CostMap& cost, const Label& label) {
  detail::json_report(os, g, s, cost, no_edge_cost{}, label);
}

}  // namespace dfgpar
