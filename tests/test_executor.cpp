// Tests of dfgpar::cluster_executor: parallel runs give exactly the serial
// results (tasks hash their inputs, so a missed dependency changes the
// result), clones, exceptions, many consecutive runs, destruction mid-failure,
// invalid schedules.

#include <dfgpar/cluster/finalize.hpp>
#include <dfgpar/cluster/parallelize.hpp>
#include <dfgpar/cluster/validate.hpp>
#include <dfgpar/exec/cluster_executor.hpp>
#include <dfgpar/generate/random_dag.hpp>

#include "graph_types.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(__SANITIZE_THREAD__)
#define DFGPAR_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DFGPAR_TEST_TSAN 1
#endif
#endif
#ifndef DFGPAR_TEST_TSAN
#define DFGPAR_TEST_TSAN 0
#endif

namespace {

using dfgpar_test::build;

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Some work whose length varies by vertex, so that workers interleave.
std::uint64_t burn(std::uint64_t h, std::size_t rounds) {
  for (std::size_t i = 0; i < rounds; ++i) h = mix(h);
  return h;
}

// value(v) = f(salt, v, values of the inputs): the salt changes every run, so
// reading a stale value from the previous run gives a wrong answer too.
std::uint64_t combine(std::uint64_t salt, std::size_t v, std::uint64_t inputs_sum) {
  return burn(mix(salt ^ (std::uint64_t{v} * 0x100000001b3ull)) + inputs_sum, 1 + v % 7);
}

std::vector<std::uint64_t> serial_values(const dfgpar::dag_data& d, std::uint64_t salt) {
  const std::size_t n = d.cost.size();
  std::vector<std::uint64_t> sum(n, 0), val(n, 0);
  // edges have u < v, so index order is topological; sort edges by target
  std::vector<std::vector<std::size_t>> preds(n);
  for (auto [u, v] : d.edges) preds[v].push_back(u);
  for (std::size_t v = 0; v < n; ++v) {
    std::uint64_t s = 0;
    for (auto u : preds[v]) s += mix(val[u]);
    val[v] = combine(salt, v, s);
  }
  return val;
}

/// The parallel task: reads its in-edges' values from `val`, writes its own.
template <class G>
struct value_task {
  const G* g;
  std::vector<std::uint64_t>* val;
  const std::uint64_t* salt;
  void operator()(dfgpar::detail::vertex_t<G> v) const {
    std::uint64_t s = 0;
    for (auto [e, end] = in_edges(v, *g); e != end; ++e) s += mix((*val)[dfgpar::detail::index_of(*g, source(*e, *g))]);
    const std::size_t i = dfgpar::detail::index_of(*g, v);
    (*val)[i] = combine(*salt, i, s);
  }
};

/// Index order (topological for dag_data) cut into random segments; each
/// segment's vertices go to random workers, one cluster per (segment, worker).
/// Each worker's concatenated clusters stay in index order, so the schedule is
/// valid, and every cross-worker edge is a real wait.
dfgpar::schedule random_schedule(std::size_t n, std::size_t P, std::uint64_t seed, std::size_t max_segment = 16) {
  std::mt19937_64 rng(seed);
  dfgpar::schedule s;
  s.workers = P;
  s.num_vertices = n;
  std::size_t v = 0;
  while (v < n) {
    const std::size_t len = std::min<std::size_t>(n - v, 1 + rng() % max_segment);
    std::vector<std::vector<std::size_t>> per(P);
    for (std::size_t k = 0; k < len; ++k, ++v) per[rng() % P].push_back(v);
    for (std::size_t w = 0; w < P; ++w)
      if (!per[w].empty()) s.clusters.push_back({w, std::move(per[w])});
  }
  return s;
}

/// Adds copies of random vertices to clusters of other workers in the same
/// index range (so each worker's order stays topological).
void add_clones(dfgpar::schedule& s, std::uint64_t seed, std::size_t count) {
  std::mt19937_64 rng(seed);
  for (std::size_t k = 0; k < count && s.clusters.size() > 1; ++k) {
    const std::size_t c = rng() % s.clusters.size();
    auto& from = s.clusters[c].vertices;
    const std::size_t v = from[rng() % from.size()];
    // a cluster of another worker whose index range covers v
    for (std::size_t t = 0; t < s.clusters.size(); ++t) {
      auto& to = s.clusters[t];
      if (to.worker == s.clusters[c].worker || to.vertices.front() > v || to.vertices.back() < v) continue;
      if (std::find(to.vertices.begin(), to.vertices.end(), v) != to.vertices.end()) continue;
      to.vertices.insert(std::lower_bound(to.vertices.begin(), to.vertices.end(), v), v);
      break;
    }
  }
}

dfgpar::dag_data small_dag(std::uint64_t seed, std::size_t n = 40) {
  return dfgpar::random_dag({.vertices = n, .out_degree = 3, .seed = seed});
}

}  // namespace

TEST_CASE_TEMPLATE("[dfgpar] executor: parallel runs match a serial evaluation on random DAGs", G, DFGPAR_GRAPH_TYPES) {
  for (std::uint64_t seed : {1u, 2u, 3u, 7u}) {
    const auto d = dfgpar::random_dag({.vertices = 300, .out_degree = 3, .seed = seed});
    const G g = build<G>(d);
    for (std::size_t P = 1; P <= 4; ++P) {
      CAPTURE(seed);
      CAPTURE(P);
      auto s = random_schedule(d.cost.size(), P, seed * 31 + P);
      dfgpar::finalize(g, s);
      REQUIRE(dfgpar::validate(g, s));
      std::vector<std::uint64_t> val(d.cost.size());
      std::uint64_t salt = 0;
      dfgpar::cluster_executor ex(g, s, value_task<G>{&g, &val, &salt});
      CHECK(ex.workers() == P);
      CHECK(ex.steps() == d.cost.size());
      CHECK(ex.waits() <= s.num_cross_worker_edges());
      if (P > 1) CHECK(ex.waits() > 0);
      for (int r = 0; r < 5; ++r) {
        salt = mix(seed * 1000 + P * 10 + r);
        ex.run();
        CHECK(val == serial_values(d, salt));
      }
    }
  }
}

TEST_CASE_TEMPLATE("[dfgpar] executor: a plain lambda taking the vertex descriptor", G, DFGPAR_GRAPH_TYPES) {
  const auto d = small_dag(5, 60);
  const G g = build<G>(d);
  auto s = random_schedule(d.cost.size(), 3, 11);
  dfgpar::finalize(g, s);
  std::vector<std::atomic<int>> ran(d.cost.size());
  dfgpar::cluster_executor ex(g, s, [&](auto v) { ran[dfgpar::detail::index_of(g, v)].fetch_add(1); });
  ex.run();
  ex.run();
  for (auto& r : ran) CHECK(r.load() == 2);
}

TEST_CASE_TEMPLATE("[dfgpar] executor: schedules from parallelize", G, DFGPAR_GRAPH_TYPES) {
  for (std::uint64_t seed : {3u, 4u}) {
    const auto d = dfgpar::random_dag({.vertices = 400, .out_degree = 3, .seed = seed});
    const G g = build<G>(d);
    for (std::size_t P = 2; P <= 4; ++P)
      for (bool clone : {false, true}) {
        CAPTURE(seed);
        CAPTURE(P);
        CAPTURE(clone);
        const auto s = dfgpar::parallelize(g, dfgpar_test::cost_map(g), dfgpar::options{.workers = P, .clone = clone});
        REQUIRE(dfgpar::validate(g, s));
        // per-copy storage: with clones every copy runs, consumers read the copy named in info.inputs
        std::vector<std::vector<std::uint64_t>> val(s.clusters.size(), std::vector<std::uint64_t>(d.cost.size()));
        std::uint64_t salt = 0;
        dfgpar::cluster_executor ex(g, s, [&](auto v, const dfgpar::task_info& info) {
          std::uint64_t sum = 0;
          for (const auto& in : info.inputs) sum += mix(val[in.cluster][in.vertex]);
          val[info.cluster][info.vertex] = combine(salt, info.vertex, sum);
          (void)v;
        });
        for (int r = 0; r < 3; ++r) {
          salt = mix(seed + 100 * r + P);
          ex.run();
          const auto want = serial_values(d, salt);
          for (std::size_t c = 0; c < s.clusters.size(); ++c)
            for (auto v : s.clusters[c].vertices) REQUIRE(val[c][v] == want[v]);
        }
      }
  }
}

TEST_CASE_TEMPLATE("[dfgpar] executor: cloned vertices run once per copy and feed their own worker", G, DFGPAR_GRAPH_TYPES) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const auto d = dfgpar::random_dag({.vertices = 200, .out_degree = 3, .seed = seed});
    const G g = build<G>(d);
    for (std::size_t P = 2; P <= 4; ++P) {
      CAPTURE(seed);
      CAPTURE(P);
      auto s = random_schedule(d.cost.size(), P, seed + 17 * P, 24);
      add_clones(s, seed, 60);
      dfgpar::finalize(g, s);
      REQUIRE(dfgpar::validate(g, s));
      REQUIRE(s.num_copies() > d.cost.size());  // there are clones

      const std::size_t C = s.clusters.size(), n = d.cost.size();
      std::vector<std::vector<std::uint64_t>> val(C, std::vector<std::uint64_t>(n));
      std::vector<std::atomic<int>> runs(C * n);
      std::atomic<int> bad_info{0};
      std::uint64_t salt = 0;
      dfgpar::cluster_executor ex(g, s, [&](auto v, const dfgpar::task_info& info) {
        const std::size_t i = dfgpar::detail::index_of(g, v);
        if (i != info.vertex || s.clusters[info.cluster].worker != info.worker) bad_info.fetch_add(1);
        if (info.inputs.size() != in_degree(v, g)) bad_info.fetch_add(1);
        runs[info.cluster * n + i].fetch_add(1, std::memory_order_relaxed);
        std::uint64_t sum = 0;
        for (const auto& in : info.inputs) {
          // a clone on this worker that runs earlier is read instead of the home copy
          if (in.cluster != s.home[in.vertex] && s.clusters[in.cluster].worker != info.worker) bad_info.fetch_add(1);
          sum += mix(val[in.cluster][in.vertex]);
        }
        val[info.cluster][i] = combine(salt, i, sum);
      });
      CHECK(ex.steps() == s.num_copies());
      for (int r = 1; r <= 4; ++r) {
        salt = mix(seed * 7 + P * 3 + r);
        ex.run();
        const auto want = serial_values(d, salt);
        for (std::size_t c = 0; c < C; ++c)
          for (auto v : s.clusters[c].vertices) {
            REQUIRE(val[c][v] == want[v]);
            REQUIRE(runs[c * n + v].load() == r);
          }
      }
      CHECK(bad_info.load() == 0);
      // every copy ran, and only scheduled copies
      int total = 0;
      for (auto& x : runs) total += x.load();
      CHECK(total == 4 * static_cast<int>(s.num_copies()));
    }
  }
}

TEST_CASE_TEMPLATE("[dfgpar] executor: a task exception is rethrown and the next runs are correct", G, DFGPAR_GRAPH_TYPES) {
  const auto d = dfgpar::random_dag({.vertices = 150, .out_degree = 3, .seed = 9});
  const G g = build<G>(d);
  for (std::size_t P = 1; P <= 4; ++P) {
    CAPTURE(P);
    auto s = random_schedule(d.cost.size(), P, 5 + P);
    dfgpar::finalize(g, s);
    std::vector<std::uint64_t> val(d.cost.size());
    std::uint64_t salt = 0;
    int run = 0;
    std::vector<std::size_t> throwers;  // vertices that throw in this run
    value_task<G> compute{&g, &val, &salt};
    dfgpar::cluster_executor ex(g, s, [&](auto v) {
      const std::size_t i = dfgpar::detail::index_of(g, v);
      if (std::find(throwers.begin(), throwers.end(), i) != throwers.end())
        throw std::runtime_error("boom " + std::to_string(i));
      compute(v);
    });
    std::mt19937_64 rng(P);
    int thrown = 0, expected = 0;
    for (run = 0; run < 60; ++run) {
      salt = mix(run * 977 + P);
      throwers.clear();
      if (run % 3 == 1) throwers.push_back(rng() % d.cost.size());                   // one task
      if (run % 9 == 2) throwers = {0, d.cost.size() - 1, rng() % d.cost.size()};  // several at once
      if (run % 9 == 5)                                                            // one per worker's first step
        for (const auto& c : s.clusters) throwers.push_back(c.vertices.front());
      if (throwers.empty()) {
        ex.run();
        REQUIRE(val == serial_values(d, salt));
      } else {
        ++expected;
        try {
          ex.run();
          FAIL("run() did not rethrow");
        } catch (const std::runtime_error& e) {
          ++thrown;
          const std::string what = e.what();
          REQUIRE(what.rfind("boom ", 0) == 0);
          const std::size_t v = std::stoul(what.substr(5));
          CHECK(std::find(throwers.begin(), throwers.end(), v) != throwers.end());
        }
      }
    }
    CHECK(thrown == expected);
    CHECK(expected == 34);
  }
}

TEST_CASE("[dfgpar] executor: task_info stop_requested turns true after another task throws") {
  // two independent chains on two workers: worker 1 throws at once, worker 0's
  // long task polls stop_requested and leaves early; later tasks do not run.
  const auto d = dfgpar_test::make_dag({1, 1, 1, 1, 1}, {{0, 1}, {1, 2}, {3, 4}});
  using G = dfgpar_test::vec_graph;
  const G g = build<G>(d);
  dfgpar::schedule s;
  s.workers = 2;
  s.clusters = {{0, {0, 1, 2}}, {1, {3, 4}}};
  dfgpar::finalize(g, s);
  std::atomic<bool> fail{true};
  std::atomic<int> after{0};
  std::atomic<bool> saw_stop{false}, started{false};
  dfgpar::cluster_executor ex(g, s, [&](std::size_t v, const dfgpar::task_info& info) {
    if (v == 3 && fail) {
      while (!started) std::this_thread::yield();
      throw std::logic_error("worker 1 fails");
    }
    if (v == 0 && fail) {
      started = true;
      // a generous deadline, not an iteration count: on a loaded machine (or
      // under TSan) worker 1 may not get a core for a long while
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (!info.stop_requested() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
      saw_stop = info.stop_requested();
    }
    if (v == 1 || v == 2 || v == 4) after.fetch_add(1);
  });
  CHECK_THROWS_AS(ex.run(), std::logic_error);
  CHECK(saw_stop.load());
  CHECK(after.load() == 0);
  fail = false;
  ex.run();
  CHECK(after.load() == 3);
}

TEST_CASE("[dfgpar] executor: 10,000 consecutive runs without deadlock") {
  const int runs = DFGPAR_TEST_TSAN ? 1500 : 10'000;
  for (std::size_t P = 2; P <= 4; ++P) {
    CAPTURE(P);
    const auto d = small_dag(P, 24);
    using G = dfgpar_test::vec_graph;
    const G g = build<G>(d);
    auto s = random_schedule(d.cost.size(), P, 99 + P, 6);
    dfgpar::finalize(g, s);
    REQUIRE(s.num_cross_worker_edges() > 0);
    std::vector<std::uint64_t> val(d.cost.size());
    std::uint64_t salt = 0;
    // spin 0 for P = 4: more threads than cores, everyone sleeps in atomic::wait
    dfgpar::cluster_executor ex(g, s, value_task<G>{&g, &val, &salt}, dfgpar::executor_options{.spin = P == 4 ? 0u : 256u});
    int wrong = 0;
    for (int r = 0; r < runs; ++r) {
      salt = mix(static_cast<std::uint64_t>(r) * 131 + P);
      ex.run();
      if (val != serial_values(d, salt)) ++wrong;
    }
    CHECK(wrong == 0);
  }
}

TEST_CASE("[dfgpar] executor: release_threads joins the workers; the next run starts them again and is correct") {
  using G = dfgpar_test::vec_graph;
  for (std::size_t P = 2; P <= 4; ++P) {
    CAPTURE(P);
    const auto d = small_dag(40 + P, 60);
    const G g = build<G>(d);
    auto s = random_schedule(d.cost.size(), P, 7 + P, 6);
    dfgpar::finalize(g, s);
    REQUIRE(s.num_cross_worker_edges() > 0);
    std::vector<std::uint64_t> val(d.cost.size());
    std::uint64_t salt = 0;
    dfgpar::cluster_executor ex(g, s, value_task<G>{&g, &val, &salt});
    const std::size_t started = ex.threads_alive();
    CHECK(started > 0);
    CHECK(started <= P - 1);
    int wrong = 0;
    for (int r = 0; r < 200; ++r) {
      // release before every other run, twice in a row now and then, and
      // once before a run that throws
      if (r % 2 == 0) ex.release_threads();
      if (r % 17 == 0) ex.release_threads();
      if (r % 2 == 0) CHECK(ex.threads_alive() == 0);
      salt = mix(static_cast<std::uint64_t>(r) * 977 + P);
      ex.run();
      CHECK(ex.threads_alive() == started);
      if (val != serial_values(d, salt)) ++wrong;
    }
    CHECK(wrong == 0);
  }
}

TEST_CASE("[dfgpar] executor: a run that throws right after release_threads; the next runs are correct") {
  using G = dfgpar_test::vec_graph;
  const auto d = small_dag(3, 50);
  const G g = build<G>(d);
  auto s = random_schedule(d.cost.size(), 3, 5, 6);
  dfgpar::finalize(g, s);
  std::vector<std::uint64_t> val(d.cost.size());
  std::uint64_t salt = 0;
  bool fail = false;
  value_task<G> task{&g, &val, &salt};
  dfgpar::cluster_executor ex(g, s, [&](auto v) {
    if (fail && dfgpar::detail::index_of(g, v) == 25) throw std::runtime_error("boom");
    task(v);
  });
  for (int r = 0; r < 20; ++r) {
    ex.release_threads();
    fail = r % 3 == 0;
    salt = mix(static_cast<std::uint64_t>(r) + 11);
    if (fail) {
      CHECK_THROWS_AS(ex.run(), std::runtime_error);
    } else {
      ex.run();
      CHECK(val == serial_values(d, salt));
    }
  }
}

TEST_CASE("[dfgpar] executor: destruction mid-failure joins cleanly") {
  const auto d = dfgpar::random_dag({.vertices = 200, .out_degree = 3, .seed = 4});
  using G = dfgpar_test::list_graph;
  const G g = build<G>(d);
  auto s = random_schedule(d.cost.size(), 3, 8);
  dfgpar::finalize(g, s);

  SUBCASE("the exception leaves the executor's scope; destroyed during unwinding") {
    for (int k = 0; k < 50; ++k) {
      std::atomic<int> ran{0};
      try {
        dfgpar::cluster_executor ex(g, s, [&](auto v) {
          ran.fetch_add(1);
          if (dfgpar::detail::index_of(g, v) == static_cast<std::size_t>(k) * 3) throw k;
        });
        ex.run();
        FAIL("no throw");
      } catch (int e) {
        CHECK(e == k);
      }
      CHECK(ran.load() <= 200);
    }
  }
  SUBCASE("every task throws, on every worker") {
    for (int k = 0; k < 50; ++k) {
      dfgpar::cluster_executor ex(g, s, [&](auto) { throw std::runtime_error("all"); });
      CHECK_THROWS_AS(ex.run(), std::runtime_error);
      CHECK_THROWS_AS(ex.run(), std::runtime_error);
    }
  }
  SUBCASE("destroyed without ever running, and right after construction") {
    for (int k = 0; k < 50; ++k) dfgpar::cluster_executor ex(g, s, [&](auto) {});
  }
}

TEST_CASE("[dfgpar] executor: empty graph and idle workers") {
  using G = dfgpar_test::vec_graph;
  const G g = build<G>(dfgpar_test::make_dag({}, {}));
  dfgpar::schedule s;
  s.workers = 3;
  dfgpar::finalize(g, s);
  int calls = 0;
  dfgpar::cluster_executor ex(g, s, [&](auto) { ++calls; });
  for (int r = 0; r < 100; ++r) ex.run();
  CHECK(calls == 0);
  CHECK(ex.workers() == 3);
}

namespace {
thread_local int caller_mark = 0;  // set by the thread that calls run()
}

TEST_CASE("[dfgpar] executor: worker 0 runs on the calling thread; its exception is rethrown and the executor is reusable") {
  // worker 0: 0 -> 1 -> 2, worker 1: 3 -> 4 -> 5, crossing 1 -> 4 and 3 -> 2
  const auto d = dfgpar_test::make_dag({1, 1, 1, 1, 1, 1}, {{0, 1}, {1, 2}, {3, 4}, {4, 5}, {1, 4}, {3, 2}});
  using G = dfgpar_test::vec_graph;
  const G g = build<G>(d);
  for (std::size_t P : {1u, 2u}) {
    CAPTURE(P);
    dfgpar::schedule s;
    s.workers = P;
    if (P == 2)
      s.clusters = {{0, {0, 1, 2}}, {1, {3, 4, 5}}};
    else
      s.clusters = {{0, {0, 1, 3, 4, 2, 5}}};
    dfgpar::finalize(g, s);
    std::vector<std::thread::id> ran_on(6);
    std::vector<std::size_t> worker_of(6);
    std::vector<int> mark(6);
    std::atomic<int> ran{0};
    std::size_t thrower = 99;
    dfgpar::cluster_executor ex(g, s, [&](std::size_t v, const dfgpar::task_info& info) {
      if (v == thrower) throw std::runtime_error("worker 0 fails");
      ran_on[v] = std::this_thread::get_id();
      worker_of[v] = info.worker;
      mark[v] = caller_mark;
      ran.fetch_add(1);
    });
    for (int round = 0; round < 20; ++round) {
      CAPTURE(round);
      caller_mark = round + 1;
      ran = 0;
      thrower = round % 2 == 1 ? 1 : 99;  // vertex 1: worker 0, and worker 1 waits for it
      std::fill(ran_on.begin(), ran_on.end(), std::thread::id{});
      if (thrower == 1) {
        CHECK_THROWS_WITH_AS(ex.run(), "worker 0 fails", std::runtime_error);
        CHECK(ran_on[2] == std::thread::id{});  // after the throw on worker 0
        CHECK(ran_on[4] == std::thread::id{});  // waits for vertex 1
        CHECK(ran_on[5] == std::thread::id{});
        continue;
      }
      ex.run();
      REQUIRE(ran.load() == 6);
      for (std::size_t v : {0u, 1u, 2u}) {
        CHECK(ran_on[v] == std::this_thread::get_id());
        CHECK(worker_of[v] == 0);
        CHECK(mark[v] == round + 1);  // the caller's thread-local
      }
      for (std::size_t v : {3u, 4u, 5u}) {
        CHECK(worker_of[v] == P - 1);
        if (P == 2) {
          CHECK(ran_on[v] != std::this_thread::get_id());
          CHECK(ran_on[v] == ran_on[3]);  // one persistent thread
          CHECK(mark[v] == 0);
        }
      }
    }
  }
}

TEST_CASE("[dfgpar] executor: the calling thread honours a reservation on worker 0") {
  // vertex 0 runs on worker 1 with 2 cores; worker 0 (the caller) is reserved
  // for it before its own vertex 2
  using G = dfgpar_test::vec_graph;
  const G g = build<G>(dfgpar_test::make_dag({1, 1, 1}, {{0, 1}}));
  dfgpar::schedule s;
  s.workers = 2;
  s.num_vertices = 3;
  s.clusters = {{1, {0, 1}, {2, 1}}, {0, {2}, {1}}};
  s.reservations = {{0, 0, 0, 0}};
  dfgpar::finalize(g, s);
  REQUIRE(dfgpar::validation_error(g, s) == "");
  std::atomic<bool> done0{false}, fail{false};
  std::atomic<int> overlaps{0}, ran{0};
  std::size_t threads0 = 0, worker0 = 9, worker2 = 9;
  std::thread::id thread2;
  dfgpar::cluster_executor ex(g, s, [&](std::size_t v, const dfgpar::task_info& info) {
    if (v == 0) {
      threads0 = info.threads;
      worker0 = info.worker;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (fail) throw std::runtime_error("multi-core task fails");
      done0 = true;
    }
    if (v == 2) {
      if (!done0) overlaps.fetch_add(1);
      worker2 = info.worker;
      thread2 = std::this_thread::get_id();
    }
    ran.fetch_add(1);
  });
  CHECK(ex.reservations() == 1);
  for (int round = 0; round < 6; ++round) {
    CAPTURE(round);
    done0 = false;
    ran = 0;
    fail = round % 3 == 2;
    if (fail) {
      CHECK_THROWS_AS(ex.run(), std::runtime_error);  // the reserved caller is released
      CHECK(ran.load() == 0);
      continue;
    }
    ex.run();
    CHECK(ran.load() == 3);
    CHECK(overlaps.load() == 0);
    CHECK(threads0 == 2);
    CHECK(worker0 == 1);
    CHECK(worker2 == 0);
    CHECK(thread2 == std::this_thread::get_id());
  }
}

TEST_CASE("[dfgpar] executor: an invalid schedule throws graph_error from the constructor") {
  using G = dfgpar_test::vec_graph;
  const auto d = dfgpar_test::make_dag({1, 1, 1, 1}, {{0, 1}, {2, 3}});
  const G g = build<G>(d);
  auto noop = [](auto) {};
  SUBCASE("a vertex is missing") {
    dfgpar::schedule s;
    s.workers = 1;
    s.clusters = {{0, {0, 1, 2}}};
    s.num_vertices = 4;
    s.home = {0, 0, 0, dfgpar::schedule::npos};
    CHECK_THROWS_AS(dfgpar::cluster_executor(g, s, noop), dfgpar::graph_error);
  }
  SUBCASE("a consumer runs before its producer on the same worker") {
    dfgpar::schedule s;
    s.workers = 1;
    s.clusters = {{0, {1, 0, 2, 3}}};
    s.num_vertices = 4;
    s.home = {0, 0, 0, 0};
    CHECK_THROWS_AS(dfgpar::cluster_executor(g, s, noop), dfgpar::graph_error);
  }
  SUBCASE("the two workers would wait on each other") {
    dfgpar::schedule s;
    s.workers = 2;
    s.clusters = {{0, {3, 0}}, {1, {1, 2}}};
    s.num_vertices = 4;
    s.home = {0, 1, 1, 0};
    CHECK_THROWS_WITH_AS(dfgpar::cluster_executor(g, s, noop), doctest::Contains("deadlock"), dfgpar::graph_error);
  }
  SUBCASE("a worker out of range, a schedule for another graph") {
    dfgpar::schedule s;
    s.workers = 1;
    s.clusters = {{1, {0, 1, 2, 3}}};
    s.num_vertices = 4;
    s.home = {0, 0, 0, 0};
    CHECK_THROWS_AS(dfgpar::cluster_executor(g, s, noop), dfgpar::graph_error);
    s.clusters[0].worker = 0;
    s.num_vertices = 5;
    CHECK_THROWS_AS(dfgpar::cluster_executor(g, s, noop), dfgpar::graph_error);
  }
}

TEST_CASE("[dfgpar] executor: task form detection") {
  using G = dfgpar_test::vec_graph;
  using V = dfgpar::detail::vertex_t<G>;
  auto plain = [](auto) {};
  auto with_info = [](V, const dfgpar::task_info&) {};
  auto neither = [](int, int, int) {};
  static_assert(dfgpar::detail::plain_task<decltype(plain), V>);
  static_assert(!dfgpar::detail::task_with_info<decltype(plain), V>);
  static_assert(dfgpar::detail::task_with_info<decltype(with_info), V>);
  static_assert(!dfgpar::detail::plain_task<decltype(neither), V> && !dfgpar::detail::task_with_info<decltype(neither), V>);
  CHECK(true);
}
