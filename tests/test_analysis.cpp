// Levels, critical path, bounds and linear clustering on hand-made graphs
// with known answers, over every supported graph type.

#include <dfgpar/dfgpar.hpp>

#include "graph_types.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

using namespace dfgpar_test;

namespace {
// a(2) -> b(3), a -> c(4), b -> d(1), c -> d   with edge costs 1,5,1,1
dfgpar::dag_data diamond() { return make_dag({2, 3, 4, 1}, {{0, 1}, {0, 2}, {1, 3}, {2, 3}}, {1, 5, 1, 1}); }
}  // namespace

TEST_CASE_TEMPLATE("[dfgpar] levels and critical path of a diamond", G, DFGPAR_GRAPH_TYPES) {
  const auto g = build<G>(diamond());
  SUBCASE("without edge costs") {
    const auto l = dfgpar::compute_levels(g, cost_map(g));
    CHECK(l.top == std::vector<double>{0, 2, 2, 6});
    CHECK(l.bottom == std::vector<double>{7, 4, 5, 1});
    CHECK(l.critical_path == 7);
    const auto cp = dfgpar::critical_path(g, cost_map(g));
    CHECK(cp.length == 7);
    std::vector<std::size_t> ids;
    for (auto v : cp.vertices) ids.push_back(get(boost::vertex_index, g, v));
    CHECK(ids == std::vector<std::size_t>{0, 2, 3});
  }
  SUBCASE("with edge costs") {
    const auto l = dfgpar::compute_levels(g, cost_map(g), comm_map(g));
    // tl(b)=2+1, tl(c)=2+5, tl(d)=max(3+3+1, 7+4+1)=12
    CHECK(l.top == std::vector<double>{0, 3, 7, 12});
    CHECK(l.bottom == std::vector<double>{13, 5, 6, 1});
    CHECK(l.critical_path == 13);
  }
}

TEST_CASE_TEMPLATE("[dfgpar] bounds", G, DFGPAR_GRAPH_TYPES) {
  const auto g = build<G>(diamond());
  const auto b2 = dfgpar::compute_bounds(g, cost_map(g), 2);
  CHECK(b2.work == 10);
  CHECK(b2.critical_path == 7);
  CHECK(b2.lower_bound == 7);
  CHECK(b2.parallelism() == doctest::Approx(10.0 / 7));
  const auto b1 = dfgpar::compute_bounds(g, cost_map(g), 1);
  CHECK(b1.lower_bound == 10);
  // integer costs: ceil(W/P)
  const auto g3 = build<G>(make_dag({1, 1, 1, 1, 1}, {}));
  CHECK(dfgpar::compute_bounds(g3, cost_map(g3), 2).lower_bound == 3);
}

TEST_CASE_TEMPLATE("[dfgpar] linear clustering follows critical paths", G, DFGPAR_GRAPH_TYPES) {
  const auto g = build<G>(diamond());
  const auto cl = dfgpar::linear_clustering(g, cost_map(g), comm_map(g));
  REQUIRE(cl.clusters.size() == 2);
  CHECK(cl.clusters[0] == std::vector<std::size_t>{0, 2, 3});  // the critical path a-c-d
  CHECK(cl.clusters[1] == std::vector<std::size_t>{1});
  CHECK(cl.cluster_of == std::vector<std::size_t>{0, 1, 0, 0});
}

TEST_CASE_TEMPLATE("[dfgpar] linear clusters are paths that partition random DAGs", G, DFGPAR_GRAPH_TYPES) {
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    const auto data = dfgpar::random_dag({.vertices = 5 + seed * 3, .out_degree = 2.5, .comm_ratio = seed % 2 ? 0.5 : 0, .seed = seed});
    const auto g = build<G>(data);
    const auto cl = dfgpar::linear_clustering(g, cost_map(g), comm_map(g));
    std::set<std::pair<std::size_t, std::size_t>> edges(data.edges.begin(), data.edges.end());
    std::vector<int> seen(data.cost.size(), 0);
    double first_len = 0;
    for (std::size_t c = 0; c < cl.clusters.size(); ++c) {
      const auto& path = cl.clusters[c];
      REQUIRE_FALSE(path.empty());
      for (std::size_t i = 0; i < path.size(); ++i) {
        ++seen[path[i]];
        CHECK(cl.cluster_of[path[i]] == c);
        if (i + 1 < path.size()) CHECK(edges.count({path[i], path[i + 1]}) == 1);
      }
      if (c == 0)
        for (auto v : path) first_len += data.cost[v];
    }
    CHECK(std::all_of(seen.begin(), seen.end(), [](int k) { return k == 1; }));
    // without edge costs the first cluster is a critical path
    if (seed % 2 == 0) CHECK(first_len == dfgpar::critical_path(g, cost_map(g)).length);
  }
}

TEST_CASE("[dfgpar] analysis rejects cycles and negative costs") {
  auto cyclic = build<vec_graph>(make_dag({1, 1, 1}, {{0, 1}, {1, 2}, {2, 0}}));
  CHECK_THROWS_AS(dfgpar::compute_levels(cyclic, cost_map(cyclic)), dfgpar::graph_error);
  auto neg = build<vec_graph>(make_dag({1, -1}, {{0, 1}}));
  CHECK_THROWS_WITH_AS(dfgpar::critical_path(neg, cost_map(neg)), doctest::Contains("negative"), dfgpar::graph_error);
}

TEST_CASE("[dfgpar] concepts") {
  static_assert(dfgpar::dataflow_graph<vec_graph>);
  static_assert(dfgpar::dataflow_graph<list_graph>);
  static_assert(dfgpar::dataflow_graph<csr_graph>);
  static_assert(!dfgpar::dataflow_graph<int>);
  static_assert(!dfgpar::dataflow_graph<std::vector<int>>);
  using undirected = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;
  static_assert(!dfgpar::dataflow_graph<undirected>);
  using out_only = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
  static_assert(!dfgpar::dataflow_graph<out_only>);
  static_assert(dfgpar::vertex_cost_map<decltype(cost_map(std::declval<const vec_graph&>())), vec_graph>);
  static_assert(dfgpar::edge_cost_map<decltype(comm_map(std::declval<const vec_graph&>())), vec_graph>);
  static_assert(!dfgpar::vertex_cost_map<int, vec_graph>);
  CHECK(true);
}
