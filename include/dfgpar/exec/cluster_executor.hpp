#pragma once
/// \file cluster_executor.hpp
/// Runs a schedule in-process: worker 0 on the thread that calls `run()`,
/// the other workers on persistent `std::jthread`s.
///
/// \code
///   dfgpar::cluster_executor ex(g, s, [&](auto v) { /* run vertex v */ });
///   ex.run();   // blocks; rethrows the first exception a task threw
/// \endcode
///
/// Why it is built the way it is (batch-1 inference runs the same small graph
/// thousands of times, with tasks of a few microseconds):
///
/// * The calling thread is worker 0: `run()` publishes the start and runs
///   worker 0's steps itself. A run then wakes P - 1 threads instead of P,
///   and the caller no longer sleeps while a worker waits for a core (on 2
///   loaded cores a run with nothing for workers 1..P-1 went from 5-14 us
///   to 6-10 ns; a serial schedule no longer needs a second thread at all).
/// * One thread per other worker that has steps, created in the constructor
///   and reused by every run: creating threads costs tens of microseconds,
///   more than many tasks. A worker with no steps gets no thread and is
///   never woken.
/// * Everything a run touches lives in flat arrays built once in the
///   constructor from `detail::make_plan` (which is also what validation and
///   the makespan simulation use, so the executor runs exactly what was
///   checked). A run allocates nothing and takes no lock.
/// * One progress counter per worker instead of one flag per step: a worker
///   runs its steps in order, so "step p of worker x is done" is "x's counter
///   has reached p+1". The counter never decreases across runs (run r counts
///   from r*stride), so nothing is reset between runs, and each counter has
///   its own cache line, written only by its worker (no false sharing).
/// * Only cross-worker dependencies wait; same-worker order is guaranteed by
///   the plan. Waits are thinned at construction: a step does not wait for
///   worker x up to position p when an earlier step of its worker already
///   waited for x up to p or later. A worker publishes its counter only after
///   steps someone waits on.
/// * A waiter spins `executor_options::spin` rounds with a pause instruction
///   (tasks at batch 1 are short, a futex sleep/wake costs microseconds),
///   yielding every 32 rounds (with more runnable threads than cores the
///   producer may be waiting for this very core: measured on 2 loaded cores,
///   a zigzag hand-off took 23 us without the yield, 5.6 us with it), then
///   sleeps in C++20 `atomic::wait`. A producer calls `notify_all` only
///   when a waiter has registered (a Dekker-style pair of seq_cst operations
///   on the counter and a waiter count makes that race-free), so the common
///   path is one store and one load.
/// * A task exception is stored (first one wins), the run's `std::stop_source`
///   is stopped, and the worker publishes an "aborted" counter value that is
///   above every target of the run; every worker that sees it or the stop
///   token does the same. Waits follow the acyclic schedule, so this reaches
///   every waiter and nobody deadlocks. `run()` rethrows; the next run starts
///   with a fresh stop source (the only allocation, and only after a failure).
/// * A vertex copy with k > 1 cores (a moldable schedule) runs on its worker
///   while k - 1 reserved workers idle. A reservation is one more entry in
///   the reserved worker's run order, handled with the same progress counters:
///   the multi-core step waits until each reserved worker has run what comes
///   before its reservation, and the reserved worker waits until the step has
///   finished. That wait sleeps in `atomic::wait` at once, without spinning:
///   the core it would spin on belongs to the kernel's threads. The task
///   learns its core count from `task_info::threads`.
/// * `release_threads()` joins the worker threads between runs and the next
///   `run()` starts them again. Whatever a thread owns ends with it: with
///   OpenMP kernels, the worker's own OpenMP team. libgomp shortens its spin
///   to about 100 rounds once the threads of all teams in the process
///   outnumber the cores, so a process holding several sessions (a tuner
///   timing candidates round-robin) releases the idle ones.

#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/cluster/validate.hpp>
#include <dfgpar/concepts.hpp>
#include <dfgpar/detail/flat_dag.hpp>
#include <dfgpar/detail/plan.hpp>
#include <dfgpar/error.hpp>

#include <algorithm>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#include <immintrin.h>
#endif

namespace dfgpar {

/// Options of `cluster_executor`, meant for designated initialisers:
/// `dfgpar::executor_options{.spin = 1000}`.
struct executor_options {
  /// Pause-instruction rounds a thread spins on a flag before it sleeps in
  /// `atomic::wait` (a worker waiting for a cross-worker input or for the
  /// next run; `run()` waiting for the end, when there is a core to spare).
  /// A pause takes 10-150 cycles depending on the CPU; 0 sleeps at once (best
  /// when workers outnumber cores).
  std::uint32_t spin = 256;
};

/// One copy of an input that a scheduled vertex copy reads.
struct input_copy {
  std::size_t vertex;   ///< index of the producing vertex
  std::size_t cluster;  ///< cluster of the copy that is read (differs from home[vertex] only for clones)
};

/// Passed to tasks invocable as `task(v, info)`: where this copy of v runs.
/// With cloned vertices every copy runs; keep per-copy results keyed by
/// `cluster` and read inputs from `inputs[i].cluster`.
struct task_info {
  std::size_t vertex = 0;   ///< index of the vertex
  std::size_t worker = 0;   ///< worker running this copy
  std::size_t cluster = 0;  ///< cluster of this copy
  std::span<const input_copy> inputs;  ///< the copies read, one per in-edge (ordered by source index)
  const std::stop_source* stop = nullptr;
  std::size_t threads = 1;  ///< cores this copy may use (its allotment): set the kernel's thread count to this

  /// True once another task of this run has thrown: long tasks may return early.
  bool stop_requested() const noexcept { return stop != nullptr && stop->stop_requested(); }
};

namespace detail {

inline void cpu_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Padded to two lines: adjacent-line prefetch would otherwise still pair neighbours.
inline constexpr std::size_t cache_line = 128;

template <class Task, class Vertex>
concept task_with_info = std::invocable<Task&, Vertex, const task_info&>;
template <class Task, class Vertex>
concept plain_task = std::invocable<Task&, Vertex>;

}  // namespace detail

/// Runs a schedule of `g`: worker 0 on the thread that calls `run()`, every
/// other worker that has steps on its own persistent `std::jthread`.
///
/// `task(v)` or `task(v, const task_info&)` is called once per scheduled
/// copy of every vertex `v` (a vertex descriptor of `Graph`), concurrently
/// from several threads, after all its inputs' tasks returned. Results a task
/// writes are visible to its consumers and, after `run()` returns, to the
/// caller. The graph and schedule are read only in the constructor.
///
/// Worker 0's tasks (`task_info::worker == 0`) run on the calling thread:
/// they see its thread-locals (and its thread id, affinity and priority),
/// and with P = 1 no thread is started at all.
///
/// `run()` is not reentrant: call it from one thread at a time, and never
/// from inside a task (worker 0 would wait for itself).
template <class Graph, class Task>
class cluster_executor {
  static_assert(detail::graph_type<Graph>, "dfgpar::cluster_executor: the first argument must be a Boost.Graph graph");
  using vertex_type = detail::vertex_t<Graph>;
  static_assert(detail::plain_task<Task, vertex_type> || detail::task_with_info<Task, vertex_type>,
                "dfgpar::cluster_executor: the task must be invocable as task(v) or task(v, const dfgpar::task_info&) "
                "with v a vertex_descriptor of the graph");
  static constexpr bool with_info = detail::task_with_info<Task, vertex_type>;

 public:
  /// Builds the run plan and starts the workers. Throws graph_error when `s`
  /// is not a valid schedule of `g`.
  template <class T>
  cluster_executor(const Graph& g, const schedule& s, T&& task, const executor_options& o = {})
      : task_(std::forward<T>(task)), spin_(o.spin) {
    detail::check_graph<Graph>();
    build(g, s);
    start_threads();
  }

  cluster_executor(const cluster_executor&) = delete;
  cluster_executor& operator=(const cluster_executor&) = delete;

  /// Stops and joins the worker threads (they are idle: `run()` has returned).
  ~cluster_executor() { shut_down(); }

  /// Runs every scheduled vertex copy once; blocks until all have run, or
  /// until the run is stopped by an exception, which is then rethrown. The
  /// executor stays usable after a throw. After `release_threads()` it first
  /// starts the worker threads again (throws what `std::jthread` throws).
  void run() {
    if (released_) {
      start_threads();
      released_ = false;
    }
    ++run_;
    // After a failed run the old stop source stays stopped: take a new one.
    if (run_stop_.stop_requested()) run_stop_ = std::stop_source{};
    remaining_.store(static_cast<std::uint32_t>(threads_.size()), std::memory_order_relaxed);
    if (!threads_.empty()) {
      // Every change of start_ is a new value (mod 2^32) that idle workers
      // wait for; the release publishes run_, run_stop_ and remaining_ to them.
      start_.fetch_add(1, std::memory_order_seq_cst);
      if (start_sleepers_.load(std::memory_order_seq_cst) != 0) start_.notify_all();
    }
    // This thread is worker 0 (a task exception is caught and recorded in
    // run_steps, which then releases every worker waiting on worker 0).
    if (!workers_.empty()) run_steps(workers_[0], 0);
    // Wait for the last thread. The caller spins like a worker: it is worker
    // 0, so it has a core of its own.
    if (!threads_.empty())
      wait_until([&] { return remaining_.load(std::memory_order_acquire) == 0; }, remaining_, done_sleepers_, spin_);
    if (failed_.load(std::memory_order_acquire)) {
      std::exception_ptr e = std::exchange(error_, nullptr);
      failed_.store(false, std::memory_order_relaxed);
      std::rethrow_exception(e);
    }
  }

  /// Joins the worker threads (idle: `run()` has returned); the next `run()`
  /// starts them again. What a thread owns is freed with it: with OpenMP
  /// kernels its OpenMP team, whose idle threads count against libgomp's
  /// spin budget while they exist (see the file comment).
  void release_threads() noexcept {
    shut_down();
    released_ = true;
  }

  /// Worker threads alive now (0 after `release_threads()`, until the next run).
  std::size_t threads_alive() const noexcept { return threads_.size(); }

  /// Number of workers (the calling thread and at most workers() - 1 threads).
  std::size_t workers() const noexcept { return workers_.size(); }
  /// Number of vertex copies each run executes.
  std::size_t steps() const noexcept { return steps_.size() - holds_; }
  /// Number of reservations (a worker idling for a multi-core copy) per run.
  std::size_t reservations() const noexcept { return holds_; }
  /// Number of cross-worker waits per run after thinning (≤ cross-worker edges).
  std::size_t waits() const noexcept { return waits_.size(); }

 private:
  // One step (vertex copy) in its worker's run order.
  struct step {
    std::uint32_t vertex;
    std::uint32_t cluster;
    std::uint32_t wait_begin, wait_end;    // range in waits_
    std::uint32_t input_begin, input_end;  // range in inputs_
    bool publish;                          // a remote step waits for this one
    bool hold;                             // a reservation: wait for a multi-core step of another worker, run nothing
    std::uint32_t threads;                 // cores of the copy (of the step held for, for a reservation)
  };
  // Wait until worker `worker` has completed `count` steps of this run.
  struct wait_rec {
    std::uint32_t worker;
    std::uint32_t count;
  };
  // Written by its worker only (progress) or, on the slow path, by waiters.
  struct alignas(detail::cache_line) worker_state {
    std::atomic<std::uint64_t> progress{0};
    std::atomic<std::uint32_t> sleepers{0};
    std::uint32_t begin = 0, end = 0;  // range in steps_ (read-only after construction)
  };

  void build(const Graph& g, const schedule& s) {
    const detail::flat_dag d = detail::make_flat_dag(g, detail::unit_cost{}, no_edge_cost{});
    if (std::string why = detail::why_invalid(d, s); !why.empty())
      throw graph_error("cluster_executor: invalid schedule: " + why);
    const detail::plan p = detail::make_plan(d, s);
    descriptors_ = detail::vertices_by_index(g);

    const std::size_t P = p.worker_steps.size();
    workers_ = std::vector<worker_state>(P);
    // Each worker's run order: its steps and, with allotments, its reservations.
    std::vector<std::vector<detail::plan_item>> items(P);
    for (std::size_t w = 0; w < P; ++w)
      if (!p.worker_items.empty())
        items[w] = p.worker_items[w];
      else
        for (std::uint32_t id : p.worker_steps[w]) items[w].push_back({id, false});
    std::vector<std::uint32_t> worker_of(p.steps.size()), pos_of(p.steps.size());
    std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> held_at(p.worker_items.empty() ? 0 : p.steps.size());
    std::size_t longest = 0;
    for (std::size_t w = 0; w < P; ++w) {
      longest = std::max(longest, items[w].size());
      for (std::size_t i = 0; i < items[w].size(); ++i) {
        const auto [id, hold] = items[w][i];
        if (hold) {
          held_at[id].emplace_back(static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(i));
        } else {
          worker_of[id] = static_cast<std::uint32_t>(w);
          pos_of[id] = static_cast<std::uint32_t>(i);
        }
      }
    }
    // Counters: completed steps count 1..longest, "aborted" is stride-1.
    stride_ = static_cast<std::uint64_t>(longest) + 2;

    steps_.reserve(p.steps.size());
    inputs_.reserve(p.deps.size());
    std::vector<std::uint32_t> waited(P);  // per producer worker: count already waited for
    std::vector<std::uint32_t> need(P);
    std::vector<std::pair<std::uint32_t, std::uint32_t>> published;  // (worker, position)
    for (std::size_t w = 0; w < P; ++w) {
      std::fill(waited.begin(), waited.end(), 0);
      workers_[w].begin = static_cast<std::uint32_t>(steps_.size());
      for (const auto [id, hold] : items[w]) {
        const auto& st = p.steps[id];
        step out{st.vertex, st.cluster, static_cast<std::uint32_t>(waits_.size()), 0,
                 static_cast<std::uint32_t>(inputs_.size()), 0, false, hold, st.threads};
        std::fill(need.begin(), need.end(), 0);
        if (hold) {
          // idle until the multi-core step has finished on its worker
          need[worker_of[id]] = pos_of[id] + 1;
        } else {
          for (std::uint32_t k = st.dep_begin; k < st.dep_end; ++k) {
            const auto& dep = p.deps[k];
            const auto& src = p.steps[dep.step];
            inputs_.push_back({src.vertex, src.cluster});
            if (dep.remote) need[worker_of[dep.step]] = std::max(need[worker_of[dep.step]], pos_of[dep.step] + 1);
          }
          // start once every reserved worker has run what precedes its reservation
          if (!held_at.empty())
            for (const auto& [x, at] : held_at[id]) need[x] = std::max(need[x], at);
        }
        for (std::uint32_t x = 0; x < P; ++x)
          if (need[x] > waited[x]) {
            waits_.push_back({x, need[x]});
            published.emplace_back(x, need[x] - 1);
            waited[x] = need[x];
          }
        holds_ += hold ? 1 : 0;
        out.wait_end = static_cast<std::uint32_t>(waits_.size());
        out.input_end = static_cast<std::uint32_t>(inputs_.size());
        steps_.push_back(out);
      }
      workers_[w].end = static_cast<std::uint32_t>(steps_.size());
    }
    for (auto [x, pos] : published) steps_[workers_[x].begin + pos].publish = true;
  }

  void start_threads() {
    threads_.reserve(workers_.size());
    // a new thread waits for the next change of start_, not for one it missed
    const std::uint32_t seen = start_.load(std::memory_order_relaxed);
    try {
      // Worker 0 is the caller of run(); a worker without steps needs no thread.
      for (std::size_t w = 1; w < workers_.size(); ++w)
        if (workers_[w].begin != workers_[w].end)
          threads_.emplace_back([this, w, seen](std::stop_token st) { worker_loop(st, w, seen); });
    } catch (...) {
      shut_down();
      throw;
    }
  }

  void shut_down() noexcept {
    if (threads_.empty()) return;
    for (auto& t : threads_) t.request_stop();
    // Wake idle workers; they see their stop token and return.
    start_.fetch_add(1, std::memory_order_seq_cst);
    start_.notify_all();
    threads_.clear();  // joins
  }

  // Spins, then sleeps on `flag` until `ready()`. `sleepers` is the waiter
  // count the writer of `flag` checks before notifying.
  template <class Ready, class Atomic>
  static void wait_until(Ready ready, Atomic& flag, std::atomic<std::uint32_t>& sleepers, std::uint32_t spin) {
    for (std::uint32_t i = 0; i < spin; ++i) {
      if (ready()) return;
      // Mostly pause; now and then yield, in case the thread we wait for
      // shares this core (more runnable threads than cores).
      if ((i & 31) == 31)
        std::this_thread::yield();
      else
        detail::cpu_pause();
    }
    while (!ready()) {
      sleepers.fetch_add(1, std::memory_order_seq_cst);
      const auto seen = flag.load(std::memory_order_seq_cst);
      if (!ready()) flag.wait(seen, std::memory_order_acquire);
      sleepers.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  // Store + notify-if-someone-sleeps; pairs with wait_until.
  template <class Atomic, class Value>
  static void publish_progress(Atomic& flag, Value v, std::atomic<std::uint32_t>& sleepers) noexcept {
    flag.store(v, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) != 0) flag.notify_all();
  }

  void worker_loop(const std::stop_token& st, std::size_t w, std::uint32_t seen) noexcept {
    worker_state& me = workers_[w];
    for (;;) {
      wait_until([&] { return start_.load(std::memory_order_acquire) != seen; }, start_, start_sleepers_, spin_);
      seen = start_.load(std::memory_order_acquire);
      if (st.stop_requested()) return;
      run_steps(me, w);
      if (remaining_.fetch_sub(1, std::memory_order_seq_cst) == 1)
        if (done_sleepers_.load(std::memory_order_seq_cst) != 0) remaining_.notify_all();
    }
  }

  void run_steps(worker_state& me, std::size_t w) noexcept {
    const std::uint64_t base = run_ * stride_;
    const std::uint64_t aborted = base + stride_ - 1;
    const std::stop_source& stop = run_stop_;
    for (std::uint32_t i = me.begin; i < me.end; ++i) {
      const step& s = steps_[i];
      bool ok = !stop.stop_requested();
      // A reserved worker sleeps at once: its core runs the kernel's threads.
      const std::uint32_t spin = s.hold ? 0 : spin_;
      for (std::uint32_t k = s.wait_begin; ok && k < s.wait_end; ++k) {
        worker_state& x = workers_[waits_[k].worker];
        const std::uint64_t target = base + waits_[k].count;
        wait_until([&] { return x.progress.load(std::memory_order_acquire) >= target; }, x.progress, x.sleepers, spin);
        ok = x.progress.load(std::memory_order_acquire) != aborted;
      }
      if (ok && !s.hold) {
        try {
          invoke(s, w);
        } catch (...) {
          if (!failed_.exchange(true, std::memory_order_acq_rel)) error_ = std::current_exception();
          run_stop_.request_stop();
          ok = false;
        }
      }
      if (!ok) {
        // Release everyone who waits (or will wait) on this worker in this run.
        publish_progress(me.progress, aborted, me.sleepers);
        return;
      }
      if (s.publish) publish_progress(me.progress, base + (i - me.begin) + 1, me.sleepers);
    }
  }

  void invoke(const step& s, std::size_t w) {
    if constexpr (with_info) {
      const task_info info{s.vertex, w, s.cluster,
                           std::span<const input_copy>(inputs_.data() + s.input_begin, s.input_end - s.input_begin),
                           &run_stop_, s.threads};
      std::invoke(task_, descriptors_[s.vertex], info);
    } else {
      std::invoke(task_, descriptors_[s.vertex]);
    }
  }

  Task task_;
  std::uint32_t spin_;
  std::vector<vertex_type> descriptors_;  // by vertex index
  std::vector<step> steps_;               // all workers' steps, each worker's contiguous and in order
  std::vector<wait_rec> waits_;
  std::vector<input_copy> inputs_;
  std::vector<worker_state> workers_;
  std::uint64_t stride_ = 2;
  std::size_t holds_ = 0;
  bool released_ = false;  // release_threads() was called: run() starts the threads first

  // Per run; written by run() before the start signal, read by workers (and
  // worker 0 on the calling thread) after it.
  std::uint64_t run_ = 0;
  std::stop_source run_stop_;
  std::exception_ptr error_;  // written by the first failing task only
  alignas(detail::cache_line) std::atomic<bool> failed_{false};
  alignas(detail::cache_line) std::atomic<std::uint32_t> start_{0};
  std::atomic<std::uint32_t> start_sleepers_{0};
  alignas(detail::cache_line) std::atomic<std::uint32_t> remaining_{0};
  std::atomic<std::uint32_t> done_sleepers_{0};
  std::vector<std::jthread> threads_;  // last: joined (by shut_down) before anything above is destroyed
};

template <class Graph, class Task>
cluster_executor(const Graph&, const schedule&, Task&&) -> cluster_executor<Graph, std::decay_t<Task>>;
template <class Graph, class Task>
cluster_executor(const Graph&, const schedule&, Task&&, const executor_options&)
    -> cluster_executor<Graph, std::decay_t<Task>>;

}  // namespace dfgpar
