#pragma once
/// \file bnb_bounds.hpp
/// Energetic reasoning in O(n^2 log n) per trial length, for the root bound
/// of the branch and bound (cluster/branch_and_bound.hpp) on graphs of a few
/// hundred vertices, where the O(n^3) test of cluster/lower_bounds.hpp
/// (`energetic_infeasible`) costs too much.
///
/// Same test, same intervals: for a trial C every task has the window
/// [r, C - q]; over [t1, t2] it must run at least
/// min(w, t2 - t1, r + w - t1, t2 - (C - q - w)). For a fixed t1 that is
/// clip(t2 - B, 0, A) with A = min(w, r + w - t1) and B = max(t1, C - q - w):
/// a ramp in t2. The sum of the ramps is piecewise linear, so one sweep over
/// the sorted ramp breakpoints evaluates it at every candidate t2.

#include <dfgpar/cluster/lower_bounds.hpp>
#include <dfgpar/detail/flat_dag.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

namespace dfgpar::detail {

/// True when energetic reasoning rules out every schedule of length C
/// (the same answer as `energetic_infeasible`, faster).
inline bool energetic_infeasible_sweep(const flat_dag& d, std::size_t P, const heads_tails& h, double C) {
  std::vector<double> t1s, t2s;
  if (!energetic_points(d, h, C, t1s, t2s)) return true;  // a window cannot hold its task
  const double Pd = static_cast<double>(P);
  std::vector<std::pair<double, double>> ev;  // (t2 where the slope changes, change)
  ev.reserve(2 * d.n);
  for (double t1 : t1s) {
    ev.clear();
    for (std::size_t v = 0; v < d.n; ++v) {
      const double r = h.head[v], w = d.w[v], dl = C - h.tail[v];
      const double A = std::min(w, r + w - t1);
      if (A <= 0) continue;
      const double B = std::max(t1, dl - w);
      ev.emplace_back(B, 1.0);
      ev.emplace_back(B + A, -1.0);
    }
    std::sort(ev.begin(), ev.end());
    // sweep t2 upwards: need(t2) = need(x) + slope (t2 - x) between breakpoints
    double need = 0, slope = 0, x = t1;
    std::size_t k = 0;
    for (auto it = std::upper_bound(t2s.begin(), t2s.end(), t1); it != t2s.end(); ++it) {
      const double t2 = *it;
      while (k < ev.size() && ev[k].first <= t2) {
        need += slope * (ev[k].first - x);
        x = ev[k].first;
        slope += ev[k].second;
        ++k;
      }
      need += slope * (t2 - x);
      x = t2;
      if (need > Pd * (t2 - t1) + 1e-9) return true;
    }
  }
  return false;
}

/// Smallest C >= lb (integer costs) that energetic reasoning does not rule
/// out, trying lb, lb + 1, ... (at most `max_steps` steps).
inline double energetic_bound(const flat_dag& d, std::size_t P, const heads_tails& h, double lb, int max_steps = 1000) {
  lb = std::ceil(lb - 1e-9);
  for (int k = 0; k < max_steps && energetic_infeasible_sweep(d, P, h, lb); ++k) lb += 1;
  return lb;
}

}  // namespace dfgpar::detail
