// `dfgpar analyze MODEL.onnx --workers P [options]`: runs the pipeline
// (dfgpar::onnx::compile) and reports the predicted schedule; optionally
// writes a JSON report, a DOT picture, an SVG Gantt chart and the optimised
// model.

#include "args.hpp"
#include "commands.hpp"
#include "compile.hpp"
#include "moldable_report.hpp"
#include "output_files.hpp"
#include "report.hpp"

#include <dfgpar/io/dot.hpp>
#include <dfgpar/io/gantt_svg.hpp>
#include <dfgpar/io/json_report.hpp>
#include <dfgpar/onnx/pipeline.hpp>
#include <dfgpar/onnx/save.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dfgpar_cli {

namespace {

namespace fs = std::filesystem;
namespace onnx = dfgpar::onnx;

constexpr std::string_view analyze_help = R"(Usage: dfgpar analyze MODEL.onnx [--workers P] [options]

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
                         dead-code elimination (by default they run to a fixed
                         point: fold, remove dead code, infer shapes again,
                         fold again, at most 16 rounds; constant If conditions
                         take their branch)
      --input-shape NAME=d0,d1,...
                         fix the dimensions of graph input NAME (repeatable),
                         e.g. x=1,3,640,640: what symbolic dimensions (N, H, W)
                         are costed and folded with. A symbolic dimension that
                         is only the batch is taken as 1 (with a warning);
                         others left open are costed as 1 and named in a
                         warning. Exit status 2 for bad syntax, 1 when it does
                         not fit the model (no such input, other rank, a
                         fixed dimension that differs)
      --dynamic-batch    keep a symbolic batch dimension symbolic instead of 1

Costs:
      --cost-model M     analytic: roofline estimate from FLOPs and bytes
                         (default); profile: measured times from --profile
      --profile F        per-node times of MODEL.onnx: dfgpar's profile JSON
                         ({"dfgpar_profile": 1, "nodes": [{"node": i, "us": t}]},
                         node indices of MODEL.onnx) or an ONNX Runtime profile
                         (matched by node name). Implies --cost-model profile;
                         nodes it does not mention keep the analytic cost.
                         A profile with times per thread count ("us_by_threads",
                         written by `dfgpar run --profile`) is scheduled with
                         the moldable scheduler: each node gets 1..P cores;
                         the report shows the allotments, the predicted
                         makespan and, per region between width-one nodes,
                         side by side or intra-op

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

std::string analyze_help_text() { return with_cores(analyze_help); }

struct analyze_args : pipeline_args {
  bool clone = false;
  enum class cost_model { analytic, profile } costs = cost_model::analytic;
  bool cost_model_given = false;
  fs::path json, dot, svg, save_optimized;
};

/// Parses the arguments after "analyze"; nullopt when --help was asked for.
std::optional<analyze_args> parse_analyze(std::vector<std::string> argv) {
  analyze_args a;
  arg_scanner args("analyze", std::move(argv));
  std::vector<std::string> positional;
  while (!args.done()) {
    const std::string opt = args.next();
    if (!args.is_option()) {
      if (!opt.empty()) positional.push_back(opt);
      continue;
    }
    if (opt == "-h" || opt == "--help") return std::nullopt;
    if (a.parse(opt, args)) continue;
    if (opt == "--clone") args.no_value(), a.clone = true;
    else if (opt == "--json") a.json = args.file_value();
    else if (opt == "--dot") a.dot = args.file_value();
    else if (opt == "--svg") a.svg = args.file_value();
    else if (opt == "--save-optimized") a.save_optimized = args.file_value();
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
  a.take_model(positional, "analyze", "dfgpar analyze MODEL.onnx --workers P");
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
    if (path->empty() || is_special(resolved(*path))) continue;  // /dev/null twice is fine
    auto [it, fresh] = seen.emplace(fs::weakly_canonical(*path, ec), name);
    if (!fresh) throw usage_error(std::string(name) + " would overwrite " + it->second + " (" + path->string() + ")");
  }
  return a;
}

std::string node_label(const onnx::graph& g, std::size_t v) {
  return g[v].name.empty() ? g[v].op_type + " #" + std::to_string(v) : g[v].name;
}

/// Writes the requested output files, each whole or not at all.
void write_outputs(const analyze_args& a, const onnx::compile_result& r) {
  const onnx::graph& g = r.scheduled().g;
  const dfgpar::schedule& s = r.schedule;
  const auto cost = get(&onnx::node_info::cost, g);
  const auto comm = get(&onnx::edge_info::comm, g);
  staged_outputs out;
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
    out.write_file(a.save_optimized, [&](const fs::path& tmp) { onnx::save_model(r.scheduled(), tmp); });
  out.commit();
}

/// The text report: what compile found, nothing recomputed.
void print_report(std::ostream& os, const analyze_args& a, const onnx::compile_result& r, double output_ms) {
  const onnx::graph& g = r.scheduled().g;
  const dfgpar::schedule& s = r.schedule;
  const dfgpar::bounds& b = r.bounds;
  auto field = [&](std::string_view name) -> std::ostream& {
    return os << name << std::string(name.size() < 20 ? 20 - name.size() : 1, ' ');
  };
  const std::size_t nodes_before = num_vertices(r.original.g), nodes_after = num_vertices(g);
  const bool profiled = a.costs == analyze_args::cost_model::profile;
  field("model") << a.model.string() << '\n';
  field("nodes") << nodes_before << " loaded, " << nodes_after << " after folding/DCE";
  if (a.optimize) {
    os << " (" << r.optimization.folded << " folded, " << r.optimization.identities_removed
       << " Identity/Dropout removed, " << r.optimization.dead_removed << " dead";
    if (r.optimization.ifs_inlined) os << ", " << r.optimization.ifs_inlined << " constant If inlined";
    if (r.optimization.subgraph_nodes_removed)
      os << ", " << r.optimization.subgraph_nodes_removed << " folded/removed in subgraphs";
    os << "; " << r.optimization.rounds << (r.optimization.rounds == 1 ? " round" : " rounds")
       << (r.optimization.fixed_point ? "" : ", stopped before a fixed point") << ")\n";
  } else {
    os << " (--no-optimize)\n";
  }
  if (!r.specialised_inputs.empty()) {
    field("input shapes");
    for (std::size_t i = 0; i < r.specialised_inputs.size(); ++i) {
      const auto& in = r.specialised_inputs[i];
      os << (i ? ", " : "") << in.name << " [";
      for (std::size_t k = 0; k < in.dims.size(); ++k) os << (k ? "," : "") << in.dims[k];
      os << "]";
    }
    os << " (open dimensions fixed; the schedule is for these shapes)\n";
  }
  std::vector<std::string> unknown_ops;
  for (std::size_t v = 0; v < nodes_after; ++v)
    if (!g[v].known_op) unknown_ops.push_back(g[v].op_type);
  if (!unknown_ops.empty())
    field("unknown operators") << unknown_ops.size() << " node(s), "
                               << (profiled ? "profiled or given the default cost: " : "given the default cost: ")
                               << op_summary(unknown_ops) << '\n';
  field("cost model") << (profiled ? "profile " + a.profile.string() + " (analytic where not measured)"
                                   : std::string("analytic (roofline)"))
                      << (r.moldable ? ", times per thread count: moldable schedule (cores per node)" : "") << '\n';
  field("work W") << ms(b.work) << '\n';
  field("critical path CP") << ms(b.critical_path) << '\n';
  field("W/CP") << fixed(b.parallelism(), 2) << " (inter-operator parallelism bound)\n";
  field("clusters") << r.merge.linear_clusters << " linear, merged into " << s.clusters.size() << " on " << a.workers
                    << (a.workers == 1 ? " worker" : " workers") << " (" << r.merge.heuristic << ")";
  if (s.num_copies() > nodes_after) os << ", " << s.num_copies() - nodes_after << " cloned node copies";
  os << '\n';
  field("cross-worker edges") << s.num_cross_worker_edges() << '\n';
  field("lower bound") << ms(b.lower_bound) << " = max(CP, W/P)\n";
  const double makespan = r.times.makespan;
  const double speedup = makespan > 0 ? b.work / makespan : 1.0;
  const double bound_speedup = b.lower_bound > 0 ? b.work / b.lower_bound : 1.0;
  const double above = b.lower_bound > 0 ? std::max(100.0 * (makespan / b.lower_bound - 1), 0.0) : 0.0;
  field("makespan") << ms(makespan) << " predicted at P=" << a.workers << ": speedup " << fixed(speedup, 2)
                    << "x (bound " << fixed(bound_speedup, 2) << "x), " << fixed(above, 1)
                    << "% above the lower bound\n";
  if (r.moldable) print_moldable_plan(os, g, *r.moldable, a.workers);
  os << '\n';

  text_table t({"cluster", "worker", "nodes", "start ms", "finish ms", "ops"}, {true, true, true, true, true, false});
  for (std::size_t c = 0; c < s.clusters.size(); ++c) {
    std::vector<std::string> ops;
    for (std::size_t v : s.clusters[c].vertices) ops.push_back(g[v].op_type);
    t.add({std::to_string(c), std::to_string(s.clusters[c].worker), std::to_string(s.clusters[c].vertices.size()),
           fixed(r.times.start[c] / 1000, 3), fixed(r.times.finish[c] / 1000, 3), op_summary(ops)});
  }
  t.print(os);
  os << '\n';
  field("phases (ms)") << "load " << fixed(r.phases.load, 1) << ", optimize " << fixed(r.phases.optimize, 1)
                       << ", cost model " << fixed(r.phases.costs, 1) << ", clustering+merge "
                       << fixed(r.phases.schedule, 1) << ", output " << fixed(output_ms, 1) << '\n';
}

int run_analyze(const std::vector<std::string>& argv) {
  const auto parsed = parse_analyze(argv);
  if (!parsed) {
    std::cout << analyze_help_text();
    return 0;
  }
  const analyze_args& a = *parsed;
  for (const auto& [option, file] : {std::pair{"--json", &a.json}, {"--dot", &a.dot}, {"--svg", &a.svg}})
    if (!file->empty()) check_output_path(*file, option, true);
  if (!a.save_optimized.empty()) check_output_path(a.save_optimized, "--save-optimized", false);

  const onnx::compile_result r = compile_model(a, {.clone = a.clone});
  const auto t0 = std::chrono::steady_clock::now();
  write_outputs(a, r);
  const double output_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  print_report(std::cout, a, r, output_ms);
  std::cout.flush();
  print_warnings(std::cerr, r.warnings);
  return 0;
}

}  // namespace

const command analyze_command{
    "analyze", "MODEL.onnx --workers P [options]",
    R"(load an ONNX model, fold constants and remove dead code, estimate
            node costs, cluster the graph along its critical paths, merge the
            clusters onto P workers and report the predicted schedule
            (nodes, work W, critical path CP, W/CP, makespan, speedup,
            clusters, phase times); optionally write a JSON report, a
            Graphviz DOT picture, an SVG Gantt chart and the optimised model.)",
    analyze_help_text, run_analyze};

}  // namespace dfgpar_cli
