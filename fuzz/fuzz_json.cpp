// libFuzzer harness of the profile reader (dfgpar/detail/json.hpp and the
// two profile formats): every input is parsed or refused with graph_error.
#include <dfgpar/onnx/profile.hpp>

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)dfgpar::onnx::parse_profile(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const dfgpar::graph_error&) {
  }
  return 0;
}
