#pragma once
// A schedule resolved against its graph: one step per scheduled vertex copy,
// per worker in run order, each with the steps it reads from. Shared by the
// makespan simulation, validation, cross-edge computation and the executor.

#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/detail/flat_dag.hpp>
#include <dfgpar/error.hpp>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>  // clone resolution
#include <vector>

namespace dfgpar::detail {

struct plan_dep {
  std::uint32_t step;  // producing step
  double cost;         // communication cost paid when remote
  bool remote;         // producer runs on another worker
};

struct plan_step {
  std::uint32_t vertex;
  std::uint32_t cluster;
  std::uint32_t worker;
  std::uint32_t dep_begin, dep_end;  // range in plan::deps
  std::uint32_t threads = 1;         // cores (allotment)
};

// One entry of a worker's run order: a step of its own, or a reservation
// (the worker idles while `step`, a multi-core step of another worker, runs).
struct plan_item {
  std::uint32_t step;
  bool hold;
};

struct plan {
  std::vector<std::vector<std::uint32_t>> worker_steps;  // step ids per worker, run order
  std::vector<plan_step> steps;
  std::vector<plan_dep> deps;
  // Only with reservations (else empty): per worker its steps and holds in run order.
  std::vector<std::vector<plan_item>> worker_items;
};

inline std::string vname(std::size_t v) { return "vertex " + std::to_string(v); }

/// Checks the reservations of `s` against its allotments and interleaves
/// them with the workers' steps (plan::worker_items).
inline void add_holds(const schedule& s, plan& p) {
  if (s.reservations.empty()) {  // the common case: no allocation
    for (const plan_step& st : p.steps)
      if (st.threads != 1)
        throw graph_error(vname(st.vertex) + " in cluster " + std::to_string(st.cluster) + " runs on " + std::to_string(st.threads) +
                          " cores but has 0 reserved workers (it needs cores - 1)");
    return;
  }
  std::vector<std::uint32_t> first_step(s.clusters.size() + 1, 0);  // step id of each cluster's first entry
  for (std::size_t c = 0; c < s.clusters.size(); ++c)
    first_step[c + 1] = first_step[c] + static_cast<std::uint32_t>(s.clusters[c].vertices.size());
  std::vector<std::uint32_t> held(p.steps.size(), 0);  // reservations per step
  std::vector<std::vector<std::pair<std::size_t, std::uint32_t>>> at(s.workers);  // (position, step) per worker
  for (std::size_t r = 0; r < s.reservations.size(); ++r) {
    const reservation& res = s.reservations[r];
    const std::string what = "reservation " + std::to_string(r);
    if (res.worker >= s.workers) throw graph_error(what + " names worker " + std::to_string(res.worker) + " of " + std::to_string(s.workers));
    if (res.cluster >= s.clusters.size() || res.index >= s.clusters[res.cluster].vertices.size())
      throw graph_error(what + " names a vertex copy (cluster " + std::to_string(res.cluster) + ", entry " + std::to_string(res.index) +
                        ") that does not exist");
    const std::uint32_t id = first_step[res.cluster] + static_cast<std::uint32_t>(res.index);
    const plan_step& st = p.steps[id];
    if (res.worker == st.worker) throw graph_error(what + " reserves the worker that runs " + vname(st.vertex) + " itself");
    if (res.position > p.worker_steps[res.worker].size())
      throw graph_error(what + " is at position " + std::to_string(res.position) + " of worker " + std::to_string(res.worker) +
                        ", which runs only " + std::to_string(p.worker_steps[res.worker].size()) + " vertex copies");
    ++held[id];
    at[res.worker].emplace_back(res.position, id);
  }
  std::vector<std::uint32_t> ids;
  for (std::size_t w = 0; w < s.workers; ++w) {
    ids.clear();
    for (const auto& h : at[w]) ids.push_back(h.second);
    std::sort(ids.begin(), ids.end());
    if (const auto it = std::adjacent_find(ids.begin(), ids.end()); it != ids.end())
      throw graph_error("worker " + std::to_string(w) + " is reserved twice for " + vname(p.steps[*it].vertex));
  }
  for (std::uint32_t id = 0; id < p.steps.size(); ++id)
    if (held[id] + 1 != p.steps[id].threads)
      throw graph_error(vname(p.steps[id].vertex) + " in cluster " + std::to_string(p.steps[id].cluster) + " runs on " +
                        std::to_string(p.steps[id].threads) + " cores but has " + std::to_string(held[id]) +
                        " reserved workers (it needs cores - 1)");
  p.worker_items.assign(s.workers, {});
  for (std::size_t w = 0; w < s.workers; ++w) {
    std::stable_sort(at[w].begin(), at[w].end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    auto& items = p.worker_items[w];
    items.reserve(p.worker_steps[w].size() + at[w].size());
    std::size_t h = 0;
    for (std::size_t i = 0; i <= p.worker_steps[w].size(); ++i) {
      for (; h < at[w].size() && at[w][h].first == i; ++h) items.push_back({at[w][h].second, true});
      if (i < p.worker_steps[w].size()) items.push_back({p.worker_steps[w][i], false});
    }
  }
}

/// Resolves which copy each consumer reads; throws graph_error when the
/// schedule does not fit the graph (missing vertex, bad worker, a consumer
/// placed before its local producer...).
inline plan make_plan(const flat_dag& d, const schedule& s) {
  if (s.num_vertices != d.n)
    throw graph_error("schedule is for " + std::to_string(s.num_vertices) + " vertices, the graph has " + std::to_string(d.n));
  if (s.workers == 0) throw graph_error("schedule has 0 workers");
  if (s.home.size() != d.n) throw graph_error("schedule.home has the wrong size");
  plan p;
  p.worker_steps.resize(s.workers);
  constexpr std::uint32_t none = UINT32_MAX;
  std::vector<std::uint32_t> home_step(d.n, none);
  std::vector<std::uint32_t> copies(d.n, 0);
  std::vector<std::size_t> last_cluster(d.n, schedule::npos);  // a cluster's entries are visited together
  std::size_t total = 0;
  for (const auto& cl : s.clusters) total += cl.vertices.size();
  p.steps.reserve(total);
  for (std::size_t c = 0; c < s.clusters.size(); ++c) {
    const auto& cl = s.clusters[c];
    if (cl.worker >= s.workers)
      throw graph_error("cluster " + std::to_string(c) + " is on worker " + std::to_string(cl.worker) + " of " + std::to_string(s.workers));
    if (!cl.threads.empty() && cl.threads.size() != cl.vertices.size())
      throw graph_error("cluster " + std::to_string(c) + " has " + std::to_string(cl.threads.size()) + " core counts for " +
                        std::to_string(cl.vertices.size()) + " vertices");
    for (std::size_t i = 0; i < cl.vertices.size(); ++i) {
      const std::size_t v = cl.vertices[i];
      const std::size_t k = cl.threads.empty() ? 1 : cl.threads[i];
      if (k == 0 || k > s.workers)
        throw graph_error(vname(v) + " in cluster " + std::to_string(c) + " has " + std::to_string(k) + " cores, outside 1.." +
                          std::to_string(s.workers));
      if (v >= d.n) throw graph_error("cluster " + std::to_string(c) + " names vertex " + std::to_string(v) + ", which does not exist");
      if (last_cluster[v] == c) throw graph_error(vname(v) + " appears twice in cluster " + std::to_string(c));
      last_cluster[v] = c;
      const auto id = static_cast<std::uint32_t>(p.steps.size());
      ++copies[v];
      if (s.home[v] == c) home_step[v] = id;
      p.steps.push_back({static_cast<std::uint32_t>(v), static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(cl.worker), 0, 0,
                         static_cast<std::uint32_t>(k)});
    }
  }
  // Clusters of one worker run in index order; their steps concatenate.
  for (std::uint32_t id = 0; id < p.steps.size(); ++id) p.worker_steps[p.steps[id].worker].push_back(id);
  add_holds(s, p);
  for (std::size_t v = 0; v < d.n; ++v) {
    if (copies[v] == 0) throw graph_error(vname(v) + " is not scheduled");
    if (home_step[v] == none) throw graph_error(vname(v) + ": its home cluster does not contain it");
  }
  const bool any_clone = p.steps.size() != d.n;
  // position of each step within its worker's sequence, to tell "earlier"
  std::vector<std::uint32_t> pos(p.steps.size());
  for (const auto& ws : p.worker_steps)
    for (std::uint32_t i = 0; i < ws.size(); ++i) pos[ws[i]] = i;
  // copies per (vertex, worker) for clone resolution
  std::unordered_multimap<std::uint64_t, std::uint32_t> copy_on_worker;
  if (any_clone)
    for (std::uint32_t id = 0; id < p.steps.size(); ++id)
      copy_on_worker.emplace((std::uint64_t{p.steps[id].vertex} << 32) | p.steps[id].worker, id);
  // worker and position of each vertex's home copy, indexed by vertex: the
  // predecessors of a vertex tend to have nearby indices, steps do not
  std::vector<std::uint32_t> home_worker(d.n), home_pos(d.n);
  for (std::size_t v = 0; v < d.n; ++v) home_worker[v] = p.steps[home_step[v]].worker, home_pos[v] = pos[home_step[v]];
  p.deps.reserve(d.pred.size());
  for (std::uint32_t id = 0; id < p.steps.size(); ++id) {
    auto& st = p.steps[id];
    st.dep_begin = static_cast<std::uint32_t>(p.deps.size());
    for (const arc& a : d.preds(st.vertex)) {
      if (!any_clone) {
        const bool remote = home_worker[a.v] != st.worker;
        if (!remote && home_pos[a.v] > pos[id])
          throw graph_error(vname(st.vertex) + " runs before its input " + vname(a.v) + " on worker " + std::to_string(st.worker));
        p.deps.push_back({home_step[a.v], a.cost, remote});
        continue;
      }
      std::uint32_t src = home_step[a.v];
      if (any_clone && copies[a.v] > 1) {
        // the latest copy on this worker that runs before this step, if any
        std::uint32_t best = none;
        auto [lo, hi] = copy_on_worker.equal_range((std::uint64_t{a.v} << 32) | st.worker);
        for (auto it = lo; it != hi; ++it)
          if (pos[it->second] < pos[id] && (best == none || pos[it->second] > pos[best])) best = it->second;
        if (best != none) src = best;
      }
      const bool remote = p.steps[src].worker != st.worker;
      if (!remote && pos[src] > pos[id])
        throw graph_error(vname(st.vertex) + " runs before its input " + vname(a.v) + " on worker " + std::to_string(st.worker));
      p.deps.push_back({src, a.cost, remote});
    }
    st.dep_end = static_cast<std::uint32_t>(p.deps.size());
  }
  return p;
}

/// The workers reserved for each step (empty for single-core steps).
inline std::vector<std::vector<std::uint32_t>> reserved_workers(const plan& p) {
  std::vector<std::vector<std::uint32_t>> out(p.steps.size());
  for (std::uint32_t w = 0; w < p.worker_items.size(); ++w)
    for (const plan_item& it : p.worker_items[w])
      if (it.hold) out[it.step].push_back(w);
  return out;
}

/// Start/finish time of every step; throws graph_error on a deadlock (two
/// workers waiting on each other).
struct timing {
  std::vector<double> start, finish;  // per step
  double makespan = 0;
};

inline timing simulate(const flat_dag& d, const plan& p, std::span<const double> step_time = {}) {
  const std::size_t m = p.steps.size();
  timing t;
  t.start.assign(m, 0.0);
  t.finish.assign(m, 0.0);
  // Kahn over steps: a step waits for its producers and for the item before
  // it in the run order of each worker it occupies (its own and, for a
  // multi-core step, the reserved ones).
  std::vector<std::uint32_t> missing(m, 0);
  std::vector<std::uint32_t> reader_begin(m + 1, 0), readers(p.deps.size());  // CSR: steps reading each step
  for (const auto& dep : p.deps) ++reader_begin[dep.step + 1];
  for (std::size_t i = 0; i < m; ++i) reader_begin[i + 1] += reader_begin[i];
  {
    std::vector<std::uint32_t> fill(reader_begin.begin(), reader_begin.end() - 1);
    for (std::uint32_t id = 0; id < m; ++id)
      for (std::uint32_t k = p.steps[id].dep_begin; k < p.steps[id].dep_end; ++k) {
        ++missing[id];
        readers[fill[p.deps[k].step]++] = id;
      }
  }
  // Run-order successors: one per worker without reservations, else CSR.
  std::vector<std::uint32_t> next_on_worker(m, UINT32_MAX);
  std::vector<std::uint32_t> next_begin, next;
  if (p.worker_items.empty()) {
    for (const auto& ws : p.worker_steps)
      for (std::size_t i = 0; i < ws.size(); ++i) {
        if (i > 0) ++missing[ws[i]];
        if (i + 1 < ws.size()) next_on_worker[ws[i]] = ws[i + 1];
      }
  } else {
    next_begin.assign(m + 1, 0);
    for (const auto& items : p.worker_items)
      for (std::size_t i = 0; i + 1 < items.size(); ++i) ++next_begin[items[i].step + 1];
    for (std::size_t i = 0; i < m; ++i) next_begin[i + 1] += next_begin[i];
    next.resize(next_begin[m]);
    std::vector<std::uint32_t> fill(next_begin.begin(), next_begin.end() - 1);
    for (const auto& items : p.worker_items)
      for (std::size_t i = 0; i + 1 < items.size(); ++i) {
        next[fill[items[i].step]++] = items[i + 1].step;
        ++missing[items[i + 1].step];
      }
  }
  std::vector<std::uint32_t> ready;
  for (std::uint32_t id = 0; id < m; ++id)
    if (missing[id] == 0) ready.push_back(id);
  std::size_t done = 0;
  while (!ready.empty()) {
    const std::uint32_t id = ready.back();
    ready.pop_back();
    ++done;
    const auto& st = p.steps[id];
    double s = t.start[id];  // holds max over already-finished constraints
    for (std::uint32_t k = st.dep_begin; k < st.dep_end; ++k) {
      const auto& dep = p.deps[k];
      s = std::max(s, t.finish[dep.step] + (dep.remote ? dep.cost : 0.0));
    }
    t.start[id] = s;
    t.finish[id] = s + (step_time.empty() ? d.w[st.vertex] : step_time[id]);
    t.makespan = std::max(t.makespan, t.finish[id]);
    auto release = [&](std::uint32_t r) {
      t.start[r] = std::max(t.start[r], t.finish[id]);  // only run-order successors need this; readers recompute
      if (--missing[r] == 0) ready.push_back(r);
    };
    if (next_on_worker[id] != UINT32_MAX) release(next_on_worker[id]);
    for (std::uint32_t k = next_begin.empty() ? 0 : next_begin[id]; k < (next_begin.empty() ? 0 : next_begin[id + 1]); ++k)
      release(next[k]);
    for (std::uint32_t k = reader_begin[id]; k < reader_begin[id + 1]; ++k) {
      if (--missing[readers[k]] == 0) ready.push_back(readers[k]);
    }
  }
  if (done != m) throw graph_error("the schedule deadlocks: workers wait on each other in a cycle");
  return t;
}

}  // namespace dfgpar::detail
