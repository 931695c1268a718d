#pragma once
/// \file branch_and_bound.hpp
/// Exact depth-first branch and bound for P|prec|Cmax (identical workers,
/// no communication costs), with a node limit. The merge step runs it on
/// graphs of up to `bnb_max_n` (512) vertices that its heuristics did not
/// provably solve; bench/optimal_solver.hpp runs it with a large limit as the
/// reference. Deterministic: the budget is counted in search nodes.
///
/// Search (in the spirit of Kasahara & Narita's DF/IHS, made complete): at
/// each event time T either start one more available task on an idle worker,
/// or advance T to the next completion, leaving the other workers idle. Tasks
/// started at the same T are started in increasing priority rank (bottom
/// level, then successor count), so every semi-active schedule, and with it
/// an optimal one, is generated once. Children are tried best priority
/// first, so the first dive is the Graham / HLFET list schedule.
///
/// Order: limited discrepancy passes (Harvey & Ginsberg 1995). Pass k only
/// visits paths whose children, summed over the path, sit at most k places
/// after the best-priority child (k = 0, 1, 2, 4, ...); the last pass has no
/// limit and is the complete search. On 100-300 tasks a plain depth-first
/// search spends its whole budget near the end of the list schedule; the
/// passes revise early decisions first, and a pass that skipped nothing is
/// already complete.
///
/// Pruning:
///  * root bound: max(CP, ceil(W/P)), worker-aware heads and tails,
///    Fernandez-Bussell window bound (strong_lower_bound), then energetic
///    reasoning on the worker-aware heads and tails by a ramp sweep
///    (cluster/bnb_bounds.hpp, O(n^2 log n) per trial length, so it runs up
///    to 512 vertices);
///  * node bound: earliest starts propagated from the partial schedule (never
///    below the worker-aware head) plus worker-aware bottom levels; and a
///    tail/capacity bound: the unstarted tasks with tail >= b must be done by
///    C - b on workers that free up at their current times (water-filling);
///  * dominance: a transposition table on (started set, running tasks and
///    their remaining times) at each event time: a state already seen at an
///    earlier or equal time, with at least as many discrepancies left, is
///    skipped (128-bit fingerprints);
///  * identical tasks (same cost, predecessors and successors) start in rank
///    order (swapping them changes nothing);
///  * left shift: advancing time with a worker idle is skipped when an
///    available task fits in the gap before the next completion (starting
///    it now moves nothing else; that schedule is on a sibling branch).
///    Worker symmetry needs no rule: the state holds no worker identities.

#include <dfgpar/cluster/bnb_bounds.hpp>
#include <dfgpar/cluster/list_scheduling.hpp>
#include <dfgpar/cluster/lower_bounds.hpp>
#include <dfgpar/detail/flat_dag.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <vector>

namespace dfgpar::detail {

struct bnb_options {
  std::size_t workers = 2;
  std::uint64_t node_limit = 100'000;  ///< search nodes before giving up (the best schedule so far is returned)
  std::size_t energetic_max_n = 512;   ///< root energetic reasoning (O(n^2 log n) per trial) only up to this size
};

struct bnb_result {
  double makespan = 0;     ///< best schedule found
  double lower_bound = 0;  ///< proven lower bound (== makespan when optimal)
  bool optimal = false;
  std::vector<double> start;
  std::vector<std::uint32_t> worker;
  std::uint64_t nodes = 0;
};

/// Workers from start times: interval colouring in start order.
inline std::vector<std::uint32_t> assign_workers(const flat_dag& d, std::size_t P, const std::vector<double>& start) {
  std::vector<std::uint32_t> order(d.n), worker(d.n, 0);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) {
    return start[a] != start[b] ? start[a] < start[b] : d.topo_pos[a] < d.topo_pos[b];
  });
  std::vector<double> free_at(P, 0.0);
  for (auto v : order) {
    std::size_t best = 0;
    for (std::size_t p = 1; p < P; ++p)
      if (free_at[p] < free_at[best]) best = p;
    worker[v] = static_cast<std::uint32_t>(best);
    free_at[best] = start[v] + d.w[v];
  }
  return worker;
}

/// Largest graph the search runs on (bigger graphs get bounds and the incumbent).
inline constexpr std::size_t bnb_max_n = 512;

/// The search on graphs of at most 64 x Words vertices (node states are
/// copied per child, so their size follows the graph).
template <std::size_t Words>
class bnb_solver {
 public:
  static constexpr std::size_t max_n = 64 * Words;
  static constexpr std::size_t max_workers = 32;
  using bits = std::array<std::uint64_t, Words>;

  bnb_solver(const flat_dag& d, const bnb_options& o) : d_(d), P_(std::max<std::size_t>(o.workers, 1)), opt_(o) {}

  /// `incumbent_start`: start times of a known schedule (may be empty).
  bnb_result solve(const std::vector<double>& incumbent_start) {
    bnb_result res;
    const std::size_t n = d_.n;
    integral_ = all_integral(d_);
    root_lb_ = strong_lower_bound(d_, P_, 0);
    if (n > 0 && n <= max_n) {
      heads_ = compute_worker_heads_tails(d_, P_, integral_);
      if (integral_ && P_ > 1 && n <= opt_.energetic_max_n) root_lb_ = std::max(root_lb_, energetic_bound(d_, P_, heads_, root_lb_));
    }
    res.lower_bound = root_lb_;
    // incumbent: the given schedule or HLFET
    {
      const auto lv = compute_heads_tails(d_);
      std::vector<double> bl(n);
      for (std::size_t v = 0; v < n; ++v) bl[v] = lv.tail[v] + d_.w[v];
      auto r = list_schedule_time(d_, P_, priority{bl, {}});
      best_start_ = r.start;
      ub_ = r.makespan;
      if (!incumbent_start.empty()) {
        double m = 0;
        for (std::size_t v = 0; v < n; ++v) m = std::max(m, incumbent_start[v] + d_.w[v]);
        if (m < ub_) ub_ = m, best_start_ = incumbent_start;
      }
    }
    if (n > 0 && n <= max_n && !done()) search_all();
    res.makespan = ub_;
    res.nodes = nodes_;
    res.optimal = done() || complete_;
    if (res.optimal) res.lower_bound = ub_;
    res.start = best_start_;
    res.worker = assign_workers(d_, P_, res.start);
    return res;
  }

 private:
  struct running_task {
    double finish;
    std::uint32_t v;
  };
  struct node {
    double T = 0, cmax = 0;
    int last_rank = -1;
    std::uint32_t nstarted = 0, nrun = 0;
    bits started{}, avail{};  // in rank space
    std::array<running_task, max_workers> run{};
    std::array<std::uint16_t, max_n> missing{};
  };

  const flat_dag& d_;
  std::size_t P_;
  bnb_options opt_;
  bool integral_ = true, aborted_ = false, complete_ = false;
  double ub_ = 0;
  std::vector<double> best_start_, cur_start_;
  std::uint64_t nodes_ = 0;
  double root_lb_ = 0;
  // static data
  heads_tails heads_;  // worker-aware heads and tails
  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
  std::vector<std::uint32_t> rank_, by_rank_, by_tail_;
  std::vector<std::uint32_t> twin_prev_;  // the identical task of next-lower rank (none: no twin)
  std::vector<double> bl_, tail_, head_;  // bounds: worker-aware bottom level, tail, head
  std::vector<std::uint64_t> zob1_, zob2_;
  struct seen_state {
    std::uint64_t h2;
    double T;
    std::uint32_t disc;  // discrepancies it was searched with
  };
  std::unordered_map<std::uint64_t, seen_state> seen_;
  bool disc_cut_ = false;  // the discrepancy limit skipped a child in this pass
  // scratch
  std::vector<double> est_;
  std::vector<node> pool_;  // pool_[k]: the state at search depth k

  bool done() const { return ub_ <= root_lb_ + eps(); }
  double eps() const { return integral_ ? 0.5 : 1e-9; }
  static bool test(const bits& b, std::size_t i) { return (b[i >> 6] >> (i & 63)) & 1; }
  static void set(bits& b, std::size_t i) { b[i >> 6] |= std::uint64_t{1} << (i & 63); }
  static void clear(bits& b, std::size_t i) { b[i >> 6] &= ~(std::uint64_t{1} << (i & 63)); }

  void search_all() {
    const std::size_t n = d_.n;
    if (P_ > max_workers) return;
    const auto h0 = compute_heads_tails(d_);  // plain bottom levels: the priority
    const auto& h = heads_;  // the bounds
    tail_ = h.tail;
    head_ = h.head;
    bl_.resize(n);
    for (std::size_t v = 0; v < n; ++v) bl_[v] = tail_[v] + d_.w[v];
    by_rank_.resize(n);
    std::iota(by_rank_.begin(), by_rank_.end(), 0u);
    std::sort(by_rank_.begin(), by_rank_.end(), [&](auto a, auto b) {
      if (h0.tail[a] + d_.w[a] != h0.tail[b] + d_.w[b]) return h0.tail[a] + d_.w[a] > h0.tail[b] + d_.w[b];
      const auto sa = d_.succ_begin[a + 1] - d_.succ_begin[a], sb = d_.succ_begin[b + 1] - d_.succ_begin[b];
      return sa != sb ? sa > sb : d_.topo_pos[a] < d_.topo_pos[b];
    });
    rank_.resize(n);
    for (std::size_t i = 0; i < n; ++i) rank_[by_rank_[i]] = static_cast<std::uint32_t>(i);
    find_twins();
    by_tail_.resize(n);
    std::iota(by_tail_.begin(), by_tail_.end(), 0u);
    std::sort(by_tail_.begin(), by_tail_.end(), [&](auto a, auto b) { return tail_[a] > tail_[b]; });
    std::uint64_t s = 0x9e3779b97f4a7c15ull;
    auto mix = [&s] {
      s += 0x9e3779b97f4a7c15ull;
      std::uint64_t z = s;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      return z ^ (z >> 31);
    };
    zob1_.resize(n);
    zob2_.resize(n);
    for (std::size_t i = 0; i < n; ++i) zob1_[i] = mix(), zob2_[i] = mix();
    est_.assign(n, 0);
    cur_start_.assign(n, 0);
    // node states live in a pool by depth, not on the call stack (a state
    // holds ~1.7 KB on 512 vertices and the depth reaches 2 V)
    pool_.assign(2 * n + 2, node{});
    node& root = pool_[0];
    for (std::uint32_t v = 0; v < n; ++v) {
      root.missing[v] = static_cast<std::uint16_t>(d_.pred_begin[v + 1] - d_.pred_begin[v]);
      if (root.missing[v] == 0) set(root.avail, rank_[v]);
    }
    // Limited discrepancy passes (Harvey & Ginsberg): pass k visits the
    // paths that leave the priority order by at most k positions in all, so
    // early decisions of the list schedule get revised before the end of
    // the budget; the last pass has no limit and completes the proof.
    for (std::uint32_t k = 0;; k = k == 0 ? 1 : 2 * k) {
      const bool last = k >= 4 * n;
      const std::uint32_t limit = last ? std::numeric_limits<std::uint32_t>::max() : k;
      seen_.clear();
      disc_cut_ = false;
      dfs(0, limit);
      if (aborted_ || done()) break;
      if (last || !disc_cut_) {
        complete_ = true;
        break;
      }
    }
  }

  // Lower bound on any completion of `x`.
  double bound(const node& x) {
    const double T = x.T;
    double next_event = std::numeric_limits<double>::infinity();
    for (std::uint32_t i = 0; i < x.nrun; ++i) next_event = std::min(next_event, x.run[i].finish);
    const std::size_t idle = P_ - x.nrun;
    double lb = x.cmax;
    // earliest starts of unstarted tasks, in topological order
    for (std::uint32_t v : d_.topo) {
      const std::uint32_t rv = rank_[v];
      if (test(x.started, rv)) continue;
      double e = std::max(T, head_[v]);
      if (test(x.avail, rv)) {
        if (idle == 0 || static_cast<int>(rv) < x.last_rank) e = std::max(e, next_event);
      } else {
        for (const arc& a : d_.preds(v)) {
          const double f = test(x.started, rank_[a.v]) ? cur_start_[a.v] + d_.w[a.v] : est_[a.v] + d_.w[a.v];
          e = std::max(e, f);
        }
      }
      est_[v] = e;
      lb = std::max(lb, e + bl_[v]);
    }
    if (lb >= ub_ - eps()) return lb;
    // tail/capacity bound
    std::array<double, max_workers> f{};
    for (std::size_t p = 0; p < P_; ++p) f[p] = p < x.nrun ? x.run[p].finish : T;
    std::sort(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(P_));
    double work = 0, emin = std::numeric_limits<double>::infinity();
    const std::size_t n = d_.n;
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint32_t v = by_tail_[j];
      if (test(x.started, rank_[v])) continue;
      work += d_.w[v];
      emin = std::min(emin, est_[v]);
      if (j + 1 < n && tail_[by_tail_[j + 1]] == tail_[v]) continue;
      // smallest X with sum_p max(0, X - max(f_p, emin)) >= work
      double sum = 0, X = 0;
      for (std::size_t k = 0; k < P_; ++k) {
        const double g = std::max(f[k], emin);
        sum += g;
        X = (work + sum) / static_cast<double>(k + 1);
        const double next = k + 1 < P_ ? std::max(f[k + 1], emin) : std::numeric_limits<double>::infinity();
        if (X <= next) break;
      }
      double c = X + tail_[v];
      if (integral_) c = std::ceil(c - 1e-9);
      lb = std::max(lb, c);
      if (lb >= ub_ - eps()) return lb;
    }
    return lb;
  }

  // Identical tasks (same cost, predecessors and successors) are started in
  // rank order: swapping two of them changes nothing.
  bool twin_ready(const node& x, std::uint32_t v) const {
    return twin_prev_[v] == none || test(x.started, rank_[twin_prev_[v]]);
  }

  // Advancing from x.T to t leaves a worker idle over [x.T, t); an
  // available task that fits there could start at x.T without moving
  // anything else (a left shift), so that schedule, found on a sibling
  // branch, is at least as good.
  bool left_shift_possible(const node& x, double t) const {
    const double gap = t - x.T;
    for (std::size_t wi = 0; wi < x.avail.size(); ++wi)
      for (std::uint64_t w = x.avail[wi]; w; w &= w - 1) {
        const std::uint32_t v = by_rank_[wi * 64 + static_cast<std::size_t>(std::countr_zero(w))];
        if (d_.w[v] <= gap && twin_ready(x, v)) return true;
      }
    return false;
  }

  void find_twins() {
    const std::size_t n = d_.n;
    twin_prev_.assign(n, none);
    auto adj = [&](std::uint32_t v, bool pred) {
      std::vector<std::uint32_t> a;
      for (const arc& e : pred ? d_.preds(v) : d_.succs(v)) a.push_back(e.v);
      std::sort(a.begin(), a.end());
      return a;
    };
    std::vector<std::vector<std::uint32_t>> pr(n), su(n);
    for (std::uint32_t v = 0; v < n; ++v) pr[v] = adj(v, true), su[v] = adj(v, false);
    std::vector<std::uint32_t> order(by_rank_);
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) {
      if (d_.w[a] != d_.w[b]) return d_.w[a] < d_.w[b];
      if (pr[a] != pr[b]) return pr[a] < pr[b];
      return su[a] < su[b];
    });  // stable: rank order within a group of twins
    for (std::size_t i = 1; i < n; ++i) {
      const auto a = order[i - 1], b = order[i];
      if (d_.w[a] == d_.w[b] && pr[a] == pr[b] && su[a] == su[b]) twin_prev_[b] = a;
    }
  }

  bool transposed(const node& x, std::uint32_t disc) {
    std::uint64_t h1 = 0, h2 = 0;
    for (std::size_t i = 0; i < x.started.size(); ++i) {
      std::uint64_t w = x.started[i];
      while (w) {
        const std::size_t r = i * 64 + static_cast<std::size_t>(std::countr_zero(w));
        w &= w - 1;
        h1 ^= zob1_[r];
        h2 ^= zob2_[r];
      }
    }
    for (std::uint32_t i = 0; i < x.nrun; ++i) {
      const double rem = x.run[i].finish - x.T;
      const auto q = static_cast<std::uint64_t>(std::llround(rem * 1024.0));
      h1 += (zob2_[x.run[i].v] * (q + 1)) ^ (q << 17);
      h2 += (zob1_[x.run[i].v] ^ (q * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
    }
    if (seen_.size() > 3'000'000) return false;
    auto [it, fresh] = seen_.try_emplace(h1, seen_state{h2, x.T, disc});
    if (fresh) return false;
    seen_state& e = it->second;
    if (e.h2 != h2) return false;
    if (e.T <= x.T && e.disc >= disc) return true;
    e = {h2, x.T, disc};
    return false;
  }

  void dfs(std::size_t depth, std::uint32_t disc) {
    const node& x = pool_[depth];
    if (aborted_ || done()) return;
    if (++nodes_ > opt_.node_limit) {
      aborted_ = true;
      return;
    }
    if (x.nstarted == d_.n) {
      if (x.cmax < ub_ - (integral_ ? 0.25 : 0.0)) {
        ub_ = x.cmax;
        best_start_ = cur_start_;
      }
      return;
    }
    if (bound(x) >= ub_ - eps()) return;
    if (x.last_rank < 0 && transposed(x, disc)) return;
    std::uint32_t child = 0;  // position in the priority order: costs that many discrepancies
    if (x.nrun < P_) {
      // start one more available task, best rank first
      const std::size_t from = static_cast<std::size_t>(x.last_rank + 1);
      for (std::size_t wi = from >> 6; wi < x.avail.size(); ++wi) {
        std::uint64_t w = x.avail[wi];
        if (wi == (from >> 6)) w &= ~std::uint64_t{0} << (from & 63);
        while (w) {
          const std::size_t r = wi * 64 + static_cast<std::size_t>(std::countr_zero(w));
          w &= w - 1;
          const std::uint32_t v = by_rank_[r];
          if (!twin_ready(x, v)) continue;
          if (child > disc) {
            disc_cut_ = true;
            return;
          }
          node& c = pool_[depth + 1];
          c = x;
          clear(c.avail, r);
          set(c.started, r);
          ++c.nstarted;
          c.run[c.nrun++] = {x.T + d_.w[v], v};
          c.cmax = std::max(c.cmax, x.T + d_.w[v]);
          c.last_rank = static_cast<int>(r);
          cur_start_[v] = x.T;
          dfs(depth + 1, disc - child);
          ++child;
          if (aborted_ || done()) return;
        }
      }
    }
    if (x.nrun > 0) {
      // advance to the next completion
      double t = std::numeric_limits<double>::infinity();
      for (std::uint32_t i = 0; i < x.nrun; ++i) t = std::min(t, x.run[i].finish);
      if (x.nrun < P_ && left_shift_possible(x, t)) return;
      if (child > disc) {
        disc_cut_ = true;
        return;
      }
      node& c = pool_[depth + 1];
      c = x;
      c.T = t;
      c.last_rank = -1;
      std::uint32_t k = 0;
      for (std::uint32_t i = 0; i < c.nrun; ++i) {
        if (c.run[i].finish <= t) {
          for (const arc& a : d_.succs(c.run[i].v))
            if (--c.missing[a.v] == 0) set(c.avail, rank_[a.v]);
        } else {
          c.run[k++] = c.run[i];
        }
      }
      c.nrun = k;
      dfs(depth + 1, disc - child);
    }
  }
};

/// Best schedule of `d` on `o.workers` workers within the node limit (edge
/// costs ignored). `incumbent_start`: start times of a known schedule to beat
/// (may be empty; then HLFET). Graphs over `bnb_max_n` vertices or more
/// than 32 workers get bounds and the incumbent only.
inline bnb_result branch_and_bound(const flat_dag& d, const bnb_options& o, const std::vector<double>& incumbent_start = {}) {
  if (d.n <= 64) return bnb_solver<1>(d, o).solve(incumbent_start);
  if (d.n <= 128) return bnb_solver<2>(d, o).solve(incumbent_start);
  if (d.n <= 256) return bnb_solver<4>(d, o).solve(incumbent_start);
  return bnb_solver<8>(d, o).solve(incumbent_start);
}

}  // namespace dfgpar::detail
