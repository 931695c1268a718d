// Moldable scheduling for real: every vertex is a small multithreaded kernel
// (a blocked matrix multiply with OpenMP, plus a serial part of its own, so
// that speed-ups differ per vertex), run by dfgpar's cluster_executor with
// each task using `num_threads(task_info.threads)`.
//
//   moldable_openmp [--workers P] [--runs R] [--blocks B]
//
// 1. measures t(v, k) for k = 1..P of every vertex alone (median of 7);
// 2. schedules an inception-like graph three ways from that table: pure
//    inter-op (every vertex on 1 core), pure intra-op (every vertex on all P
//    cores) and dfgpar's moldable schedule;
// 3. runs the three on the executor, round-robin, R runs each, and prints the
//    simulated makespan next to the measured median wall time.
//
// OpenMP threads must not spin between kernels (on 2 cores one spinning
// extra thread makes a kernel ~10x slower), so the program re-executes itself
// with OMP_WAIT_POLICY=PASSIVE unless the variable is already set.

#include <dfgpar/dfgpar.hpp>

#include "graph_types.hpp"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using graph = dfgpar_test::vec_graph;
using clock_type = std::chrono::steady_clock;

// One vertex's kernel: C = A x B (n x n, blocked, parallel over row blocks)
// and a serial m x m multiply (the part no thread count speeds up).
struct kernel {
  std::size_t n = 0, m = 0;
  std::vector<float> a, b, c, sa, sb, sc;

  kernel(std::size_t n_, std::size_t m_, std::mt19937_64& rng) : n(n_), m(m_) {
    std::uniform_real_distribution<float> u(-1, 1);
    for (auto* v : {&a, &b, &c}) v->resize(n * n);
    for (auto* v : {&sa, &sb, &sc}) v->resize(m * m);
    for (auto* v : {&a, &b, &sa, &sb})
      for (auto& x : *v) x = u(rng);
  }

  static void multiply_rows(const float* a, const float* b, float* c, std::size_t n, std::size_t i0, std::size_t i1) {
    constexpr std::size_t bs = 32;
    for (std::size_t i = i0; i < i1; ++i) std::fill(c + i * n, c + (i + 1) * n, 0.0f);
    for (std::size_t kk = 0; kk < n; kk += bs)
      for (std::size_t jj = 0; jj < n; jj += bs)
        for (std::size_t i = i0; i < i1; ++i)
          for (std::size_t k = kk; k < std::min(kk + bs, n); ++k) {
            const float x = a[i * n + k];
            float* ci = c + i * n;
            const float* bk = b + k * n;
            for (std::size_t j = jj; j < std::min(jj + bs, n); ++j) ci[j] += x * bk[j];
          }
  }

  void run(std::size_t threads) {
    multiply_rows(sa.data(), sb.data(), sc.data(), m, 0, m);  // serial part
    const std::size_t blocks = (n + 15) / 16;
    if (threads <= 1) {
      multiply_rows(a.data(), b.data(), c.data(), n, 0, n);
      return;
    }
#pragma omp parallel for num_threads(static_cast<int>(threads)) schedule(static)
    for (std::size_t blk = 0; blk < blocks; ++blk)
      multiply_rows(a.data(), b.data(), c.data(), n, blk * 16, std::min(n, blk * 16 + 16));
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// inception-like: stem -> B blocks of {1x1, 1x1 -> 3x3, 1x1 -> 5x5, pool -> 1x1} -> concat
// kernel sizes (n parallel, m serial) per role
struct role {
  std::size_t n, m;
};

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);  // libgomp reads it at start-up; on failure go on and say so
    std::fprintf(stderr, "warning: could not re-execute with OMP_WAIT_POLICY=PASSIVE\n");
  }
  std::size_t P = 2, runs = 30, blocks = 6;
  for (int i = 1; i < argc; ++i) {
    auto num = [&](std::size_t& x) {
      if (i + 1 >= argc) return false;
      x = std::strtoul(argv[++i], nullptr, 10);
      return x > 0;
    };
    bool ok = false;
    if (!std::strcmp(argv[i], "--workers")) ok = num(P);
    else if (!std::strcmp(argv[i], "--runs")) ok = num(runs);
    else if (!std::strcmp(argv[i], "--blocks")) ok = num(blocks);
    if (!ok) {
      std::fprintf(stderr, "usage: moldable_openmp [--workers P] [--runs R] [--blocks B]\n");
      return 2;
    }
  }

  // the graph and its kernels
  std::mt19937_64 rng(42);
  dfgpar::dag_data d;
  std::vector<role> roles;
  auto add = [&](role r) {
    roles.push_back(r);
    d.cost.push_back(1);
    return d.cost.size() - 1;
  };
  std::size_t prev = add({224, 48});  // stem: large, scales well
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t a = add({64, 48});                        // 1x1: small, scales poorly
    const std::size_t r3 = add({96, 32}), c3 = add({192, 40});  // 3x3: the heavy one, scales well
    const std::size_t r5 = add({64, 40}), c5 = add({128, 40});
    const std::size_t pool = add({48, 56}), pp = add({80, 48});  // pooling: mostly serial
    const std::size_t cat = add({32, 48});                       // concat: serial
    for (auto [u, v] : std::initializer_list<std::pair<std::size_t, std::size_t>>{
             {prev, a}, {prev, r3}, {r3, c3}, {prev, r5}, {r5, c5}, {prev, pool}, {pool, pp}, {a, cat}, {c3, cat}, {c5, cat}, {pp, cat}})
      d.edges.emplace_back(u, v);
    prev = cat;
  }
  const std::size_t n = d.cost.size();
  std::vector<kernel> kernels;
  kernels.reserve(n);
  for (const role& r : roles) kernels.emplace_back(r.n, r.m, rng);

  // 1. t(v, k), measured alone, median of 7 (round-robin over k)
  std::vector<std::vector<double>> table(n, std::vector<double>(P));
  for (std::size_t v = 0; v < n; ++v) {
    std::vector<std::vector<double>> samples(P);
    for (std::size_t k = 1; k <= P; ++k) kernels[v].run(k);  // warm-up
    for (int r = 0; r < 7; ++r)
      for (std::size_t k = 1; k <= P; ++k) {
        const auto t0 = clock_type::now();
        kernels[v].run(k);
        samples[k - 1].push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
      }
    for (std::size_t k = 1; k <= P; ++k) table[v][k - 1] = median(samples[k - 1]);
  }
  graph g = dfgpar_test::build<graph>(d);
  for (std::size_t v = 0; v < n; ++v) g[v].cost = table[v][0];
  const auto t = dfgpar::make_measured_cost(g, table);
  double work1 = 0, workP = 0;
  for (std::size_t v = 0; v < n; ++v) work1 += table[v][0], workP += table[v][P - 1];

  // 2. three schedules
  const auto r = dfgpar::parallelize_moldable(g, t, dfgpar::options{.workers = P});
  const dfgpar::schedule inter = dfgpar::parallelize(g, dfgpar_test::cost_map(g), dfgpar::options{.workers = P});
  dfgpar::schedule intra;
  {
    dfgpar::detail::moldable_builder b(n, P);
    std::vector<std::uint32_t> others;
    for (std::uint32_t w = 1; w < P; ++w) others.push_back(w);
    for (std::size_t v = 0; v < n; ++v) b.place(v, 0, others);  // index order is topological
    intra = std::move(b).finish(dfgpar::detail::make_flat_dag(g, dfgpar_test::cost_map(g), dfgpar::no_edge_cost{}));
  }
  struct config {
    const char* name;
    const dfgpar::schedule* s;
    double simulated;
    std::vector<double> wall;
  };
  std::vector<config> configs{{"pure inter-op", &inter, dfgpar::makespan(g, inter, t), {}},
                              {"pure intra-op", &intra, dfgpar::makespan(g, intra, t), {}},
                              {"dfgpar moldable", &r.schedule, r.makespan, {}}};
  std::size_t multi = 0;
  for (const auto& c : r.schedule.clusters)
    for (std::size_t k : c.threads) multi += k > 1 ? 1 : 0;

  // 3. run round-robin; one executor at a time (never two spinning pools)
  for (std::size_t round = 0; round <= runs; ++round)
    for (auto& c : configs) {
      dfgpar::cluster_executor ex(g, *c.s, [&](auto v, const dfgpar::task_info& info) { kernels[v].run(info.threads); });
      ex.run();  // warm-up: threads and OpenMP teams exist
      const auto t0 = clock_type::now();
      ex.run();
      if (round > 0) c.wall.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
    }

  std::printf("moldable scheduling, real run: %zu OpenMP matrix-multiply tasks (inception-like, %zu blocks) on P = %zu workers,\n"
              "%zu runs each, round-robin; OMP_WAIT_POLICY=%s; hardware threads %u\n",
              n, blocks, P, runs, std::getenv("OMP_WAIT_POLICY"), std::thread::hardware_concurrency());
  std::printf("measured t(v, 1) summed %.0f us, t(v, %zu) summed %.0f us (mean speed-up %.2f)\n", work1, P, workP, work1 / workP);
  std::printf("lower bound %.0f us (CP at fastest %.0f, least work / P %.0f); moldable method: %s, %zu of %zu vertices on > 1 core\n\n",
              r.bounds.lower_bound, r.bounds.critical_path, r.bounds.area, r.method.c_str(), multi, n);
  std::printf("| schedule | simulated (us) | measured median (us) | measured / simulated | measured / lower bound |\n|---|---|---|---|---|\n");
  for (const auto& c : configs) {
    const double m = median(c.wall);
    std::printf("| %s | %.0f | %.0f | %.3f | %.3f |\n", c.name, c.simulated, m, m / c.simulated, m / r.bounds.lower_bound);
  }
  return 0;
}
