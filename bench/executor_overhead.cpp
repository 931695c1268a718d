// Overhead of dfgpar::cluster_executor with empty tasks, against a plain
// serial loop over the same tasks. Prints the median of repeated samples.
//
//   g++ -std=c++20 -O2 -Iinclude -Itests bench/executor_overhead.cpp -pthread -o executor_overhead
//   ./executor_overhead [spin]        (spin: executor_options::spin, default: the library default)
//
// Columns: ns per run(), ns per task (run time / vertex copies), and for graphs
// with cross-worker edges ns per cross-worker dependency (run time / number of
// cross-worker edges; for the zigzag every edge is on the critical path, so
// that is the hand-off latency). "serial" is the same tasks called in a loop.

#include <dfgpar/cluster/finalize.hpp>
#include <dfgpar/cluster/parallelize.hpp>
#include <dfgpar/exec/cluster_executor.hpp>
#include <dfgpar/generate/random_dag.hpp>

#include "graph_types.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // false positive on replaced operator new/delete
#endif

// Counts heap allocations, to show that run() allocates nothing.
static std::atomic<long> allocations{0};
void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc{};
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using graph = dfgpar_test::vec_graph;
using clock_type = std::chrono::steady_clock;

struct empty_task {
  void operator()(std::size_t v) const noexcept { asm volatile("" : : "r"(v) : "memory"); }
};

struct sample {
  double median, min;
};

template <class F>
sample time_ns(F&& f, std::size_t inner, int samples = 21) {
  std::vector<double> t;
  t.reserve(samples);
  f();  // warm up
  for (int s = 0; s < samples; ++s) {
    const auto a = clock_type::now();
    for (std::size_t i = 0; i < inner; ++i) f();
    t.push_back(std::chrono::duration<double, std::nano>(clock_type::now() - a).count() / static_cast<double>(inner));
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t.front()};
}

double fixed_ns[8] = {};  // median run() time of the empty graph, per P

// Prints one line; returns the median run() time.
double report(const char* name, const dfgpar::dag_data& d, const dfgpar::schedule& s, const dfgpar::executor_options& o) {
  const graph g = dfgpar_test::build<graph>(d);
  const std::size_t copies = s.num_copies();
  const std::size_t cross = s.num_cross_worker_edges();
  // aim at ~20 ms per sample
  const std::size_t inner = std::max<std::size_t>(10, 1'000'000 / (copies + 20 * cross + 200));
  empty_task task;
  std::vector<std::size_t> order(d.cost.size());
  for (std::size_t v = 0; v < order.size(); ++v) order[v] = v;
  const sample serial = time_ns([&] { for (auto v : order) task(v); }, inner);

  dfgpar::cluster_executor ex(g, s, task, o);
  ex.run();
  const sample par = time_ns([&] { ex.run(); }, inner);
  const long before = allocations.load();
  for (int i = 0; i < 100; ++i) ex.run();
  const long allocs = allocations.load() - before;
  const double net = par.median - fixed_ns[s.workers];
  char per_task[32] = "      -", per_dep[32] = "      -";
  if (copies) std::snprintf(per_task, sizeof per_task, "%7.1f", net / static_cast<double>(copies));
  if (cross) std::snprintf(per_dep, sizeof per_dep, "%7.1f", net / static_cast<double>(cross));
  std::printf("%-26s %2zu %6zu %6zu %6zu | %10.0f %10.0f %9.0f | %s %s | %ld\n", name, s.workers, copies, cross, ex.waits(),
              par.median, par.min, serial.median, per_task, per_dep, allocs);
  return par.median;
}

dfgpar::schedule finalized(const dfgpar::dag_data& d, dfgpar::schedule s) {
  const graph g = dfgpar_test::build<graph>(d);
  dfgpar::finalize(g, s);
  return s;
}

// (a) P chains of length L, one per worker: no cross-worker edges.
void chains(std::size_t P, std::size_t L, const dfgpar::executor_options& o) {
  dfgpar::dag_data d;
  dfgpar::schedule s;
  s.workers = P;
  d.cost.assign(P * L, 1.0);
  for (std::size_t w = 0; w < P; ++w) {
    dfgpar::cluster c{w, {}};
    for (std::size_t i = 0; i < L; ++i) {
      c.vertices.push_back(w * L + i);
      if (i > 0) d.edges.emplace_back(w * L + i - 1, w * L + i);
    }
    s.clusters.push_back(c);
  }
  d.comm.assign(d.edges.size(), 0.0);
  report(("chains " + std::to_string(P) + "x" + std::to_string(L)).c_str(), d, finalized(d, s), o);
}

// (b) two chains a_i (worker 0) and b_i (worker 1).
// zigzag: a_i -> b_i -> a_{i+1}: strict ping-pong, every edge on the critical path.
// ladder: a_i -> b_i only: a one-way stream, worker 1 trails worker 0.
void two_chains(std::size_t L, bool zigzag, const dfgpar::executor_options& o) {
  dfgpar::dag_data d;
  d.cost.assign(2 * L, 1.0);
  dfgpar::schedule s;
  s.workers = 2;
  dfgpar::cluster a{0, {}}, b{1, {}};
  for (std::size_t i = 0; i < L; ++i) {
    const std::size_t ai = 2 * i, bi = 2 * i + 1;
    a.vertices.push_back(ai);
    b.vertices.push_back(bi);
    d.edges.emplace_back(ai, bi);
    if (i > 0) {
      d.edges.emplace_back(ai - 2, ai);
      d.edges.emplace_back(bi - 2, bi);
      if (zigzag) d.edges.emplace_back(bi - 2, ai);
    }
  }
  d.comm.assign(d.edges.size(), 0.0);
  s.clusters = {a, b};
  report(((zigzag ? "zigzag 2x" : "ladder 2x") + std::to_string(L)).c_str(), d, finalized(d, s), o);
}

// (c) random DAGs scheduled by parallelize().
void random(std::size_t n, std::size_t P, const dfgpar::executor_options& o) {
  const auto d = dfgpar::random_dag({.vertices = n, .out_degree = 3, .seed = 42});
  const graph g = dfgpar_test::build<graph>(d);
  const auto s = dfgpar::parallelize(g, dfgpar_test::cost_map(g), dfgpar::options{.workers = P});
  report(("random " + std::to_string(n) + " parallelize").c_str(), d, s, o);
}

}  // namespace

int main(int argc, char** argv) {
  dfgpar::executor_options o;
  if (argc > 1) o.spin = static_cast<std::uint32_t>(std::strtoul(argv[1], nullptr, 10));
  std::printf("executor_options.spin = %u, hardware threads = %u; empty tasks; times in ns\n", o.spin,
              std::thread::hardware_concurrency());
  std::printf("net = run median - run median of the empty graph with the same P (fixed overhead)\n");
  std::printf("%-26s %2s %6s %6s %6s | %10s %10s %9s | %7s %7s | %s\n", "graph", "P", "copies", "xw-e", "waits", "run med",
              "run min", "serial", "net/tsk", "net/xwd", "allocs/100 runs");

  // fixed overhead of run(): nothing to run on P idle workers; one vertex
  for (std::size_t P : {1, 2, 3, 4}) {
    dfgpar::dag_data empty;
    dfgpar::schedule s;
    s.workers = P;
    fixed_ns[P] = report("empty graph", empty, finalized(empty, s), o);
  }
  {
    auto one = dfgpar_test::make_dag({1}, {});
    dfgpar::schedule s;
    s.clusters = {{0, {0}}};
    report("1 vertex", one, finalized(one, s), o);
  }
  for (std::size_t P : {1, 2}) chains(P, 1000, o);
  chains(1, 10000, o);
  two_chains(1000, true, o);
  two_chains(1000, false, o);
  for (std::size_t n : {1000, 10000})
    for (std::size_t P : {2}) random(n, P, o);
}
