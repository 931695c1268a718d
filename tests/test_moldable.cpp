// Tests of moldable scheduling: moldable costs (concept, helpers, repair),
// schedules with allotments (validation, makespan), the allotment algorithm
// (hand-checked optimal cases, properties on random graphs), the executor
// honouring reservations, and the reports showing allotments.

#include <dfgpar/dfgpar.hpp>
#include <dfgpar/generate/stg_like.hpp>

#include "graph_types.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <span>
#include <stdexcept>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using dfgpar_test::build;
using dfgpar_test::cost_map;
using dfgpar_test::make_dag;

// A graph with a table of times per vertex (the property-map form).
struct tprop {
  std::vector<double> t;
};
using table_graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, tprop>;

// Amdahl cost over a vector of serial fractions by vertex index.
template <class G>
auto amdahl(const G& g, const std::vector<double>& serial) {
  return dfgpar::amdahl_cost(cost_map(g), boost::make_iterator_property_map(serial.begin(), get(boost::vertex_index, g)));
}

// Serial fractions drawn per vertex: most kernels scale well, some hardly.
std::vector<double> draw_serial(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> s(n);
  for (auto& x : s) x = u(rng) < 0.2 ? 0.5 + 0.5 * u(rng) : 0.25 * u(rng);
  return s;
}

// Busy cores at every instant of the simulated schedule: never above P.
double peak_cores(const dfgpar::detail::flat_dag& d, const dfgpar::schedule& s, const dfgpar::detail::moldable_table& tab) {
  const auto p = dfgpar::detail::make_plan(d, s);
  const auto t = dfgpar::detail::simulate(d, p, dfgpar::detail::step_times(p, tab));
  std::vector<std::pair<double, double>> ev;  // (time, +-cores); ends sort before starts at equal times
  for (std::size_t id = 0; id < p.steps.size(); ++id) {
    if (t.finish[id] <= t.start[id]) continue;
    ev.emplace_back(t.start[id], +static_cast<double>(p.steps[id].threads));
    ev.emplace_back(t.finish[id], -static_cast<double>(p.steps[id].threads));
  }
  std::sort(ev.begin(), ev.end());
  double busy = 0, peak = 0;
  for (auto [time, k] : ev) peak = std::max(peak, busy += k);
  return peak;
}

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

// ---------------------------------------------------------------- moldable costs

TEST_CASE("[dfgpar] moldable cost: the concept takes table maps and callables, not plain cost maps") {
  using G = dfgpar_test::vec_graph;
  using V = dfgpar::detail::vertex_t<G>;
  static_assert(dfgpar::moldable_cost<decltype(get(&tprop::t, std::declval<table_graph&>())), table_graph>);
  auto f = [](V, std::size_t k) { return 1.0 / static_cast<double>(k); };
  static_assert(dfgpar::moldable_cost<decltype(f), G>);
  static_assert(!dfgpar::moldable_cost<decltype(cost_map(std::declval<const G&>())), G>);
  static_assert(!dfgpar::moldable_cost<int, G>);
  CHECK(true);
}

TEST_CASE("[dfgpar] moldable cost: Amdahl, perfectly parallel and measured helpers") {
  const auto g = build<dfgpar_test::vec_graph>(make_dag({10, 8}, {{0, 1}}));
  const std::vector<double> serial{0.2, 0.0};
  const auto a = amdahl(g, serial);
  CHECK(a(0, 1) == doctest::Approx(10));
  CHECK(a(0, 2) == doctest::Approx(6));     // 10 (0.2 + 0.4)
  CHECK(a(0, 4) == doctest::Approx(4));     // 10 (0.2 + 0.2)
  CHECK(a(1, 8) == doctest::Approx(1));
  const std::vector<double> kmax{2, 3};
  const auto pp = dfgpar::perfectly_parallel_cost{cost_map(g), boost::make_iterator_property_map(kmax.begin(), get(boost::vertex_index, g))};
  CHECK(pp(0, 1) == doctest::Approx(10));
  CHECK(pp(0, 4) == doctest::Approx(5));
  CHECK(pp(1, 4) == doctest::Approx(8.0 / 3));
  const auto m = dfgpar::make_measured_cost(g, {{4, 2.5}, {3}});
  CHECK(m(0, 2) == doctest::Approx(2.5));
  CHECK(m(0, 5) == doctest::Approx(2.5));  // a short row repeats its last entry
  CHECK(m(1, 3) == doctest::Approx(3));
  const auto b = dfgpar::compute_moldable_bounds(g, a, 4);
  CHECK(b.critical_path == doctest::Approx(4 + 2));  // both at their fastest on 4 cores
  CHECK(b.area == doctest::Approx((10 + 8) / 4.0));  // least work is on one core
  CHECK(b.lower_bound == doctest::Approx(6));
}

TEST_CASE("[dfgpar] moldable cost: a table that breaks monotonicity is reported and repaired") {
  table_graph g(3);
  g[0].t = {4, 5, 1.5};  // slower on 2 cores; superlinear on 3 (3 x 1.5 < 2 x 4)
  g[1].t = {6, 3, 2};    // fine
  g[2].t = {2};          // no speed-up: the single entry repeats
  add_edge(0, 1, g);
  add_edge(1, 2, g);
  const auto t = get(&tprop::t, g);
  const std::string why = dfgpar::moldable_cost_error(g, t, 3);
  CHECK(why.find("vertex 0") != std::string::npos);
  CHECK(why.find("time must not grow") != std::string::npos);
  table_graph ok(1);
  ok[0].t = {6, 3, 2};
  CHECK(dfgpar::moldable_cost_error(ok, get(&tprop::t, ok), 3).empty());
  ok[0].t = {6, 2};
  CHECK(dfgpar::moldable_cost_error(ok, get(&tprop::t, ok), 2).find("superlinear") != std::string::npos);

  const auto tab = dfgpar::detail::make_moldable_table(g, t, 3);
  CHECK(tab.at(0, 1) == doctest::Approx(4));
  CHECK(tab.at(0, 2) == doctest::Approx(4));              // best of smaller k
  CHECK(tab.at(0, 3) == doctest::Approx(4.0 * 2 / 3));    // capped at linear
  CHECK(tab.at(2, 3) == doctest::Approx(2));
  CHECK(dfgpar::detail::moldable_violation(tab).empty());
  // scheduling accepts it and uses the repaired times: a chain, each at its fastest
  const auto r = dfgpar::parallelize_moldable(g, t, dfgpar::options{.workers = 3});
  CHECK(r.makespan == doctest::Approx(4.0 * 2 / 3 + 2 + 2));
  // bad values are an error, not a repair
  g[1].t = {1, -1};
  CHECK_THROWS_AS(dfgpar::parallelize(g, t, dfgpar::options{.workers = 2}), dfgpar::graph_error);
  g[1].t = {};
  CHECK_THROWS_AS(dfgpar::parallelize(g, t, dfgpar::options{.workers = 2}), dfgpar::graph_error);
}

// ---------------------------------------------------------------- schedules with allotments

TEST_CASE_TEMPLATE("[dfgpar] allotments: validation and makespan of hand-built schedules", G, DFGPAR_GRAPH_TYPES) {
  // 0 -> {1, 2} -> 3; 0 and 3 on both cores, 1 and 2 side by side
  const G g = build<G>(make_dag({4, 3, 3, 4}, {{0, 1}, {0, 2}, {1, 3}, {2, 3}}));
  const std::vector<double> serial{0, 0.5, 0.5, 0};
  const auto t = amdahl(g, serial);
  dfgpar::schedule s;
  s.workers = 2;
  s.num_vertices = 4;
  s.clusters = {{0, {0, 1, 3}, {2, 1, 2}}, {1, {2}, {}}};
  s.reservations = {{1, 0, 0, 0}, {1, 1, 0, 2}};  // worker 1 idles for 0 before its vertex 2, for 3 after it
  dfgpar::finalize(g, s);
  CHECK(dfgpar::validation_error(g, s) == "");
  CHECK(s.has_allotments());
  CHECK(s.threads_of(0, 0) == 2);
  CHECK(s.threads_of(1, 0) == 1);
  CHECK(dfgpar::makespan(g, s, t) == doctest::Approx(2 + 3 + 2));
  // a plain cost map reads get(cost, v) as the time whatever the cores
  CHECK(dfgpar::makespan(g, s, cost_map(g)) == doctest::Approx(4 + 3 + 4));
  const auto ct = dfgpar::simulate_clusters(g, s, t);
  CHECK(ct.makespan == doctest::Approx(7));
  CHECK(ct.start[1] == doctest::Approx(2));

  auto broken = [&](auto edit, const char* what) {
    dfgpar::schedule b = s;
    edit(b);
    const std::string why = dfgpar::validation_error(g, b);
    CAPTURE(why);
    CHECK(why.find(what) != std::string::npos);
  };
  broken([](auto& b) { b.reservations.pop_back(); }, "reserved workers");
  broken([](auto& b) { b.reservations[0].worker = 0; }, "reserves the worker that runs");
  broken([](auto& b) { b.reservations[0].worker = 5; }, "names worker 5");
  broken([](auto& b) { b.reservations[1].position = 2; }, "position 2");
  broken([](auto& b) { b.reservations[1].index = 7; }, "does not exist");
  broken([](auto& b) { b.clusters[0].threads = {3, 1, 2}; }, "outside 1..2");
  broken([](auto& b) { b.clusters[0].threads = {2, 1}; }, "core counts for 3 vertices");
  broken([](auto& b) { b.clusters[1].threads = {2}; b.reservations.push_back({0, 0, 1, 0}); b.reservations.push_back({0, 0, 1, 0}); },
         "reserved");
  // worker 1 reserved for 3 before running 2, which 3 needs: a deadlock
  broken([](auto& b) { b.reservations[1].position = 0; }, "deadlock");
}

TEST_CASE_TEMPLATE("[dfgpar] allotments: schedules without allotments behave as before", G, DFGPAR_GRAPH_TYPES) {
  const auto d = dfgpar::random_dag({.vertices = 120, .out_degree = 3, .seed = 9});
  const G g = build<G>(d);
  const auto s = dfgpar::parallelize(g, cost_map(g), dfgpar::options{.workers = 3});
  CHECK_FALSE(s.has_allotments());
  CHECK(s.reservations.empty());
  for (const auto& c : s.clusters) CHECK(c.threads.empty());
  // as a moldable schedule with t(v, k) = t(v, 1) for every k the makespan is the same
  auto flat = [&](auto v, std::size_t) { return static_cast<double>(g[v].cost); };
  CHECK(dfgpar::makespan(g, s, flat) == doctest::Approx(dfgpar::makespan(g, s, cost_map(g))));
}

// ---------------------------------------------------------------- the algorithm: known optima

TEST_CASE_TEMPLATE("[dfgpar] moldable: hand-checked optimal makespans", G, DFGPAR_GRAPH_TYPES) {
  SUBCASE("one perfectly parallel vertex takes every core") {
    const G g = build<G>(make_dag({8}, {}));
    const auto r = dfgpar::parallelize_moldable(g, amdahl(g, std::vector<double>{0.0}), dfgpar::options{.workers = 4});
    CHECK(r.makespan == doctest::Approx(2));
    CHECK(r.schedule.threads_of(0, 0) == 4);
    CHECK(r.schedule.reservations.size() == 3);
  }
  SUBCASE("two equal branches on 2 cores run side by side (the 3x3 convolution pair)") {
    // t(1) = 1.61 / 2 each; on 2 cores 0.85 / 2 each: side by side 0.805 beats 0.85
    auto tf = [](auto, std::size_t k) { return k == 1 ? 0.805 : 0.425; };
    const G g = build<G>(make_dag({1, 1}, {}));
    const auto r = dfgpar::parallelize_moldable(g, tf, dfgpar::options{.workers = 2});
    CHECK(r.makespan == doctest::Approx(0.805));
    CHECK(r.intra_op == doctest::Approx(0.85));
    CHECK_FALSE(r.schedule.has_allotments());
  }
  SUBCASE("mixed beats both pure forms: a heavy vertex, two poorly scaling branches, a join") {
    // A (10, s = 0) -> B, C (4, s = 0.5) -> D (2, s = 0) on 2 cores:
    // inter 10 + 4 + 2 = 16, intra 5 + 3 + 3 + 1 = 12, optimum 5 + 4 + 1 = 10
    const G g = build<G>(make_dag({10, 4, 4, 2}, {{0, 1}, {0, 2}, {1, 3}, {2, 3}}));
    const std::vector<double> serial{0, 0.5, 0.5, 0};
    const auto r = dfgpar::parallelize_moldable(g, amdahl(g, serial), dfgpar::options{.workers = 2});
    CHECK(r.inter_op == doctest::Approx(16));
    CHECK(r.intra_op == doctest::Approx(12));
    CHECK(r.makespan == doctest::Approx(10));
    CHECK(dfgpar::makespan(g, r.schedule, amdahl(g, serial)) == doctest::Approx(10));
    CHECK(r.schedule.has_allotments());
  }
  SUBCASE("an inception-like block on 8 cores: fork and join on all cores, four branches on two each") {
    // fork 4, branches 3, join 4, s = 0.1: 0.85 + 3 (0.1 + 0.9 / 2) + 0.85 = 3.35 (equal split is optimal)
    const G g = build<G>(make_dag({4, 3, 3, 3, 3, 4}, {{0, 1}, {0, 2}, {0, 3}, {0, 4}, {1, 5}, {2, 5}, {3, 5}, {4, 5}}));
    const std::vector<double> serial(6, 0.1);
    const auto r = dfgpar::parallelize_moldable(g, amdahl(g, serial), dfgpar::options{.workers = 8});
    CHECK(r.makespan == doctest::Approx(3.35));
    CHECK(r.makespan <= std::min(r.inter_op, r.intra_op));
    CHECK(r.bounds.lower_bound <= r.makespan);
  }
  SUBCASE("a chain, perfectly parallel up to 2 cores, on 4: each vertex on the fewest cores that reach its fastest") {
    const G g = build<G>(make_dag({6, 4, 2}, {{0, 1}, {1, 2}}));
    const std::vector<double> kmax(3, 2);
    const auto t = dfgpar::perfectly_parallel_cost{cost_map(g), boost::make_iterator_property_map(kmax.begin(), get(boost::vertex_index, g))};
    const auto r = dfgpar::parallelize_moldable(g, t, dfgpar::options{.workers = 4});
    CHECK(r.makespan == doctest::Approx(6));
    CHECK(r.makespan == doctest::Approx(r.bounds.lower_bound));
  }
}

// ---------------------------------------------------------------- the algorithm: properties

TEST_CASE_TEMPLATE("[dfgpar] moldable: random graphs give valid schedules between the lower bound and both pure forms", G,
                   DFGPAR_GRAPH_TYPES) {
  for (std::uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
    const auto d = seed % 2 ? dfgpar::random_dag({.vertices = 60, .out_degree = 2, .min_cost = 1, .max_cost = 20, .seed = seed})
                            : dfgpar::stg_like({.tasks = 50, .method = dfgpar::all_stg_methods[seed % 6], .seed = seed});
    const G g = build<G>(d);
    const auto serial = draw_serial(d.cost.size(), seed);
    const auto t = amdahl(g, serial);
    for (std::size_t P : {1u, 2u, 3u, 4u, 8u}) {
      CAPTURE(seed);
      CAPTURE(P);
      const auto r = dfgpar::parallelize_moldable(g, t, dfgpar::options{.workers = P, .time_limit_ms = 50});
      REQUIRE(dfgpar::validation_error(g, r.schedule) == "");
      const double m = dfgpar::makespan(g, r.schedule, t);
      CHECK(m == doctest::Approx(r.makespan));
      CHECK(m <= r.inter_op * (1 + 1e-9));
      CHECK(m <= r.intra_op * (1 + 1e-9));
      CHECK(m >= r.bounds.lower_bound * (1 - 1e-9));
      const auto tab = dfgpar::detail::make_moldable_table(g, t, P);
      CHECK(peak_cores(dfgpar::detail::flat_dag_of(g, tab), r.schedule, tab) <= static_cast<double>(P) + 1e-9);
      // a multi-core vertex runs on the lowest of its workers (on 2 cores: worker 0, the caller,
      // so that one OpenMP team serves them all)
      for (const auto& res : r.schedule.reservations) CHECK(r.schedule.clusters[res.cluster].worker < res.worker);
      // the plain parallelize overload returns the same schedule kind
      CHECK(dfgpar::validate(g, dfgpar::parallelize(g, t, dfgpar::options{.workers = P, .time_limit_ms = 20})));
    }
  }
}

// ---------------------------------------------------------------- executor

TEST_CASE_TEMPLATE("[dfgpar] executor: reservations keep busy cores at most P and tasks learn their core count", G,
                   DFGPAR_GRAPH_TYPES) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const auto d = dfgpar::random_dag({.vertices = 80, .out_degree = 2, .min_cost = 1, .max_cost = 20, .seed = seed});
    const G g = build<G>(d);
    const auto serial = draw_serial(d.cost.size(), seed + 10);
    const auto t = amdahl(g, serial);
    for (std::size_t P : {2u, 3u, 4u}) {
      CAPTURE(seed);
      CAPTURE(P);
      // the moldable schedule, and a random one with many reservations
      std::vector<dfgpar::schedule> schedules{dfgpar::parallelize(g, t, dfgpar::options{.workers = P, .time_limit_ms = 20})};
      {
        std::mt19937_64 rng(seed * 7 + P);
        dfgpar::detail::moldable_builder b(d.cost.size(), P);
        std::vector<std::uint32_t> ws(P);
        for (std::size_t v = 0; v < d.cost.size(); ++v) {  // index order is topological
          std::iota(ws.begin(), ws.end(), 0u);
          std::shuffle(ws.begin(), ws.end(), rng);
          const std::size_t k = 1 + rng() % P;
          b.place(v, ws[0], std::span<const std::uint32_t>(ws.data() + 1, k - 1));
        }
        schedules.push_back(std::move(b).finish(dfgpar::detail::make_flat_dag(g, cost_map(g), dfgpar::no_edge_cost{})));
      }
      for (const auto& s : schedules) {
        REQUIRE(dfgpar::validation_error(g, s) == "");
        std::vector<std::uint64_t> val(d.cost.size()), threads(d.cost.size());
        std::atomic<int> busy{0};
        std::atomic<bool> over{false};
        std::uint64_t salt = 0;
        dfgpar::cluster_executor ex(g, s, [&](auto, const dfgpar::task_info& info) {
          const int now = busy.fetch_add(static_cast<int>(info.threads)) + static_cast<int>(info.threads);
          if (now > static_cast<int>(P)) over.store(true);
          std::uint64_t h = mix(salt ^ info.vertex);
          for (const auto& in : info.inputs) h += mix(val[in.vertex]);
          for (int i = 0; i < 200; ++i) h = mix(h);  // long enough for workers to overlap
          val[info.vertex] = h;
          threads[info.vertex] = info.threads;
          busy.fetch_sub(static_cast<int>(info.threads));
        });
        CHECK(ex.steps() == d.cost.size());
        CHECK(ex.reservations() == s.reservations.size());
        for (int run = 0; run < 20; ++run) {
          salt = mix(seed * 100 + P * 10 + static_cast<std::uint64_t>(run));
          ex.run();
          // serial reference in index order
          std::vector<std::uint64_t> want(d.cost.size());
          std::vector<std::vector<std::size_t>> preds(d.cost.size());
          for (auto [u, v] : d.edges) preds[v].push_back(u);
          for (std::size_t v = 0; v < d.cost.size(); ++v) {
            std::sort(preds[v].begin(), preds[v].end());
            std::uint64_t h = mix(salt ^ v);
            for (auto u : preds[v]) h += mix(want[u]);
            for (int i = 0; i < 200; ++i) h = mix(h);
            want[v] = h;
          }
          REQUIRE(val == want);
        }
        CHECK_FALSE(over.load());
        for (std::size_t c = 0; c < s.clusters.size(); ++c)
          for (std::size_t i = 0; i < s.clusters[c].vertices.size(); ++i)
            CHECK(threads[s.clusters[c].vertices[i]] == s.threads_of(c, i));
      }
    }
  }
}

TEST_CASE("[dfgpar] executor: a reserved worker sleeps while a long multi-core task runs, and a throw releases it") {
  using G = dfgpar_test::vec_graph;
  const G g = build<G>(make_dag({1, 1}, {{0, 1}}));
  dfgpar::schedule s;
  s.workers = 2;
  s.num_vertices = 2;
  s.clusters = {{0, {0, 1}, {2, 1}}};
  s.reservations = {{1, 0, 0, 0}};
  dfgpar::finalize(g, s);
  REQUIRE(dfgpar::validate(g, s));
  std::atomic<int> ran{0};
  bool fail = false;
  // the plain task signature keeps working with allotments
  dfgpar::cluster_executor ex(g, s, [&](auto v) {
    if (v == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (fail && v == 0) throw std::runtime_error("boom");
    ran.fetch_add(1);
  });
  ex.run();
  CHECK(ran.load() == 2);
  fail = true;
  CHECK_THROWS_AS(ex.run(), std::runtime_error);
  fail = false;
  ex.run();
  CHECK(ran.load() == 4);
}

// ---------------------------------------------------------------- reports

TEST_CASE("[dfgpar] allotments: JSON, DOT and the Gantt chart show core counts and reservations") {
  using G = dfgpar_test::vec_graph;
  const G g = build<G>(make_dag({10, 4, 4, 2}, {{0, 1}, {0, 2}, {1, 3}, {2, 3}}));
  const std::vector<double> serial{0, 0.5, 0.5, 0};
  const auto t = amdahl(g, serial);
  const auto s = dfgpar::parallelize(g, t, dfgpar::options{.workers = 2});
  REQUIRE(s.has_allotments());
  std::ostringstream json, dot, svg;
  dfgpar::write_json_report(json, g, s, t);
  CHECK(json.str().find("\"threads\": 2") != std::string::npos);
  CHECK(json.str().find("\"reserved_workers\": [1]") != std::string::npos);
  CHECK(json.str().find("\"makespan\": 10") != std::string::npos);
  dfgpar::write_dot(dot, g, s);
  CHECK(dot.str().find("2 cores") != std::string::npos);
  dfgpar::write_gantt_svg(svg, g, s, t);
  CHECK(svg.str().find("class=\"reserved\"") != std::string::npos);
  CHECK(svg.str().find("2 cores") != std::string::npos);
  CHECK(svg.str().find("makespan 10") != std::string::npos);
}
