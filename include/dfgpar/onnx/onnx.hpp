#pragma once
/// \file onnx.hpp
/// The ONNX adapter in one include: the operator table, the attribute reader
/// and the argument layer, load a model, its dataflow graph and costs,
/// measured profiles, tensors, the op semantics and evaluator used by
/// constant folding, `optimize`, Conv splitting, `save_model`, and the whole
/// pipeline `compile`. Needs the ONNX library (compile with ONNX_ML=1
/// ONNX_NAMESPACE=onnx, link onnx, onnx_proto, protobuf; the CMake target
/// `dfgpar::onnx` does all of that).
/// \code
/// auto r = dfgpar::onnx::compile("model.onnx", {.schedule = {.workers = 2}});
/// // r.scheduled().g, r.schedule, r.bounds, r.times, r.phases
/// \endcode

#include <dfgpar/onnx/args/args.hpp>
#include <dfgpar/onnx/attributes.hpp>
#include <dfgpar/onnx/cost_model.hpp>
#include <dfgpar/onnx/evaluate.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/model.hpp>
#include <dfgpar/onnx/op_table.hpp>
#include <dfgpar/onnx/optimize.hpp>
#include <dfgpar/onnx/pipeline.hpp>
#include <dfgpar/onnx/profile.hpp>
#include <dfgpar/onnx/save.hpp>
#include <dfgpar/onnx/semantics.hpp>
#include <dfgpar/onnx/split.hpp>
#include <dfgpar/onnx/tensor.hpp>
