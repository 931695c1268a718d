// dfgpar on your own graph structure: a plain task graph (no Boost type)
// adapted to Boost.Graph with a graph_traits specialisation and a handful of
// free functions, then the whole pipeline: levels, critical path, linear
// clustering, parallelize, makespan, validate, and the executor.
//
// What dfgpar needs from a graph (concept dfgpar::dataflow_graph):
//   graph_traits<G>: vertex_descriptor, edge_descriptor, directed_category,
//     traversal_category (bidirectional + vertex list), iterator and size types;
//   vertices(g), num_vertices(g), out_edges(v, g), in_edges(v, g),
//   out_degree(v, g), in_degree(v, g), source(e, g), target(e, g);
//   get(boost::vertex_index, g): numbers the vertices 0..n-1;
//   and, because the traits are specialised outside the type,
//   dfgpar::enable_graph<G> = true.

#include <dfgpar/dfgpar.hpp>
#include <dfgpar/exec/cluster_executor.hpp>

#include <boost/graph/graph_traits.hpp>
#include <boost/iterator/counting_iterator.hpp>
#include <boost/property_map/property_map.hpp>

#include <atomic>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace build {

/// A build system's task graph, the way one would write it without Boost:
/// tasks 0..n-1 with a cost, dependencies as edge ids.
struct task_graph {
  std::vector<std::string> name;
  std::vector<double> cost;                  // per task: seconds
  std::vector<std::pair<int, int>> dep;      // per edge: (from, to)
  std::vector<double> transfer;              // per edge: seconds to ship the output to another machine
  std::vector<std::vector<int>> succ, pred;  // per task: ids of its outgoing / incoming edges

  int add_task(std::string n, double c) {
    name.push_back(std::move(n));
    cost.push_back(c);
    succ.emplace_back();
    pred.emplace_back();
    return static_cast<int>(cost.size()) - 1;
  }
  void add_dep(int from, int to, double t) {
    const int e = static_cast<int>(dep.size());
    dep.emplace_back(from, to);
    transfer.push_back(t);
    succ[from].push_back(e);
    pred[to].push_back(e);
  }
};

// The Boost.Graph interface, found by argument-dependent lookup.
inline std::pair<boost::counting_iterator<int>, boost::counting_iterator<int>> vertices(const task_graph& g) {
  return {boost::counting_iterator<int>(0), boost::counting_iterator<int>(static_cast<int>(g.cost.size()))};
}
inline std::size_t num_vertices(const task_graph& g) { return g.cost.size(); }
inline std::size_t num_edges(const task_graph& g) { return g.dep.size(); }
inline auto out_edges(int v, const task_graph& g) { return std::pair{g.succ[v].cbegin(), g.succ[v].cend()}; }
inline auto in_edges(int v, const task_graph& g) { return std::pair{g.pred[v].cbegin(), g.pred[v].cend()}; }
inline std::size_t out_degree(int v, const task_graph& g) { return g.succ[v].size(); }
inline std::size_t in_degree(int v, const task_graph& g) { return g.pred[v].size(); }
inline int source(int e, const task_graph& g) { return g.dep[e].first; }
inline int target(int e, const task_graph& g) { return g.dep[e].second; }
// tasks are numbered 0..n-1 already: the index map is the identity
inline boost::typed_identity_property_map<int> get(boost::vertex_index_t, const task_graph&) { return {}; }

/// Cost maps: property maps over the plain vectors, keyed by task / edge id.
inline auto cost_map(const task_graph& g) {
  return boost::make_iterator_property_map(g.cost.begin(), boost::typed_identity_property_map<int>());
}
inline auto transfer_map(const task_graph& g) {
  return boost::make_iterator_property_map(g.transfer.begin(), boost::typed_identity_property_map<int>());
}

}  // namespace build

namespace boost {
template <>
struct graph_traits<build::task_graph> {
  using vertex_descriptor = int;
  using edge_descriptor = int;
  using directed_category = bidirectional_tag;
  using edge_parallel_category = allow_parallel_edge_tag;
  struct traversal_category : bidirectional_graph_tag, vertex_list_graph_tag {};
  using vertex_iterator = counting_iterator<int>;
  using out_edge_iterator = std::vector<int>::const_iterator;
  using in_edge_iterator = std::vector<int>::const_iterator;
  using vertices_size_type = std::size_t;
  using edges_size_type = std::size_t;
  using degree_size_type = std::size_t;
  static vertex_descriptor null_vertex() { return -1; }
};
template <>
struct property_map<build::task_graph, vertex_index_t> {
  using type = typed_identity_property_map<int>;
  using const_type = type;
};
}  // namespace boost

/// The traits are specialised outside the type: opt in explicitly.
template <>
inline constexpr bool dfgpar::enable_graph<build::task_graph> = true;

static_assert(dfgpar::dataflow_graph<build::task_graph>, "the adapter is incomplete");
static_assert(!dfgpar::dataflow_graph<std::vector<int>>, "a vector is not a graph");

int main() {
  // configure -> generate headers -> compile 4 units -> link lib + app -> tests, docs, package
  build::task_graph g;
  const int configure = g.add_task("configure", 2);
  const int gen = g.add_task("gen-headers", 1);
  const int a = g.add_task("cc a.cpp", 8), b = g.add_task("cc b.cpp", 6), c = g.add_task("cc c.cpp", 5),
            d = g.add_task("cc d.cpp", 7);
  const int lib = g.add_task("link libfoo", 3), app = g.add_task("link app", 3);
  const int test = g.add_task("run tests", 4), docs = g.add_task("docs", 6), pkg = g.add_task("package", 2);
  g.add_dep(configure, gen, 0.5);
  for (int unit : {a, d}) g.add_dep(configure, unit, 0.5);
  for (int unit : {b, c}) g.add_dep(gen, unit, 0.5);
  g.add_dep(a, lib, 1), g.add_dep(b, lib, 1);
  g.add_dep(lib, app, 1), g.add_dep(c, app, 1), g.add_dep(d, app, 1);
  g.add_dep(app, test, 1), g.add_dep(configure, docs, 0.5);
  g.add_dep(test, pkg, 0.5), g.add_dep(docs, pkg, 0.5);
  const auto cost = build::cost_map(g);
  const auto transfer = build::transfer_map(g);

  const auto lv = dfgpar::compute_levels(g, cost, transfer);
  const auto cp = dfgpar::critical_path(g, cost, transfer);
  std::printf("%zu tasks, %zu dependencies; critical path (with transfers) %g s:", num_vertices(g), num_edges(g), cp.length);
  for (int v : cp.vertices) std::printf(" %s", g.name[v].c_str());
  std::printf("\nbottom levels:");
  for (int v = 0; v < static_cast<int>(num_vertices(g)); ++v) std::printf(" %s=%g", g.name[v].c_str(), lv.bottom[v]);

  const auto cl = dfgpar::linear_clustering(g, cost, transfer);
  std::printf("\n\n%zu linear clusters:\n", cl.clusters.size());
  for (const auto& cluster : cl.clusters) {
    std::printf(" ");
    for (std::size_t v : cluster) std::printf(" %s", g.name[v].c_str());
    std::printf("\n");
  }

  const auto bounds = dfgpar::compute_bounds(g, cost, 3);
  for (std::size_t workers : {1, 2, 3}) {
    const auto s = dfgpar::parallelize(g, cost, transfer, dfgpar::options{.workers = workers});
    std::printf("\n%zu machine(s): makespan %g s (serial %g s), valid: %s\n", workers, dfgpar::makespan(g, s, cost, transfer),
                bounds.work, dfgpar::validate(g, s) ? "yes" : dfgpar::validation_error(g, s).c_str());
    for (std::size_t w = 0; w < s.workers; ++w) {
      std::printf("  machine %zu:", w);
      for (std::size_t ci : s.clusters_of(w))
        for (std::size_t v : s.clusters[ci].vertices) std::printf(" %s", g.name[v].c_str());
      std::printf("\n");
    }
  }

  // Run the 3-machine schedule on threads; each task notes when it ran, and
  // every dependency must have run first.
  const auto s = dfgpar::parallelize(g, cost, transfer, dfgpar::options{.workers = 3});
  std::atomic<int> clock{0};
  std::vector<int> ran_at(num_vertices(g), -1);
  dfgpar::cluster_executor ex(g, s, [&](int v) { ran_at[v] = clock++; });
  ex.run();
  bool ok = true;
  for (std::size_t e = 0; e < num_edges(g); ++e) ok = ok && ran_at[g.dep[e].first] < ran_at[g.dep[e].second];
  std::printf("\nexecuted on %zu threads, every dependency respected: %s\n", ex.workers(), ok ? "yes" : "NO");
  return ok ? 0 : 1;
}
