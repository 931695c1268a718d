// Schedule quality: the exact P|prec|Cmax solver of bench/optimal_solver.hpp
// on graphs with known optima and against brute force, the lower bounds of
// cluster/lower_bounds.hpp, and dfgpar's merge against HLFET and the optimum
// on STG-like graphs (see bench/schedule_quality.cpp for the full numbers).

#include <dfgpar/dfgpar.hpp>
#include <dfgpar/cluster/bnb_bounds.hpp>
#include <dfgpar/cluster/lower_bounds.hpp>
#include <dfgpar/generate/stg_like.hpp>

#include "../bench/optimal_solver.hpp"
#include "graph_types.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <vector>

using namespace dfgpar_test;

namespace {

dfgpar::detail::flat_dag flat(const dfgpar::dag_data& data) {
  const auto g = build<vec_graph>(data);
  return dfgpar::detail::make_flat_dag(g, cost_map(g), dfgpar::no_edge_cost{});
}

dfgpar_bench::exact_result exact(const dfgpar::dag_data& data, std::size_t P, std::uint64_t nodes = 2'000'000) {
  const auto d = flat(data);
  auto r = dfgpar_bench::solve_exact(d, {.workers = P, .node_limit = nodes});
  REQUIRE(dfgpar_bench::check_schedule(d, P, r.start, r.worker) == doctest::Approx(r.makespan));
  return r;
}

double hlfet(const dfgpar::dag_data& data, std::size_t P) {
  const auto d = flat(data);
  const auto lv = dfgpar::detail::compute_levels(d);
  return dfgpar::detail::list_schedule_tasks(d, P, dfgpar::detail::priority{lv.bottom, {}}).makespan;
}

double dfgpar_makespan(const dfgpar::dag_data& data, std::size_t P) {
  const auto g = build<vec_graph>(data);
  const auto s = dfgpar::parallelize(g, cost_map(g), dfgpar::options{.workers = P});
  REQUIRE(dfgpar::validate(g, s));
  return dfgpar::makespan(g, s, cost_map(g));
}

// Exhaustive optimum: every order of starting tasks on every worker (each
// semi-active schedule is generated this way). Only for tiny graphs.
double brute_force(const dfgpar::detail::flat_dag& d, std::size_t P) {
  double best = std::numeric_limits<double>::infinity();
  std::vector<double> finish(d.n, -1), free_at(P, 0);
  std::function<void(std::size_t, double)> rec = [&](std::size_t placed, double cmax) {
    if (cmax >= best) return;
    if (placed == d.n) {
      best = cmax;
      return;
    }
    for (std::uint32_t v = 0; v < d.n; ++v) {
      if (finish[v] >= 0) continue;
      double ready = 0;
      bool ok = true;
      for (const auto& a : d.preds(v)) ok = ok && finish[a.v] >= 0, ready = std::max(ready, finish[a.v]);
      if (!ok) continue;
      for (std::size_t p = 0; p < P; ++p) {
        const double s = std::max(free_at[p], ready), keep = free_at[p];
        finish[v] = s + d.w[v];
        free_at[p] = finish[v];
        rec(placed + 1, std::max(cmax, finish[v]));
        free_at[p] = keep;
        finish[v] = -1;
      }
    }
  };
  rec(0, 0);
  return best;
}

}  // namespace

TEST_CASE("[dfgpar] exact solver: independent tasks where LPT is not optimal") {
  // LPT (= HLFET without edges) puts 3,3 then 2,2 then 2: length 7; {3,3} | {2,2,2} is 6.
  const auto g = make_dag({3, 3, 2, 2, 2}, {});
  CHECK(hlfet(g, 2) == 7);
  const auto r = exact(g, 2);
  CHECK(r.optimal);
  CHECK(r.makespan == 6);
  CHECK(dfgpar_makespan(g, 2) == 6);
}

TEST_CASE("[dfgpar] exact solver: a graph where bottom-level list scheduling is not optimal") {
  // X(4) alone, chain Y1(2)->Y2(2), fork Z(2)->{Z1(3), Z2(3)}; P = 2, W = 16.
  // HLFET starts Z (bl 5) and X (bl 4) at 0; then Y1, Z1, Z2, Y2 leave a hole: 9.
  // Optimal: Z, Z1, Z2 on one worker, Y1, Y2, X on the other: 8 = W/2.
  const auto g = make_dag({4, 2, 2, 2, 3, 3}, {{1, 2}, {3, 4}, {3, 5}});
  CHECK(hlfet(g, 2) == 9);
  const auto r = exact(g, 2);
  CHECK(r.optimal);
  CHECK(r.makespan == 8);
  CHECK(dfgpar_makespan(g, 2) == 8);
}

TEST_CASE("[dfgpar] exact solver: chain and fork-join") {
  const auto chain = make_dag({1, 2, 3, 4, 5}, {{0, 1}, {1, 2}, {2, 3}, {3, 4}});
  for (std::size_t P : {1, 2, 4}) {
    const auto r = exact(chain, P);
    CHECK(r.optimal);
    CHECK(r.makespan == 15);
  }
  // source(1) -> six tasks of 2 -> sink(1): with 4 workers two rounds in the middle: 1 + 4 + 1
  std::vector<std::pair<std::size_t, std::size_t>> e;
  for (std::size_t i = 1; i <= 6; ++i) e.emplace_back(0, i), e.emplace_back(i, 7);
  const auto fj = make_dag({1, 2, 2, 2, 2, 2, 2, 1}, e);
  CHECK(exact(fj, 4).makespan == 6);
  CHECK(exact(fj, 6).makespan == 4);
  CHECK(exact(fj, 2).makespan == 8);
  CHECK(exact(fj, 4).optimal);
}

TEST_CASE("[dfgpar] exact solver and lower bounds agree with brute force on tiny graphs") {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    auto o = dfgpar::stg_like_suite_entry(6, static_cast<std::size_t>(seed), seed);
    const auto g = dfgpar::stg_like(o);
    const auto d = flat(g);
    for (std::size_t P : {2, 3}) {
      CAPTURE(seed);
      CAPTURE(P);
      const double opt = brute_force(d, P);
      const auto r = exact(g, P);
      CHECK(r.optimal);
      CHECK(r.makespan == opt);
      CHECK(dfgpar::detail::strong_lower_bound(d, P) <= opt);
      CHECK(dfgpar_makespan(g, P) >= opt);
    }
  }
}

TEST_CASE("[dfgpar] lower bounds: worker-aware heads see more than the critical path") {
  // four independent tasks of 5 feed one task of 1: with 2 workers it cannot start before 10
  const auto g = make_dag({5, 5, 5, 5, 1}, {{0, 4}, {1, 4}, {2, 4}, {3, 4}});
  const auto d = flat(g);
  const auto h = dfgpar::detail::compute_worker_heads_tails(d, 2, true);
  CHECK(h.head[4] == 10);
  CHECK(h.tail[0] == 1);
  CHECK(dfgpar::detail::strong_lower_bound(d, 2) == 11);
  CHECK(exact(g, 2).makespan == 11);
}

TEST_CASE("[dfgpar] STG-like generators: sizes, acyclic index order, processing times 1..10") {
  for (std::size_t i = 0; i < 36; ++i) {
    const auto o = dfgpar::stg_like_suite_entry(50, i);
    const auto g = dfgpar::stg_like(o);
    CAPTURE(dfgpar::to_string(o.method));
    REQUIRE(g.cost.size() == 50);
    CHECK(!g.edges.empty());
    for (auto [u, v] : g.edges) CHECK(u < v);
    for (double c : g.cost) CHECK((c >= 1 && c <= 10 && c == static_cast<long long>(c)));
    const auto again = dfgpar::stg_like(o);
    CHECK(again.edges == g.edges);  // seeded
  }
}

TEST_CASE("[dfgpar] merge is never worse than HLFET and never below the proven bound (200 STG-like graphs)") {
  const std::size_t Ps[] = {2, 4, 8, 16};
  for (std::size_t i = 0; i < 200; ++i) {
    const std::size_t tasks = 30 + 10 * (i % 6);  // 30..80 tasks
    const auto g = dfgpar::stg_like(dfgpar::stg_like_suite_entry(tasks, i, 7));
    const std::size_t P = Ps[i % 4];
    CAPTURE(i);
    const double m = dfgpar_makespan(g, P);
    CHECK(m <= hlfet(g, P));
    CHECK(m >= dfgpar::detail::strong_lower_bound(flat(g), P));
  }
}

TEST_CASE("[dfgpar] merge finds the optimum on most 50-task STG-like graphs") {
  // Measured (bench/schedule_quality, 180 graphs x P = 2, 4, 8, 16): dfgpar is
  // optimal on 98-100% per P. Here 90 graphs x 4 P, counting only optima the
  // solver proves; the bar leaves room for a few unlucky seeds.
  std::size_t proven = 0, hit = 0;
  for (std::size_t i = 0; i < 90; ++i) {
    const auto data = dfgpar::stg_like(dfgpar::stg_like_suite_entry(50, i));
    const auto d = flat(data);
    for (std::size_t P : {2, 4, 8, 16}) {
      const double m = dfgpar_makespan(data, P);
      const auto r = dfgpar_bench::solve_exact(d, {.workers = P, .node_limit = 100'000});
      CHECK(m >= r.lower_bound);
      if (!r.optimal) continue;
      ++proven;
      hit += m == r.makespan ? 1 : 0;
    }
  }
  MESSAGE("dfgpar optimal on " << hit << " of " << proven << " proven instances");
  CHECK(proven >= 340);
  CHECK(static_cast<double>(hit) >= 0.95 * static_cast<double>(proven));
}

// ---------------------------------------------------------------- larger graphs (issue 10, deliverable 8)

namespace {

// Small random DAG with identical tasks (same cost, predecessors and
// successors): `base` tasks, then copies of random ones, costs 1..3.
dfgpar::dag_data with_twins(std::uint64_t seed, std::size_t base, std::size_t copies) {
  std::mt19937_64 rng(seed);
  dfgpar::dag_data g;
  for (std::size_t v = 0; v < base; ++v) g.cost.push_back(static_cast<double>(1 + rng() % 3));
  for (std::size_t v = 1; v < base; ++v)
    for (std::size_t u = 0; u < v; ++u)
      if (rng() % 3 == 0) g.edges.emplace_back(u, v);
  for (std::size_t k = 0; k < copies; ++k) {
    const std::size_t src = rng() % base, c = g.cost.size();
    g.cost.push_back(g.cost[src]);
    const auto edges = g.edges;
    for (auto [u, v] : edges) {
      if (v == src) g.edges.emplace_back(u, c);
      if (u == src) g.edges.emplace_back(c, v);
    }
  }
  g.comm.assign(g.edges.size(), 0.0);
  return g;
}

}  // namespace

TEST_CASE("[dfgpar] energetic reasoning: the ramp sweep agrees with the O(n^3) test") {
  for (std::size_t i = 0; i < 24; ++i) {
    const auto data = dfgpar::stg_like(dfgpar::stg_like_suite_entry(20 + 5 * (i % 5), i, 3));
    const auto d = flat(data);
    for (std::size_t P : {2, 3, 4, 8}) {
      const auto h = dfgpar::detail::compute_worker_heads_tails(d, P, true);
      const double lb = std::ceil(dfgpar::detail::compute_bounds(d, P).lower_bound);
      CAPTURE(i);
      CAPTURE(P);
      for (double C = lb - 2; C <= lb + 12; C += 1)
        CHECK(dfgpar::detail::energetic_infeasible_sweep(d, P, h, C) == dfgpar::detail::energetic_infeasible(d, P, h, C));
    }
  }
}

TEST_CASE("[dfgpar] exact solver agrees with brute force on small graphs with identical tasks") {
  // The symmetry rule (identical tasks start in rank order) and the
  // left-shift rule must not cut off every optimal schedule.
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const auto g = with_twins(seed, 4, 1 + seed % 2);
    const auto d = flat(g);
    for (std::size_t P : {2, 3}) {
      CAPTURE(seed);
      CAPTURE(P);
      const double opt = brute_force(d, P);
      const auto r = exact(g, P);
      CHECK(r.optimal);
      CHECK(r.makespan == opt);
      CHECK(r.lower_bound == opt);
    }
  }
  // independent identical tasks: 7 x 2 and 2 x 3 on 3 workers: W = 20, optimum 7 (3+2+2 | 3+2+2 | 2+2+2)
  const auto ind = make_dag({2, 2, 2, 2, 2, 2, 2, 3, 3}, {});
  const auto r = exact(ind, 3);
  CHECK(r.optimal);
  CHECK(r.makespan == 7);
}

TEST_CASE("[dfgpar] exact solver on 100-300 vertices: valid, never worse than its start, within its bounds and budget") {
  const std::size_t Ps[] = {2, 4, 8, 16};
  for (std::size_t i = 0; i < 24; ++i) {
    const std::size_t tasks = 100 + 100 * (i % 3);
    const auto data = dfgpar::stg_like(dfgpar::stg_like_suite_entry(tasks, i, 5));
    const auto d = flat(data);
    const std::size_t P = Ps[i % 4];
    CAPTURE(i);
    CAPTURE(P);
    const double hl = hlfet(data, P);
    const auto lv = dfgpar::detail::compute_levels(d);
    const auto start = dfgpar::detail::list_schedule_tasks(d, P, dfgpar::detail::priority{lv.bottom, {}}).start;
    const double root = dfgpar::detail::strong_lower_bound(d, P);
    for (std::uint64_t limit : {0, 50, 3000}) {
      const auto r = dfgpar_bench::solve_exact(d, {.workers = P, .node_limit = limit}, start);
      CAPTURE(limit);
      CHECK(dfgpar_bench::check_schedule(d, P, r.start, r.worker) == doctest::Approx(r.makespan));
      CHECK(r.makespan <= hl);
      CHECK(r.lower_bound >= root);
      CHECK(r.lower_bound <= r.makespan);
      CHECK(r.nodes <= limit + 1);
      // optimal only with a proof: the root bound reached, or the search completed within the limit
      if (r.optimal) CHECK(r.lower_bound == r.makespan);
      if (r.optimal && r.nodes > limit) FAIL("claims optimality after running out of nodes");
      if (limit == 0) CHECK(r.optimal == (r.makespan <= r.lower_bound));
      // deterministic
      const auto again = dfgpar_bench::solve_exact(d, {.workers = P, .node_limit = limit}, start);
      CHECK(again.makespan == r.makespan);
      CHECK(again.start == r.start);
      CHECK(again.nodes == r.nodes);
    }
  }
}

TEST_CASE("[dfgpar] merge on 100-300 vertices: never worse than HLFET, at or above the bound, proven only when optimal") {
  const std::size_t Ps[] = {2, 4, 8, 16};
  for (std::size_t i = 0; i < 24; ++i) {
    const std::size_t tasks = 100 + 100 * (i % 3);
    const auto data = dfgpar::stg_like(dfgpar::stg_like_suite_entry(tasks, i, 9));
    const auto d = flat(data);
    const std::size_t P = Ps[(i / 3) % 4];
    CAPTURE(i);
    CAPTURE(P);
    const auto g = build<vec_graph>(data);
    dfgpar::merge_report rep;
    const auto s = dfgpar::parallelize(g, cost_map(g), dfgpar::options{.workers = P, .report = &rep});
    REQUIRE(dfgpar::validate(g, s));
    const double m = dfgpar::makespan(g, s, cost_map(g));
    CHECK(m == rep.makespan);
    CHECK(m <= hlfet(data, P));
    CHECK(m >= dfgpar::detail::strong_lower_bound(d, P));
    if (rep.proven_optimal) {
      const auto r = dfgpar_bench::solve_exact(d, {.workers = P, .node_limit = 20'000});
      CHECK(r.makespan >= m);
    }
  }
}

TEST_CASE("[dfgpar] exact solver: graphs above its size limit get the bounds and the incumbent, no search") {
  const auto data = dfgpar::stg_like(dfgpar::stg_like_suite_entry(dfgpar::detail::bnb_max_n + 40, 4, 1));
  const auto d = flat(data);
  const auto r = dfgpar_bench::solve_exact(d, {.workers = 4, .node_limit = 1'000'000});
  CHECK(r.nodes == 0);
  CHECK(dfgpar_bench::check_schedule(d, 4, r.start, r.worker) == doctest::Approx(r.makespan));
  CHECK(r.lower_bound <= r.makespan);
}
