// libFuzzer harness of the ONNX loader: any input must either load (and then
// parallelize to a valid schedule) or be refused with dfgpar::graph_error.
// Anything else (a crash, a sanitizer report, another exception, a hang) is
// a bug. Built and run by fuzz/run.sh.
#include <dfgpar/dfgpar.hpp>
#include <dfgpar/onnx/onnx.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>

namespace {
// External data resolves against an empty folder, so every reference is
// "missing"; the path checks still run.
const std::filesystem::path& empty_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / "dfgpar_fuzz_empty";
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dfgpar::onnx;
  try {
    load_options o;
    o.max_external_bytes = 1 << 20;
    model m = load_model_from_memory(std::string_view(reinterpret_cast<const char*>(data), size), empty_dir(), o);
    const auto s = dfgpar::parallelize(m.g, get(&node_info::cost, m.g), get(&edge_info::comm, m.g),
                                       dfgpar::options{.workers = 2, .effort = 0, .time_limit_ms = 50});
    if (!dfgpar::validate(m.g, s)) {
      std::fprintf(stderr, "fuzz_loader: parallelize returned an invalid schedule\n");
      std::abort();
    }
  } catch (const dfgpar::graph_error& e) {
    // the expected refusal: must be one line
    for (const char* p = e.what(); *p; ++p)
      if (*p == '\n') {
        std::fprintf(stderr, "fuzz_loader: multi-line error: %s\n", e.what());
        std::abort();
      }
  }
  return 0;
}
