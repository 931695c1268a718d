#pragma once
/// \file save.hpp
/// Writes a model (typically the result of `optimize`) back to an .onnx file.
/// \code dfgpar::onnx::save_model(dfgpar::onnx::optimize(m), "model.opt.onnx"); \endcode

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/graph.hpp>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <system_error>

namespace dfgpar::onnx {

/// How to save.
struct save_options {
  bool check = true;  ///< run the ONNX checker first and refuse an invalid model
  /// Drop the value_info that shape inference added (smaller file; ONNX
  /// Runtime and the loader infer it again). Graph inputs/outputs keep theirs.
  bool strip_value_info = false;
};

/// Serialises `proto` to `file` (written to a temporary next to it, then
/// renamed, so a failed save leaves no half-written model).
/// \throws dfgpar::graph_error when the checker rejects the model, it is over
/// protobuf's 2 GiB limit, or the file cannot be written.
inline void save_model(const ::onnx::ModelProto& proto, const std::filesystem::path& file, const save_options& o = {}) {
  const ::onnx::ModelProto* p = &proto;
  ::onnx::ModelProto stripped;
  if (o.strip_value_info) {
    stripped = proto;
    stripped.mutable_graph()->clear_value_info();
    p = &stripped;
  }
  if (o.check) {
    try {
      ::onnx::checker::check_model(*p);
    } catch (const std::exception& e) {
      std::string what = e.what();
      if (auto k = what.find('\n'); k != std::string::npos) what.resize(k);
      throw graph_error(file.string() + ": not saved, the ONNX checker rejects the model: " + what);
    }
  }
  if (p->ByteSizeLong() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw graph_error(file.string() + ": not saved, the model is over protobuf's 2 GiB limit");
  auto tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !p->SerializeToOstream(&out) || !out.flush())
      throw graph_error(file.string() + ": cannot write " + tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw graph_error(file.string() + ": cannot write the file");
  }
}

/// Saves a model's proto (see above); refuses a model whose weights were
/// moved into its optimised version (`model::weights_moved`): save that one.
inline void save_model(const model& m, const std::filesystem::path& file, const save_options& o = {}) {
  if (m.weights_moved)
    throw graph_error(file.string() + ": not saved, the model's weights were moved into its optimised version");
  save_model(m.proto, file, o);
}

}  // namespace dfgpar::onnx
