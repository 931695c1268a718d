#pragma once
/// \file session.hpp
/// The native runtime: an ONNX model compiled by dfgpar's pipeline
/// (onnx/pipeline.hpp), its nodes prepared once as oneDNN primitives and
/// plain C++ (kernels.hpp), its tensors planned once by lifetime, and each
/// run one pass of `cluster_executor` over the prepared kernels.
/// \code
///   dfgpar::onednn::session s("googlenet.onnx", {.workers = 2, .threads = 1});
///   std::vector<dfgpar::onnx::tensor> out = s.run({input});   // checks names, types, shapes
///   // or, without copies: write s.input(0), call s.run(), read s.output(0)
/// \endcode
///
/// Threads. Worker 0 is the thread that calls `run()`; the other workers are
/// the executor's persistent threads. Every worker sets its own OpenMP thread
/// count (`omp_set_num_threads(threads)`, Debian's oneDNN uses OpenMP) before
/// its kernels run, so that oneDNN's intra-op threads stay per worker, and
/// the constructor refuses `workers * threads` above the cores. Primitives are
/// created with that thread count (oneDNN picks its blocking by it). The
/// calling thread's OpenMP thread count is left at that of the last node it ran.
/// With `threads` > 1, bound libgomp's spin in the environment
/// (GOMP_SPINCOUNT=300; libgomp reads it when it loads; `dfgpar run` sets
/// it): its default spinning made a 2-thread squeezenet1_1 run 25x slower
/// while other processes used the cores (740 ms against 31 ms passive), and
/// OMP_WAIT_POLICY=PASSIVE pays a wake-up per primitive (googlenet 1 x 2:
/// 32.6 ms passive, 22.5 ms at 300, 38.8 ms at 300 beside a busy loop).
/// The executor's own spin (`session_options::spin`) yields every 32 rounds
/// and then sleeps, so 2 workers x 1 thread need no setting.
///
/// Memory. Every tensor has its buffer in one arena planned at construction:
/// a tensor may reuse the buffer of one whose readers all happen before its
/// producer (and every producer of a Concat input written in place into it)
/// in every run (same worker earlier, or a path in the graph), so reuse is
/// safe under the parallel schedule too. A run allocates nothing in
/// dfgpar's code (oneDNN's primitive execution allocates a little
/// internally, and a node that runs on the folding evaluator allocates its
/// result: `statistics()` counts those nodes).
///
/// Errors. Inputs of the wrong count, name (`run_by_name`), type or shape
/// are refused with a one-line graph_error before anything runs. An error
/// in a kernel (a plain-C++ node given data it rejects, a oneDNN failure)
/// stops the run and comes out of `run` as that exception; the session stays
/// usable and the next run starts afresh (tests/onednn/test_reliability.cpp).
///
/// Allotments. Given times per thread count (`compile.thread_times`, or a
/// profile with `us_by_threads` in `compile.profile`), the pipeline
/// schedules with the moldable scheduler: a node may get k of the workers'
/// cores. Its primitives are then created under k x `threads` OpenMP
/// threads, it runs on its worker with that many, and the executor keeps
/// its k - 1 reserved workers asleep meanwhile, so that the runnable threads
/// never exceed workers x threads. Use `threads` = 1 and `workers` = the
/// cores for that (tune.hpp measures the times and builds such a session).
///
/// Profiling. `set_profiling(true)` makes every run record the wall time of
/// each node's kernel on its worker (`node_times()`, µs per vertex; fused
/// nodes and views 0, `fused_into` names the node that does their work);
/// `dfgpar run --profile` writes their medians in analyze's profile format.
/// Off, a kernel pays one pointer test.
///
/// Thread safety: one run at a time per session (`run` is not reentrant and
/// two threads must not call it at once, nor `set_profiling` during a run);
/// distinct sessions are independent.

#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/error.hpp>
#include <dfgpar/exec/cluster_executor.hpp>
#include <dfgpar/onednn/kernels.hpp>
#include <dfgpar/onednn/program.hpp>
#include <dfgpar/onnx/pipeline.hpp>
#include <dfgpar/onnx/tensor.hpp>

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace dfgpar::onednn {

/// How a session compiles, prepares and runs a model; meant for designated
/// initialisers: `session_options{.workers = 2, .threads = 1}`.
struct session_options {
  std::size_t workers = 1;  ///< P: the schedule's workers (threads running clusters)
  std::size_t threads = 1;  ///< intra-op (OpenMP) threads of each worker
  /// The executor's spin before a waiting worker sleeps (executor_options::spin).
  /// Spinning pays while workers <= free cores; 0 sleeps at once.
  std::uint32_t spin = 256;
  /// Cores available (0: std::thread::hardware_concurrency()); workers x
  /// threads above it is refused, since oversubscribed spinning threads are
  /// measured 10x slower.
  std::size_t cores = 0;
  kernel_options kernels{};  ///< layouts and fusion
  /// The pipeline's options; `schedule.workers` is set from `workers`, and
  /// cloning is off (each node runs once, so every tensor has one producer).
  onnx::compile_options compile{};
};

/// One graph input or output of a session.
struct io_info {
  std::string name;
  std::int32_t elem_type = 0;       ///< ::onnx::TensorProto data type
  std::vector<std::int64_t> dims;
  std::size_t bytes = 0;
};

/// What a session prepared.
struct session_statistics {
  std::size_t nodes = 0;            ///< vertices of the scheduled graph
  std::size_t primitives = 0;       ///< oneDNN primitives run per inference (reorders included)
  std::size_t reorders = 0;         ///< layout conversions run per inference
  std::size_t fused = 0;            ///< nodes absorbed into another node's primitive
  std::size_t views = 0;            ///< nodes that run nothing (views of a plain tensor)
  std::size_t winograd = 0;         ///< convolutions run by the Winograd algorithm (kernel_options::winograd)
  std::size_t evaluator = 0;        ///< nodes that run on the folding evaluator (they allocate per run)
  std::size_t tensors = 0;          ///< tensors that have a buffer
  std::size_t buffers = 0;          ///< buffers after reuse
  std::size_t arena_bytes = 0;      ///< bytes of all buffers (activations, temps, scratchpads)
  std::size_t unplanned_bytes = 0;  ///< what the same tensors would take without reuse
  std::size_t weight_bytes = 0;     ///< prepacked weights and constants
};

namespace detail {

/// Runs vertex v's kernel on its worker (the executor's task).
struct kernel_runner {
  program* prog;
  std::vector<dnnl::stream>* streams;
  int threads;
  /// The session's per-vertex times of the last run (µs), or null when not
  /// profiling: read once per kernel, so an unprofiled run pays one test.
  /// Set only between runs (the executor's start publishes it to the workers).
  double* const* times;

  void operator()(std::size_t v, const task_info& info) const {
    double* t = *times;
    if (!t || prog->kernels[v].steps.empty()) return run_steps(v, info);  // fused or a view: stays 0
    const auto b = std::chrono::steady_clock::now();
    run_steps(v, info);
    // each vertex runs on one worker per run: distinct elements, published by the run's end
    t[v] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - b).count();
  }

  void run_steps(std::size_t v, const task_info& info) const {
    // a copy with an allotment of k cores (moldable schedule) runs on k x threads; its k - 1
    // reserved workers sleep meanwhile (the executor), so the runnable threads stay within the cores
    const int want = threads * static_cast<int>(info.threads);
    if (omp_get_max_threads() != want) omp_set_num_threads(want);
    const auto& k = prog->kernels[v];
    auto& s = (*streams)[info.worker];
    for (const auto& st : k.steps) {
      if (st.fn) {
        st.fn();
        continue;
      }
      const dnnl_status_t r =
          dnnl_primitive_execute(st.prim.get(), s.get(), static_cast<int>(st.c_args.size()), st.c_args.data());
      if (r != dnnl_success)
        throw graph_error("dfgpar: oneDNN failed (status " + std::to_string(static_cast<int>(r)) + ") in " + k.what);
    }
  }
};

/// Frees what std::aligned_alloc gave.
struct free_deleter {
  void operator()(std::byte* p) const noexcept { std::free(p); }
};

/// Restores the calling thread's OpenMP thread count.
struct omp_threads_guard {
  int saved = omp_get_max_threads();
  explicit omp_threads_guard(int n) { omp_set_num_threads(n); }
  ~omp_threads_guard() { omp_set_num_threads(saved); }
};

}  // namespace detail

/// An ONNX model prepared to run natively (see the file comment).
class session {
 public:
  /// Compiles `model` (load, fold, cost, schedule onto `o.workers`), prepares
  /// its kernels and plans its memory. \throws graph_error with one line
  /// naming the problem (an operator or attribute nothing supports, a shape
  /// not known before the run, too many threads).
  explicit session(const std::filesystem::path& model, const session_options& o = {}) : o_(o) {
    const std::size_t cores = o.cores ? o.cores : std::max(1u, std::thread::hardware_concurrency());
    if (o.workers < 1 || o.threads < 1) throw graph_error("dfgpar: workers and threads must be at least 1");
    if (o.workers * o.threads > cores)
      throw graph_error("dfgpar: " + std::to_string(o.workers) + " workers x " + std::to_string(o.threads) +
                        " threads exceed the " + std::to_string(cores) + " cores");
    onnx::compile_options co = o.compile;
    co.schedule.workers = o.workers;
    co.schedule.clone = false;
    compiled_ = std::make_unique<onnx::compile_result>(onnx::compile(model, co));
    const onnx::model& m = compiled_->scheduled();
    prog_ = std::make_unique<detail::program>();
    // a node that k cores make faster by less than a reserved worker's sleep and wake-up costs keeps one core
    drop_allotments([&](std::size_t v, std::size_t k) {
      const auto& t = compiled_->thread_times;
      return v < t.size() && !t[v].empty() && t[v][0] - t[v][std::min(k, t[v].size()) - 1] < handoff_us;
    });
    {
      detail::omp_threads_guard guard(static_cast<int>(o.threads));
      kernel_options ko = o.kernels;
      const auto& s = compiled_->schedule;
      if (ko.threads.empty() && !s.reservations.empty()) {
        // allotments: each vertex's primitives are created for the threads it will run on
        ko.threads.assign(num_vertices(m.g), o.threads);
        for_each_copy([&](std::size_t, std::size_t v, std::size_t k) { ko.threads[v] = k; });
      }
      detail::builder(*prog_, m, ko).build();
    }
    // nor does a node that runs nothing (fused into another node's primitive, or a view)
    drop_allotments([&](std::size_t v, std::size_t) { return prog_->kernels[v].steps.empty(); });
    plan_memory();
    for (std::size_t w = 0; w < o.workers; ++w) streams_.emplace_back(prog_->engine);
    bind();
    for (int i : prog_->inputs) inputs_.push_back(io_of(i, i));
    for (std::size_t i = 0; i < prog_->outputs.size(); ++i)
      outputs_.push_back(io_of(prog_->outputs[i], prog_->output_copy[i]));
    executor_.emplace(m.g, compiled_->schedule,
                      detail::kernel_runner{prog_.get(), &streams_, static_cast<int>(o.threads), &times_},
                      executor_options{.spin = o.spin});
  }

  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// The graph inputs (not initializers), in the model's order.
  const std::vector<io_info>& inputs() const noexcept { return inputs_; }
  /// The graph outputs, in the model's order.
  const std::vector<io_info>& outputs() const noexcept { return outputs_; }

  /// The buffer of input i (plain row-major): write it, then `run()`.
  std::span<std::byte> input(std::size_t i) {
    const auto& v = prog_->values.at(static_cast<std::size_t>(prog_->inputs.at(i)));
    return {v.ptr, inputs_[i].bytes};
  }
  /// The buffer of output i (plain row-major), valid after `run()` until the next run.
  std::span<const std::byte> output(std::size_t i) const {
    return {prog_->data(prog_->output_copy.at(i)), outputs_[i].bytes};
  }

  /// One inference on the input buffers. \throws whatever a kernel threw
  /// (the session stays usable).
  void run() { executor_->run(); }

  /// Frees the threads the session holds between runs: the executor's
  /// worker threads, with the OpenMP team each owns, and the calling
  /// thread's OpenMP team (shared with whatever else that thread runs). The
  /// next run starts them again, tens of microseconds per thread. For a
  /// process that keeps several sessions and runs one at a time (tune.hpp):
  /// libgomp spins only about 100 rounds before sleeping at a barrier once
  /// the threads of all OpenMP teams in the process outnumber the cores,
  /// idle teams included. Set OMP_TARGET_OFFLOAD=DISABLED (`dfgpar run`
  /// does) or libgomp looks for offload plugins the first time.
  void release_threads() noexcept {
    executor_->release_threads();
    (void)omp_pause_resource(omp_pause_soft, omp_get_initial_device());
  }

  /// The most OpenMP threads this session's teams can hold at once, counted
  /// the way libgomp counts them against the cores before it shortens its
  /// spin: the calling thread, plus each worker's widest team less that
  /// worker (a team's threads stay, idle, after its kernel). P x T: 1 + P
  /// (T - 1), within the cores. A moldable session whose multi-core nodes
  /// lead teams on several workers can go above the cores, and then every
  /// OpenMP barrier of the run spins about 100 rounds and sleeps.
  std::size_t openmp_threads() const {
    std::vector<std::size_t> widest(o_.workers, o_.threads);
    for_each_copy([&](std::size_t w, std::size_t, std::size_t k) { widest[w] = std::max(widest[w], k); });
    std::size_t n = 1;
    for (std::size_t w : widest) n += w - 1;
    return n;
  }

  /// One inference: `in` holds one tensor per graph input, in order, of the
  /// input's type and shape. Returns the outputs (a copy).
  /// \throws graph_error for a wrong count, type or shape (nothing is run
  /// then), or whatever a kernel threw; the session stays usable.
  std::vector<onnx::tensor> run(const std::vector<onnx::tensor>& in) {
    if (in.size() != inputs_.size())
      throw graph_error("dfgpar: the model has " + std::to_string(inputs_.size()) + " input(s) (" + input_names() +
                        "), " + std::to_string(in.size()) + " given");
    for (std::size_t i = 0; i < in.size(); ++i) check_input(i, in[i]);
    for (std::size_t i = 0; i < in.size(); ++i) {
      auto dst = input(i);
      std::visit([&](const auto& v) { detail::copy_bytes(dst.data(), v.data(), dst.size()); }, in[i].data);
    }
    return run_and_copy();
  }

  /// One inference with the inputs by name: every graph input exactly once.
  /// \throws graph_error for an unknown or missing name, a wrong type or
  /// shape (nothing is run then), or whatever a kernel threw.
  std::vector<onnx::tensor> run_by_name(const std::map<std::string, onnx::tensor>& in) {
    for (const auto& [name, t] : in) {
      (void)t;
      if (std::none_of(inputs_.begin(), inputs_.end(), [&](const io_info& io) { return io.name == name; }))
        throw graph_error("dfgpar: the model has no input named '" + name + "' (its inputs: " + input_names() + ")");
    }
    std::vector<onnx::tensor> ordered;
    for (const auto& io : inputs_) {
      const auto it = in.find(io.name);
      if (it == in.end()) throw graph_error("dfgpar: input '" + io.name + "' is not given (the inputs: " + input_names() + ")");
      ordered.push_back(it->second);
    }
    return run(ordered);
  }

  /// Per-node timing: while on, every run records the wall time of each
  /// vertex's kernel on its worker, read with `node_times()` after the run.
  /// Off (the default), a kernel pays one pointer test. Call between runs.
  void set_profiling(bool on) {
    if (on) {
      node_us_.assign(stats_.nodes, 0.0);
      times_ = node_us_.data();
    } else {
      times_ = nullptr;
    }
  }
  /// The kernel times of the last profiled run, µs per vertex of the
  /// scheduled graph (0 for a fused node or a view: they run nothing).
  std::span<const double> node_times() const noexcept { return node_us_; }

  /// The vertex whose kernel runs vertex v's work when v is fused (a Relu
  /// into the Conv before it, a Pad into the pool after it); none otherwise.
  std::optional<std::size_t> fused_into(std::size_t v) const {
    const auto& p = *prog_;
    if (!p.kernels.at(v).fused) return std::nullopt;
    for (std::size_t i = 0; i < p.values.size(); ++i) {
      const auto& val = p.values[i];
      if (val.producer != static_cast<long>(v)) continue;
      const auto& root = p.values[static_cast<std::size_t>(p.root(static_cast<int>(i)))];
      if (root.producer >= 0 && root.producer != static_cast<long>(v)) return static_cast<std::size_t>(root.producer);
      for (std::size_t r : root.readers)
        if (r != v) return r;
    }
    return std::nullopt;
  }

 private:
  std::vector<onnx::tensor> run_and_copy() {
    run();
    std::vector<onnx::tensor> out;
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      out.push_back(onnx::make_tensor(outputs_[i].elem_type, outputs_[i].dims));
      const auto src = output(i);
      std::visit([&](auto& v) { detail::copy_bytes(v.data(), src.data(), src.size()); }, out.back().data);
    }
    return out;
  }

 public:
  /// \throws graph_error unless `t` has input i's type and shape.
  void check_input(std::size_t i, const onnx::tensor& t) const {
    const auto& want = inputs_.at(i);
    if (t.elem_type != want.elem_type || t.dims != want.dims)
      throw graph_error("dfgpar: input '" + want.name + "' must be " + onnx::elem_type_name(want.elem_type) + " " +
                        shape_text(want.dims) + ", got " + onnx::elem_type_name(t.elem_type) + " " + shape_text(t.dims));
  }

  /// What the pipeline found (the scheduled model, the schedule, bounds, phases).
  const onnx::compile_result& compiled() const noexcept { return *compiled_; }
  /// The schedule a run follows.
  const dfgpar::schedule& schedule() const noexcept { return compiled_->schedule; }
  const session_options& options() const noexcept { return o_; }

  /// What was prepared and how much memory it takes.
  const session_statistics& statistics() const noexcept { return stats_; }

  /// How node v runs: e.g. "Conv+Relu [jit:avx512_core]", "Flatten (view)".
  const std::string& kernel_of(std::size_t v) const { return prog_->kernels.at(v).what; }

 private:
  session_options o_;
  std::unique_ptr<onnx::compile_result> compiled_;
  std::unique_ptr<detail::program> prog_;
  std::vector<dnnl::stream> streams_;
  std::unique_ptr<std::byte, detail::free_deleter> arena_;
  std::vector<std::unique_ptr<std::byte, detail::free_deleter>> scratch_;
  std::vector<io_info> inputs_, outputs_;
  session_statistics stats_;
  std::vector<double> node_us_;  ///< set_profiling: per-vertex µs of the last run
  double* times_ = nullptr;      ///< node_us_.data() while profiling (the kernel runner reads it)
  std::optional<cluster_executor<onnx::graph, detail::kernel_runner>> executor_;

  /// Calls f(worker, vertex, OpenMP threads) for every scheduled vertex copy:
  /// the session's threads times the copy's allotment.
  template <class F>
  void for_each_copy(F&& f) const {
    const auto& s = compiled_->schedule;
    for (std::size_t c = 0; c < s.clusters.size(); ++c)
      for (std::size_t i = 0; i < s.clusters[c].vertices.size(); ++i)
        f(s.clusters[c].worker, s.clusters[c].vertices[i], o_.threads * s.threads_of(c, i));
  }

  std::string input_names() const {
    std::string s;
    for (const auto& io : inputs_) s += (s.empty() ? "'" : ", '") + io.name + "'";
    return s.empty() ? "none" : s;
  }

  static std::string shape_text(const std::vector<std::int64_t>& d) {
    std::string s = "[";
    for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
    return s + "]";
  }

  io_info io_of(int named, int buffer) const {
    const auto& v = prog_->values[static_cast<std::size_t>(named)];
    io_info io{v.name, v.elem_type, v.dims, 0};
    io.bytes = onnx::element_count(v.dims) * onnx::element_size(v.elem_type);
    (void)buffer;
    return io;
  }

  static std::size_t align(std::size_t n) { return (n + 63) / 64 * 64; }

  /// The buffer plan (see the file comment).
  void plan_memory() {
    auto& p = *prog_;
    const auto& s = compiled_->schedule;
    const onnx::model& m = compiled_->scheduled();
    const std::size_t n = num_vertices(m.g);
    // happens-before: graph edges plus each worker's run order
    std::vector<std::vector<std::size_t>> succ(n);
    std::vector<std::size_t> indeg(n, 0), worker_of(n, 0);
    for (std::size_t v = 0; v < n; ++v)
      for (auto e : boost::make_iterator_range(out_edges(v, m.g))) {
        succ[v].push_back(target(e, m.g));
        ++indeg[target(e, m.g)];
      }
    for (std::size_t w = 0; w < s.workers; ++w) {
      std::optional<std::size_t> prev;
      for (std::size_t c : s.clusters_of(w))
        for (std::size_t v : s.clusters[c].vertices) {
          worker_of[v] = w;
          if (prev) {
            succ[*prev].push_back(v);
            ++indeg[v];
          }
          prev = v;
        }
    }
    const std::size_t words = (n + 63) / 64;
    std::vector<std::uint64_t> hb(n * words, 0);  // hb[v]: vertices that finish before v starts
    std::vector<std::size_t> order, pos(n, 0);
    for (std::size_t v = 0; v < n; ++v)
      if (indeg[v] == 0) order.push_back(v);
    for (std::size_t i = 0; i < order.size(); ++i) {
      const std::size_t v = order[i];
      pos[v] = i;
      for (std::size_t t : succ[v]) {
        for (std::size_t w = 0; w < words; ++w) hb[t * words + w] |= hb[v * words + w];
        hb[t * words + v / 64] |= std::uint64_t{1} << (v % 64);
        if (--indeg[t] == 0) order.push_back(t);
      }
    }
    if (order.size() != n) throw graph_error("dfgpar: the schedule's run order has a cycle");
    auto before = [&](std::size_t a, std::size_t b) { return (hb[b * words + a / 64] >> (a % 64)) & 1; };

    // roots that need a buffer: dedicated (inputs, outputs) or shared by lifetime
    struct buffer {
      std::size_t size = 0;
      int last = -1;
      bool dedicated = false;
    };
    std::vector<buffer> bufs;
    std::vector<std::size_t> buf_of(p.values.size(), SIZE_MAX);
    std::vector<int> planned;
    for (std::size_t i = 0; i < p.values.size(); ++i) {
      auto& v = p.values[i];
      if (v.alias_of >= 0 || v.constant || v.virtual_) continue;
      if (v.bytes == 0) v.bytes = onnx::element_count(v.dims) * onnx::element_size(v.elem_type);
      if (v.bytes == 0) continue;
      planned.push_back(static_cast<int>(i));
      stats_.unplanned_bytes += align(v.bytes);
    }
    // every vertex that writes into a root's buffer: its producer, and the
    // producers of the values in it (views, fused ops, and Concat inputs
    // written in place, which run before the Concat that produces the root)
    std::vector<std::vector<std::size_t>> writers(p.values.size());
    for (std::size_t i = 0; i < p.values.size(); ++i)
      if (p.values[i].producer >= 0 && !p.values[i].constant)
        writers[static_cast<std::size_t>(p.root(static_cast<int>(i)))].push_back(static_cast<std::size_t>(p.values[i].producer));
    auto first_write = [&](int id) {
      std::size_t f = SIZE_MAX;
      for (std::size_t w : writers[static_cast<std::size_t>(id)]) f = std::min(f, pos[w] + 1);
      return f == SIZE_MAX ? 0 : f;
    };
    std::stable_sort(planned.begin(), planned.end(), [&](int a, int b) { return first_write(a) < first_write(b); });
    // a graph output that is a view (Reshape, Flatten, ...) lives in its
    // root's buffer: that root must outlive the run as well
    std::vector<bool> holds_output(p.values.size(), false);
    for (std::size_t i = 0; i < p.values.size(); ++i)
      if (p.values[i].output) holds_output[static_cast<std::size_t>(p.root(static_cast<int>(i)))] = true;
    for (int id : planned) {
      auto& v = p.values[static_cast<std::size_t>(id)];
      const bool dedicated = v.input || v.output || holds_output[static_cast<std::size_t>(id)] || v.producer < 0;
      std::size_t best = SIZE_MAX;
      if (!dedicated) {
        const auto& ws = writers[static_cast<std::size_t>(id)];
        // the buffer is free when what its last tensor needs (readers; or,
        // unread, its writers) finishes before every writer of this one
        auto all_before = [&](const std::vector<std::size_t>& done) {
          for (std::size_t d : done)
            for (std::size_t w : ws)
              if (!before(d, w)) return false;
          return true;
        };
        for (std::size_t b = 0; b < bufs.size(); ++b) {
          if (bufs[b].dedicated) continue;
          const auto& last = p.values[static_cast<std::size_t>(bufs[b].last)];
          const auto& last_writers = writers[static_cast<std::size_t>(bufs[b].last)];
          const bool free = last.readers.empty() ? !last_writers.empty() && all_before(last_writers) : all_before(last.readers);
          if (!free) continue;
          // best fit: the smallest that holds it, else the largest (it grows)
          if (best == SIZE_MAX) best = b;
          else {
            const bool fits = bufs[b].size >= v.bytes, best_fits = bufs[best].size >= v.bytes;
            if ((fits && (!best_fits || bufs[b].size < bufs[best].size)) ||
                (!fits && !best_fits && bufs[b].size > bufs[best].size))
              best = b;
          }
        }
      }
      if (best == SIZE_MAX) {
        bufs.push_back({0, -1, dedicated});
        best = bufs.size() - 1;
      }
      bufs[best].size = std::max(bufs[best].size, align(v.bytes));
      bufs[best].last = id;
      buf_of[static_cast<std::size_t>(id)] = best;
    }
    // scratchpads, one per worker: a worker runs one primitive at a time
    std::vector<std::size_t> scratch(s.workers, 0);
    for (std::size_t v = 0; v < n; ++v) scratch[worker_of[v]] = std::max(scratch[worker_of[v]], p.kernels[v].scratch);
    std::size_t total = 0;
    std::vector<std::size_t> offset(bufs.size());
    for (std::size_t b = 0; b < bufs.size(); ++b) {
      offset[b] = total;
      total += bufs[b].size;
    }
    std::vector<std::size_t> temp_offset(p.temps.size());
    for (std::size_t t = 0; t < p.temps.size(); ++t) {
      temp_offset[t] = total;
      total += align(p.temps[t].md.get_size());
    }
    arena_.reset(static_cast<std::byte*>(std::aligned_alloc(64, std::max<std::size_t>(total, 64))));
    if (!arena_) throw std::bad_alloc();
    std::memset(arena_.get(), 0, total);
    for (int id : planned) p.values[static_cast<std::size_t>(id)].ptr = arena_.get() + offset[buf_of[static_cast<std::size_t>(id)]];
    for (std::size_t t = 0; t < p.temps.size(); ++t) p.temps[t].ptr = arena_.get() + temp_offset[t];
    for (std::size_t w = 0; w < s.workers; ++w) {
      scratch_.emplace_back(static_cast<std::byte*>(std::aligned_alloc(64, std::max<std::size_t>(align(scratch[w]), 64))));
      total += align(scratch[w]);
    }
    worker_of_ = std::move(worker_of);
    stats_.nodes = n;
    stats_.tensors = planned.size() + p.temps.size();
    stats_.buffers = bufs.size() + p.temps.size();
    stats_.arena_bytes = total;
    for (const auto& t : p.temps) stats_.unplanned_bytes += align(t.md.get_size());
    for (const auto& w : p.weights) stats_.weight_bytes += w.get_desc().get_size();
  }

  std::vector<std::size_t> worker_of_;

  /// What a reserved worker's sleep and wake-up cost, about (µs).
  static constexpr double handoff_us = 5;

  /// Gives one core back to every multi-core vertex copy for which
  /// `drop(v, k)` holds: its allotment becomes 1 and its reservations go
  /// (a reservation's position counts the reserved worker's own copies, so
  /// the others stay valid).
  template <class Drop>
  void drop_allotments(Drop drop) {
    auto& s = compiled_->schedule;
    if (s.reservations.empty()) return;
    std::vector<std::vector<char>> dropped(s.clusters.size());
    for (std::size_t c = 0; c < s.clusters.size(); ++c) {
      auto& cl = s.clusters[c];
      dropped[c].assign(cl.vertices.size(), 0);
      for (std::size_t i = 0; i < cl.threads.size(); ++i)
        if (cl.threads[i] > 1 && drop(cl.vertices[i], cl.threads[i])) cl.threads[i] = 1, dropped[c][i] = 1;
    }
    std::erase_if(s.reservations, [&](const reservation& r) { return dropped[r.cluster][r.index] != 0; });
  }

  /// Memory objects and C argument arrays for every step, now that buffers have addresses.
  void bind() {
    auto& p = *prog_;
    for (std::size_t v = 0; v < p.kernels.size(); ++v) {
      auto& k = p.kernels[v];
      if (k.fused) ++stats_.fused;
      else if (k.steps.empty()) ++stats_.views;
      for (const auto& st : k.steps) {
        if (st.fn) {
          if (st.evaluator) ++stats_.evaluator;
          continue;
        }
        ++stats_.primitives;
        if (st.reorder) ++stats_.reorders;
        if (st.winograd) ++stats_.winograd;
      }
      detail::bind_kernel(p, k, scratch_[worker_of_[v]].get());
    }
    for (auto& v : p.values)
      if (v.alias_of < 0 && !v.constant && !v.ptr && !v.virtual_ && v.bytes > 0)
        throw graph_error("dfgpar: internal error: tensor '" + v.name + "' has no buffer");
  }
};

}  // namespace dfgpar::onednn
