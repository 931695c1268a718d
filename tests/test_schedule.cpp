// Clustering + merging: graphs with known optimal schedules, and property
// tests on seeded random DAGs, over every supported graph type.

#include <dfgpar/dfgpar.hpp>

#include "graph_types.hpp"

#include <doctest/doctest.h>

#include <numeric>

using namespace dfgpar_test;

namespace {

template <class G>
double best_makespan(const dfgpar::dag_data& d, std::size_t P, bool comm = false) {
  const auto g = build<G>(d);
  const auto s = comm ? dfgpar::parallelize(g, cost_map(g), comm_map(g), dfgpar::options{.workers = P})
                      : dfgpar::parallelize(g, cost_map(g), dfgpar::options{.workers = P});
  REQUIRE(dfgpar::validate(g, s));
  return comm ? dfgpar::makespan(g, s, cost_map(g), comm_map(g)) : dfgpar::makespan(g, s, cost_map(g));
}

// Column-oriented Gaussian elimination on an n x n matrix (Cosnard et al.):
// T(k,k) pivots column k, T(k,j) updates column j with it, for j > k.
dfgpar::dag_data gaussian_elimination(std::size_t n) {
  std::vector<double> cost;
  std::vector<std::pair<std::size_t, std::size_t>> edges;
  std::vector<std::vector<std::size_t>> id(n, std::vector<std::size_t>(n + 1, 0));
  for (std::size_t k = 1; k < n; ++k)
    for (std::size_t j = k; j <= n; ++j) {
      id[k][j] = cost.size();
      cost.push_back(j == k ? 1.0 : 2.0);
    }
  for (std::size_t k = 1; k < n; ++k)
    for (std::size_t j = k + 1; j <= n; ++j) {
      edges.emplace_back(id[k][k], id[k][j]);
      if (k + 1 < n) edges.emplace_back(id[k][j], id[k + 1][j]);
    }
  return make_dag(cost, edges);
}

// Radix-2 FFT on m = 2^s points: s+1 stages of m unit tasks, butterflies.
dfgpar::dag_data fft(std::size_t s) {
  const std::size_t m = std::size_t{1} << s;
  std::vector<double> cost((s + 1) * m, 1.0);
  std::vector<std::pair<std::size_t, std::size_t>> edges;
  for (std::size_t st = 0; st < s; ++st)
    for (std::size_t i = 0; i < m; ++i) {
      const std::size_t partner = i ^ (std::size_t{1} << st);
      edges.emplace_back(st * m + i, (st + 1) * m + i);
      edges.emplace_back(st * m + partner, (st + 1) * m + i);
    }
  return make_dag(cost, edges);
}

}  // namespace

TEST_CASE_TEMPLATE("[dfgpar] known optimal schedules", G, DFGPAR_GRAPH_TYPES) {
  SUBCASE("chain") {
    const auto d = make_dag({1, 2, 3, 4, 5}, {{0, 1}, {1, 2}, {2, 3}, {3, 4}});
    for (std::size_t P : {1, 2, 4}) CHECK(best_makespan<G>(d, P) == 15);
  }
  SUBCASE("fork-join") {
    // 1 -> 6 branches of 10 -> 1
    std::vector<double> cost{1};
    std::vector<std::pair<std::size_t, std::size_t>> e;
    for (std::size_t b = 1; b <= 6; ++b) cost.push_back(10), e.emplace_back(0, b), e.emplace_back(b, 7);
    cost.push_back(1);
    const auto d = make_dag(cost, e);
    CHECK(best_makespan<G>(d, 1) == 62);
    CHECK(best_makespan<G>(d, 2) == 32);
    CHECK(best_makespan<G>(d, 3) == 22);
    CHECK(best_makespan<G>(d, 4) == 22);
    CHECK(best_makespan<G>(d, 6) == 12);
  }
  SUBCASE("diamond") {
    const auto d = make_dag({2, 3, 4, 1}, {{0, 1}, {0, 2}, {1, 3}, {2, 3}});
    CHECK(best_makespan<G>(d, 1) == 10);
    CHECK(best_makespan<G>(d, 2) == 7);
  }
  SUBCASE("independent tasks where LPT is not optimal") {
    const auto d = make_dag({3, 3, 2, 2, 2}, {});  // LPT: 7; optimal {3,3},{2,2,2}: 6
    CHECK(best_makespan<G>(d, 2) == 6);
  }
  SUBCASE("Gaussian elimination") {
    const auto d = gaussian_elimination(5);  // CP: 1+2+1+2+1+2+1+2 = 12? pivots and updates alternate
    const auto g = build<G>(d);
    const auto b = dfgpar::compute_bounds(g, cost_map(g), 8);
    CHECK(best_makespan<G>(d, 8) == b.lower_bound);
    CHECK(best_makespan<G>(d, 1) == b.work);
  }
  SUBCASE("FFT") {
    const auto d = fft(3);  // 4 stages of 8 unit tasks
    CHECK(best_makespan<G>(d, 8) == 4);
    CHECK(best_makespan<G>(d, 4) == 8);
    CHECK(best_makespan<G>(d, 2) == 16);
  }
  SUBCASE("communication: two heavy chains stay on their workers") {
    // r(1) -> a1(10) -> a2(10) ; r -> b1(10) -> b2(10); chains' inner edges cost 100
    const auto d = make_dag({1, 10, 10, 10, 10}, {{0, 1}, {1, 2}, {0, 3}, {3, 4}}, {2, 100, 2, 100});
    CHECK(best_makespan<G>(d, 2, true) == 1 + 2 + 20);
    CHECK(best_makespan<G>(d, 1, true) == 41);
  }
}

TEST_CASE_TEMPLATE("[dfgpar] schedules of 1000 random DAGs are valid and bounded", G, DFGPAR_GRAPH_TYPES) {
  std::size_t at_bound = 0, total = 0;
  for (std::uint64_t seed = 1; seed <= 1000; ++seed) {
    const bool comm = seed % 3 == 0;
    const auto data = dfgpar::random_dag({.vertices = 2 + seed % 60,
                                          .out_degree = 0.5 + static_cast<double>(seed % 7) * 0.5,
                                          .comm_ratio = comm ? 0.5 : 0.0,
                                          .seed = seed});
    const auto g = build<G>(data);
    const std::size_t P = 1 + seed % 8;
    const auto s = dfgpar::parallelize(g, cost_map(g), comm_map(g), dfgpar::options{.workers = P, .effort = 0.2});
    CAPTURE(seed);
    REQUIRE(dfgpar::validation_error(g, s) == "");
    // every vertex exactly once (no cloning here)
    std::vector<int> seen(data.cost.size(), 0);
    for (const auto& c : s.clusters)
      for (auto v : c.vertices) ++seen[v];
    CHECK(std::all_of(seen.begin(), seen.end(), [](int k) { return k == 1; }));
    const double m = dfgpar::makespan(g, s, cost_map(g), comm_map(g));
    const auto b = dfgpar::compute_bounds(g, cost_map(g), P);
    CHECK(m >= b.lower_bound);
    CHECK(m <= b.work);
    if (P == 1) CHECK(m == b.work);
    ++total;
    at_bound += m == b.lower_bound ? 1 : 0;
  }
  MESSAGE(at_bound << " of " << total << " random schedules reach the lower bound max(CP, W/P)");
}

TEST_CASE_TEMPLATE("[dfgpar] makespan honours every dependency and edge cost", G, DFGPAR_GRAPH_TYPES) {
  // hand-made schedule: a on worker 0, b on worker 1, c on worker 0
  const auto g = build<G>(make_dag({2, 3, 4}, {{0, 1}, {1, 2}}, {5, 7}));
  dfgpar::schedule s;
  s.workers = 2;
  s.clusters = {{0, {0}}, {1, {1}}, {0, {2}}};
  dfgpar::finalize(g, s);
  REQUIRE(dfgpar::validate(g, s));
  CHECK(s.cross_edges.size() == 2);
  CHECK(s.num_cross_worker_edges() == 2);
  // a: 0-2, b: 2+5=7..10, c: 10+7=17..21
  CHECK(dfgpar::makespan(g, s, cost_map(g), comm_map(g)) == 21);
  CHECK(dfgpar::makespan(g, s, cost_map(g)) == 9);
  const auto ct = dfgpar::simulate_clusters(g, s, cost_map(g), comm_map(g));
  CHECK(ct.start == std::vector<double>{0, 7, 17});
  CHECK(ct.finish == std::vector<double>{2, 10, 21});
}

TEST_CASE("[dfgpar] validate rejects broken schedules") {
  const auto g = build<vec_graph>(make_dag({1, 1, 1}, {{0, 1}, {1, 2}}));
  auto make = [](std::vector<dfgpar::cluster> cl) {
    dfgpar::schedule s;
    s.workers = 2;
    s.num_vertices = 3;
    s.clusters = std::move(cl);
    s.home = {0, 0, 0};
    for (std::size_t c = 0; c < s.clusters.size(); ++c)
      for (auto v : s.clusters[c].vertices)
        if (v < s.home.size()) s.home[v] = c;
    return s;
  };
  CHECK(dfgpar::validate(g, make({{0, {0, 1, 2}}})));
  CHECK(dfgpar::validation_error(g, make({{0, {0, 1}}})).find("not scheduled") != std::string::npos);
  CHECK(dfgpar::validation_error(g, make({{0, {1, 0, 2}}})).find("runs before its input") != std::string::npos);
  CHECK(dfgpar::validation_error(g, make({{2, {0, 1, 2}}})).find("worker") != std::string::npos);
  CHECK(dfgpar::validation_error(g, make({{0, {0, 1, 2, 1}}})).find("twice") != std::string::npos);
  CHECK(dfgpar::validation_error(g, make({{0, {0, 1, 7}}})).find("does not exist") != std::string::npos);
  // deadlock: worker 0 runs 2 then waits... worker 1 has 1 which needs 0 on worker 0 after 2
  CHECK(dfgpar::validation_error(g, make({{0, {2, 0}}, {1, {1}}})).find("deadlock") != std::string::npos);
  auto s = make({{0, {0, 1, 2}}});
  s.num_vertices = 4;
  CHECK_FALSE(dfgpar::validate(g, s));
}

TEST_CASE("[dfgpar] parallelize on an empty graph and a single vertex") {
  const auto e = build<vec_graph>(make_dag({}, {}));
  const auto s0 = dfgpar::parallelize(e, cost_map(e), dfgpar::options{.workers = 4});
  CHECK(s0.clusters.empty());
  CHECK(dfgpar::validate(e, s0));
  const auto one = build<vec_graph>(make_dag({5}, {}));
  const auto s1 = dfgpar::parallelize(one, cost_map(one), dfgpar::options{.workers = 4});
  CHECK(dfgpar::makespan(one, s1, cost_map(one)) == 5);
}
