// Uses dfgpar's onnx component as an installed package: writes a tiny ONNX
// model (x -> Relu -> Add(w) and x -> Neg, two branches into Mul), compiles
// it with the library's pipeline and checks the result.
#include <dfgpar/onnx/onnx.hpp>

#include "tiny_model.hpp"

#include <onnx/onnx_pb.h>

#include <cstdio>
#include <filesystem>

int main() {
  const auto file = std::filesystem::temp_directory_path() / "dfgpar_consumer_tiny.onnx";
  if (!tiny::write_model(file, "onnx")) return 1;
  const auto r = dfgpar::onnx::compile(file, {.schedule = {.workers = 2}});
  std::filesystem::remove(file);
  const std::size_t nodes = num_vertices(r.scheduled().g);
  const bool ok = nodes == 4 && r.optimized && r.schedule.num_vertices == 4 && r.bounds.work > 0 &&
                  r.times.makespan >= r.bounds.critical_path && r.merge.linear_clusters >= 2;
  std::printf("dfgpar consumer (onnx): %zu nodes, W %.3f us, CP %.3f us, makespan %.3f us on 2 workers: %s\n", nodes,
              r.bounds.work, r.bounds.critical_path, r.times.makespan, ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
