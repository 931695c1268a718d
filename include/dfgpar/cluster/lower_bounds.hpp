#pragma once
/// \file lower_bounds.hpp
/// Lower bounds on the makespan of P|prec|Cmax (no communication costs: a
/// path can always run on one worker), stronger than max(CP, W/P). They let
/// the merge search stop as soon as a schedule is provably optimal and are
/// the root bounds of the exact solver in bench/.
///
/// With head r(v) (top level: longest path into v) and tail q(v) (bottom
/// level minus w(v)):
///
///  * window bound (Fernandez & Bussell 1973 in the head/tail form used by
///    Carlier and by Kasahara's DF/IHS): every task of
///    S(a,b) = {v : r(v) >= a, q(v) >= b} runs inside [a, C - b], so
///    C >= a + b + W(S)/P, rounded up with integer costs. O(n^2).
///  * energetic reasoning (Lopez, Erschler & Esquirol; Baptiste, Le Pape &
///    Nuijten): for a trial C every task has the window [r, C - q]; in any
///    interval [t1, t2] it must run at least
///    min(w, t2 - t1, r + w - t1, t2 - (C - q - w)) (left- or right-shifted);
///    if the sum exceeds P (t2 - t1), no schedule of length C exists. The
///    smallest C that passes is a bound. O(n^3) per trial, integer costs only,
///    so it is used on small graphs.

#include <dfgpar/analysis/bounds.hpp>
#include <dfgpar/detail/flat_dag.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <vector>

namespace dfgpar::detail {

/// Heads (top levels) and tails (bottom level minus own cost), without edge costs.
struct heads_tails {
  std::vector<double> head, tail;
};

inline heads_tails compute_heads_tails(const flat_dag& d) {
  heads_tails h;
  h.head.assign(d.n, 0.0);
  h.tail.assign(d.n, 0.0);
  for (std::uint32_t v : d.topo)
    for (const arc& a : d.preds(v)) h.head[v] = std::max(h.head[v], h.head[a.v] + d.w[a.v]);
  for (auto it = d.topo.rbegin(); it != d.topo.rend(); ++it)
    for (const arc& a : d.succs(*it)) h.tail[*it] = std::max(h.tail[*it], h.tail[a.v] + d.w[a.v]);
  return h;
}

/// Worker-aware heads and tails (Fernandez & Bussell's argument applied per
/// task): v cannot start before its ancestors are done, and they need at
/// least max over a of a + W(ancestors with head >= a) / P; symmetrically for
/// the tail over the descendants. Never weaker than `compute_heads_tails`.
/// O(n * ancestors log); meant for small graphs.
inline heads_tails compute_worker_heads_tails(const flat_dag& d, std::size_t workers, bool integral) {
  heads_tails h = compute_heads_tails(d);
  const double Pd = static_cast<double>(std::max<std::size_t>(workers, 1));
  const std::size_t words = (d.n + 63) / 64;
  auto sweep = [&](const std::vector<std::uint32_t>& order, bool forward, std::vector<double>& val) {
    std::vector<std::uint64_t> anc(d.n * words, 0);
    std::vector<std::uint32_t> members;
    for (std::uint32_t v : order) {
      std::uint64_t* a = &anc[v * words];
      for (const arc& e : forward ? d.preds(v) : d.succs(v)) {
        const std::uint64_t* b = &anc[e.v * words];
        for (std::size_t i = 0; i < words; ++i) a[i] |= b[i];
        a[e.v >> 6] |= std::uint64_t{1} << (e.v & 63);
        val[v] = std::max(val[v], val[e.v] + d.w[e.v]);
      }
      members.clear();
      for (std::size_t i = 0; i < words; ++i)
        for (std::uint64_t x = a[i]; x; x &= x - 1) members.push_back(static_cast<std::uint32_t>(i * 64 + static_cast<std::size_t>(std::countr_zero(x))));
      if (members.size() <= 1) continue;
      std::sort(members.begin(), members.end(), [&](auto x, auto y) { return val[x] > val[y]; });
      double work = 0;
      for (std::size_t k = 0; k < members.size(); ++k) {
        work += d.w[members[k]];
        const double share = integral ? std::ceil(work / Pd - 1e-9) : work / Pd;
        val[v] = std::max(val[v], val[members[k]] + share);
      }
    }
  };
  sweep(d.topo, true, h.head);
  std::vector<std::uint32_t> rev(d.topo.rbegin(), d.topo.rend());
  sweep(rev, false, h.tail);
  return h;
}

inline bool all_integral(const flat_dag& d) {
  for (double x : d.w)
    if (!(x == std::floor(x) && x < 9e15)) return false;
  return true;
}

/// max over (a, b) of a + b + W(S(a,b))/P (see the file comment).
inline double window_bound(const flat_dag& d, std::size_t P, const heads_tails& h, bool integral) {
  const std::size_t n = d.n;
  std::vector<std::uint32_t> by_head(n), by_tail(n);
  std::iota(by_head.begin(), by_head.end(), 0u);
  std::iota(by_tail.begin(), by_tail.end(), 0u);
  std::sort(by_head.begin(), by_head.end(), [&](auto x, auto y) { return h.head[x] > h.head[y]; });
  std::sort(by_tail.begin(), by_tail.end(), [&](auto x, auto y) { return h.tail[x] > h.tail[y]; });
  std::vector<char> in(n, 0);
  double best = 0;
  const double Pd = static_cast<double>(std::max<std::size_t>(P, 1));
  for (std::size_t i = 0; i < n; ++i) {
    in[by_head[i]] = 1;
    if (i + 1 < n && h.head[by_head[i + 1]] == h.head[by_head[i]]) continue;  // whole group of equal heads
    const double a = h.head[by_head[i]];
    double work = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint32_t v = by_tail[j];
      if (in[v]) work += d.w[v];
      if (work == 0 || (j + 1 < n && h.tail[by_tail[j + 1]] == h.tail[v])) continue;  // S must not be empty
      const double share = integral ? std::ceil(work / Pd - 1e-9) : work / Pd;
      best = std::max(best, a + h.tail[v] + share);
    }
  }
  return best;
}

/// The interval ends energetic reasoning must try for a schedule of length C
/// (sorted, unique): t1 from heads, t2 from deadlines, both from the shifted
/// windows. False when some task's window cannot hold it at all.
inline bool energetic_points(const flat_dag& d, const heads_tails& h, double C, std::vector<double>& t1s,
                             std::vector<double>& t2s) {
  t1s.clear();
  t2s.clear();
  t1s.reserve(3 * d.n);
  t2s.reserve(3 * d.n);
  for (std::size_t v = 0; v < d.n; ++v) {
    const double r = h.head[v], dl = C - h.tail[v], w = d.w[v];
    if (r + w > dl) return false;
    t1s.insert(t1s.end(), {r, r + w, dl - w});
    t2s.insert(t2s.end(), {dl, r + w, dl - w});
  }
  std::sort(t1s.begin(), t1s.end());
  t1s.erase(std::unique(t1s.begin(), t1s.end()), t1s.end());
  std::sort(t2s.begin(), t2s.end());
  t2s.erase(std::unique(t2s.begin(), t2s.end()), t2s.end());
  return true;
}

/// True when energetic reasoning rules out every schedule of length C.
inline bool energetic_infeasible(const flat_dag& d, std::size_t P, const heads_tails& h, double C) {
  std::vector<double> t1s, t2s;
  if (!energetic_points(d, h, C, t1s, t2s)) return true;  // a window cannot hold its task
  const double Pd = static_cast<double>(P);
  for (double t1 : t1s)
    for (double t2 : t2s) {
      if (t2 <= t1) continue;
      const double cap = Pd * (t2 - t1);
      double need = 0;
      for (std::size_t v = 0; v < d.n && need <= cap; ++v) {
        const double r = h.head[v], w = d.w[v], dl = C - h.tail[v];
        const double m = std::min({w, t2 - t1, r + w - t1, t2 - dl + w});
        if (m > 0) need += m;
      }
      if (need > cap + 1e-9) return true;
    }
  return false;
}

/// The best of max(CP, W/P), the window bound and (integer costs, at most
/// `energetic_max_n` vertices) energetic reasoning. Cost O(n^2), plus
/// O(n^3) per energetic trial on small graphs; for graphs above `window_max_n`
/// vertices only max(CP, W/P).
inline double strong_lower_bound(const flat_dag& d, std::size_t workers, std::size_t energetic_max_n = 120,
                                 std::size_t window_max_n = 4000, std::size_t worker_heads_max_n = 1000) {
  const std::size_t P = std::max<std::size_t>(workers, 1);
  double lb = compute_bounds(d, P).lower_bound;
  if (d.n == 0 || d.n > window_max_n || P == 1) return lb;
  const bool integral = all_integral(d);
  const heads_tails h = d.n <= worker_heads_max_n ? compute_worker_heads_tails(d, P, integral) : compute_heads_tails(d);
  for (std::size_t v = 0; v < d.n; ++v) lb = std::max(lb, h.head[v] + d.w[v] + h.tail[v]);
  lb = std::max(lb, window_bound(d, P, h, integral));
  if (integral && d.n <= energetic_max_n) {
    lb = std::ceil(lb - 1e-9);
    for (int k = 0; k < 1000 && energetic_infeasible(d, P, h, lb); ++k) lb += 1;
  }
  return lb;
}

}  // namespace dfgpar::detail
