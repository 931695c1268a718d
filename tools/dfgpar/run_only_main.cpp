// A `dfgpar` with only the `run` command: the program the sanitizer sweep
// builds (cmake/dfgpar_onednn.cmake, DFGPAR_ONEDNN_SANITIZE: dfgpar_run_asan
// under ASan + UBSan), because compiling analyze and emit with sanitizers
// would take longer than the sweep itself. Same exit statuses and one-line
// errors as tools/dfgpar/main.cpp; called as `PROGRAM run MODEL ...`.

#include "args.hpp"
#include "commands.hpp"
#include "report.hpp"

#include <dfgpar/error.hpp>

#include <google/protobuf/stubs/logging.h>

#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  google::protobuf::SetLogHandler(nullptr);
  std::ios::sync_with_stdio(false);
  using dfgpar_cli::usage_error;
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] != "run") throw usage_error("this program has only the run command: PROGRAM run MODEL.onnx ...");
    return dfgpar_cli::run_command.run(std::vector<std::string>(args.begin() + 1, args.end()));
  } catch (const usage_error& e) {
    std::cerr << "dfgpar: " << dfgpar_cli::without_prefixes(e.what()) << '\n';
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "dfgpar: error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "dfgpar: error: " << dfgpar::one_line(dfgpar_cli::without_prefixes(e.what()), 600) << '\n';
    return 1;
  }
}
