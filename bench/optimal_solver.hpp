#pragma once
// The exact reference of schedule_quality.cpp and tests/test_quality.cpp:
// dfgpar's branch and bound for P|prec|Cmax
// (include/dfgpar/cluster/branch_and_bound.hpp: search, bounds and dominance
// rules are described there) run with a large node limit, plus an
// independent checker of the schedules it returns. The tests also check it
// against brute force on tiny graphs.

#include <dfgpar/cluster/branch_and_bound.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace dfgpar_bench {

using dfgpar::detail::arc;
using dfgpar::detail::flat_dag;

struct exact_options {
  std::size_t workers = 2;
  std::uint64_t node_limit = 2'000'000;  ///< search nodes before giving up (the best schedule so far is returned)
};

using exact_result = dfgpar::detail::bnb_result;

/// Checks precedence and worker capacity of a schedule given as start times; returns its makespan or -1.
inline double check_schedule(const flat_dag& d, std::size_t P, const std::vector<double>& start,
                             const std::vector<std::uint32_t>& worker) {
  double cmax = 0;
  for (std::size_t v = 0; v < d.n; ++v) {
    if (worker[v] >= P || start[v] < 0) return -1;
    for (const arc& a : d.preds(v))
      if (start[a.v] + d.w[a.v] > start[v] + 1e-9) return -1;
    cmax = std::max(cmax, start[v] + d.w[v]);
  }
  std::vector<std::vector<std::uint32_t>> on(P);
  for (std::uint32_t v = 0; v < d.n; ++v) on[worker[v]].push_back(v);
  for (auto& l : on) {
    std::sort(l.begin(), l.end(), [&](auto a, auto b) { return start[a] < start[b]; });
    for (std::size_t i = 1; i < l.size(); ++i)
      if (start[l[i - 1]] + d.w[l[i - 1]] > start[l[i]] + 1e-9) return -1;
  }
  return cmax;
}

/// Solves P|prec|Cmax on `d` (edge costs ignored). `incumbent_start`
/// (optional): start times of a known schedule to beat.
inline exact_result solve_exact(const flat_dag& d, const exact_options& o, const std::vector<double>& incumbent_start = {}) {
  return dfgpar::detail::branch_and_bound(d, {.workers = o.workers, .node_limit = o.node_limit}, incumbent_start);
}

}  // namespace dfgpar_bench
