#pragma once
/// \file program.hpp
/// The prepared form of a model that the native runtime runs: its values
/// (every tensor, with the oneDNN memory layout its producer chose), and one
/// kernel per ONNX node, each a short list of steps (a oneDNN primitive with
/// its arguments, or a plain C++ function). Built by kernels.hpp, planned and
/// run by session.hpp. Not promised to users: the session is the interface.

#include <dfgpar/error.hpp>

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dfgpar::onednn::detail {

/// One tensor of the model. Values that share a buffer (a Reshape of a plain
/// tensor, a Relu fused into the Conv before it) point to their root with
/// `alias_of`; the buffer plan works on roots. A value may also be a slice
/// of another's buffer, at `alias_offset` bytes (a Concat input written in
/// place into the Concat's output).
struct value {
  std::string name;
  std::int32_t elem_type = 0;       ///< ::onnx::TensorProto data type
  std::vector<std::int64_t> dims;
  dnnl::memory::desc md;            ///< its layout (float32: maybe blocked); empty for other types
  std::size_t bytes = 0;            ///< buffer size (md.get_size() for float32)
  int alias_of = -1;                ///< shares this value's buffer (-1: owns one)
  std::size_t alias_offset = 0;     ///< where in alias_of's buffer it starts (bytes)
  long producer = -1;               ///< vertex that writes it (-1: graph input or constant)
  bool input = false, output = false, constant = false;
  bool virtual_ = false;            ///< never materialised (the output of a Pad fused into a pool)
  std::vector<std::size_t> readers; ///< vertices that read it (of the root: of every alias too)
  std::vector<std::byte> storage;   ///< a constant's data, or a dedicated buffer
  std::byte* ptr = nullptr;         ///< set by the plan
};

/// Where a step argument's data lives.
enum class ref_kind : std::uint8_t { value, temp, weight, scratch };

/// One argument of a primitive: DNNL_ARG_* id, where, and the layout it is
/// read or written in (a view may read a value in other dimensions).
struct arg_ref {
  int arg = 0;
  ref_kind kind = ref_kind::value;
  std::size_t index = 0;  ///< value, temp or weight index; scratch: ignored (the worker's)
  dnnl::memory::desc md;
};

/// One step of a kernel.
struct step {
  dnnl::primitive prim;             ///< a oneDNN primitive, or empty for `fn`
  std::function<void()> fn;         ///< plain C++ (reads `value::ptr` at run time)
  std::vector<arg_ref> args;
  std::vector<dnnl::memory> mems;   ///< built after planning, one per arg
  std::vector<dnnl_exec_arg_t> c_args;
  bool reorder = false;             ///< a layout conversion (counted for the report)
  bool winograd = false;            ///< a convolution by the Winograd algorithm (counted for the report)
  bool evaluator = false;           ///< `fn` runs the folding evaluator (allocates per run)
};

/// The prepared form of one ONNX node.
struct kernel {
  std::string what;        ///< e.g. "Conv+Relu (jit:avx512_core)", for reports
  std::vector<step> steps;
  std::size_t scratch = 0; ///< bytes of scratchpad the primitives need
  bool fused = false;      ///< absorbed into another node's kernel: runs nothing
};

/// A buffer of a kernel's own (a layout conversion's destination).
struct temp {
  dnnl::memory::desc md;
  std::byte* ptr = nullptr;  ///< set by the plan
};

/// Everything a run needs; owned by the session at a stable address (kernel
/// functions keep a pointer to it).
struct program {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  std::vector<value> values;
  std::vector<kernel> kernels;            ///< one per vertex
  std::vector<temp> temps;
  std::vector<dnnl::memory> weights;      ///< prepacked weights, biases, constants, owned by oneDNN
  std::vector<int> inputs, outputs;       ///< graph inputs / outputs (value indices)
  std::vector<int> output_copy;           ///< per output: value holding its plain copy (may be the output itself)

  int root(int v) const {
    while (values[static_cast<std::size_t>(v)].alias_of >= 0) v = values[static_cast<std::size_t>(v)].alias_of;
    return v;
  }
  /// Where value v's data is: its root's buffer, plus the offsets of the
  /// slices on the way there.
  std::byte* data(int v) const {
    std::size_t off = 0;
    while (values[static_cast<std::size_t>(v)].alias_of >= 0) {
      off += values[static_cast<std::size_t>(v)].alias_offset;
      v = values[static_cast<std::size_t>(v)].alias_of;
    }
    std::byte* p = values[static_cast<std::size_t>(v)].ptr;
    return p ? p + off : nullptr;
  }
};

/// Memory objects and C argument arrays for the primitive steps of kernel
/// `k`, once the program's buffers have addresses; `scratch` is the
/// scratchpad of the worker that runs it, `where` ends the internal error.
inline void bind_kernel(program& p, kernel& k, void* scratch, const char* where = "") {
  for (auto& st : k.steps) {
    if (st.fn) continue;
    for (const auto& a : st.args) {
      void* ptr = nullptr;
      switch (a.kind) {
        case ref_kind::value: ptr = p.data(static_cast<int>(a.index)); break;
        case ref_kind::temp: ptr = p.temps[a.index].ptr; break;
        case ref_kind::weight: ptr = p.weights[a.index].get_data_handle(); break;
        case ref_kind::scratch: ptr = scratch; break;
      }
      if (!ptr) throw graph_error("dfgpar: internal error: no buffer for an argument of " + k.what + where);
      st.mems.emplace_back(a.md, p.engine, ptr);
      st.c_args.push_back({a.arg, st.mems.back().get()});
    }
  }
}

/// memcpy that accepts an empty range with null pointers (an empty tensor
/// has no buffer: the plan gives it none), which memcpy itself does not.
inline void copy_bytes(void* dst, const void* src, std::size_t n) {
  if (n != 0) std::memcpy(dst, src, n);
}

inline dnnl::memory::dims to_dims(const std::vector<std::int64_t>& d) { return dnnl::memory::dims(d.begin(), d.end()); }

/// The row-major (plain) format tag of a rank.
inline dnnl::memory::format_tag plain_tag(std::size_t rank) {
  using ft = dnnl::memory::format_tag;
  switch (rank) {
    case 0: case 1: return ft::a;
    case 2: return ft::ab;
    case 3: return ft::abc;
    case 4: return ft::abcd;
    case 5: return ft::abcde;
    case 6: return ft::abcdef;
    default: throw graph_error("dfgpar: the native runtime handles tensors of rank up to 6");
  }
}

/// A plain float32 memory descriptor of these dimensions (a scalar is {1}).
inline dnnl::memory::desc plain_md(const std::vector<std::int64_t>& dims,
                                   dnnl::memory::data_type dt = dnnl::memory::data_type::f32) {
  if (dims.empty()) return dnnl::memory::desc({1}, dt, dnnl::memory::format_tag::a);
  return dnnl::memory::desc(to_dims(dims), dt, plain_tag(dims.size()));
}

/// Whether a descriptor is the plain layout of its dimensions.
inline bool is_plain(const dnnl::memory::desc& md) {
  const auto dims = md.dims();
  if (dims.empty()) return true;
  return md == dnnl::memory::desc(dims, md.data_type(), plain_tag(dims.size()));
}

}  // namespace dfgpar::onednn::detail
