// Uses dfgpar's onednn component as an installed package: writes a tiny ONNX
// model (y = (relu(x) + 1) * -x, two branches), runs it on the native
// runtime with 2 workers and checks the output.
#include <dfgpar/onednn/onednn.hpp>

#include "tiny_model.hpp"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

int main() {
  const auto file = std::filesystem::temp_directory_path() / "dfgpar_consumer_tiny_onednn.onnx";
  if (!tiny::write_model(file, "onednn")) return 1;
  dfgpar::onednn::session s(file, {.workers = 2, .threads = 1, .cores = 2});
  std::filesystem::remove(file);
  dfgpar::onnx::tensor x = dfgpar::onnx::make_tensor(::onnx::TensorProto::FLOAT, {4});
  x.values<float>() = {-2.f, -0.5f, 0.5f, 3.f};
  const auto out = s.run({x});
  bool ok = out.size() == 1 && out[0].dims == std::vector<std::int64_t>{4};
  for (std::size_t i = 0; ok && i < 4; ++i) {
    const float v = x.values<float>()[i];
    ok = std::fabs(out[0].values<float>()[i] - (std::max(v, 0.f) + 1.f) * -v) < 1e-6f;
  }
  std::printf("dfgpar consumer (onednn): %zu nodes on %zu workers, y = [%g %g %g %g]: %s\n",
              s.statistics().nodes, s.options().workers, out[0].values<float>()[0], out[0].values<float>()[1],
              out[0].values<float>()[2], out[0].values<float>()[3], ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
