#pragma once
/// \file dfgpar.hpp
/// Umbrella header of the dfgpar core: concepts, analysis, clustering,
/// passes, executor and I/O. Needs only Boost.Graph and the standard library
/// (no ONNX, protobuf or libtorch).

#include <dfgpar/concepts.hpp>
#include <dfgpar/error.hpp>

#include <dfgpar/analysis/bounds.hpp>
#include <dfgpar/analysis/critical_path.hpp>
#include <dfgpar/analysis/levels.hpp>

#include <dfgpar/cluster/finalize.hpp>
#include <dfgpar/cluster/linear_clustering.hpp>
#include <dfgpar/cluster/makespan.hpp>
#include <dfgpar/cluster/merge.hpp>
#include <dfgpar/cluster/moldable_cost.hpp>
#include <dfgpar/cluster/moldable_schedule.hpp>
#include <dfgpar/cluster/parallelize.hpp>
#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/cluster/validate.hpp>

// passes
#include <dfgpar/passes/cloning.hpp>
#include <dfgpar/passes/constant_folding.hpp>
#include <dfgpar/passes/dead_code.hpp>
#include <dfgpar/passes/prune.hpp>

// execution
#include <dfgpar/exec/cluster_executor.hpp>

// I/O
#include <dfgpar/io/dot.hpp>
#include <dfgpar/io/gantt_svg.hpp>
#include <dfgpar/io/json_report.hpp>
#include <dfgpar/io/stg.hpp>

#include <dfgpar/generate/random_dag.hpp>
