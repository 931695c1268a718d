#pragma once
/// \file onednn.hpp
/// The native runtime (needs oneDNN and the ONNX adapter; CMake: dfgpar::onednn):
/// `dfgpar::onednn::session` runs an ONNX model on the cluster executor with
/// oneDNN kernels. See session.hpp.

#include <dfgpar/onednn/kernels.hpp>
#include <dfgpar/onednn/openmp_spin.hpp>
#include <dfgpar/onednn/program.hpp>
#include <dfgpar/onednn/session.hpp>
#include <dfgpar/onednn/tune.hpp>
