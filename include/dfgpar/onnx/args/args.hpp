#pragma once
/// \file args/args.hpp
/// The whole argument layer in one include (see args/common.hpp for how it
/// is used). One header per operator family; a new family gets its own
/// header here.

#include <dfgpar/onnx/args/cast.hpp>
#include <dfgpar/onnx/args/clip.hpp>
#include <dfgpar/onnx/args/common.hpp>
#include <dfgpar/onnx/args/dropout.hpp>
#include <dfgpar/onnx/args/pad.hpp>
#include <dfgpar/onnx/args/reduce.hpp>
#include <dfgpar/onnx/args/reshape.hpp>
#include <dfgpar/onnx/args/resize.hpp>
#include <dfgpar/onnx/args/shape.hpp>
#include <dfgpar/onnx/args/slice.hpp>
#include <dfgpar/onnx/args/softmax.hpp>
#include <dfgpar/onnx/args/split.hpp>
#include <dfgpar/onnx/args/squeeze.hpp>
#include <dfgpar/onnx/args/topk.hpp>
