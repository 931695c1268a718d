#pragma once
/// \file emitter.hpp
/// The PyTorch back end: `emit_pytorch(model, schedule)` writes a readable,
/// runnable `model.py` (a `torch.nn.Module`) plus its weights
/// (`weights.safetensors`), with the schedule's clusters running in parallel
/// through `torch.jit.fork` / `torch.jit.wait` in the scripted module.
/// No libtorch is needed to emit.
/// \code
///   auto m = dfgpar::onnx::optimize(dfgpar::onnx::load_model("googlenet.onnx"));
///   auto s = dfgpar::parallelize(m.g, get(&dfgpar::onnx::node_info::cost, m.g),
///                                get(&dfgpar::onnx::edge_info::comm, m.g), dfgpar::options{.workers = 2});
///   for (const auto& f : dfgpar::pytorch::emit_pytorch(m, s)) write(dir / f.name, f.content);
/// \endcode
///
/// The work is done in four steps, one header each: plan.hpp decides the
/// stages, units and hand-offs (no text), naming.hpp names them,
/// codegen.hpp translates the nodes and fills the fixed Python of
/// runtime_text.hpp.
///
/// Structure of model.py: the graph is cut into *stages* at its width-1
/// points (nodes that every other node is an ancestor or a descendant of,
/// such as GoogLeNet's Concats). Between two such points lies a *region*:
/// there the schedule's clusters run in parallel. Each worker's part of a
/// region is a method (cut into several parts where a value crosses to
/// another worker mid-way, so every hand-off is a method's return value),
/// and the region's method either forks all of them (`torch.jit.fork`, one
/// intra-op thread each, the calling thread only waits and hands values on)
/// or runs them one after the other on the calling thread with all its
/// intra-op threads. Which one is a per-region flag: set from the cost model
/// (forked makespan against the work divided by the intra-op speed-up), or
/// from a moldable schedule of measured t(v, k) (emit_options::moldable), and
/// re-measured by `tune()` in model.py. Runs of width-1 nodes are inline
/// stages: one method each, run on the calling thread with all intra-op
/// threads. `forward` runs the stages with the flags, `forward_serial` the
/// same methods with no fork. `set_threads()` in model.py starts PyTorch's
/// inter-op pool with one intra-op thread per pool thread and then gives the
/// calling thread the requested intra-op threads, so the two kinds of
/// parallelism never oversubscribe the cores.

#include <dfgpar/cluster/parallelize.hpp>
#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/error.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/pipeline.hpp>
#include <dfgpar/pytorch/codegen.hpp>
#include <dfgpar/pytorch/names.hpp>
#include <dfgpar/pytorch/naming.hpp>
#include <dfgpar/pytorch/plan.hpp>

#include <string>
#include <vector>

namespace dfgpar::pytorch {

/// Emits model.py and the weights for `m` run as `s` says. `s` must be a
/// finalized schedule of `m.g` (vertex i = node i of m.proto).
/// \throws unsupported_op for an operator it cannot translate (the message
/// names it), dfgpar::graph_error for other problems.
/// `plan`, when given, receives the stage plan model.py was written from.
inline std::vector<emitted_file> emit_pytorch(const onnx::model& m, const schedule& s, const emit_options& o = {},
                                              stage_plan* plan = nullptr) {
  if (o.weights_file.empty() || o.weights_file == "model.py" ||
      o.weights_file.find_first_of("/\\") != std::string::npos || o.weights_file[0] == '.')
    throw graph_error("the weights file name must be a plain file name, not " +
                      python_string(o.weights_file));
  const model_view view(m);
  stage_plan p = plan_stages(m, view, s, o.planning());
  const module_names names(view, p);
  auto files = module_codegen(view, p, names, o).generate();
  if (plan) *plan = std::move(p);
  return files;
}

/// Emits the model a pipeline compiled (`onnx::compile`, its scheduled
/// model). When the pipeline scheduled from measured times per thread count
/// (`r.moldable`: the schedule `dfgpar run` executes), model.py's regions
/// and parts are cut by a single-core schedule made with `single_core`
/// (`parallelize` on the node costs, no cloning), so that every region keeps
/// a fork flag `tune()` can try both ways, and the moldable schedule sets
/// the flags (emit_options::moldable: side by side there, forked here).
/// Otherwise the pipeline's schedule, as `emit_pytorch(m, s)`.
/// \code
///   auto r = dfgpar::onnx::compile("googlenet.onnx", {.profile = "prof.json", .schedule = {.workers = 2}});
///   auto files = dfgpar::pytorch::emit_pytorch(r, {.workers = 2});
/// \endcode
inline std::vector<emitted_file> emit_pytorch(const onnx::compile_result& r, const dfgpar::options& single_core,
                                              emit_options o = {}, stage_plan* plan = nullptr) {
  const onnx::model& m = r.scheduled();
  if (!r.moldable) return emit_pytorch(m, r.schedule, o, plan);
  dfgpar::options po = single_core;
  po.clone = false;
  po.report = nullptr;
  const schedule s = dfgpar::parallelize(m.g, get(&onnx::node_info::cost, m.g), get(&onnx::edge_info::comm, m.g), po);
  o.moldable = &r.schedule;
  return emit_pytorch(m, s, o, plan);
}

}  // namespace dfgpar::pytorch
