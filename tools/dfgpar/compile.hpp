#pragma once
// The shared pipeline options of the CLI (args.hpp) turned into a call of
// the library's dfgpar::onnx::compile, with the CLI's hint on failure.

#include "args.hpp"

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/pipeline.hpp>

#include <string>

namespace dfgpar_cli {

/// What `compile` does beyond the shared options.
struct compile_extras {
  bool clone = false;  ///< analyze --clone
  bool split = false;  ///< emit --split
};

/// The library's compile options for the shared options (`--input-shape`
/// parsed here: a bad one is a usage error).
inline dfgpar::onnx::compile_options compile_options_of(const pipeline_args& a, compile_extras x = {}) {
  dfgpar::onnx::compile_options o{
      .optimize = a.optimize,
      .profile = a.profile,
      .split = x.split,
      .schedule = {.workers = a.workers, .clone = x.clone, .effort = a.effort, .seed = a.seed,
                   .time_limit_ms = a.time_limit_ms},
  };
  o.default_batch = a.default_batch;
  for (const auto& text : a.input_shapes) {
    try {
      o.input_shapes.push_back(dfgpar::onnx::parse_input_shape(text));
    } catch (const dfgpar::graph_error& e) {
      throw usage_error(std::string("--input-shape: ") + e.what());
    }
  }
  return o;
}

/// Runs the library's pipeline on `a.model`.
inline dfgpar::onnx::compile_result compile_model(const pipeline_args& a, compile_extras x = {}) {
  const dfgpar::onnx::compile_options o = compile_options_of(a, x);
  try {
    return dfgpar::onnx::compile(a.model, o);
  } catch (const dfgpar::onnx::compile_error& e) {
    if (e.phase() != dfgpar::onnx::compile_phase::optimize) throw;
    throw dfgpar::graph_error(a.model.string() + ": optimisation failed (try --no-optimize): " + e.cause());
  }
}

}  // namespace dfgpar_cli
