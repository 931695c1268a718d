#pragma once
/// \file graph.hpp
/// The ONNX adapter's data types: a loaded model, its dataflow graph and the
/// per-tensor facts (type, shape, bytes) the cost model and passes use.
///
/// The ONNX library lives in namespace `::onnx` (built with
/// ONNX_NAMESPACE=onnx); dfgpar's adapter is `dfgpar::onnx`, so the library is
/// always spelled `::onnx::` here.
///
/// Invariant: right after `load_model`/`build_model`, vertex i of `model::g`
/// is node i of `model::proto.graph().node()` (`g[i].node == i`). A pass that
/// edits the proto rebuilds the whole model with `build_model` rather than
/// patching the graph.

#include <onnx/onnx_pb.h>

#include <dfgpar/error.hpp>

#include <boost/graph/adjacency_list.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dfgpar::onnx {

/// What is known about one value (graph input, initializer or node output).
struct tensor_info {
  std::string name;
  std::int32_t elem_type = 0;        ///< ::onnx::TensorProto_DataType (0: unknown)
  std::vector<std::int64_t> shape;   ///< -1 = unknown dimension
  bool shape_known = false;          ///< rank and every dimension known
  std::uint64_t bytes = 0;           ///< product(shape) * element size; 0 when not known
  bool constant = false;             ///< an initializer or a Constant node's output

  /// Whether the rank is known (some dimension values may still be -1: a
  /// symbolic `dim_param` has a rank but no value).
  bool rank_known() const noexcept { return shape_known || !shape.empty(); }
};

/// One ONNX node = one vertex.
struct node_info {
  std::size_t node = 0;       ///< index in model.proto.graph().node()
  std::string name, op_type, domain;
  double flops = 0, bytes = 0;  ///< analytic estimate (floating point operations, bytes read + written)
  double cost = 0;              ///< µs, from the cost model (or a measured profile)
  bool known_op = true;         ///< false: the cost model does not know the operator; a default cost is used
};

/// One (producer node, consumer node, tensor) triple = one edge.
struct edge_info {
  std::string tensor;
  std::uint64_t bytes = 0;
  double comm = 0;  ///< µs to hand the tensor to another worker
};

/// The dataflow graph of an ONNX model; cost map `get(&node_info::cost, g)`,
/// communication map `get(&edge_info::comm, g)`.
using graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, node_info, edge_info>;

/// The two roofline constants plus fixed overheads: a node takes
/// max(flops / peak, bytes / bandwidth) + overhead. Defaults: see cost_model.hpp.
struct roofline {
  double peak_gflops = 0;         ///< sustained GFLOP/s of one core (0: use the calibrated default)
  double bandwidth_gbs = 0;       ///< sustained GB/s of one core's memory traffic (0: default)
  double overhead_us = -1;        ///< fixed cost per node (negative: default)
  double comm_latency_us = -1;    ///< fixed cost of a cross-worker hand-off (negative: default)
  double comm_bandwidth_gbs = 0;  ///< bandwidth of a cross-worker hand-off (0: default)
  double unknown_op_us = -1;      ///< cost of an operator the model does not know (negative: default)
};

/// A graph input's dimensions as a user fixes them (`--input-shape
/// NAME=d0,d1,...`, like ONNX Runtime's free-dimension overrides).
struct input_shape {
  std::string name;                ///< the graph input
  std::vector<std::int64_t> dims;  ///< every dimension, in order (rank = size)
  friend bool operator==(const input_shape&, const input_shape&) = default;
};

/// How to load a model.
struct load_options {
  bool check = true;                     ///< run ::onnx::checker::check_model
  bool infer_shapes = true;              ///< run ::onnx::shape_inference::InferShapes
  bool load_external_data = true;        ///< read external tensors into raw_data
  std::uint64_t max_file_bytes = 2ull << 30;  ///< refuse larger .onnx files (protobuf's own limit is 2 GiB)
  std::uint64_t max_external_bytes = 16ull << 30;  ///< refuse more external data than this in total
  roofline costs{};                      ///< cost model constants
  std::filesystem::path profile;         ///< if set: measured per-node times (dfgpar or ONNX Runtime JSON)
  /// Dimensions of graph inputs, fixed before the checker and shape
  /// inference run. An unknown input name, a wrong rank or a dimension that
  /// contradicts a fixed one in the model is an error.
  std::vector<input_shape> input_shapes;
  /// A symbolic dimension that is only ever the batch (dimension 0 of graph
  /// inputs, its name used nowhere else in the inputs and outputs) becomes 1,
  /// with a warning. Inputs named in `input_shapes` keep what is given there.
  bool default_batch = false;
};

/// A loaded ONNX model and its dataflow graph.
struct model {
  ::onnx::ModelProto proto;                               ///< after checker + shape inference, external data inlined
  std::filesystem::path path;                             ///< where it came from (external data is relative to its folder)
  graph g;                                                ///< one vertex per node, one edge per (producer, consumer, tensor)
  /// Every value name (inputs, initializers, node outputs), and the values
  /// inside If/Loop/Scan bodies (recursively) under their own names; where
  /// two sibling bodies define the same name, the first one's (for an exact
  /// per-body view: `detail::collect_tensors(body, map)`).
  std::unordered_map<std::string, tensor_info> tensors;
  std::unordered_map<std::string, std::size_t> producer;  ///< tensor name -> vertex (node outputs only)
  std::vector<std::string> warnings;                      ///< e.g. unknown operator, default cost used
  /// The graph inputs whose dimensions `load_options::input_shapes` or
  /// `default_batch` fixed where the file left them open (symbolic or
  /// unknown), with all their dimensions (-1 where one is still open), in
  /// input order: the shapes this model (and anything emitted from it) is
  /// specialised to.
  std::vector<input_shape> specialised_inputs;
  /// `optimize_moving_weights` moved the initializers' data into the
  /// optimised model: `proto` keeps their names, types and shapes only.
  bool weights_moved = false;
};

/// Bytes per element of an ONNX data type (0 for strings and unknown types).
inline std::uint64_t element_size(std::int32_t elem_type) noexcept {
  switch (elem_type) {
    case ::onnx::TensorProto::FLOAT: case ::onnx::TensorProto::INT32: case ::onnx::TensorProto::UINT32: return 4;
    case ::onnx::TensorProto::UINT8: case ::onnx::TensorProto::INT8: case ::onnx::TensorProto::BOOL: return 1;
    case ::onnx::TensorProto::UINT16: case ::onnx::TensorProto::INT16: case ::onnx::TensorProto::FLOAT16:
    case ::onnx::TensorProto::BFLOAT16: return 2;
    case ::onnx::TensorProto::INT64: case ::onnx::TensorProto::UINT64: case ::onnx::TensorProto::DOUBLE:
    case ::onnx::TensorProto::COMPLEX64: return 8;
    case ::onnx::TensorProto::COMPLEX128: return 16;
    default: return 0;
  }
}

namespace detail {

/// Text from a model file made safe for a one-line message: control bytes
/// escaped, long text cut.
inline std::string quote_raw(std::string_view s, std::size_t max = 80) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}
inline std::string quote(std::string_view s) { return "'" + quote_raw(s) + "'"; }

using ::dfgpar::one_line;

[[noreturn]] inline void fail(const std::string& msg) { throw graph_error(one_line(msg, 600)); }

}  // namespace detail

// Defined in <dfgpar/onnx/model.hpp> (include <dfgpar/onnx/onnx.hpp> for everything):
//   model load_model(const std::filesystem::path&, const load_options& = {});
//   model build_model(::onnx::ModelProto, std::filesystem::path base_dir, const load_options& = {});
// Both throw dfgpar::graph_error with a one-line message.

}  // namespace dfgpar::onnx
