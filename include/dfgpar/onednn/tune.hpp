#pragma once
/// \file tune.hpp
/// Chooses how a model runs on the cores it has, by measuring: the
/// schedule's workers side by side (P workers x 1 thread), one heavy
/// operator at a time on every core (1 worker x P threads), and, from four
/// cores, the halves in between (2 workers x P/2 threads). Each candidate is
/// prepared and timed on the same inputs; the fastest session is kept and
/// returned ready to run.
/// \code
///   auto t = dfgpar::onednn::tune("googlenet.onnx", {}, {.cores = 2});
///   t.best->run(inputs);                  // 1 x 2 or 2 x 1, whichever was faster
///   for (const auto& c : t.tried) ...     // c.workers, c.threads, c.median_ms
/// \endcode
/// Why measure instead of predict: which one wins depends on how well the
/// model's kernels scale with threads, on how much parallelism its graph
/// has, and on the machine. A moldable schedule that mixes both per region
/// is the next step (it needs per-node times at each thread count).

#include <dfgpar/error.hpp>
#include <dfgpar/onednn/session.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

namespace dfgpar::onednn {

/// How `tune` measures; meant for designated initialisers.
struct tune_options {
  std::size_t cores = 0;   ///< cores to use (0: std::thread::hardware_concurrency())
  std::size_t warmup = 3;  ///< runs before timing, per candidate
  std::size_t runs = 10;   ///< timed runs per candidate (the median counts)
};

/// One configuration `tune` measured.
struct tune_candidate {
  std::size_t workers = 1, threads = 1;
  double median_ms = 0;
};

/// The fastest session, and every configuration measured (in the order tried).
struct tune_result {
  std::unique_ptr<session> best;
  std::vector<tune_candidate> tried;
  std::size_t chosen = 0;  ///< index into `tried`
};

/// The configurations `tune` tries on `cores` cores: P x 1, 1 x P and, from
/// four cores, 2 x P/2 (duplicates removed; on one core only 1 x 1).
inline std::vector<tune_candidate> tune_candidates(std::size_t cores) {
  std::vector<tune_candidate> c{{1, cores, 0}, {cores, 1, 0}};
  if (cores >= 4) c.push_back({2, cores / 2, 0});
  std::vector<tune_candidate> unique;
  for (const auto& x : c)
    if (std::none_of(unique.begin(), unique.end(),
                     [&](const tune_candidate& u) { return u.workers == x.workers && u.threads == x.threads; }))
      unique.push_back(x);
  return unique;
}

/// Prepares `model` in each of `tune_candidates(cores)` (the rest of `base`
/// as given: kernels, compile options, spin), times each on the inputs as
/// they are after preparing (zeros; data-independent for the convolutional
/// models this is for) and returns the fastest, ready to run.
/// \throws graph_error when the model cannot be prepared.
inline tune_result tune(const std::filesystem::path& model, const session_options& base = {},
                        const tune_options& o = {}) {
  const std::size_t cores = o.cores ? o.cores : std::max(1u, std::thread::hardware_concurrency());
  tune_result r;
  r.tried = tune_candidates(cores);
  double best_ms = 0;
  for (std::size_t i = 0; i < r.tried.size(); ++i) {
    auto& c = r.tried[i];
    session_options so = base;
    so.workers = c.workers;
    so.threads = c.threads;
    so.cores = cores;
    auto s = std::make_unique<session>(model, so);
    for (std::size_t k = 0; k < o.warmup; ++k) s->run();
    std::vector<double> ms;
    for (std::size_t k = 0; k < std::max<std::size_t>(1, o.runs); ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      s->run();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::nth_element(ms.begin(), ms.begin() + static_cast<std::ptrdiff_t>(ms.size() / 2), ms.end());
    c.median_ms = ms[ms.size() / 2];
    if (!r.best || c.median_ms < best_ms) {
      r.best = std::move(s);  // the previous best is freed here, before the next candidate is prepared
      best_ms = c.median_ms;
      r.chosen = i;
    }
  }
  return r;
}

}  // namespace dfgpar::onednn
