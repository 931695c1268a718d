#pragma once
/// \file tune.hpp
/// Chooses how a model runs on the cores it has, by measuring.
///
/// `tune` (what `dfgpar run --workers auto`, the default, does):
///  1. measures t(v, k), every node's time on k threads for the counts of
///     `thread_counts(cores)` (1..4, then powers of two, and the cores), one
///     session of 1 worker x k threads per count (`measure_thread_times`);
///     the sessions at k = 1 and k = cores are also the candidates 1 x 1
///     (one core, when more do not pay) and pure intra-op (1 x P);
///  2. schedules the model with the moldable scheduler on those times
///     (cluster/moldable_schedule.hpp: per region between width-one nodes,
///     branches side by side, one node on every core, or a mix) and prepares
///     that session (P workers x 1 thread, each node created and run on its
///     allotment), unless the plan is pure intra-op or pure inter-op, which
///     the 1 x P and P x 1 candidates already are;
///  3. prepares today's inter-op schedule (P workers x 1 thread) and, from
///     four cores, 2 x P/2;
/// times the candidates round-robin on the same inputs (one run of each in
/// turn, the starting candidate rotating, so that a change in the machine's
/// load falls on all of them alike) and keeps the one of the lowest median
/// (the moldable session only when it wins by `tune_options::moldable_margin`),
/// so that the result is never slower (as measured) than any single form.
/// Each candidate's predicted makespan under the measured t(v, k) is kept
/// beside its measured median.
/// \code
///   auto t = dfgpar::onednn::tune("googlenet.onnx", {}, {.cores = 2});
///   t.best->run(inputs);                  // the fastest of 1 x 1, 1 x 2, 2 x 1 and the moldable schedule
///   for (const auto& c : t.tried) ...     // c.workers, c.threads, c.moldable, c.median_ms, c.predicted_ms
/// \endcode
/// Why measure the candidates instead of trusting the prediction: the
/// prediction adds up node times measured one worker at a time; side by
/// side, kernels share caches and memory bandwidth, and the executor's
/// hand-offs cost a few microseconds each.

#include <dfgpar/cluster/makespan.hpp>
#include <dfgpar/cluster/moldable_cost.hpp>
#include <dfgpar/error.hpp>
#include <dfgpar/onednn/session.hpp>
#include <dfgpar/onnx/profile.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace dfgpar::onednn {

/// How `tune` measures; meant for designated initialisers.
struct tune_options {
  std::size_t cores = 0;   ///< cores to use (0: std::thread::hardware_concurrency())
  std::size_t warmup = 3;  ///< runs before timing, per candidate
  std::size_t runs = 15;   ///< timed runs per candidate (the median counts), round-robin
  /// Stop the round-robin after this much timing (ms), once every candidate
  /// has run `min_runs` times: a model of a second per run is not timed for a minute.
  double budget_ms = 4000;
  std::size_t min_runs = 5;
  /// Measure t(v, k) and try the moldable schedule (false: only P x 1,
  /// 1 x P and 2 x P/2, as before there were times per thread count).
  bool moldable = true;
  /// The moldable session is kept only when its median is at least this
  /// share below the fastest other candidate's. Its latency spreads more
  /// than a pure form's (reserved workers' hand-offs, and two workers'
  /// OpenMP teams whose idle threads spin on the cores the other worker
  /// needs): in 3 of 5 googlenet processes on 2 cores that chose it by 2-8%
  /// (round-robin medians), the run that followed took 28-45 ms, where the
  /// processes that chose 1 x 2 ran at 21.5-25.6 ms (2026-11-30).
  double moldable_margin = 0.05;
  /// Keep the moldable session whatever the other forms would measure:
  /// measure t(v, k), prepare the moldable session (a pure plan too) and
  /// time only it (`dfgpar run --workers moldable`). Needs 2 cores.
  bool moldable_only = false;
  std::size_t profile_runs = 5;  ///< profiled runs per thread count for t(v, k) (node medians)
  /// Scale each count's node medians so that they add up to the median
  /// latency measured at that count (see measure_thread_times).
  bool calibrate = true;
  /// The inputs every session measured runs on, made from the inputs the
  /// model declares (once, from the first session); none: the buffers as
  /// prepared (zeros), which is fine for a network whose work does not
  /// depend on its data, and wrong for one whose control flow does (an If
  /// on a sample-rate input: silero_vad_v5 takes its other branch on 0).
  std::function<std::vector<onnx::tensor>(const std::vector<io_info>&)> inputs{};
};

/// One configuration `tune` measured.
struct tune_candidate {
  std::size_t workers = 1, threads = 1;
  double median_ms = 0;
  bool moldable = false;    ///< the moldable schedule (P workers x 1 thread, allotments per node)
  double predicted_ms = 0;  ///< the makespan predicted from the measured t(v, k) (0: not measured)
};

/// Node times per thread count of a model (what `dfgpar run --profile` writes).
struct thread_times_result {
  std::vector<std::size_t> counts;         ///< thread counts measured, ascending from 1
  std::vector<std::vector<double>> times;  ///< per vertex of the scheduled graph: t(v, k) µs, k = 1..counts.back() (filled, see onnx::fill_thread_counts)
  std::vector<double> median_ms;           ///< latency of 1 worker x k threads, per measured count
  std::vector<double> scale;               ///< per measured count: the node medians' factor to that latency (1: not calibrated)
  std::unique_ptr<session> widest;         ///< the session at the largest count, when asked to keep it
  std::unique_ptr<session> single;         ///< the session at 1 thread, when asked to keep it (and more than one count)
  std::vector<onnx::tensor> inputs;        ///< what the sessions ran on (tune_options::inputs; empty without)
  double ms = 0;                           ///< wall time of the whole measurement, preparing included
};

/// The thread counts `measure_thread_times` measures on `cores` cores:
/// 1..min(4, cores), then the powers of two up to the cores, and the cores.
/// \code thread_counts(12) == {1, 2, 3, 4, 8, 12} \endcode
inline std::vector<std::size_t> thread_counts(std::size_t cores) {
  std::vector<std::size_t> c;
  for (std::size_t k = 1; k <= std::min<std::size_t>(4, cores); ++k) c.push_back(k);
  for (std::size_t k = 8; k < cores; k *= 2) c.push_back(k);
  if (c.back() != cores && cores > 0) c.push_back(cores);
  return c;
}

namespace detail {

/// Gives `s` the inputs of `o.inputs` (made once, into `cache`): the runs
/// after it read them from its input buffers.
inline void feed(session& s, const tune_options& o, std::vector<onnx::tensor>& cache) {
  if (!o.inputs) return;
  if (cache.empty()) cache = o.inputs(s.inputs());
  s.run(cache);
}

inline double median_of(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

/// Median latency (ms) of each session, timed round-robin: `warmup` runs
/// each, then turns (each session in turn, the first of a round rotating:
/// one untimed run, then two timed), until `runs` timed runs each or, after
/// `min_runs`, `budget_ms` of running. `rounds`: the timed runs of each.
inline std::vector<double> time_round_robin(const std::vector<session*>& s, std::size_t warmup, std::size_t runs,
                                            std::size_t min_runs, double budget_ms, std::size_t* rounds = nullptr) {
  if (s.empty()) return {};
  // Only the session that runs holds threads: the others' idle OpenMP teams
  // would make libgomp spin short in it (session::release_threads). Without
  // the release, on 16 cores, inception_v3's 1 x 16 candidate timed beside a
  // 2 x 8 and a moldable session measured 73.2 ms in one process and 18.0 ms
  // in another (README, Measured); that the idle teams caused it is read
  // from libgomp's source, not yet measured.
  const auto release = [&](session* x) {
    if (s.size() > 1) x->release_threads();
  };
  for (auto* x : s) {
    for (std::size_t k = 0; k < warmup; ++k) x->run();
    release(x);
  }
  // A turn is one untimed run (the session warms up again after another
  // ran: caches, its OpenMP threads), then up to two timed ones. Timed
  // right after a switch, googlenet's 1 x 2 session measured 28-32 ms in
  // every process on 2 cores and then ran at 21.5-25.6 ms alone, while the
  // moldable session's first runs were not slower than its later ones:
  // the round-robin chose it where it was not faster.
  constexpr std::size_t per_turn = 2;
  std::vector<std::vector<double>> ms(s.size());
  double spent = 0;
  const std::size_t want = std::max<std::size_t>(1, runs), least = std::max<std::size_t>(1, min_runs);
  for (std::size_t turn = 0; ms[0].size() < want; ++turn) {
    if (ms[0].size() >= least && spent > budget_ms) break;
    const std::size_t timed = std::min(per_turn, want - ms[0].size());
    for (std::size_t j = 0; j < s.size(); ++j) {
      const std::size_t i = (turn + j) % s.size();
      auto t0 = std::chrono::steady_clock::now();
      s[i]->run();
      spent += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      for (std::size_t k = 0; k < timed; ++k) {
        t0 = std::chrono::steady_clock::now();
        s[i]->run();
        const double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        ms[i].push_back(t);
        spent += t;
      }
      release(s[i]);
    }
  }
  if (rounds) *rounds = ms.empty() ? 0 : ms[0].size();
  std::vector<double> medians;
  for (auto& m : ms) medians.push_back(median_of(std::move(m)));
  return medians;
}

/// Median latency (ms) of `runs` runs after `warmup`.
inline double time_runs(session& s, std::size_t warmup, std::size_t runs) {
  for (std::size_t k = 0; k < warmup; ++k) s.run();
  std::vector<double> ms;
  for (std::size_t k = 0; k < std::max<std::size_t>(1, runs); ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    s.run();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return median_of(std::move(ms));
}

}  // namespace detail

/// Measures t(v, k) of `model` for k in `counts` (default
/// `thread_counts(cores)`): for each count one session of 1 worker x k
/// threads (the rest of `base` as given), `o.warmup` runs, `o.runs` timed
/// runs (the latency median), then `o.profile_runs` profiled runs whose
/// per-node medians are t(v, k). A fused node or a view measures 0. With
/// `o.calibrate` (the default) each count's medians are scaled by one factor
/// so that they add up to the latency median: the median of each node's
/// times drops that node's slow runs, and what a run costs outside the
/// nodes (the executor's start and hand-offs) is in none of them, so
/// unscaled they predicted googlenet 9% faster than it ran.
/// `keep`: the sessions of the largest count and of 1 thread are returned
/// (`widest`, `single`), ready to run.
/// \throws graph_error when the model cannot be prepared.
inline thread_times_result measure_thread_times(const std::filesystem::path& model, const session_options& base = {},
                                                const tune_options& o = {}, std::vector<std::size_t> counts = {},
                                                bool keep = false) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t cores = o.cores ? o.cores : std::max(1u, std::thread::hardware_concurrency());
  thread_times_result r;
  r.counts = counts.empty() ? thread_counts(cores) : std::move(counts);
  std::vector<std::vector<double>> measured;  // [vertex][count index]
  for (std::size_t i = 0; i < r.counts.size(); ++i) {
    session_options so = base;
    so.workers = 1;
    so.threads = r.counts[i];
    so.cores = std::max(cores, r.counts[i]);
    so.compile.thread_times.clear();
    so.compile.profile.clear();
    auto s = std::make_unique<session>(model, so);
    detail::feed(*s, o, r.inputs);
    r.median_ms.push_back(detail::time_runs(*s, o.warmup, o.runs));
    const std::size_t n = s->statistics().nodes;
    if (i == 0) measured.assign(n, {});
    if (measured.size() != n) throw graph_error("dfgpar: the model's graph differs between thread counts");
    std::vector<std::vector<double>> runs(n);
    s->set_profiling(true);
    for (std::size_t k = 0; k < std::max<std::size_t>(1, o.profile_runs); ++k) {
      s->run();
      const auto t = s->node_times();
      for (std::size_t v = 0; v < n; ++v) runs[v].push_back(t[v]);
    }
    s->set_profiling(false);
    for (std::size_t v = 0; v < n; ++v) measured[v].push_back(detail::median_of(std::move(runs[v])));
    // The node medians add up to less than the median run (each node's
    // median drops its own slow runs, and the run's own costs are in no
    // node): scale them to the latency measured at this count, so that a
    // schedule's predicted makespan starts from what a run takes.
    double sum_us = 0;
    for (std::size_t v = 0; v < n; ++v) sum_us += measured[v].back();
    double scale = sum_us > 0 ? r.median_ms.back() * 1000 / sum_us : 1.0;
    if (!o.calibrate || !(scale > 0.5 && scale < 2.0)) scale = 1.0;  // far off: a broken measurement, kept as it is
    for (std::size_t v = 0; v < n; ++v) measured[v].back() *= scale;
    r.scale.push_back(scale);
    if (keep && i + 1 == r.counts.size())
      r.widest = std::move(s);
    else if (keep && r.counts[i] == 1)
      r.single = std::move(s);
  }
  r.times.reserve(measured.size());
  for (const auto& row : measured) r.times.push_back(onnx::fill_thread_counts(r.counts, row));
  r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

/// The fastest session, and every configuration measured (in the order tried).
struct tune_result {
  std::unique_ptr<session> best;
  std::vector<tune_candidate> tried;
  std::size_t chosen = 0;  ///< index into `tried`
  std::size_t rounds = 0;  ///< timed runs of each candidate (round-robin)
  double moldable_margin = 0;  ///< tune_options::moldable_margin, as used
  /// t(v, k) as measured (empty with `tune_options::moldable` false or on one core).
  thread_times_result times;
  /// What the moldable scheduler chose on those times (allotments, regions,
  /// predicted makespan), for the report; none without times.
  std::optional<moldable_result> plan;
  double ms = 0;  ///< wall time of all of it, preparing and timing included
};

/// The configurations `tune` tries on `cores` cores besides the moldable
/// schedule: 1 x 1, 1 x P, P x 1 and, from four cores, 2 x P/2 (duplicates
/// removed; on one core only 1 x 1).
inline std::vector<tune_candidate> tune_candidates(std::size_t cores) {
  std::vector<tune_candidate> c{{1, 1}, {1, cores}, {cores, 1}};
  if (cores >= 4) c.push_back({2, cores / 2});
  std::vector<tune_candidate> unique;
  for (const auto& x : c)
    if (std::none_of(unique.begin(), unique.end(),
                     [&](const tune_candidate& u) { return u.workers == x.workers && u.threads == x.threads; }))
      unique.push_back(x);
  return unique;
}

/// Measures `model` as the file comment says (the rest of `base` as given:
/// kernels, compile options, spin), on `o.inputs` (or the input buffers as
/// prepared, zeros), and returns the fastest session, ready to run.
/// \throws graph_error when the model cannot be prepared.
inline tune_result tune(const std::filesystem::path& model, const session_options& base = {},
                        const tune_options& o = {}) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t cores = o.cores ? o.cores : std::max(1u, std::thread::hardware_concurrency());
  tune_result r;
  std::vector<std::unique_ptr<session>> sessions;  // parallel to r.tried; all kept until the timing is done
  auto predicted_ms = [&](const session& s) {
    if (r.times.times.empty()) return 0.0;
    const auto& g = s.compiled().scheduled().g;
    if (num_vertices(g) != r.times.times.size()) return 0.0;
    const double scale = static_cast<double>(s.options().threads);  // a P x T session: every node at T threads
    std::vector<std::vector<double>> at_t(r.times.times.size());
    for (std::size_t v = 0; v < at_t.size(); ++v) {
      const auto& row = r.times.times[v];
      at_t[v] = {row[std::min(row.size(), static_cast<std::size_t>(scale)) - 1]};
    }
    return makespan(g, s.schedule(), make_measured_cost(g, at_t)) / 1000;
  };
  std::vector<onnx::tensor> inputs;  // o.inputs, made once (by measure_thread_times, with the moldable schedule)
  auto prepare = [&](const session_options& so) {
    auto s = std::make_unique<session>(model, so);
    detail::feed(*s, o, inputs);
    return s;
  };
  auto add = [&](tune_candidate c, std::unique_ptr<session> s) {
    if (c.predicted_ms == 0) c.predicted_ms = predicted_ms(*s);
    r.tried.push_back(c);
    sessions.push_back(std::move(s));
  };
  if (o.moldable_only && cores < 2) throw graph_error("dfgpar: the moldable schedule needs at least 2 cores");
  const bool moldable = (o.moldable || o.moldable_only) && cores > 1;
  if (moldable) {
    // 1 x k for every count; the narrowest and the widest are candidates
    r.times = measure_thread_times(model, base, o, {}, !o.moldable_only);
    inputs = r.times.inputs;  // the two sessions kept hold them already
    if (!o.moldable_only) {
      add({1, 1}, std::move(r.times.single));
      add({1, cores}, std::move(r.times.widest));
    }
  }
  for (auto c : tune_candidates(cores)) {
    if (o.moldable_only || (moldable && c.workers == 1)) continue;  // measured above (or not wanted)
    session_options so = base;
    so.workers = c.workers;
    so.threads = c.threads;
    so.cores = cores;
    so.compile.thread_times.clear();
    add(c, prepare(so));
  }
  if (moldable) {
    session_options so = base;
    so.workers = cores;
    so.threads = 1;
    so.cores = cores;
    so.compile.thread_times = r.times.times;
    auto s = prepare(so);
    r.plan = s->compiled().moldable;
    // A plan that is pure intra-op or pure inter-op is the 1 x P or P x 1
    // candidate already timed: run as a moldable session it only adds the
    // reserved workers' hand-offs (mobilenet_v2, every node on 2 cores:
    // 9.5-9.7 ms against 7.4-8.9 ms for 1 x 2), so it is not a candidate.
    if (o.moldable_only || !r.plan || (r.plan->method != "intra-op" && r.plan->method != "inter-op")) {
      tune_candidate c{cores, 1, 0, true};
      c.predicted_ms = r.plan ? r.plan->makespan / 1000 : 0.0;
      add(c, std::move(s));
    }
  }
  std::vector<session*> timed;
  for (auto& s : sessions) timed.push_back(s.get());
  const auto medians = detail::time_round_robin(timed, o.warmup, o.runs, o.min_runs, o.budget_ms, &r.rounds);
  std::optional<std::size_t> pure;  // the fastest candidate that is not the moldable session
  for (std::size_t i = 0; i < r.tried.size(); ++i) {
    r.tried[i].median_ms = medians[i];
    if (medians[i] < medians[r.chosen]) r.chosen = i;
    if (!r.tried[i].moldable && (!pure || medians[i] < medians[*pure])) pure = i;
  }
  r.moldable_margin = o.moldable_margin;
  if (r.tried[r.chosen].moldable && pure && medians[r.chosen] > (1 - o.moldable_margin) * medians[*pure]) r.chosen = *pure;
  r.best = std::move(sessions[r.chosen]);
  r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace dfgpar::onednn
