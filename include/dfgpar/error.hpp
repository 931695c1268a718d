#pragma once
/// \file error.hpp
/// The exception dfgpar throws for input it cannot work with.

#include <stdexcept>
#include <string>

namespace dfgpar {

/// Thrown when a graph is not a DAG, a cost is negative, a schedule does not
/// fit its graph, or an input file is malformed. `what()` is a one-line
/// message meant for the user.
class graph_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace dfgpar
