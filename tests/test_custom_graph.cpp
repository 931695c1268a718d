// A user-defined graph structure (no Boost type) adapted to Boost.Graph
// through a graph_traits specialisation and free functions, as in
// examples/custom_graph.cpp: the whole pipeline must give the same results on
// it as on the same DAG built as a boost::adjacency_list.

#include <dfgpar/dfgpar.hpp>
#include <dfgpar/exec/cluster_executor.hpp>

#include "graph_types.hpp"

#include <doctest/doctest.h>

#include <boost/graph/graph_traits.hpp>
#include <boost/iterator/counting_iterator.hpp>
#include <boost/property_map/property_map.hpp>

#include <atomic>
#include <utility>
#include <vector>

namespace custom_graph_test {

struct task_graph {
  std::vector<double> cost;
  std::vector<std::pair<int, int>> dep;      // per edge id
  std::vector<double> transfer;              // per edge id
  std::vector<std::vector<int>> succ, pred;  // per vertex: edge ids

  explicit task_graph(const dfgpar::dag_data& d) : cost(d.cost), succ(d.cost.size()), pred(d.cost.size()) {
    for (std::size_t i = 0; i < d.edges.size(); ++i) {
      const int e = static_cast<int>(dep.size());
      dep.emplace_back(static_cast<int>(d.edges[i].first), static_cast<int>(d.edges[i].second));
      transfer.push_back(i < d.comm.size() ? d.comm[i] : 0.0);
      succ[d.edges[i].first].push_back(e);
      pred[d.edges[i].second].push_back(e);
    }
  }
};

inline std::pair<boost::counting_iterator<int>, boost::counting_iterator<int>> vertices(const task_graph& g) {
  return {boost::counting_iterator<int>(0), boost::counting_iterator<int>(static_cast<int>(g.cost.size()))};
}
inline std::size_t num_vertices(const task_graph& g) { return g.cost.size(); }
inline auto out_edges(int v, const task_graph& g) { return std::pair{g.succ[v].cbegin(), g.succ[v].cend()}; }
inline auto in_edges(int v, const task_graph& g) { return std::pair{g.pred[v].cbegin(), g.pred[v].cend()}; }
inline std::size_t out_degree(int v, const task_graph& g) { return g.succ[v].size(); }
inline std::size_t in_degree(int v, const task_graph& g) { return g.pred[v].size(); }
inline int source(int e, const task_graph& g) { return g.dep[e].first; }
inline int target(int e, const task_graph& g) { return g.dep[e].second; }
inline boost::typed_identity_property_map<int> get(boost::vertex_index_t, const task_graph&) { return {}; }

inline auto cost_map(const task_graph& g) {
  return boost::make_iterator_property_map(g.cost.begin(), boost::typed_identity_property_map<int>());
}
inline auto transfer_map(const task_graph& g) {
  return boost::make_iterator_property_map(g.transfer.begin(), boost::typed_identity_property_map<int>());
}

// Same traits, but without the dfgpar::enable_graph opt-in.
struct unregistered_graph : task_graph {
  using task_graph::task_graph;
};

}  // namespace custom_graph_test

namespace boost {
template <>
struct graph_traits<custom_graph_test::task_graph> {
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
struct graph_traits<custom_graph_test::unregistered_graph> : graph_traits<custom_graph_test::task_graph> {};
}  // namespace boost

template <>
inline constexpr bool dfgpar::enable_graph<custom_graph_test::task_graph> = true;

static_assert(dfgpar::dataflow_graph<custom_graph_test::task_graph>);
static_assert(!dfgpar::dataflow_graph<custom_graph_test::unregistered_graph>, "graph_traits alone is not an opt-in");
static_assert(!dfgpar::dataflow_graph<int>);
static_assert(!dfgpar::dataflow_graph<std::vector<int>>);
static_assert(!dfgpar::dataflow_graph<std::pair<int, int>>);
static_assert(dfgpar::vertex_cost_map<decltype(custom_graph_test::cost_map(std::declval<const custom_graph_test::task_graph&>())), custom_graph_test::task_graph>);
static_assert(dfgpar::edge_cost_map<decltype(custom_graph_test::transfer_map(std::declval<const custom_graph_test::task_graph&>())), custom_graph_test::task_graph>);
static_assert(dfgpar::clone_policy<dfgpar::clone_all, custom_graph_test::task_graph>);

namespace {

using dfgpar_test::vec_graph;

// Every analysis and scheduling result on the custom graph equals the one on vec_graph.
void same_results(const dfgpar::dag_data& d, std::size_t workers) {
  const custom_graph_test::task_graph t(d);
  const vec_graph g = dfgpar_test::build<vec_graph>(d);
  const auto tc = custom_graph_test::cost_map(t);
  const auto tx = custom_graph_test::transfer_map(t);
  const auto gc = dfgpar_test::cost_map(g);
  const auto gx = dfgpar_test::comm_map(g);

  const auto lt = dfgpar::compute_levels(t, tc, tx), lg = dfgpar::compute_levels(g, gc, gx);
  CHECK(lt.top == lg.top);
  CHECK(lt.bottom == lg.bottom);
  CHECK(lt.critical_path == lg.critical_path);

  const auto ct = dfgpar::critical_path(t, tc, tx);
  const auto cg = dfgpar::critical_path(g, gc, gx);
  CHECK(ct.length == cg.length);
  CHECK(std::vector<std::size_t>(ct.vertices.begin(), ct.vertices.end()) == cg.vertices);

  CHECK(dfgpar::linear_clustering(t, tc, tx).clusters == dfgpar::linear_clustering(g, gc, gx).clusters);
  CHECK(dfgpar::compute_bounds(t, tc, workers).lower_bound == dfgpar::compute_bounds(g, gc, workers).lower_bound);

  const dfgpar::options o{.workers = workers, .effort = 0};  // no time-limited search: deterministic
  const auto st = dfgpar::parallelize(t, tc, tx, o);
  const auto sg = dfgpar::parallelize(g, gc, gx, o);
  REQUIRE(dfgpar::validation_error(t, st) == "");
  CHECK(dfgpar::validate(g, st));  // same indices, same structure
  REQUIRE(st.clusters.size() == sg.clusters.size());
  for (std::size_t c = 0; c < st.clusters.size(); ++c) {
    CHECK(st.clusters[c].vertices == sg.clusters[c].vertices);
    CHECK(st.clusters[c].worker == sg.clusters[c].worker);
  }
  CHECK(dfgpar::makespan(t, st, tc, tx) == dfgpar::makespan(g, sg, gc, gx));

  const auto kt = dfgpar::clone_vertices(t, st, tc, tx, dfgpar::clone_all{});
  const auto kg = dfgpar::clone_vertices(g, sg, gc, gx, dfgpar::clone_all{});
  CHECK(dfgpar::validate(t, kt));
  CHECK(kt.num_copies() == kg.num_copies());
  CHECK(dfgpar::makespan(t, kt, tc, tx) == dfgpar::makespan(g, kg, gc, gx));

  // the executor runs every copy, after the copies it reads
  std::atomic<int> runs{0};
  std::atomic<bool> wrong{false};  // an input not ready, or not one input per in-edge
  std::vector<std::vector<char>> done(kt.clusters.size(), std::vector<char>(d.cost.size(), 0));
  dfgpar::cluster_executor ex(t, kt, [&](int v, const dfgpar::task_info& info) {
    ++runs;
    for (const auto& in : info.inputs)
      if (!done[in.cluster][in.vertex]) wrong = true;
    if (info.inputs.size() != t.pred[static_cast<std::size_t>(v)].size()) wrong = true;
    done[info.cluster][static_cast<std::size_t>(v)] = 1;
  });
  ex.run();
  CHECK(static_cast<std::size_t>(runs.load()) == kt.num_copies());
  CHECK_FALSE(wrong.load());
}

}  // namespace

TEST_CASE("[dfgpar] custom graph: known DAG gives the same results as adjacency_list") {
  // 0 feeds 1, 2, 3; 1 and 2 feed 4; 3 feeds 5; 4 and 5 feed 6
  const auto d = dfgpar_test::make_dag({2, 3, 4, 1, 5, 2, 1}, {{0, 1}, {0, 2}, {0, 3}, {1, 4}, {2, 4}, {3, 5}, {4, 6}, {5, 6}},
                                       {1, 1, 1, 2, 2, 1, 1, 1});
  same_results(d, 2);
  same_results(d, 3);
  const custom_graph_test::task_graph t(d);
  const auto lv = dfgpar::compute_levels(t, custom_graph_test::cost_map(t), custom_graph_test::transfer_map(t));
  CHECK(lv.critical_path == 2 + 1 + 4 + 2 + 5 + 1 + 1);  // 0 -> 2 -> 4 -> 6 with its edge costs
  CHECK(dfgpar::critical_path(t, custom_graph_test::cost_map(t), custom_graph_test::transfer_map(t)).vertices == std::vector<int>{0, 2, 4, 6});
}

TEST_CASE("[dfgpar] custom graph: random DAGs give the same results as adjacency_list") {
  for (std::uint64_t seed = 1; seed <= 25; ++seed) {
    CAPTURE(seed);
    same_results(dfgpar::random_dag({.vertices = 10 + seed * 3, .out_degree = 2.5, .comm_ratio = 0.5, .seed = seed}), 2 + seed % 3);
  }
}

TEST_CASE("[dfgpar] custom graph: the passes work on it too") {
  // 0 -> 1 -> 2 (output), 3 -> 4 dead; prune builds an adjacency_list without bundles
  const custom_graph_test::task_graph t(dfgpar_test::make_dag({1, 1, 1, 1, 1}, {{0, 1}, {1, 2}, {3, 4}}));
  struct semantics {
    bool is_output(int v) const { return v == 2; }
    bool has_side_effects(int) const { return false; }
  };
  const auto live = dfgpar::live_vertices(t, semantics{});
  CHECK(live == std::vector<char>{1, 1, 1, 0, 0});
  const auto p = dfgpar::prune(t, live);
  static_assert(std::is_same_v<decltype(p.graph), dfgpar::pruned_graph_t<custom_graph_test::task_graph>>);
  CHECK(num_vertices(p.graph) == 3);
  CHECK(num_edges(p.graph) == 2);
  CHECK(p.old_index == std::vector<std::size_t>{0, 1, 2});
}
