#pragma once
/// \file openmp_spin.hpp
/// How long idle OpenMP threads should spin before they sleep
/// (GOMP_SPINCOUNT), chosen from the load on the cores. libgomp reads the
/// variable once, when it loads, so a program sets it before its first
/// OpenMP call or starts again with it set (`dfgpar run` does the latter).
/// \code
///   const std::size_t n = std::thread::hardware_concurrency();
///   if (auto busy = dfgpar::onednn::busy_cores(100, n))
///     setenv("GOMP_SPINCOUNT", dfgpar::onednn::quiet_cores(*busy, n) ? dfgpar::onednn::openmp_spin_quiet
///                                                                    : dfgpar::onednn::openmp_spin_busy, 1);
/// \endcode

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <time.h>
#endif

namespace dfgpar::onednn {

/// The two spins. Measured on 2 cores (`dfgpar run --workers 1 --threads 2
/// --iters 30`, medians of two rounds, 2026-11-30), quiet / beside a busy
/// loop on one core:
///   googlenet      300: 36.1 / 46.4 ms   3,000: 28.5 / 58.7   10,000: 25.7 / 83.5   30,000: 24.7 / 123
///   squeezenet1_1  300:  8.3 / 11.4 ms   3,000:  6.3 / 17.0   10,000:  6.3 / 26.9   30,000:  5.9 / 36.5
/// (1 x 1: googlenet 43.4 / 45.2 ms, squeezenet1_1 9.1 / 10.3 ms). A long
/// spin catches the next primitive on idle cores, and starves the other
/// process's thread on a busy one.
inline constexpr const char* openmp_spin_quiet = "10000";
inline constexpr const char* openmp_spin_busy = "300";

/// How many of `n` cores other processes took while this one tried to use
/// all of them for `ms` milliseconds: one spinning thread per core, each
/// timing the CPU it got (CLOCK_THREAD_CPUTIME_ID) against the wall clock.
/// About 0 on idle cores, 0.5-1 beside a busy loop, about 1 of 2 when
/// another process starts at the same moment and probes too (a passive look
/// at /proc/stat could not see that one: both would find the cores idle,
/// both would spin, and two 1 x 2 processes side by side ran 2.7x slower
/// than alone). nullopt where it cannot be measured (not Linux).
inline std::optional<double> busy_cores(int ms, std::size_t n) {
#if defined(__linux__)
  n = std::max<std::size_t>(n, 1);
  std::vector<double> got(n, -1);  // CPU seconds each spinner got
  const auto start = std::chrono::steady_clock::now(), end = start + std::chrono::milliseconds(ms);
  {
    std::vector<std::jthread> spinners;
    for (std::size_t i = 0; i < n; ++i)
      spinners.emplace_back([&got, i, end] {
        auto cpu = [] {
          timespec t{};
          return ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) == 0 ? static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9 : -1.0;
        };
        const double c0 = cpu();
        while (std::chrono::steady_clock::now() < end) {
        }
        const double c1 = cpu();
        if (c0 >= 0 && c1 >= 0) got[i] = c1 - c0;
      });
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double sum = 0;
  for (double g : got) {
    if (g < 0) return std::nullopt;
    sum += g;
  }
  return wall > 0 ? std::max(0.0, static_cast<double>(n) - sum / wall) : 0.0;
#else
  (void)ms;
  (void)n;
  return std::nullopt;
#endif
}

/// Whether `busy` cores of `n` taken by others leave them quiet enough for
/// the long spin: less than a quarter of a core on 2 cores (a busy loop on
/// one reads 0.5-1), less than half a core from 4 cores on. The probe's
/// floor grows with the cores: 0.20-0.31 of 16 on an idle 16-core VM
/// (2026-11-30), where the short spin made googlenet 1 x 16 4.75 ms against
/// 3.29 with a long one.
inline bool quiet_cores(double busy, std::size_t n) { return busy < std::min(0.5, 0.125 * static_cast<double>(n)); }

}  // namespace dfgpar::onednn
