// `dfgpar emit MODEL.onnx -o DIR --workers P [options]`: runs the pipeline
// (dfgpar::onnx::compile) and writes DIR/model.py and its weights.

#include "args.hpp"
#include "commands.hpp"
#include "compile.hpp"
#include "output_files.hpp"
#include "report.hpp"

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/pipeline.hpp>
#include <dfgpar/pytorch/emitter.hpp>

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace dfgpar_cli {

namespace {

namespace fs = std::filesystem;
namespace onnx = dfgpar::onnx;

constexpr std::string_view emit_help = R"(Usage: dfgpar emit MODEL.onnx -o DIR [--workers P] [options]

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
cost model, or from the moldable schedule with a --profile that has times
per thread count; `model.py --tune` measures both and keeps the faster).
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
                         the analytic cost model; with times per thread count
                         (`dfgpar run --profile` writes "us_by_threads") the
                         regions' fork flags follow the moldable schedule that
                         `dfgpar run` executes: a region it runs side by side
                         forks, one it runs intra-op runs inline on all threads
      --no-optimize      skip constant folding, Identity/Dropout removal and
                         dead-code elimination
      --input-shape NAME=d0,d1,...
                         fix the dimensions of graph input NAME (repeatable),
                         e.g. x=1,3,640,640: what symbolic dimensions (N, H, W)
                         are folded, costed and emitted with. A symbolic dimension that
                         is only the batch is taken as 1 (with a warning);
                         others left open are costed as 1 and named in a
                         warning. Exit status 2 for bad syntax, 1 when it does
                         not fit the model (no such input, other rank, a
                         fixed dimension that differs)
      --dynamic-batch    keep a symbolic batch dimension symbolic instead of 1
      --split            split every Conv that costs at least 2% of the
                         model into P output-channel parts, so the workers
                         can share it (off by default: on 2 cores PyTorch's
                         own threads run such a Conv faster, see README)
      --fork WHEN        the regions' fork flags in model.py: auto (the cost
                         model, or the moldable schedule of --profile,
                         decides; default), always, never; `model.py
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

/// Parses the arguments after "emit"; nullopt when --help was asked for.
std::optional<emit_args> parse_emit(std::vector<std::string> argv) {
  emit_args a;
  arg_scanner args("emit", std::move(argv));
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
    if (opt == "-o" || opt == "--output") a.output = args.file_value(), have_output = true;
    else if (opt == "--no-comments") args.no_value(), a.comments = false;
    else if (opt == "--split") args.no_value(), a.split = true;
    else if (opt == "--fork") {
      using fc = dfgpar::pytorch::emit_options::fork_choice;
      const std::string v = args.value();
      if (v == "auto") a.fork = fc::cost_model;
      else if (v == "always") a.fork = fc::always;
      else if (v == "never") a.fork = fc::never;
      else throw usage_error("--fork takes auto, always or never, not '" + v + "'");
    } else if (opt == "--class-name") {
      a.class_name = args.value();
      if (!dfgpar::pytorch::is_safe_identifier(a.class_name))
        throw usage_error("--class-name must be a Python identifier (letters, digits, _), not '" + a.class_name + "'");
    } else {
      args.unknown();
    }
  }
  a.take_model(positional, "emit", "dfgpar emit MODEL.onnx -o DIR --workers P");
  if (!have_output) throw usage_error("emit needs an output folder: -o DIR");
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

  const onnx::compile_result r = compile_model(a, {.split = a.split});
  const onnx::model& m = r.scheduled();
  std::vector<dfgpar::pytorch::emitted_file> files;
  dfgpar::pytorch::stage_plan plan;
  try {
    dfgpar::pytorch::emit_options eo{.class_name = a.class_name, .shape_comments = a.comments, .fork = a.fork};
    // model.py states and checks the input shapes the folding assumed.
    for (const auto& s : r.specialised_inputs) eo.input_shapes[s.name] = s.dims;
    // with times per thread count, the moldable schedule `run` executes sets the fork flags
    files = dfgpar::pytorch::emit_pytorch(r, compile_options_of(a, {.split = a.split}).schedule, eo, &plan);
  } catch (const dfgpar::graph_error& e) {
    throw dfgpar::graph_error(a.model.string() + ": " + e.what());
  }
  fs::create_directories(a.output, ec);
  if (ec) throw dfgpar::graph_error("cannot create the folder " + a.output.string() + ": " + ec.message());
  {
    staged_outputs out;
    for (const auto& f : files)
      out.write_stream(a.output / f.name, [&](std::ostream& os) {
        os.write(f.content.data(), static_cast<std::streamsize>(f.content.size()));
      });
    out.commit();
  }
  const std::size_t split = r.splitting.split;
  std::cout << "wrote " << (a.output / "model.py").string() << " and " << (a.output / files.back().name).string() << " ("
            << num_vertices(m.g) << " nodes, " << a.workers << (a.workers == 1 ? " worker" : " workers");
  if (split) std::cout << ", " << split << (split == 1 ? " convolution" : " convolutions") << " split into " << a.workers << " parts";
  std::cout << ")\n";
  if (const std::size_t regions = plan.regions(); regions > 0) {
    std::size_t forked = 0;
    for (const auto& st : plan.stages) forked += st.region && st.fork ? 1 : 0;
    std::cout << "fork flags: " << forked << " of " << regions << (regions == 1 ? " region" : " regions")
              << " forked, from "
              << (a.fork != dfgpar::pytorch::fork_choice::cost_model ? "--fork"
                  : r.moldable ? "the moldable schedule (the profile's times per thread count)"
                               : "the cost model")
              << "\n";
  }
  std::cout << "run:  python3 " << (a.output / "model.py").string() << " --tune\n";
  std::cout.flush();
  print_warnings(std::cerr, r.warnings);
  return 0;
}

}  // namespace

const command emit_command{
    "emit", "MODEL.onnx -o DIR --workers P [options]",
    R"(the same pipeline, then write DIR/model.py (a readable PyTorch
            module whose clusters run in parallel with torch.jit.fork) and
            DIR/weights.safetensors.)",
    emit_help_text, run_emit};

}  // namespace dfgpar_cli
