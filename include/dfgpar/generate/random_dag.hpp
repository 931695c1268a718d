#pragma once
/// \file random_dag.hpp
/// Seeded random DAGs for tests and benchmarks.

#include <cstddef>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace dfgpar {

/// A DAG as plain data: vertex costs and edges (u < v always, so index order
/// is a topological order), with a communication cost per edge.
struct dag_data {
  std::vector<double> cost;
  std::vector<std::pair<std::size_t, std::size_t>> edges;
  std::vector<double> comm;
};

/// Parameters of `random_dag`.
struct random_dag_options {
  std::size_t vertices = 100;
  double out_degree = 4;       ///< average out-degree
  std::size_t window = 0;      ///< edges reach at most this many vertices ahead (0: sqrt-sized window)
  double min_cost = 1, max_cost = 100;
  double comm_ratio = 0;       ///< edge cost = comm_ratio * uniform(min_cost, max_cost); 0 gives no communication
  bool integer_costs = true;   ///< round costs (exact sums, as in STG)
  std::uint64_t seed = 1;
};

/// A seeded random DAG: each vertex draws its successors among the next
/// `window` vertices, so both long chains and wide levels occur.
inline dag_data random_dag(const random_dag_options& o) {
  dag_data g;
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> cost(o.min_cost, o.max_cost);
  const std::size_t n = o.vertices;
  std::size_t window = o.window;
  if (window == 0) {
    window = 8;
    while (window * window < 4 * n) window *= 2;
  }
  auto draw = [&] { return o.integer_costs ? static_cast<double>(static_cast<long long>(cost(rng))) : cost(rng); };
  g.cost.resize(n);
  for (auto& c : g.cost) c = draw();
  const double p = window > 0 ? std::min(1.0, o.out_degree / static_cast<double>(window)) : 0;
  std::binomial_distribution<std::size_t> count(window, p);
  std::vector<std::size_t> pick;
  for (std::size_t u = 0; u + 1 < n; ++u) {
    const std::size_t span = std::min(window, n - 1 - u);
    std::size_t k = std::min(count(rng), span);
    pick.clear();
    // k distinct offsets in [1, span] (Floyd's algorithm)
    for (std::size_t j = span - k + 1; j <= span; ++j) {
      std::uniform_int_distribution<std::size_t> t(1, j);
      std::size_t x = t(rng);
      bool seen = false;
      for (auto y : pick) seen = seen || y == x;
      pick.push_back(seen ? j : x);
    }
    for (std::size_t off : pick) {
      g.edges.emplace_back(u, u + off);
      g.comm.push_back(o.comm_ratio > 0 ? o.comm_ratio * draw() : 0.0);
    }
  }
  return g;
}

}  // namespace dfgpar
