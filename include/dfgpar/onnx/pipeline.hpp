#pragma once
/// \file pipeline.hpp
/// The ONNX pipeline in one call: load -> fold constants, remove
/// Identity/Dropout and dead code -> node costs (analytic, or measured where a
/// profile has them) -> optionally split heavy Convs -> linear clustering and
/// merging onto P workers (optionally cloning) -> the figures a report shows.
/// `dfgpar analyze`, `dfgpar emit` and the native runtime all start here.
/// \code
///   auto r = dfgpar::onnx::compile("inception_v3.onnx", {.schedule = {.workers = 2}});
///   std::cout << r.bounds.parallelism() << " " << r.merge.makespan << " " << r.phases.total() << " ms\n";
///   dfgpar::onnx::save_model(r.scheduled(), "inception_v3.opt.onnx");
/// \endcode
///
/// Weights are read once and never copied: the file is parsed straight into
/// the loaded model's proto, and optimisation moves the initializers it keeps
/// into the optimised model (the loaded model then keeps their names, types
/// and shapes but not their data: `model::weights_moved`). Saving writes them
/// from the optimised model.
///
/// The optimised model is checked and shape-inferred again (`load.check`,
/// `load.infer_shapes`): folding turns computed shapes into initializers, so a
/// second inference knows shapes the first could not, and the checker proves
/// the rewrite produced a valid model.

#include <dfgpar/analysis/bounds.hpp>
#include <dfgpar/cluster/makespan.hpp>
#include <dfgpar/cluster/merge.hpp>
#include <dfgpar/cluster/moldable_cost.hpp>
#include <dfgpar/cluster/moldable_schedule.hpp>
#include <dfgpar/cluster/parallelize.hpp>
#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/error.hpp>
#include <dfgpar/onnx/cost_model.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/model.hpp>
#include <dfgpar/onnx/optimize.hpp>
#include <dfgpar/onnx/profile.hpp>
#include <dfgpar/onnx/semantics.hpp>
#include <dfgpar/onnx/split.hpp>

#include <charconv>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace dfgpar::onnx {

/// The phases of `compile`, in the order they run.
enum class compile_phase {
  load,      ///< read, parse, check, infer shapes, build the graph
  optimize,  ///< fold constants, remove Identity/Dropout and dead code, rebuild
  costs,     ///< analytic costs, then measured times where the profile has them
  split,     ///< split heavy Convs into parts (only with `compile_options::split`)
  schedule,  ///< linear clustering, merging (and cloning), bounds and simulation
};

/// "load", "optimize", "costs", "split", "schedule".
constexpr std::string_view phase_name(compile_phase p) noexcept {
  switch (p) {
    case compile_phase::load: return "load";
    case compile_phase::optimize: return "optimize";
    case compile_phase::costs: return "costs";
    case compile_phase::split: return "split";
    case compile_phase::schedule: return "schedule";
  }
  return "?";
}

/// Wall-clock milliseconds of each phase (0 for one that did not run).
struct phase_times {
  double load = 0, optimize = 0, costs = 0, split = 0, schedule = 0;
  double& operator[](compile_phase p) noexcept {
    switch (p) {
      case compile_phase::load: return load;
      case compile_phase::optimize: return optimize;
      case compile_phase::costs: return costs;
      case compile_phase::split: return split;
      case compile_phase::schedule: break;
    }
    return schedule;
  }
  double total() const noexcept { return load + optimize + costs + split + schedule; }
};

/// Called when a phase starts (`done` false) and when it ends (`done` true):
/// to time it with another clock, count events, or show progress.
using phase_hook = std::function<void(compile_phase, bool done)>;

/// What `compile` does; meant for designated initialisers.
struct compile_options {
  /// Checker, shape inference, size limits and the roofline constants, for
  /// the loaded model and every rebuilt one. (`load.profile` is not used:
  /// see `profile`.)
  load_options load{};
  bool optimize = true;            ///< fold constants, remove Identity/Dropout and dead code
  semantics_options semantics{};   ///< folding size cap and clone thresholds
  /// Measured per-node times of the model as loaded (dfgpar's or ONNX
  /// Runtime's profile JSON); matched to the optimised nodes by name or
  /// output tensor. Nodes it does not mention keep their analytic cost.
  std::filesystem::path profile;
  /// Schedule with the moldable scheduler (`parallelize_moldable`: how many
  /// cores each node gets, and the schedule) when times per thread count
  /// are known, from `profile` (`us_by_threads`) or `thread_times`. False:
  /// t(v, 1) and today's single-core `parallelize`.
  bool moldable = true;
  /// t(v, k) per vertex of `scheduled()` (numbered as another compile of the
  /// same file with the same options numbers them), instead of a profile
  /// file: the native runtime passes the times it measured. Ignored when
  /// empty; the first entry of each row becomes the node's cost.
  std::vector<std::vector<double>> thread_times{};
  /// Split every Conv that costs at least 2% of the model into
  /// `schedule.workers` output-channel parts (see split.hpp).
  bool split = false;
  /// Workers, effort, seed, time limit; `clone` clones with the ONNX policy
  /// (`semantics`). `report` is ignored: the result has the merge report.
  dfgpar::options schedule{};
  phase_hook on_phase{};           ///< optional
  /// Dimensions of graph inputs fixed before checking and shape inference
  /// (`--input-shape NAME=d0,d1,...`; see `parse_input_shape`). Overrides
  /// `load.input_shapes`.
  std::vector<input_shape> input_shapes{};
  /// A symbolic dimension that is only ever the batch becomes 1, with a
  /// warning (this is a batch-1 tool; see `load_options::default_batch`).
  bool default_batch = true;
  /// Rounds of fold -> DCE -> shape inference at most (see
  /// `optimize_options::max_rounds`); the rounds run are in `optimization.rounds`.
  std::size_t max_fold_rounds = 16;
};

/// Parses `NAME=d0,d1,...` (what `--input-shape` takes): the name is
/// everything before the last '=', the dimensions are non-negative integers
/// separated by commas (none: a scalar).
/// 	hrows graph_error with a one-line message naming the text.
inline input_shape parse_input_shape(std::string_view text) {
  const std::string what = "input shape '" + detail::quote_raw(text) + "': ";
  const auto eq = text.rfind('=');
  if (eq == std::string_view::npos) throw graph_error(what + "expected NAME=d0,d1,... (e.g. x=1,3,224,224)");
  input_shape s;
  s.name = std::string(text.substr(0, eq));
  if (s.name.empty()) throw graph_error(what + "the input name is empty (expected NAME=d0,d1,...)");
  std::string_view dims = text.substr(eq + 1);
  while (!dims.empty()) {
    const auto comma = dims.find(',');
    const std::string_view d = dims.substr(0, comma);
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), v);
    if (d.empty() || ec != std::errc{} || p != d.data() + d.size() || v < 0)
      throw graph_error(what + "'" + detail::quote_raw(d) + "' is not a dimension (a non-negative integer)");
    s.dims.push_back(v);
    if (comma == std::string_view::npos) break;
    dims.remove_prefix(comma + 1);
    if (dims.empty()) throw graph_error(what + "a dimension is missing after the last ','");
  }
  return s;
}

/// Raised by `compile`: a `graph_error` that also says in which phase it
/// failed and, apart from the file and phase, why.
class compile_error : public graph_error {
 public:
  compile_error(compile_phase p, const std::string& what, std::string cause)
      : graph_error(what), phase_(p), cause_(std::move(cause)) {}
  compile_phase phase() const noexcept { return phase_; }
  /// The problem itself, without "<file>: <phase> failed: ".
  const std::string& cause() const noexcept { return cause_; }

 private:
  compile_phase phase_;
  std::string cause_;
};

/// Everything `compile` found.
struct compile_result {
  /// The model as loaded. When optimised, the initializers the optimised
  /// model keeps were moved there (`original.weights_moved`); its graph,
  /// nodes and tensor facts stay.
  model original;
  std::optional<model> optimized;  ///< after folding and dead-code elimination (none with `optimize = false`)
  std::optional<model> split;      ///< after Conv splitting (only when something was split)
  optimize_report optimization;    ///< what folding and dead-code elimination did
  split_report splitting;          ///< what Conv splitting did
  dfgpar::schedule schedule;       ///< the clusters of `scheduled()` on the workers
  merge_report merge;              ///< winning heuristic, linear clusters, simulated makespan, lower bound
  dfgpar::bounds bounds;           ///< W, CP and max(CP, W/P) of `scheduled()`
  cluster_times times;             ///< simulated start and finish of every cluster, and the makespan
  phase_times phases;              ///< wall-clock ms per phase
  std::vector<std::string> warnings;  ///< from every phase, each once, in order
  /// The graph inputs whose open (symbolic or unknown) dimensions were fixed
  /// by `compile_options::input_shapes` or the batch default, with all their
  /// dimensions (-1 where one is still open), in input order: what `scheduled()` (and code emitted from
  /// it) is specialised to. Empty when the model was taken as it is.
  std::vector<input_shape> specialised_inputs;
  /// t(v, k) per vertex of `scheduled()` the schedule was made from (empty:
  /// single-core costs, `parallelize`).
  std::vector<std::vector<double>> thread_times;
  /// With `thread_times`: what `parallelize_moldable` found (its schedule is
  /// `schedule`; its makespan, the pure forms, the regions and their choices).
  std::optional<moldable_result> moldable;

  /// The model the schedule is for: split, else optimised, else as loaded.
  const model& scheduled() const noexcept { return split ? *split : optimized ? *optimized : original; }
  model& scheduled() noexcept { return split ? *split : optimized ? *optimized : original; }
};

/// A profile of a model re-keyed for its optimised version, whose node
/// indices differ: each optimised node finds its original by name (when the
/// name is unique in the original) or else by an output tensor. Entries by
/// name stay by name. Measured nodes that are gone (folded or removed) are
/// counted in a warning added to `warnings`.
inline profile profile_for_optimized(const profile& p, const model& original, const model& optimized,
                                     std::vector<std::string>* warnings = nullptr) {
  profile out;
  out.onnxruntime = p.onnxruntime;
  out.by_name = p.by_name;
  out.threads_by_name = p.threads_by_name;
  out.threads = p.threads;
  if (p.by_node.empty()) return out;
  std::unordered_map<std::string, std::size_t> index_of_name, name_count;
  for (std::size_t i = 0; i < num_vertices(original.g); ++i)
    if (!original.g[i].name.empty() && ++name_count[original.g[i].name] == 1) index_of_name[original.g[i].name] = i;
  const auto& nodes = optimized.proto.graph().node();
  std::size_t used = 0;
  for (std::size_t v = 0; v < num_vertices(optimized.g); ++v) {
    const auto& info = optimized.g[v];
    std::optional<std::size_t> i;
    if (auto c = name_count.find(info.name); !info.name.empty() && c != name_count.end() && c->second == 1)
      i = index_of_name[info.name];
    for (const auto& t : nodes.Get(static_cast<int>(info.node)).output())
      if (auto it = original.producer.find(t); !i && it != original.producer.end()) i = it->second;
    if (auto it = i ? p.by_node.find(*i) : p.by_node.end(); it != p.by_node.end()) {
      out.by_node[info.node] = it->second;
      ++used;
    }
    if (auto it = i ? p.threads_by_node.find(*i) : p.threads_by_node.end(); it != p.threads_by_node.end())
      out.threads_by_node[info.node] = it->second;
  }
  if (used < p.by_node.size() && warnings)
    warnings->push_back("profile: " + std::to_string(p.by_node.size() - used) +
                        " measured node(s) are not in the analysed graph (folded, removed, or not nodes of the model)");
  return out;
}

namespace detail {

/// Warnings, each once, in order.
class warning_sink {
 public:
  explicit warning_sink(std::vector<std::string>& out) : out_(&out) {}
  void add(const std::vector<std::string>& ws) {
    for (const auto& w : ws)
      if (seen_.insert(w).second) out_->push_back(w);
  }

 private:
  std::vector<std::string>* out_;
  std::unordered_set<std::string> seen_;
};

/// Runs one phase: calls the hook, times it, and turns a failure into a
/// compile_error naming the phase.
template <class F>
void run_phase(compile_phase p, const compile_options& o, phase_times& t, const std::string& file, F&& f) {
  if (o.on_phase) o.on_phase(p, false);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    f();
  } catch (const compile_error&) {
    throw;
  } catch (const graph_error& e) {
    // the loader's and the profile reader's messages name their file already
    if (p == compile_phase::optimize) throw compile_error(p, file + ": optimisation failed: " + e.what(), e.what());
    throw compile_error(p, e.what(), e.what());
  }
  t[p] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (o.on_phase) o.on_phase(p, true);
}

}  // namespace detail

/// Loads `file`, optimises it, costs its nodes and schedules it onto
/// `o.schedule.workers` workers (see the file comment for the phases).
/// \throws compile_error (a graph_error) with a one-line message naming the
/// file; `phase()` says where it failed.
inline compile_result compile(const std::filesystem::path& file, const compile_options& o = {}) {
  compile_result r;
  detail::warning_sink warnings(r.warnings);
  const std::string name = file.string();
  load_options lo = o.load;
  lo.profile.clear();  // applied to the analysed model in the costs phase
  if (!o.input_shapes.empty()) lo.input_shapes = o.input_shapes;
  lo.default_batch = lo.default_batch || o.default_batch;

  detail::run_phase(compile_phase::load, o, r.phases, name, [&] { r.original = load_model(file, lo); });
  r.specialised_inputs = r.original.specialised_inputs;
  // the loaded model's unknown dimensions: only those left after folding are reported
  const std::string original_unknown = o.optimize ? unknown_dimensions_warning(r.original) : std::string();
  for (const auto& w : r.original.warnings)
    if (w != original_unknown) warnings.add({w});

  if (o.optimize) {
    detail::run_phase(compile_phase::optimize, o, r.phases, name, [&] {
      r.optimized = optimize_moving_weights(
          r.original, optimize_options{.semantics = o.semantics, .load = lo, .max_rounds = o.max_fold_rounds},
          &r.optimization);
      r.optimized->path = file;
    });
    warnings.add(r.optimized->warnings);
  }

  detail::run_phase(compile_phase::costs, o, r.phases, name, [&] {
    model& m = r.optimized ? *r.optimized : r.original;
    if (!o.profile.empty()) {  // else the build applied the analytic costs
      std::vector<std::string> profile_warnings;
      const profile read = read_profile(o.profile);
      const profile p = r.optimized ? profile_for_optimized(read, r.original, m, &profile_warnings) : read;
      m.warnings.clear();
      apply_profile(m, p);
      warnings.add(profile_warnings);
      warnings.add(m.warnings);
      if (o.moldable) r.thread_times = thread_times(m, p);
    }
    if (!o.thread_times.empty()) {
      if (o.thread_times.size() != num_vertices(m.g))
        throw graph_error(name + ": thread_times has " + std::to_string(o.thread_times.size()) + " rows, the model " +
                          std::to_string(num_vertices(m.g)) + " nodes");
      r.thread_times = o.thread_times;
      for (std::size_t v = 0; v < r.thread_times.size(); ++v) {
        if (r.thread_times[v].empty()) throw graph_error(name + ": thread_times: node " + std::to_string(v) + " has no times");
        m.g[v].cost = r.thread_times[v].front();
      }
    }
    if (!o.moldable) r.thread_times.clear();
  });

  if (o.split && o.schedule.workers > 1) {
    detail::run_phase(compile_phase::split, o, r.phases, name, [&] {
      const model& m = r.optimized ? *r.optimized : r.original;
      model s = split_convolutions(m, split_options{.parts = o.schedule.workers, .load = lo}, &r.splitting);
      if (r.splitting.split > 0) {
        warnings.add(s.warnings);
        r.split = std::move(s);
        if (!r.thread_times.empty())
          warnings.add({"profile: the times per thread count are for the unsplit nodes: scheduled with t(v, 1)"});
        r.thread_times.clear();
      }
    });
  }

  detail::run_phase(compile_phase::schedule, o, r.phases, name, [&] {
    const model& m = r.scheduled();
    const auto cost = get(&node_info::cost, m.g);
    const auto comm = get(&edge_info::comm, m.g);
    dfgpar::options po = o.schedule;
    po.report = &r.merge;
    r.bounds = compute_bounds(m.g, cost, po.workers);
    if (!r.thread_times.empty()) {
      // allotments and schedule from t(v, k); cloning is not modelled there
      const auto t = make_measured_cost(m.g, r.thread_times);
      po.clone = false;
      r.moldable = parallelize_moldable(m.g, t, po);
      r.schedule = r.moldable->schedule;
      r.times = simulate_clusters(m.g, r.schedule, t);
      return;
    }
    r.schedule = po.clone ? parallelize(m.g, cost, comm, po, semantics(m, o.semantics))
                          : parallelize(m.g, cost, comm, po);
    r.times = simulate_clusters(m.g, r.schedule, cost, comm);
  });
  return r;
}

}  // namespace dfgpar::onnx
