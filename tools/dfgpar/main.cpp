// dfgpar: command-line front end of the library.
//
//   dfgpar analyze MODEL.onnx --workers P [options]
//   dfgpar emit MODEL.onnx -o DIR --workers P [options]
//
// Loads an ONNX model, folds constants and removes dead code, estimates node
// costs, clusters the graph along its critical paths and merges the clusters
// onto P workers, then prints what it found (and writes reports on request).
// Exit status: 0 success, 1 bad input (model, profile, unwritable output),
// 2 bad command line.

#include <dfgpar/dfgpar.hpp>
#include <dfgpar/onnx/onnx.hpp>
#include <dfgpar/onnx/optimize.hpp>
#include <dfgpar/onnx/save.hpp>
#include <dfgpar/onnx/semantics.hpp>
#include <dfgpar/onnx/split.hpp>
#include <dfgpar/pytorch/emitter.hpp>

#include "args.hpp"
#include "output_files.hpp"
#include "report.hpp"

#include <google/protobuf/stubs/logging.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#ifndef DFGPAR_CLI_VERSION
#define DFGPAR_CLI_VERSION "0.1.0"
#endif

namespace {

namespace fs = std::filesystem;
namespace onnx = dfgpar::onnx;
using dfgpar_cli::usage_error;

constexpr std::size_t max_workers = 1024;

// ------------------------------------------------------------------ help

constexpr const char* main_help = R"(dfgpar - find and schedule the task parallelism in a dataflow graph

Usage:
  dfgpar analyze MODEL.onnx --workers P [options]
  dfgpar emit MODEL.onnx -o DIR --workers P [options]
  dfgpar help [COMMAND]
  dfgpar --help | --version

Commands:
  analyze   load an ONNX model, fold constants and remove dead code, estimate
            node costs, cluster the graph along its critical paths, merge the
            clusters onto P workers and report the predicted schedule
            (nodes, work W, critical path CP, W/CP, makespan, speedup,
            clusters, phase times); optionally write a JSON report, a
            Graphviz DOT picture, an SVG Gantt chart and the optimised model.
  emit      the same pipeline, then write DIR/model.py (a readable PyTorch
            module whose clusters run in parallel with torch.jit.fork) and
            DIR/weights.safetensors.

Run `dfgpar analyze --help` or `dfgpar emit --help` for the options.

Exit status: 0 success, 1 bad input (unreadable or invalid model or profile,
output that cannot be written), 2 bad command line. Errors are one line on
stderr; warnings (e.g. unknown operators, costed with a default) start with
"dfgpar: warning:". Output files are written whole or not at all.
)";

constexpr const char* analyze_help = R"(Usage: dfgpar analyze MODEL.onnx [--workers P] [options]

Analyses the inter-operator parallelism of an ONNX model at batch 1 and the
schedule dfgpar finds for P workers. Prints the node count before and after
constant folding / dead-code elimination, total work W, critical path CP, the
inter-operator bound W/CP, the clusters, the predicted makespan and speedup
at P workers against the lower bound max(CP, W/P), and how long each phase of
the analysis took. Times are predictions of the cost model, not measurements.

Scheduling:
  -p, --workers P        workers (threads) to schedule onto, 1-1024
                         (default: the number of hardware threads, here %CORES%)
      --effort X         search effort of the merge step, 0-1000 (default 1;
                         0: constructive heuristics only, more: longer search)
      --time-limit MS    wall-clock cap on the merge search, ms (default 1000)
      --seed N           seed of the randomised merge search (default 1)
      --clone            clone cheap nodes (shape arithmetic, small element-
                         wise ops, views) into the workers that read them when
                         that shortens the schedule
      --no-optimize      skip constant folding, Identity/Dropout removal and
                         dead-code elimination

Costs:
      --cost-model M     analytic: roofline estimate from FLOPs and bytes
                         (default); profile: measured times from --profile
      --profile F        per-node times of MODEL.onnx: dfgpar's profile JSON
                         ({"dfgpar_profile": 1, "nodes": [{"node": i, "us": t}]},
                         node indices of MODEL.onnx) or an ONNX Runtime profile
                         (matched by node name). Implies --cost-model profile;
                         nodes it does not mention keep the analytic cost.

Outputs (each written whole or not at all; existing files are replaced):
      --json F           JSON report: totals and every cluster with the
                         simulated start/finish of each node
      --dot F            Graphviz DOT of the clustered graph, one box per
                         cluster, cross-worker edges red (dot -Tsvg F -o F.svg)
      --svg F            SVG Gantt chart of the schedule: one row per worker,
                         one box per node, hover for names and times
      --save-optimized F the model after folding and dead-code elimination
                         (what was analysed), as .onnx

  -h, --help             this text

Unknown operators do not stop the analysis: they get a default cost and a
warning. Examples:
  dfgpar analyze googlenet.onnx --workers 2
  dfgpar analyze inception_v3.onnx -p 4 --svg gantt.svg --dot clusters.dot --json report.json
  dfgpar analyze model.onnx -p 2 --profile ort_profile.json --clone
)";

/// A help text with %CORES% replaced by the number of hardware threads.
std::string with_cores(const char* help) {
  std::string s = help;
  const std::string key = "%CORES%";
  s.replace(s.find(key), key.size(), std::to_string(std::max(1u, std::thread::hardware_concurrency())));
  return s;
}

std::string analyze_help_text() { return with_cores(analyze_help); }

// ------------------------------------------------------------------ options both commands take

/// The model and the options of the pipeline that `analyze` and `emit` share:
/// folding, the cost source and the scheduling.
struct pipeline_args {
  fs::path model, profile;
  std::size_t workers = std::max(1u, std::thread::hardware_concurrency());
  double effort = 1, time_limit_ms = 1000;
  std::uint64_t seed = 1;
  bool optimize = true;

  /// Takes `opt` (and its value) if it is one of the shared options.
  bool parse(const std::string& opt, dfgpar_cli::arg_scanner& args) {
    if (opt == "-p" || opt == "--workers") workers = dfgpar_cli::parse_count(opt, args.value(), 1, max_workers);
    else if (opt == "--effort") effort = dfgpar_cli::parse_number(opt, args.value(), 0, 1000);
    else if (opt == "--time-limit") time_limit_ms = dfgpar_cli::parse_number(opt, args.value(), 1, 600000);
    else if (opt == "--seed") seed = dfgpar_cli::parse_count(opt, args.value(), 0, SIZE_MAX);
    else if (opt == "--no-optimize") args.no_value(), optimize = false;
    else if (opt == "--profile") profile = file_value(opt, args);
    else return false;
    return true;
  }
  dfgpar::options schedule_options(bool clone = false) const {
    return {.workers = workers, .clone = clone, .effort = effort, .seed = seed, .time_limit_ms = time_limit_ms};
  }
  /// The value of `opt`, a file name (not empty).
  static std::string file_value(const std::string& opt, dfgpar_cli::arg_scanner& args) {
    std::string v = args.value();
    if (v.empty()) throw usage_error(opt + " needs a file name, not ''");
    return v;
  }
};

// ------------------------------------------------------------------ analyze

struct analyze_args : pipeline_args {
  bool clone = false;
  enum class cost_model { analytic, profile } costs = cost_model::analytic;
  bool cost_model_given = false;
  fs::path json, dot, svg, save_optimized;
};

/// Parses the arguments after "analyze"; nullopt when --help was asked for.
std::optional<analyze_args> parse_analyze(std::vector<std::string> argv) {
  analyze_args a;
  dfgpar_cli::arg_scanner args("analyze", std::move(argv));
  std::vector<std::string> positional;
  while (!args.done()) {
    const std::string opt = args.next();
    auto file = [&] { return pipeline_args::file_value(opt, args); };
    if (!args.is_option()) {
      if (!opt.empty()) positional.push_back(opt);
      continue;
    }
    if (opt == "-h" || opt == "--help") return std::nullopt;
    if (a.parse(opt, args)) continue;
    if (opt == "--clone") args.no_value(), a.clone = true;
    else if (opt == "--json") a.json = file();
    else if (opt == "--dot") a.dot = file();
    else if (opt == "--svg") a.svg = file();
    else if (opt == "--save-optimized") a.save_optimized = file();
    else if (opt == "--cost-model") {
      const std::string m = args.value();
      if (m == "analytic") a.costs = analyze_args::cost_model::analytic;
      else if (m == "profile") a.costs = analyze_args::cost_model::profile;
      else throw usage_error("--cost-model must be 'analytic' or 'profile', not '" + m + "'");
      a.cost_model_given = true;
    } else {
      args.unknown();
    }
  }
  if (positional.empty()) throw usage_error("analyze needs a model file (dfgpar analyze MODEL.onnx --workers P)");
  if (positional.size() > 1) throw usage_error("analyze takes one model file, got '" + positional[1] + "' too");
  a.model = positional[0];
  if (!a.profile.empty()) {
    if (a.cost_model_given && a.costs == analyze_args::cost_model::analytic)
      throw usage_error("--profile contradicts --cost-model analytic");
    a.costs = analyze_args::cost_model::profile;
  } else if (a.costs == analyze_args::cost_model::profile) {
    throw usage_error("--cost-model profile needs --profile F");
  }
  // the same file twice, or the model overwritten by an output
  std::vector<std::pair<const char*, const fs::path*>> outs = {
      {"--json", &a.json}, {"--dot", &a.dot}, {"--svg", &a.svg}, {"--save-optimized", &a.save_optimized}};
  std::map<fs::path, const char*> seen;
  std::error_code ec;
  seen[fs::weakly_canonical(a.model, ec)] = "the model";
  if (!a.profile.empty()) seen[fs::weakly_canonical(a.profile, ec)] = "--profile";
  for (auto [name, path] : outs) {
    if (path->empty() || dfgpar_cli::is_special(dfgpar_cli::resolved(*path))) continue;  // /dev/null twice is fine
    auto [it, fresh] = seen.emplace(fs::weakly_canonical(*path, ec), name);
    if (!fresh) throw usage_error(std::string(name) + " would overwrite " + it->second + " (" + path->string() + ")");
  }
  return a;
}

/// Wall-clock phase timer.
class phase_clock {
 public:
  void start() { t0_ = std::chrono::steady_clock::now(); }
  double stop_ms() const { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count(); }

 private:
  std::chrono::steady_clock::time_point t0_;
};

/// Warnings, each once, in order.
class warning_list {
 public:
  void add(const std::vector<std::string>& ws) {
    for (const auto& w : ws)
      if (seen_.insert(w).second) list_.push_back(w);
  }
  void add(const std::string& w) { add(std::vector<std::string>{w}); }
  void print(std::ostream& os) const {
    for (const auto& w : list_) os << "dfgpar: warning: " << w << '\n';
  }

 private:
  std::set<std::string> seen_;
  std::vector<std::string> list_;
};

/// A profile of MODEL.onnx re-keyed for the optimised model, whose node
/// indices differ: each optimised node finds its original by name (when the
/// name is unique) or else by an output tensor. Names stay names.
onnx::profile profile_for_optimized(const onnx::profile& p, const onnx::model& original, const onnx::model& optimized,
                                    warning_list& warnings) {
  onnx::profile out;
  out.onnxruntime = p.onnxruntime;
  out.by_name = p.by_name;
  if (p.by_node.empty()) return out;
  std::map<std::string, std::size_t> index_of_name, name_count;
  for (std::size_t i = 0; i < num_vertices(original.g); ++i)
    if (!original.g[i].name.empty() && ++name_count[original.g[i].name] == 1) index_of_name[original.g[i].name] = i;
  const auto& nodes = optimized.proto.graph().node();
  std::size_t used = 0;
  for (std::size_t v = 0; v < num_vertices(optimized.g); ++v) {
    const auto& info = optimized.g[v];
    std::optional<std::size_t> i;
    if (!info.name.empty() && name_count[info.name] == 1) i = index_of_name[info.name];
    for (const auto& t : nodes.Get(static_cast<int>(info.node)).output())
      if (auto it = original.producer.find(t); !i && it != original.producer.end()) i = it->second;
    if (auto it = i ? p.by_node.find(*i) : p.by_node.end(); it != p.by_node.end()) {
      out.by_node[info.node] = it->second;
      ++used;
    }
  }
  if (used < p.by_node.size())
    warnings.add("profile: " + std::to_string(p.by_node.size() - used) +
                 " measured node(s) are not in the analysed graph (folded, removed, or not nodes of the model)");
  return out;
}

std::string node_label(const onnx::graph& g, std::size_t v) {
  return g[v].name.empty() ? g[v].op_type + " #" + std::to_string(v) : g[v].name;
}

int run_analyze(const std::vector<std::string>& argv) {
  const auto parsed = parse_analyze(argv);
  if (!parsed) {
    std::cout << analyze_help_text();
    return 0;
  }
  const analyze_args& a = *parsed;
  for (const auto& [option, file] : {std::pair{"--json", &a.json}, {"--dot", &a.dot}, {"--svg", &a.svg}})
    if (!file->empty()) dfgpar_cli::check_output_path(*file, option, true);
  if (!a.save_optimized.empty()) dfgpar_cli::check_output_path(a.save_optimized, "--save-optimized", false);

  warning_list warnings;
  phase_clock clock;
  struct {
    double load = 0, optimize = 0, costs = 0, cluster = 0, output = 0;
  } phase_ms;

  // load: parse, checker, shape inference, graph (the model is read with
  // analytic costs; the cost phase below sets the costs that are used)
  clock.start();
  onnx::load_options lo;
  onnx::model original = onnx::load_model(a.model, lo);
  phase_ms.load = clock.stop_ms();
  warnings.add(original.warnings);

  // optimize: constant folding, Identity/Dropout removal, DCE, rebuild
  onnx::optimize_report opt_report;
  std::optional<onnx::model> optimized;
  if (a.optimize) {
    clock.start();
    try {
      // The rewritten model keeps the inferred shapes (value_info), so the
      // checker and shape inference are not rerun here; --save-optimized
      // runs the checker on what it writes.
      onnx::load_options rebuilt = lo;
      rebuilt.check = false;
      rebuilt.infer_shapes = false;
      optimized = onnx::optimize(original, onnx::optimize_options{.load = rebuilt}, &opt_report);
    } catch (const dfgpar::graph_error& e) {
      throw dfgpar::graph_error(a.model.string() + ": optimisation failed (try --no-optimize): " + e.what());
    }
    phase_ms.optimize = clock.stop_ms();
    warnings.add(optimized->warnings);
  }
  onnx::model& m = optimized ? *optimized : original;

  // cost model: analytic roofline, then measured times where profiled
  clock.start();
  m.warnings.clear();
  onnx::apply_costs(m, lo.costs);
  if (!a.profile.empty()) {
    const onnx::profile p = onnx::read_profile(a.profile);
    onnx::apply_profile(m, optimized ? profile_for_optimized(p, original, m, warnings) : p);
  }
  phase_ms.costs = clock.stop_ms();
  warnings.add(m.warnings);

  const onnx::graph& g = m.g;
  const auto cost = get(&onnx::node_info::cost, g);
  const auto comm = get(&onnx::edge_info::comm, g);

  // clustering + merge (+ cloning)
  clock.start();
  dfgpar::merge_report merge;
  dfgpar::options po = a.schedule_options(a.clone);
  po.report = &merge;
  const dfgpar::schedule s = a.clone ? dfgpar::parallelize(g, cost, comm, po, onnx::semantics(m))
                                     : dfgpar::parallelize(g, cost, comm, po);
  phase_ms.cluster = clock.stop_ms();

  // figures for the report (not timed: they repeat what the phases computed)
  const std::size_t linear_clusters = dfgpar::linear_clustering(g, cost, comm).clusters.size();
  const dfgpar::bounds b = dfgpar::compute_bounds(g, cost, a.workers);
  const dfgpar::cluster_times ct = dfgpar::simulate_clusters(g, s, cost, comm);
  const double makespan = ct.makespan;

  // outputs
  clock.start();
  {
    dfgpar_cli::staged_outputs out;
    auto label = [&](auto v) { return node_label(g, v); };
    if (!a.json.empty())
      out.write_stream(a.json, [&](std::ostream& os) { dfgpar::write_json_report(os, g, s, cost, comm, label); });
    if (!a.dot.empty())
      out.write_stream(a.dot, [&](std::ostream& os) {
        dfgpar::write_dot(os, g, s, [&](auto v) { return g[v].op_type + "\n" + node_label(g, v); });
      });
    if (!a.svg.empty())
      out.write_stream(a.svg, [&](std::ostream& os) {
        dfgpar::write_gantt_svg(os, g, s, cost, comm, [&](auto v) { return g[v].op_type + " " + node_label(g, v); },
                                dfgpar::gantt_options{.title = a.model.filename().string() + " on " +
                                                               std::to_string(a.workers) + " workers (predicted)",
                                                      .time_unit = "ms",
                                                      .time_scale = 1000});
      });
    if (!a.save_optimized.empty())
      out.write_file(a.save_optimized, [&](const fs::path& tmp) { onnx::save_model(m, tmp); });
    out.commit();
  }
  phase_ms.output = clock.stop_ms();

  // ---- report
  std::ostream& os = std::cout;
  auto field = [&](std::string_view name) -> std::ostream& {
    return os << name << std::string(name.size() < 20 ? 20 - name.size() : 1, ' ');
  };
  const std::size_t nodes_before = num_vertices(original.g), nodes_after = num_vertices(g);
  const bool profiled = a.costs == analyze_args::cost_model::profile;
  field("model") << a.model.string() << '\n';
  field("nodes") << nodes_before << " loaded, " << nodes_after << " after folding/DCE";
  if (a.optimize)
    os << " (" << opt_report.folded << " folded, " << opt_report.identities_removed << " Identity/Dropout removed, "
       << opt_report.dead_removed << " dead)\n";
  else
    os << " (--no-optimize)\n";
  std::vector<std::string> unknown_ops;
  for (std::size_t v = 0; v < nodes_after; ++v)
    if (!g[v].known_op) unknown_ops.push_back(g[v].op_type);
  if (!unknown_ops.empty())
    field("unknown operators") << unknown_ops.size() << " node(s), "
                               << (profiled ? "profiled or given the default cost: " : "given the default cost: ")
                               << dfgpar_cli::op_summary(unknown_ops) << '\n';
  field("cost model") << (profiled ? "profile " + a.profile.string() + " (analytic where not measured)"
                                   : std::string("analytic (roofline)"))
                      << '\n';
  field("work W") << dfgpar_cli::ms(b.work) << '\n';
  field("critical path CP") << dfgpar_cli::ms(b.critical_path) << '\n';
  field("W/CP") << dfgpar_cli::fixed(b.parallelism(), 2) << " (inter-operator parallelism bound)\n";
  field("clusters") << linear_clusters << " linear, merged into " << s.clusters.size() << " on " << a.workers
                    << (a.workers == 1 ? " worker" : " workers") << " (" << merge.heuristic << ")";
  if (s.num_copies() > nodes_after) os << ", " << s.num_copies() - nodes_after << " cloned node copies";
  os << '\n';
  field("cross-worker edges") << s.num_cross_worker_edges() << '\n';
  field("lower bound") << dfgpar_cli::ms(b.lower_bound) << " = max(CP, W/P)\n";
  const double speedup = makespan > 0 ? b.work / makespan : 1.0;
  const double bound_speedup = b.lower_bound > 0 ? b.work / b.lower_bound : 1.0;
  const double above = b.lower_bound > 0 ? std::max(100.0 * (makespan / b.lower_bound - 1), 0.0) : 0.0;
  field("makespan") << dfgpar_cli::ms(makespan) << " predicted at P=" << a.workers << ": speedup "
                    << dfgpar_cli::fixed(speedup, 2) << "x (bound " << dfgpar_cli::fixed(bound_speedup, 2) << "x), "
                    << dfgpar_cli::fixed(above, 1) << "% above the lower bound\n\n";

  dfgpar_cli::text_table t({"cluster", "worker", "nodes", "start ms", "finish ms", "ops"},
                           {true, true, true, true, true, false});
  for (std::size_t c = 0; c < s.clusters.size(); ++c) {
    std::vector<std::string> ops;
    for (std::size_t v : s.clusters[c].vertices) ops.push_back(g[v].op_type);
    t.add({std::to_string(c), std::to_string(s.clusters[c].worker), std::to_string(s.clusters[c].vertices.size()),
           dfgpar_cli::fixed(ct.start[c] / 1000, 3), dfgpar_cli::fixed(ct.finish[c] / 1000, 3),
           dfgpar_cli::op_summary(ops)});
  }
  t.print(os);
  os << '\n';
  field("phases (ms)") << "load " << dfgpar_cli::fixed(phase_ms.load, 1) << ", optimize "
                       << dfgpar_cli::fixed(phase_ms.optimize, 1) << ", cost model " << dfgpar_cli::fixed(phase_ms.costs, 1)
                       << ", clustering+merge " << dfgpar_cli::fixed(phase_ms.cluster, 1) << ", output "
                       << dfgpar_cli::fixed(phase_ms.output, 1) << '\n';
  os.flush();
  warnings.print(std::cerr);
  return 0;
}


// ------------------------------------------------------------------ emit

constexpr const char* emit_help = R"(Usage: dfgpar emit MODEL.onnx -o DIR [--workers P] [options]

Writes a PyTorch version of an ONNX model that runs its clusters in
parallel: DIR/model.py (a torch.nn.Module, tensors named after the ONNX
tensors, a comment with each op and its output shape) and
DIR/weights.safetensors (the safetensors layout, read by model.py with
torch.frombuffer; no dfgpar or safetensors package needed). The model is
folded, cleaned of dead code and scheduled as `dfgpar analyze` does.

model.py runs the graph as stages: nodes that everything else depends on or
feeds run inline with all intra-op threads; between them, each region's
worker parts (one method each) are forked with torch.jit.fork, one intra-op
thread each, or run inline, as the region's fork flag says (set from the
cost model; `model.py --tune` measures both and keeps the faster).
`forward_serial` runs the same methods without forking.

`python3 DIR/model.py [--threads N] [--runs R] [--tune]` checks the parallel
forward against the serial one on a random input and prints both latencies.

Operators the PyTorch back end cannot translate exactly are refused with a
message naming them (exit status 1); no file is written then.

Options:
  -o, --output DIR       output folder (created if missing; model.py and the
                         weights in it are replaced)
  -p, --workers P        workers (threads) to schedule onto, 1-1024
                         (default: the number of hardware threads, here %CORES%;
                         1 emits the serial version)
      --effort X         search effort of the merge step, 0-1000 (default 1)
      --time-limit MS    wall-clock cap on the merge search, ms (default 1000)
      --seed N           seed of the randomised merge search (default 1)
      --profile F        measured per-node times (as for analyze) instead of
                         the analytic cost model
      --no-optimize      skip constant folding, Identity/Dropout removal and
                         dead-code elimination
      --split            split every Conv that costs at least 2% of the
                         model into P output-channel parts, so the workers
                         can share it (off by default: on 2 cores PyTorch's
                         own threads run such a Conv faster, see README)
      --fork WHEN        the regions' fork flags in model.py: auto (the cost
                         model decides, default), always, never; `model.py
                         --tune` measures each region and picks
      --class-name NAME  name of the generated module class (default Model)
      --no-comments      no `# Op -> shape` comment above each operation
  -h, --help             this text

Examples:
  dfgpar emit googlenet.onnx -o googlenet_py --workers 2
  python3 googlenet_py/model.py --threads 2 --tune
)";

std::string emit_help_text() { return with_cores(emit_help); }

struct emit_args : pipeline_args {
  fs::path output;
  bool comments = true, split = false;
  dfgpar::pytorch::emit_options::fork_choice fork = dfgpar::pytorch::emit_options::fork_choice::cost_model;
  std::string class_name = "Model";
};

std::optional<emit_args> parse_emit(std::vector<std::string> argv) {
  emit_args a;
  dfgpar_cli::arg_scanner args("emit", std::move(argv));
  std::vector<std::string> positional;
  bool have_output = false;
  while (!args.done()) {
    const std::string opt = args.next();
    if (!args.is_option()) {
      if (!opt.empty()) positional.push_back(opt);
      continue;
    }
    if (opt == "-h" || opt == "--help") return std::nullopt;
    if (a.parse(opt, args)) continue;
    if (opt == "-o" || opt == "--output") a.output = pipeline_args::file_value(opt, args), have_output = true;
    else if (opt == "--no-comments") args.no_value(), a.comments = false;
    else if (opt == "--split") args.no_value(), a.split = true;
    else if (opt == "--fork") {
      using fc = dfgpar::pytorch::emit_options::fork_choice;
      const std::string v = args.value();
      if (v == "auto") a.fork = fc::cost_model;
      else if (v == "always") a.fork = fc::always;
      else if (v == "never") a.fork = fc::never;
      else throw usage_error("--fork takes auto, always or never, not '" + v + "'");
    }
    else if (opt == "--class-name") {
      a.class_name = args.value();
      if (!dfgpar::pytorch::is_safe_identifier(a.class_name))
        throw usage_error("--class-name must be a Python identifier (letters, digits, _), not '" + a.class_name + "'");
    } else {
      args.unknown();
    }
  }
  if (positional.empty()) throw usage_error("emit needs a model file (dfgpar emit MODEL.onnx -o DIR --workers P)");
  if (positional.size() > 1) throw usage_error("emit takes one model file, got '" + positional[1] + "' too");
  if (!have_output) throw usage_error("emit needs an output folder: -o DIR");
  a.model = positional[0];
  return a;
}

int run_emit(const std::vector<std::string>& argv) {
  const auto parsed = parse_emit(argv);
  if (!parsed) {
    std::cout << emit_help_text();
    return 0;
  }
  const emit_args& a = *parsed;
  std::error_code ec;
  if (fs::exists(a.output, ec) && !fs::is_directory(a.output, ec))
    throw dfgpar::graph_error(a.output.string() + " exists and is not a folder");

  warning_list warnings;
  onnx::load_options lo;
  onnx::model original = onnx::load_model(a.model, lo);
  warnings.add(original.warnings);
  std::optional<onnx::model> optimized;
  if (a.optimize) {
    try {
      optimized = onnx::optimize(original, onnx::optimize_options{.load = lo});
    } catch (const dfgpar::graph_error& e) {
      throw dfgpar::graph_error(a.model.string() + ": optimisation failed (try --no-optimize): " + e.what());
    }
    warnings.add(optimized->warnings);
  }
  onnx::model& m = optimized ? *optimized : original;
  m.warnings.clear();
  onnx::apply_costs(m, lo.costs);
  if (!a.profile.empty()) {
    const onnx::profile p = onnx::read_profile(a.profile);
    onnx::apply_profile(m, optimized ? profile_for_optimized(p, original, m, warnings) : p);
  }
  warnings.add(m.warnings);
  onnx::split_report split_report;
  std::optional<onnx::model> split;
  if (a.split && a.workers > 1) {
    split = onnx::split_convolutions(m, onnx::split_options{.parts = a.workers, .load = lo}, &split_report);
    warnings.add(split->warnings);
  }
  const onnx::model& final_model = split ? *split : m;
  const auto cost = get(&onnx::node_info::cost, final_model.g);
  const auto comm = get(&onnx::edge_info::comm, final_model.g);
  const dfgpar::options po = a.schedule_options();
  const dfgpar::schedule s = dfgpar::parallelize(final_model.g, cost, comm, po);

  std::vector<dfgpar::pytorch::emitted_file> files;
  try {
    files = dfgpar::pytorch::emit_pytorch(
        final_model, s, dfgpar::pytorch::emit_options{.class_name = a.class_name, .shape_comments = a.comments, .fork = a.fork});
  } catch (const dfgpar::graph_error& e) {
    throw dfgpar::graph_error(a.model.string() + ": " + e.what());
  }
  fs::create_directories(a.output, ec);
  if (ec) throw dfgpar::graph_error("cannot create the folder " + a.output.string() + ": " + ec.message());
  {
    dfgpar_cli::staged_outputs out;
    for (const auto& f : files)
      out.write_stream(a.output / f.name, [&](std::ostream& os) { os.write(f.content.data(), static_cast<std::streamsize>(f.content.size())); });
    out.commit();
  }
  std::cout << "wrote " << (a.output / "model.py").string() << " and " << (a.output / files.back().name).string() << " ("
            << num_vertices(final_model.g) << " nodes, " << a.workers << (a.workers == 1 ? " worker" : " workers");
  if (split_report.split)
    std::cout << ", " << split_report.split << (split_report.split == 1 ? " convolution" : " convolutions") << " split into "
              << a.workers << " parts";
  std::cout << ")\n"
            << "run:  python3 " << (a.output / "model.py").string() << " --tune\n";
  std::cout.flush();
  warnings.print(std::cerr);
  return 0;
}

// ------------------------------------------------------------------ main

int run(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << main_help;
    return 2;
  }
  const std::string& cmd = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "-h" || cmd == "--help") {
    std::cout << main_help;
    return 0;
  }
  if (cmd == "--version") {
    std::cout << "dfgpar " << DFGPAR_CLI_VERSION << '\n';
    return 0;
  }
  if (cmd == "help") {
    if (rest.empty()) std::cout << main_help;
    else if (rest[0] == "analyze") std::cout << analyze_help_text();
    else if (rest[0] == "emit") std::cout << emit_help_text();
    else throw usage_error("no help on '" + rest[0] + "': the commands are: analyze, emit");
    return 0;
  }
  if (cmd == "analyze") return run_analyze(rest);
  if (cmd == "emit") return run_emit(rest);
  throw usage_error("unknown command '" + cmd + "' (see dfgpar --help)");
}

}  // namespace

int main(int argc, char** argv) {
  // protobuf would print parse problems itself, over several lines; the
  // loader reports them in its one-line error instead
  google::protobuf::SetLogHandler(nullptr);
  std::ios::sync_with_stdio(false);
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const usage_error& e) {
    std::cerr << "dfgpar: " << e.what() << '\n';
    return 2;
  } catch (const dfgpar::graph_error& e) {
    std::cerr << "dfgpar: error: " << dfgpar::onnx::detail::one_line(e.what(), 600) << '\n';
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "dfgpar: error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "dfgpar: error: " << dfgpar::onnx::detail::one_line(e.what(), 600) << '\n';
    return 1;
  } catch (...) {
    std::cerr << "dfgpar: error: unknown failure\n";
    return 1;
  }
}
