#pragma once
/// \file omp_shares.hpp
/// Plain-C++ kernels of the runtime (pool_loops.hpp, Concat's copies) share
/// their work among the calling worker's OpenMP threads: the node's
/// allotment when a session runs it (`omp_get_max_threads()`).

#include <algorithm>
#include <cstddef>

#include <omp.h>

namespace dfgpar::onednn::detail {

/// Calls fn(lo, hi) over [0, total) in contiguous shares, one per OpenMP
/// thread of the caller, at most `most` threads. With one thread, or under
/// ThreadSanitizer (libgomp is not instrumented, so TSan would not see its
/// barrier), it is one call on the calling thread.
template <class F>
void for_each_share(std::size_t total, std::size_t most, F&& fn) {
#if defined(__SANITIZE_THREAD__)
  const std::size_t threads = 1;
  (void)most;
#else
  const std::size_t threads = std::min({static_cast<std::size_t>(std::max(omp_get_max_threads(), 1)), most, total});
#endif
  if (threads <= 1) return fn(std::size_t{0}, total);
#pragma omp parallel num_threads(static_cast<int>(threads))
  {
    const auto t = static_cast<std::size_t>(omp_get_thread_num()), n = static_cast<std::size_t>(omp_get_num_threads());
    fn(total * t / n, total * (t + 1) / n);
  }
}

}  // namespace dfgpar::onednn::detail
