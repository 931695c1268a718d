#pragma once
/// \file moldable_schedule.hpp
/// Moldable scheduling: chooses how many cores each vertex gets (its
/// allotment) and a schedule, from a moldable cost t(v, k).
///
/// \code
/// auto t = dfgpar::amdahl_cost(time_map, serial_fraction_map);
/// dfgpar::schedule s = dfgpar::parallelize(g, t, dfgpar::options{.workers = 8});
/// double m = dfgpar::makespan(g, s, t);
/// \endcode
///
/// The method, and why:
///
/// 1. Two pure forms are always computed: pure inter-op (today's
///    `parallelize` with t(v, 1), every allotment 1: linear clustering and
///    merging, the best schedules dfgpar has for single-core tasks) and pure
///    intra-op (every vertex in topological order on all P cores). The
///    result is never worse than either: every candidate is simulated and
///    the shortest wins.
/// 2. The graph is cut at its width-one vertices (every other vertex is an
///    ancestor or a descendant: the joins of a chain of inception blocks, the
///    vertices of a chain). Nothing overlaps such a vertex, so the makespan
///    is the sum over the regions between them, and each region is
///    scheduled on its own with the best of: inter-op, intra-op and CPA.
///    A width-one vertex itself gets its fastest allotment. This is what
///    mixes both kinds of parallelism region by region: a wide block's
///    branches side by side, a lone heavy operator on every core.
/// 3. CPA (Radulescu and van Gemund, "A low-cost approach towards mixed task
///    and data parallel scheduling", ICPP 2001): all allotments start at 1;
///    repeatedly the critical-path vertex with the best time gained per unit
///    of extra work gets one more core. Classic CPA stops when the critical
///    path falls below the average area sum k·t / P and list-schedules once;
///    here every few steps the allotment is list-scheduled (highest bottom
///    level first, each vertex started on the k workers that are free
///    earliest, also trying fewer cores when that finishes it sooner) and
///    judged by its makespan, and the growth goes on past the crossing while
///    the area bound of the allotment is still below the best makespan found
///    (growing further cannot help then, since work only grows with k).
///
/// Why not something else: the two-phase allotment + list-scheduling
/// algorithms with guarantees (Lepère/Trystram/Woeginger, Jansen/Zhang) need
/// an LP or a knapsack per allotment and give worst-case factors of 3-5;
/// CPA's greedy allotment is cheap (levels per step), and judged by the
/// simulated makespan against both pure forms it never loses to them. The
/// region split makes series-parallel ML graphs (the case that matters:
/// inception blocks, residual blocks) nearly optimal, since each region is
/// small and scheduled independently.
///
/// Edge (communication) costs are not modelled here: moldable kernels hand
/// values over in shared memory.
///
/// Time: `options::time_limit_ms` caps the merge search of the inter-op
/// candidates (the whole graph, and each region for its share of the
/// vertices) and the allotment search of each region, so a call takes up to
/// about twice that (measured: 1.2 s for 2,000 vertices, 1.7 s for 20,000 at
/// P = 8 with the default 1000 ms; 55 ms per 100-vertex graph at 200 ms).

#include <dfgpar/cluster/finalize.hpp>
#include <dfgpar/cluster/moldable_cost.hpp>
#include <dfgpar/cluster/parallelize.hpp>
#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/concepts.hpp>
#include <dfgpar/detail/flat_dag.hpp>
#include <dfgpar/detail/plan.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <queue>
#include <span>
#include <string>
#include <vector>

namespace dfgpar {

/// One region of the graph as `parallelize_moldable` scheduled it (see the
/// file comment, point 2): the vertices between two width-one vertices, or
/// one width-one vertex, with the makespan of each candidate for it.
struct moldable_region {
  std::vector<std::size_t> vertices;  ///< its vertices (indices), in topological order
  bool width_one = false;             ///< a single width-one vertex: nothing overlaps it
  /// "inter-op" (its branches side by side, one core each), "intra-op"
  /// (one vertex after another on all cores) or "CPA" (mixed allotments);
  /// a width-one vertex: "intra-op" when its fastest allotment is above 1 core.
  std::string method;
  double serial = 0;    ///< sum of t(v, 1): the region on one core
  double inter_op = 0;  ///< makespan of the inter-op candidate (a width-one vertex: t(v, 1))
  double intra_op = 0;  ///< sum of t(v, P) (a width-one vertex: t(v, P))
  double cpa = 0;       ///< makespan of the CPA candidate (a width-one vertex: its fastest time)
  double makespan = 0;  ///< of the chosen candidate
};

/// What `parallelize_moldable` found.
struct moldable_result {
  dfgpar::schedule schedule;  ///< the winner (valid, finalized)
  double makespan = 0;        ///< its simulated makespan under the (repaired) moldable cost
  double inter_op = 0;        ///< makespan of pure inter-op (every allotment 1, today's parallelize)
  double intra_op = 0;        ///< makespan of pure intra-op (every vertex on all P cores, in topological order)
  moldable_bounds bounds;     ///< max(CP at the fastest allotments, sum of least work / P)
  std::string method;         ///< which candidate won: "inter-op", "intra-op" or "regions (...)"
  std::size_t regions = 0;    ///< regions between width-one vertices
  std::size_t evaluations = 0;  ///< list schedules simulated by the allotment search
  /// Every region in topological order with its candidates (what the
  /// "regions" candidate is made of; it is the schedule when `method`
  /// starts with "regions").
  std::vector<moldable_region> region_choices;
};

namespace detail {

/// Builds a schedule with one cluster per worker from placements given in an
/// order that is each worker's run order.
class moldable_builder {
 public:
  moldable_builder(std::size_t n, std::size_t P) : cluster_of_(P, schedule::npos), own_(P, 0) {
    s_.workers = P;
    s_.num_vertices = n;
    s_.home.assign(n, schedule::npos);
  }

  /// Vertex v runs on `primary` with 1 + reserved.size() cores.
  void place(std::size_t v, std::size_t primary, std::span<const std::uint32_t> reserved) {
    const std::size_t c = cluster_on(primary);
    cluster& cl = s_.clusters[c];
    const std::size_t index = cl.vertices.size();
    cl.vertices.push_back(v);
    cl.threads.push_back(1 + reserved.size());
    for (std::uint32_t r : reserved) s_.reservations.push_back({r, own_[r], c, index});
    ++own_[primary];
  }

  /// Finalized schedule (threads dropped when every allotment is 1).
  schedule finish(const flat_dag& d) && {
    for (auto& cl : s_.clusters)
      if (std::all_of(cl.threads.begin(), cl.threads.end(), [](std::size_t k) { return k == 1; })) cl.threads.clear();
    finalize(d, s_);
    return std::move(s_);
  }

 private:
  std::size_t cluster_on(std::size_t w) {
    if (cluster_of_[w] == schedule::npos) {
      cluster_of_[w] = s_.clusters.size();
      s_.clusters.push_back({w, {}, {}});
    }
    return cluster_of_[w];
  }
  schedule s_;
  std::vector<std::size_t> cluster_of_, own_;
};

/// One vertex of a list schedule: on pool[begin .. begin + k), the first primary.
struct placement {
  std::uint32_t v, k, begin;
};
struct placed {
  double makespan = std::numeric_limits<double>::infinity();
  std::vector<placement> order;  // start order (each worker's run order)
  std::vector<std::uint32_t> pool;
  std::vector<std::uint32_t> allotment;  // the allotment (caps, when adaptive) it was made from
  bool adaptive = false;
};

/// Bottom levels (t(v, a(v)) + longest path to the end).
inline void bottom_levels(const flat_dag& d, const moldable_table& tab, std::span<const std::uint32_t> a, std::vector<double>& bl) {
  bl.assign(d.n, 0.0);
  for (std::size_t i = d.n; i-- > 0;) {
    const std::uint32_t v = d.topo[i];
    double b = 0;
    for (const arc& s : d.succs(v)) b = std::max(b, bl[s.v]);
    bl[v] = b + tab.at(v, a[v]);
  }
}

/// List-schedules allotment `a`: highest bottom level first among the ready
/// vertices; each starts on the workers that are free earliest. `adaptive`:
/// a vertex may take fewer than a(v) cores when that finishes it sooner.
inline placed list_schedule(const flat_dag& d, const moldable_table& tab, std::span<const std::uint32_t> a, bool adaptive) {
  const std::size_t n = d.n, P = tab.P;
  std::vector<double> bl;
  bottom_levels(d, tab, a, bl);
  auto lower = [&](std::uint32_t x, std::uint32_t y) {  // heap order: lower priority first out last
    return bl[x] != bl[y] ? bl[x] < bl[y] : d.topo_pos[x] > d.topo_pos[y];
  };
  std::priority_queue<std::uint32_t, std::vector<std::uint32_t>, decltype(lower)> ready(lower);
  std::vector<std::uint32_t> missing(n);
  std::vector<double> data(n, 0.0), free(P, 0.0);
  for (std::size_t v = 0; v < n; ++v) {
    missing[v] = static_cast<std::uint32_t>(d.preds(v).size());
    if (missing[v] == 0) ready.push(static_cast<std::uint32_t>(v));
  }
  placed out;
  out.makespan = 0;
  out.order.reserve(n);
  out.allotment.assign(a.begin(), a.end());
  out.adaptive = adaptive;
  std::vector<std::uint32_t> by_free(P);
  while (!ready.empty()) {
    const std::uint32_t v = ready.top();
    ready.pop();
    std::iota(by_free.begin(), by_free.end(), 0u);
    std::stable_sort(by_free.begin(), by_free.end(), [&](std::uint32_t x, std::uint32_t y) { return free[x] < free[y]; });
    std::uint32_t k = a[v];
    double best = std::max(data[v], free[by_free[k - 1]]) + tab.at(v, k);
    if (adaptive)
      for (std::uint32_t j = 1; j < a[v]; ++j) {
        const double f = std::max(data[v], free[by_free[j - 1]]) + tab.at(v, j);
        if (f < best) best = f, k = j;
      }
    out.order.push_back({v, k, static_cast<std::uint32_t>(out.pool.size())});
    // the k cores start together, so any of them can run the vertex: the lowest worker does. On
    // 2 cores every multi-core vertex then runs on worker 0 (the caller of run()), and the
    // process keeps one OpenMP team: libgomp stops spinning (about 1 us instead of GOMP_SPINCOUNT)
    // once its threads outnumber the cores, and a second team on worker 1 made it so
    std::sort(by_free.begin(), by_free.begin() + k);
    for (std::uint32_t j = 0; j < k; ++j) {
      out.pool.push_back(by_free[j]);
      free[by_free[j]] = best;
    }
    out.makespan = std::max(out.makespan, best);
    for (const arc& s : d.succs(v)) {
      data[s.v] = std::max(data[s.v], best);
      if (--missing[s.v] == 0) ready.push(s.v);
    }
  }
  return out;
}

/// The list schedules tried for an allotment: exactly the allotted cores,
/// and fewer where that finishes a vertex sooner.
template <class Keep>
void try_allotment(const flat_dag& d, const moldable_table& tab, std::span<const std::uint32_t> a, std::size_t& evaluations, Keep keep) {
  for (bool adaptive : {false, true}) {
    keep(list_schedule(d, tab, a, adaptive));
    ++evaluations;
  }
}

/// Hill climbing on the allotment of `best`: one vertex's allotment up or
/// down by one, kept when the list schedule gets shorter, until no move helps
/// or the time is up.
inline void improve(const flat_dag& d, const moldable_table& tab, placed& best, std::chrono::steady_clock::time_point deadline,
                    std::size_t& evaluations) {
  std::vector<std::uint32_t> a = best.allotment;
  for (bool better = true; better;) {
    better = false;
    for (std::size_t v = 0; v < d.n; ++v)
      for (int step : {+1, -1}) {
        const std::uint32_t k = a[v];
        if ((step > 0 && k >= tab.P) || (step < 0 && k <= 1)) continue;
        a[v] = static_cast<std::uint32_t>(static_cast<int>(k) + step);
        try_allotment(d, tab, a, evaluations, [&](placed&& c) {
          if (c.makespan < best.makespan * (1 - 1e-12)) best = std::move(c), better = true;
        });
        if (best.allotment != a) a[v] = k;  // not kept
        if (std::chrono::steady_clock::now() > deadline) return;
      }
  }
}

/// CPA-style allotment search over d (see the file comment), then hill
/// climbing; returns the best list schedule found and counts the evaluations.
inline placed cpa(const flat_dag& d, const moldable_table& tab, double time_limit_ms, std::size_t& evaluations) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + std::chrono::microseconds(static_cast<long long>(time_limit_ms * 1000));
  const auto half_time = t0 + std::chrono::microseconds(static_cast<long long>(time_limit_ms * 500));
  const std::size_t n = d.n, P = tab.P;
  std::vector<std::uint32_t> a(n, 1);
  placed best = list_schedule(d, tab, a, false);
  ++evaluations;
  if (P == 1 || n == 0) return best;
  {
    // greedy earliest finish: every vertex may take up to all cores
    std::vector<std::uint32_t> all(n, static_cast<std::uint32_t>(P));
    try_allotment(d, tab, all, evaluations, [&](placed&& c) {
      if (c.makespan < best.makespan) best = std::move(c);
    });
  }
  const std::size_t stride = std::max<std::size_t>(1, n / 64);
  std::vector<double> tl(n), bl;
  double work = 0;
  for (std::size_t v = 0; v < n; ++v) work += tab.at(v, 1);
  bool crossed = false;
  for (std::size_t step = 1;; ++step) {
    bottom_levels(d, tab, a, bl);
    double cp = 0;
    for (std::uint32_t v : d.topo) {
      double s = 0;
      for (const arc& p : d.preds(v)) s = std::max(s, tl[p.v] + tab.at(p.v, a[p.v]));
      tl[v] = s;
      cp = std::max(cp, s + bl[v]);
    }
    const double area = work / static_cast<double>(P);
    if (area >= best.makespan * (1 - 1e-12)) break;  // no allotment with more work beats `best`
    // the critical vertex with the most time gained per unit of extra work
    std::uint32_t pick = UINT32_MAX;
    double pick_score = -1, pick_gain = 0;
    for (std::size_t v = 0; v < n; ++v) {
      if (a[v] >= P || tl[v] + bl[v] < cp * (1 - 1e-9)) continue;
      const double now = tab.at(v, a[v]), next = tab.at(v, a[v] + 1);
      const double gain = now - next;
      if (!(gain > now * 1e-9)) continue;
      const double extra = static_cast<double>(a[v] + 1) * next - static_cast<double>(a[v]) * now;
      const double score = gain / std::max(extra, now * 1e-9);
      if (score > pick_score || (score == pick_score && gain > pick_gain)) pick = static_cast<std::uint32_t>(v), pick_score = score, pick_gain = gain;
    }
    if (pick == UINT32_MAX) break;  // the critical path cannot get shorter
    work += static_cast<double>(a[pick] + 1) * tab.at(pick, a[pick] + 1) - static_cast<double>(a[pick]) * tab.at(pick, a[pick]);
    ++a[pick];
    const bool crossing = !crossed && cp <= work / static_cast<double>(P);
    crossed = crossed || crossing;
    if (crossing || step % stride == 0) {
      try_allotment(d, tab, a, evaluations, [&](placed&& c) {
        if (c.makespan < best.makespan * (1 - 1e-12)) best = std::move(c);
      });
    }
    if (std::chrono::steady_clock::now() > half_time) break;  // each step costs O(V + E): check every one
  }
  improve(d, tab, best, deadline, evaluations);
  return best;
}

/// Width-one vertices: every other vertex is an ancestor or a descendant.
/// In any topological order such a vertex at position i has no edge passing
/// over it, no sink before it and no source after it (and conversely).
inline std::vector<char> width_one(const flat_dag& d) {
  const std::size_t n = d.n;
  std::vector<char> out(n, 0);
  if (n == 0) return out;
  std::vector<long> over(n + 1, 0);  // edges passing over each position (difference array)
  for (std::size_t u = 0; u < n; ++u)
    for (const arc& a : d.succs(u)) {
      const std::size_t pu = d.topo_pos[u], pv = d.topo_pos[a.v];
      if (pv > pu + 1) ++over[pu + 1], --over[pv];
    }
  std::vector<char> sink_before(n + 1, 0), source_after(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) sink_before[i + 1] = sink_before[i] || d.succs(d.topo[i]).empty();
  for (std::size_t i = n; i-- > 0;) source_after[i] = source_after[i + 1] || d.preds(d.topo[i]).empty();
  long running = 0;
  for (std::size_t i = 0; i < n; ++i) {
    running += over[i];
    out[d.topo[i]] = running == 0 && !sink_before[i] && !source_after[i + 1];
  }
  return out;
}

/// The sub-graph induced by `verts` (global indices) with its table rows.
inline std::pair<flat_dag, moldable_table> induced(const flat_dag& d, const moldable_table& tab, std::span<const std::uint32_t> verts,
                                                   std::vector<std::uint32_t>& local) {
  flat_dag s;
  moldable_table st;
  s.n = verts.size();
  st.n = s.n;
  st.P = tab.P;
  st.t.resize(s.n * tab.P);
  s.w.resize(s.n);
  for (std::size_t i = 0; i < verts.size(); ++i) {
    local[verts[i]] = static_cast<std::uint32_t>(i);
    s.w[i] = tab.at(verts[i], 1);
    std::copy_n(tab.t.begin() + static_cast<std::ptrdiff_t>(verts[i] * tab.P), tab.P, st.t.begin() + static_cast<std::ptrdiff_t>(i * tab.P));
  }
  auto inside = [&](std::uint32_t v) { return local[v] != UINT32_MAX; };  // callers reset `local` after use
  s.succ_begin.assign(s.n + 1, 0);
  s.pred_begin.assign(s.n + 1, 0);
  for (std::size_t i = 0; i < s.n; ++i)
    for (const arc& a : d.succs(verts[i]))
      if (inside(a.v)) {
        s.succ.push_back({local[a.v], 0.0});
        ++s.pred_begin[local[a.v] + 1];
      }
  std::size_t k = 0;  // succ_begin: the same order as the pushes above
  for (std::size_t i = 0; i < s.n; ++i) {
    s.succ_begin[i] = k;
    for (const arc& a : d.succs(verts[i])) k += inside(a.v) ? 1 : 0;
  }
  s.succ_begin[s.n] = k;
  for (std::size_t i = 0; i < s.n; ++i) s.pred_begin[i + 1] += s.pred_begin[i];
  s.pred.resize(s.pred_begin[s.n]);
  std::vector<std::size_t> fill(s.pred_begin.begin(), s.pred_begin.end() - 1);
  for (std::size_t u = 0; u < s.n; ++u)
    for (const arc& a : s.succs(u)) s.pred[fill[a.v]++] = arc{static_cast<std::uint32_t>(u), 0.0};
  topological_order(s);
  return {std::move(s), std::move(st)};
}

/// Places a list schedule of a sub-graph (vertex i is global verts[i]).
inline void place_all(moldable_builder& b, const placed& pl, std::span<const std::uint32_t> verts) {
  for (const placement& x : pl.order)
    b.place(verts[x.v], pl.pool[x.begin], std::span<const std::uint32_t>(pl.pool.data() + x.begin + 1, x.k - 1));
}

/// Places a single-core schedule of a sub-graph, worker by worker.
inline void place_plain(moldable_builder& b, const flat_dag& sub, const schedule& s, std::span<const std::uint32_t> verts) {
  const plan p = make_plan(sub, s);
  for (std::size_t w = 0; w < p.worker_steps.size(); ++w)
    for (std::uint32_t id : p.worker_steps[w]) b.place(verts[p.steps[id].vertex], w, {});
}

/// Every vertex of `verts` (topological order) on all P cores.
inline void place_intra(moldable_builder& b, std::span<const std::uint32_t> verts, std::size_t P, const moldable_table* fewest) {
  std::vector<std::uint32_t> others;
  for (std::uint32_t v : verts) {
    const std::size_t k = fewest != nullptr ? fewest->fastest_k(v) : P;
    others.clear();
    for (std::uint32_t w = 1; w < k; ++w) others.push_back(w);
    b.place(v, 0, others);
  }
}

inline double simulated(const flat_dag& d, const moldable_table& tab, const schedule& s) {
  const plan p = make_plan(d, s);
  return simulate(d, p, step_times(p, tab)).makespan;
}

inline moldable_result parallelize_moldable(const flat_dag& d, const moldable_table& tab, const options& o) {
  const std::size_t n = d.n, P = tab.P;
  moldable_result r;
  r.bounds = compute_moldable_bounds(d, tab);
  // pure inter-op: today's pipeline on t(v, 1)
  options inter_o = o;
  inter_o.report = nullptr;
  schedule inter = detail::parallelize(d, inter_o);
  r.inter_op = simulated(d, tab, inter);
  // pure intra-op
  std::vector<std::uint32_t> all(d.topo.begin(), d.topo.end());
  {
    moldable_builder b(n, P);
    place_intra(b, all, P, nullptr);
    schedule intra = std::move(b).finish(d);
    r.intra_op = simulated(d, tab, intra);
    r.schedule = std::move(intra);
    r.makespan = r.intra_op;
    r.method = "intra-op";
  }
  if (r.inter_op <= r.makespan) {
    r.schedule = inter;
    r.makespan = r.inter_op;
    r.method = "inter-op";
  }
  // regions between width-one vertices, each the best of inter, intra and CPA
  const std::vector<char> one = width_one(d);
  moldable_builder b(n, P);
  std::vector<std::uint32_t> region, local(n, UINT32_MAX);
  std::size_t wins[3] = {0, 0, 0};  // inter, intra, cpa
  const double budget = o.time_limit_ms;
  auto flush = [&] {
    if (region.empty()) return;
    ++r.regions;
    auto [sub, st] = induced(d, tab, region, local);
    const double share = std::max(1.0, budget * static_cast<double>(region.size()) / static_cast<double>(std::max<std::size_t>(n, 1)));
    options ro = inter_o;
    ro.time_limit_ms = share;
    ro.clone = false;
    const schedule rinter = detail::parallelize(sub, ro);
    const double m_inter = simulated(sub, st, rinter);
    double m_intra = 0;
    for (std::size_t i = 0; i < sub.n; ++i) m_intra += st.at(i, P);
    const placed c = cpa(sub, st, share, r.evaluations);
    moldable_region reg{.vertices = {region.begin(), region.end()}, .inter_op = m_inter, .intra_op = m_intra, .cpa = c.makespan};
    for (std::size_t i = 0; i < sub.n; ++i) reg.serial += st.at(i, 1);
    if (c.makespan < m_inter && c.makespan < m_intra) {
      place_all(b, c, region);
      ++wins[2];
      reg.method = "CPA", reg.makespan = c.makespan;
    } else if (m_inter <= m_intra) {
      place_plain(b, sub, rinter, region);
      ++wins[0];
      reg.method = "inter-op", reg.makespan = m_inter;
    } else {
      place_intra(b, region, P, nullptr);
      ++wins[1];
      reg.method = "intra-op", reg.makespan = m_intra;
    }
    r.region_choices.push_back(std::move(reg));
    for (std::uint32_t v : region) local[v] = UINT32_MAX;
    region.clear();
  };
  for (std::uint32_t v : d.topo) {
    if (!one[v]) {
      region.push_back(v);
      continue;
    }
    flush();
    const std::uint32_t x[] = {v};
    place_intra(b, x, P, &tab);  // nothing overlaps it: its fastest allotment, fewest cores for that
    const std::size_t k = tab.fastest_k(v);
    r.region_choices.push_back({.vertices = {v}, .width_one = true, .method = k > 1 ? "intra-op" : "inter-op",
                                .serial = tab.at(v, 1), .inter_op = tab.at(v, 1), .intra_op = tab.at(v, P),
                                .cpa = tab.at(v, k), .makespan = tab.at(v, k)});
  }
  flush();
  schedule mixed = std::move(b).finish(d);
  const double m_mixed = simulated(d, tab, mixed);
  if (m_mixed < r.makespan * (1 - 1e-12)) {
    r.schedule = std::move(mixed);
    r.makespan = m_mixed;
    r.method = "regions (" + std::to_string(r.regions) + ": " + std::to_string(wins[0]) + " inter-op, " + std::to_string(wins[1]) +
               " intra-op, " + std::to_string(wins[2]) + " CPA)";
  }
  if (o.report) {
    *o.report = merge_report{};
    o.report->heuristic = "moldable: " + r.method;
    o.report->makespan = r.makespan;
    o.report->lower_bound = r.bounds.lower_bound;
    o.report->passes = r.evaluations;
  }
  return r;
}

}  // namespace detail

/// Chooses allotments and a schedule of `g` on `o.workers` cores from the
/// moldable cost `m` (see the file comment for the method), and reports the
/// pure forms and the lower bound it was measured against.
/// \code auto r = dfgpar::parallelize_moldable(g, t, dfgpar::options{.workers = 8}); \endcode
template <class Graph, class Moldable>
moldable_result parallelize_moldable(const Graph& g, const Moldable& m, const options& o = {}) {
  detail::check_graph<Graph>();
  detail::check_moldable_cost<Moldable, Graph>();
  if (o.workers == 0) throw graph_error("parallelize: 0 workers");
  const auto tab = detail::make_moldable_table(g, m, o.workers);
  return detail::parallelize_moldable(detail::flat_dag_of(g, tab), tab, o);
}

/// Same, returning only the schedule: vertices that run on k > 1 cores have
/// `threads` k in their cluster and k - 1 reserved workers.
/// \code auto s = dfgpar::parallelize(g, dfgpar::amdahl_cost(time, serial), dfgpar::options{.workers = 8}); \endcode
template <class Graph, class Moldable>
  requires moldable_cost<Moldable, Graph>
schedule parallelize(const Graph& g, const Moldable& m, const options& o = {}) {
  return parallelize_moldable(g, m, o).schedule;
}

}  // namespace dfgpar
