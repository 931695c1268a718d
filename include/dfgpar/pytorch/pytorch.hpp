#pragma once
/// \file pytorch.hpp
/// The PyTorch back end in one include: `emit_pytorch(model, schedule)`
/// writes a readable `model.py` whose clusters run in parallel, plus its
/// weights (safetensors layout); the operator translations and the Python
/// naming rules it uses. Needs the ONNX adapter (see onnx/onnx.hpp), not
/// libtorch.
/// \code
/// auto r = dfgpar::onnx::compile("model.onnx", {.schedule = {.workers = 2}});
/// for (const auto& f : dfgpar::pytorch::emit_pytorch(r.scheduled(), r.schedule)) write(dir / f.name, f.content);
/// \endcode

#include <dfgpar/onnx/onnx.hpp>
#include <dfgpar/pytorch/codegen.hpp>
#include <dfgpar/pytorch/emitter.hpp>
#include <dfgpar/pytorch/names.hpp>
#include <dfgpar/pytorch/naming.hpp>
#include <dfgpar/pytorch/ops.hpp>
#include <dfgpar/pytorch/plan.hpp>
#include <dfgpar/pytorch/runtime_text.hpp>
#include <dfgpar/pytorch/weights.hpp>
