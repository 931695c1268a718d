// A `dfgpar` with only the `run` command: the program the sanitizer sweep
// builds (cmake/dfgpar_onednn.cmake, DFGPAR_ONEDNN_SANITIZE: dfgpar_run_asan
// under ASan + UBSan), because compiling analyze and emit with sanitizers
// would take longer than the sweep itself. Same exit statuses and one-line
// errors as tools/dfgpar/main.cpp; called as `PROGRAM run MODEL ...`.

#include "args.hpp"
#include "commands.hpp"
#include "guarded_main.hpp"

#include <string>
#include <vector>

int main(int argc, char** argv) {
  return dfgpar_cli::guarded_main(argc, argv, [](const std::vector<std::string>& args) {
    if (args.empty() || args[0] != "run")
      throw dfgpar_cli::usage_error("this program has only the run command: PROGRAM run MODEL.onnx ...");
    return dfgpar_cli::run_command.run(std::vector<std::string>(args.begin() + 1, args.end()));
  });
}
