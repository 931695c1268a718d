#pragma once
/// \file onnx.hpp
/// The ONNX adapter in one include: load a model, its dataflow graph and
/// costs, measured profiles. Needs the ONNX library (compile with
/// ONNX_ML=1 ONNX_NAMESPACE=onnx, link onnx, onnx_proto, protobuf; the CMake
/// target `dfgpar::onnx` does all of that).
/// \code
/// auto m = dfgpar::onnx::load_model("model.onnx");
/// auto s = dfgpar::parallelize(m.g, get(&dfgpar::onnx::node_info::cost, m.g),
///                              get(&dfgpar::onnx::edge_info::comm, m.g), dfgpar::options{.workers = 2});
/// \endcode

#include <dfgpar/onnx/cost_model.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/model.hpp>
#include <dfgpar/onnx/profile.hpp>
