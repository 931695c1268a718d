#pragma once
/// \file list_scheduling.hpp
/// List scheduling of a DAG onto P identical workers: the engine under the
/// merge step. Two classic variants:
///
/// * task-driven (HLFET / ETF): take the ready vertex of highest priority and
///   put it on the worker where it can start earliest, counting edge costs
///   from other workers; optionally bound to a worker per linear cluster;
/// * time-driven (Graham): whenever a worker falls idle, give it the
///   highest-priority vertex whose inputs are all available (no edge costs).
///
/// Priorities are plain numbers (higher first) with a secondary key, so the
/// same engine runs bottom-level (HLFET), CP/MISF, perturbed and
/// forward-backward-improvement priorities.

#include <dfgpar/detail/flat_dag.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <queue>
#include <span>
#include <utility>
#include <vector>

namespace dfgpar::detail {

struct list_result {
  std::vector<std::uint32_t> worker;  // per vertex
  std::vector<double> start;          // per vertex
  std::vector<std::uint32_t> order;   // vertices in placement order (each worker's run order); may be empty
  double makespan = 0;
};

/// Reversed copy of a DAG (successors become predecessors), for backward passes.
inline flat_dag reversed(const flat_dag& d) {
  flat_dag r;
  r.n = d.n;
  r.w = d.w;
  r.succ_begin = d.pred_begin;
  r.succ = d.pred;
  r.pred_begin = d.succ_begin;
  r.pred = d.succ;
  r.topo.assign(d.topo.rbegin(), d.topo.rend());
  r.topo_pos.resize(d.n);
  for (std::size_t i = 0; i < d.n; ++i) r.topo_pos[r.topo[i]] = static_cast<std::uint32_t>(i);
  r.has_comm = d.has_comm;
  return r;
}

struct priority {
  std::span<const double> primary;    // higher first
  std::span<const double> secondary;  // tie-break, higher first (may be empty)
};

/// The ready vertices, highest priority on top. Keys are copied into the
/// heap entries so comparisons touch only the heap (it matters on millions
/// of vertices); ties go to the earlier topological position.
class ready_queue {
 public:
  ready_queue(const priority& p, const flat_dag& d) : p_(p), d_(d) {}
  bool empty() const { return heap_.empty(); }
  void push(std::uint32_t v) {
    heap_.push_back({p_.primary[v], p_.secondary.empty() ? 0.0 : p_.secondary[v], d_.topo_pos[v], v});
    std::push_heap(heap_.begin(), heap_.end());
  }
  std::uint32_t pop() {
    std::pop_heap(heap_.begin(), heap_.end());
    const std::uint32_t v = heap_.back().v;
    heap_.pop_back();
    return v;
  }

 private:
  struct entry {
    double k1, k2;
    std::uint32_t pos, v;
    bool operator<(const entry& o) const {
      if (k1 != o.k1) return k1 < o.k1;
      if (k2 != o.k2) return k2 < o.k2;
      return pos > o.pos;
    }
  };
  const priority& p_;
  const flat_dag& d_;
  std::vector<entry> heap_;
};

/// Task-driven list scheduling with edge costs. `affinity` (optional, one id
/// per vertex) keeps vertices with the same id on the same worker: the first
/// one scheduled picks the worker, the rest follow.
inline list_result list_schedule_tasks(const flat_dag& d, std::size_t workers, const priority& prio,
                                       std::span<const std::uint32_t> affinity = {}) {
  const std::size_t P = std::max<std::size_t>(workers, 1);
  list_result r;
  r.worker.assign(d.n, 0);
  r.start.assign(d.n, 0.0);
  std::vector<double> finish(d.n, 0.0), free_at(P, 0.0);
  std::vector<std::uint32_t> missing(d.n);
  std::vector<std::uint32_t> bound;  // worker per affinity id (UINT32_MAX: none yet)
  if (!affinity.empty()) {
    std::uint32_t m = 0;
    for (auto a : affinity) m = std::max(m, a);
    bound.assign(static_cast<std::size_t>(m) + 1, UINT32_MAX);
  }
  ready_queue heap(prio, d);
  for (std::uint32_t v = 0; v < d.n; ++v) {
    missing[v] = static_cast<std::uint32_t>(d.pred_begin[v + 1] - d.pred_begin[v]);
    if (missing[v] == 0) heap.push(v);
  }
  std::vector<double> local(P, 0.0);
  std::vector<std::uint32_t> touched;
  while (!heap.empty()) {
    const std::uint32_t v = heap.pop();
    // arrival of inputs: on the producer's worker at finish, elsewhere finish + comm
    double ready = 0;  // when every input has arrived on a worker holding none of them
    double best1 = 0, best2 = 0;
    std::uint32_t best1_w = UINT32_MAX;
    touched.clear();
    for (const arc& a : d.preds(v)) {
      const double f = finish[a.v];
      const std::uint32_t pw = r.worker[a.v];
      ready = std::max(ready, f);
      if (d.has_comm) {
        const double arrive = f + a.cost;
        if (arrive > best1) {
          if (best1_w != pw) best2 = best1;
          best1 = arrive, best1_w = pw;
        } else if (pw != best1_w && arrive > best2) {
          best2 = arrive;
        }
        if (local[pw] == 0 && std::find(touched.begin(), touched.end(), pw) == touched.end()) touched.push_back(pw);
        local[pw] = std::max(local[pw], f);
      }
    }
    auto est = [&](std::size_t w) {
      if (!d.has_comm) return std::max(free_at[w], ready);
      const double remote = (best1_w == w) ? best2 : best1;
      return std::max({free_at[w], remote, local[w]});
    };
    std::size_t chosen = 0;
    const std::uint32_t aff = affinity.empty() ? UINT32_MAX : affinity[v];
    if (aff != UINT32_MAX && bound[aff] != UINT32_MAX) {
      chosen = bound[aff];
    } else {
      double best = std::numeric_limits<double>::infinity(), best_free = -1;
      for (std::size_t w = 0; w < P; ++w) {
        const double s = est(w);
        // earliest start; among equals the worker that idles least (best fit)
        if (s < best || (s == best && free_at[w] > best_free)) best = s, best_free = free_at[w], chosen = w;
      }
      if (aff != UINT32_MAX) bound[aff] = static_cast<std::uint32_t>(chosen);
    }
    const double s = est(chosen);
    for (auto w : touched) local[w] = 0;
    r.worker[v] = static_cast<std::uint32_t>(chosen);
    r.order.push_back(v);
    r.start[v] = s;
    finish[v] = s + d.w[v];
    free_at[chosen] = finish[v];
    r.makespan = std::max(r.makespan, finish[v]);
    for (const arc& a : d.succs(v))
      if (--missing[a.v] == 0) {
        heap.push(a.v);
      }
  }
  return r;
}

/// Time-driven (Graham) list scheduling, ignoring edge costs.
inline list_result list_schedule_time(const flat_dag& d, std::size_t workers, const priority& prio) {
  const std::size_t P = std::max<std::size_t>(workers, 1);
  list_result r;
  r.worker.assign(d.n, 0);
  r.start.assign(d.n, 0.0);
  std::vector<std::uint32_t> missing(d.n);
  ready_queue avail(prio, d);
  using event = std::pair<double, std::uint32_t>;  // (finish time, vertex)
  std::priority_queue<event, std::vector<event>, std::greater<>> running;
  std::vector<std::uint32_t> idle;
  for (std::size_t w = P; w-- > 0;) idle.push_back(static_cast<std::uint32_t>(w));
  for (std::uint32_t v = 0; v < d.n; ++v) {
    missing[v] = static_cast<std::uint32_t>(d.pred_begin[v + 1] - d.pred_begin[v]);
    if (missing[v] == 0) avail.push(v);
  }
  double t = 0;
  std::size_t done = 0;
  while (done < d.n) {
    while (!idle.empty() && !avail.empty()) {
      const std::uint32_t v = avail.pop();
      const std::uint32_t w = idle.back();
      idle.pop_back();
      r.worker[v] = w;
      r.order.push_back(v);
      r.start[v] = t;
      running.emplace(t + d.w[v], v);
    }
    // advance to the next completion; release everything finishing then
    t = running.top().first;
    while (!running.empty() && running.top().first <= t) {
      const std::uint32_t v = running.top().second;
      running.pop();
      ++done;
      idle.push_back(r.worker[v]);
      r.makespan = std::max(r.makespan, t);
      for (const arc& a : d.succs(v))
        if (--missing[a.v] == 0) avail.push(a.v);
    }
  }
  return r;
}

}  // namespace dfgpar::detail
