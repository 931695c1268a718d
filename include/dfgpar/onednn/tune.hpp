#pragma once
/// \file tune.hpp
/// Chooses how a model runs on the cores it has, by measuring.
///
/// `tune` (what `dfgpar run --workers auto`, the default, does):
///  1. measures t(v, k), every node's time on k threads for the counts of
///     `thread_counts(cores)` (1..4, then powers of two, and the cores), one
///     session of 1 worker x k threads per count (`measure_thread_times`);
///     the session at k = cores is also the pure intra-op candidate (1 x P);
///  2. schedules the model with the moldable scheduler on those times
///     (cluster/moldable_schedule.hpp: per region between width-one nodes,
///     branches side by side, one node on every core, or a mix) and prepares
///     that session (P workers x 1 thread, each node created and run on its
///     allotment);
///  3. prepares today's inter-op schedule (P workers x 1 thread) and, from
///     four cores, 2 x P/2;
/// times each candidate on the same inputs and keeps the fastest, so that the
/// result is never slower (as measured) than any single form. Each
/// candidate's predicted makespan under the measured t(v, k) is kept beside
/// its measured median.
/// \code
///   auto t = dfgpar::onednn::tune("googlenet.onnx", {}, {.cores = 2});
///   t.best->run(inputs);                  // the fastest of 1 x 2, 2 x 1 and the moldable schedule
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
  std::size_t runs = 10;   ///< timed runs per candidate (the median counts)
  /// Measure t(v, k) and try the moldable schedule (false: only P x 1,
  /// 1 x P and 2 x P/2, as before there were times per thread count).
  bool moldable = true;
  std::size_t profile_runs = 5;  ///< profiled runs per thread count for t(v, k) (node medians)
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
  std::unique_ptr<session> widest;         ///< the session at the largest count, when asked to keep it
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

inline double median_of(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
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
/// per-node medians are t(v, k). A fused node or a view measures 0.
/// `keep_widest`: the session of the largest count is returned, ready to run.
/// \throws graph_error when the model cannot be prepared.
inline thread_times_result measure_thread_times(const std::filesystem::path& model, const session_options& base = {},
                                                const tune_options& o = {}, std::vector<std::size_t> counts = {},
                                                bool keep_widest = false) {
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
    if (keep_widest && i + 1 == r.counts.size()) r.widest = std::move(s);
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
  /// t(v, k) as measured (empty with `tune_options::moldable` false or on one core).
  thread_times_result times;
  /// What the moldable scheduler chose on those times (allotments, regions,
  /// predicted makespan), for the report; none without times.
  std::optional<moldable_result> plan;
  double ms = 0;  ///< wall time of all of it, preparing and timing included
};

/// The configurations `tune` tries on `cores` cores besides the moldable
/// schedule: P x 1, 1 x P and, from four cores, 2 x P/2 (duplicates
/// removed; on one core only 1 x 1).
inline std::vector<tune_candidate> tune_candidates(std::size_t cores) {
  std::vector<tune_candidate> c{{1, cores}, {cores, 1}};
  if (cores >= 4) c.push_back({2, cores / 2});
  std::vector<tune_candidate> unique;
  for (const auto& x : c)
    if (std::none_of(unique.begin(), unique.end(),
                     [&](const tune_candidate& u) { return u.workers == x.workers && u.threads == x.threads; }))
      unique.push_back(x);
  return unique;
}

/// Measures `model` as the file comment says (the rest of `base` as given:
/// kernels, compile options, spin), on the inputs as they are after
/// preparing (zeros; data-independent for the convolutional models this is
/// for), and returns the fastest session, ready to run.
/// \throws graph_error when the model cannot be prepared.
inline tune_result tune(const std::filesystem::path& model, const session_options& base = {},
                        const tune_options& o = {}) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t cores = o.cores ? o.cores : std::max(1u, std::thread::hardware_concurrency());
  tune_result r;
  double best_ms = 0;
  auto consider = [&](tune_candidate c, std::unique_ptr<session> s) {
    r.tried.push_back(c);
    if (!r.best || c.median_ms < best_ms) {
      r.best = std::move(s);  // the previous best is freed here, before the next candidate is prepared
      best_ms = c.median_ms;
      r.chosen = r.tried.size() - 1;
    }
  };
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
  const bool moldable = o.moldable && cores > 1;
  if (moldable) {
    // 1 x k for every count; the widest is the pure intra-op candidate
    r.times = measure_thread_times(model, base, o, {}, true);
    auto widest = std::move(r.times.widest);
    tune_candidate c{1, cores, r.times.median_ms.back()};
    c.predicted_ms = predicted_ms(*widest);
    consider(c, std::move(widest));
  }
  for (auto c : tune_candidates(cores)) {
    if (moldable && c.workers == 1 && c.threads == cores) continue;  // measured above
    session_options so = base;
    so.workers = c.workers;
    so.threads = c.threads;
    so.cores = cores;
    so.compile.thread_times.clear();
    auto s = std::make_unique<session>(model, so);
    c.median_ms = detail::time_runs(*s, o.warmup, o.runs);
    c.predicted_ms = predicted_ms(*s);
    consider(c, std::move(s));
  }
  if (moldable) {
    session_options so = base;
    so.workers = cores;
    so.threads = 1;
    so.cores = cores;
    so.compile.thread_times = r.times.times;
    auto s = std::make_unique<session>(model, so);
    r.plan = s->compiled().moldable;
    tune_candidate c{cores, 1, detail::time_runs(*s, o.warmup, o.runs), true};
    c.predicted_ms = r.plan ? r.plan->makespan / 1000 : 0.0;
    consider(c, std::move(s));
  }
  r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace dfgpar::onednn
