// Writes the dataflow graph of ONNX models with their analytic per-node costs
// (µs, dfgpar's roofline cost model, include/dfgpar/onnx/cost_model.hpp) as
// STG files, for bench/executor_vs_tbb.cpp, which must not need the ONNX
// library. The graphs in this folder were made from the six torchvision
// models (exported by scripts/export_models.py) with
//
//   g++ -std=c++20 -O1 -Iinclude -DONNX_ML=1 -DONNX_NAMESPACE=onnx bench/data/export_stg.cpp \
//       -lonnx -lonnx_proto -lprotobuf -o /tmp/export_stg
//   for m in squeezenet1_1 googlenet inception_v3 resnet50 densenet121 mobilenet_v2; do
//     /tmp/export_stg build/models/$m.onnx bench/data/$m.stg; done
//
// Costs are rounded to 0.01 µs. STG adds a dummy entry and exit task (cost 0).

#include <dfgpar/io/stg.hpp>
#include <dfgpar/onnx/onnx.hpp>

#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: export_stg MODEL.onnx OUT.stg\n");
    return 2;
  }
  try {
    auto m = dfgpar::onnx::load_model(argv[1]);
    for (auto [it, end] = vertices(m.g); it != end; ++it) m.g[*it].cost = std::round(m.g[*it].cost * 100) / 100;
    std::ofstream out(argv[2]);
    dfgpar::write_stg(out, m.g, get(&dfgpar::onnx::node_info::cost, m.g));
    out << "# " << argv[1] << ": analytic costs (us) of dfgpar's roofline cost model, rounded to 0.01 us\n";
    out.close();
    if (!out) throw std::runtime_error(std::string("cannot write ") + argv[2]);
    std::printf("%s: %zu nodes, %zu edges\n", argv[1], num_vertices(m.g), num_edges(m.g));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "export_stg: %s\n", e.what());
    return 1;
  }
}
