#pragma once
/// \file tensor.hpp
/// Tensor values for the ONNX adapter: decode an ONNX TensorProto (typed
/// fields or raw_data) into a dense, typed, row-major value and encode it back.
/// Constant folding computes with these; the optimiser writes them back as
/// initializers.
/// \code
///   dfgpar::onnx::tensor t = dfgpar::onnx::from_proto(init);   // any numeric or bool type
///   std::vector<std::int64_t> v = t.to_int64();                // e.g. a shape argument
///   ::onnx::TensorProto p = dfgpar::onnx::to_proto(t, "name"); // raw_data, little-endian
/// \endcode

#include <dfgpar/error.hpp>

#include <onnx/onnx_pb.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace dfgpar::onnx {

static_assert(std::endian::native == std::endian::little,
              "dfgpar: the ONNX adapter reads raw_data as little-endian and needs a little-endian host");

/// The element storage of a tensor. FLOAT16 and BFLOAT16 are kept as their
/// 16-bit patterns (std::uint16_t), BOOL as std::uint8_t 0/1; `tensor::elem_type`
/// says which.
using tensor_storage =
    std::variant<std::vector<float>, std::vector<double>, std::vector<std::int8_t>, std::vector<std::uint8_t>,
                 std::vector<std::int16_t>, std::vector<std::uint16_t>, std::vector<std::int32_t>,
                 std::vector<std::uint32_t>, std::vector<std::int64_t>, std::vector<std::uint64_t>>;

/// Element types dfgpar can hold as values (everything numeric, bool and the
/// 16-bit floats; not strings or complex numbers).
inline bool is_supported_elem_type(std::int32_t t) noexcept {
  using tp = ::onnx::TensorProto;
  switch (t) {
    case tp::FLOAT: case tp::DOUBLE: case tp::INT8: case tp::UINT8: case tp::INT16: case tp::UINT16:
    case tp::INT32: case tp::UINT32: case tp::INT64: case tp::UINT64: case tp::BOOL: case tp::FLOAT16:
    case tp::BFLOAT16:
      return true;
    default:
      return false;
  }
}

/// Readable name of a TensorProto data type, for messages.
inline std::string elem_type_name(std::int32_t t) {
  if (::onnx::TensorProto_DataType_IsValid(t))
    return ::onnx::TensorProto_DataType_Name(static_cast<::onnx::TensorProto_DataType>(t));
  return "type " + std::to_string(t);
}

/// Empty storage of the C++ type that holds elements of ONNX type t.
/// Throws graph_error for unsupported types.
inline tensor_storage storage_for(std::int32_t t) {
  using tp = ::onnx::TensorProto;
  switch (t) {
    case tp::FLOAT: return std::vector<float>{};
    case tp::DOUBLE: return std::vector<double>{};
    case tp::INT8: return std::vector<std::int8_t>{};
    case tp::UINT8: case tp::BOOL: return std::vector<std::uint8_t>{};
    case tp::INT16: return std::vector<std::int16_t>{};
    case tp::UINT16: case tp::FLOAT16: case tp::BFLOAT16: return std::vector<std::uint16_t>{};
    case tp::INT32: return std::vector<std::int32_t>{};
    case tp::UINT32: return std::vector<std::uint32_t>{};
    case tp::INT64: return std::vector<std::int64_t>{};
    case tp::UINT64: return std::vector<std::uint64_t>{};
    default: throw graph_error("dfgpar: tensor element type " + elem_type_name(t) + " is not supported");
  }
}

/// IEEE half -> float (exact).
inline float half_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      std::uint32_t m = man;
      do { ++e; m <<= 1; } while ((m & 0x400u) == 0);
      bits = sign | static_cast<std::uint32_t>(127 - 15 - e) << 23 | (m & 0x3ffu) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | man << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | man << 13;
  }
  return std::bit_cast<float>(bits);
}

/// float -> IEEE half, round to nearest even (as numpy's astype(float16)).
inline std::uint16_t float_to_half(float f) noexcept {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));
  if (ax >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds to >= 65520: inf
  if (ax < 0x38800000u) {  // below the smallest normal half: subnormal or zero
    if (ax < 0x33000000u) return sign;  // < 2^-25: rounds to 0
    const std::uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
    const std::uint32_t drop = 126 - e;  // value = m * 2^(e-150) = h * 2^-24, so h = m >> (126 - e)
    std::uint32_t h = m >> drop;
    const std::uint32_t rem = m & ((1u << drop) - 1), half = 1u << (drop - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return static_cast<std::uint16_t>(sign | h);
  }
  std::uint32_t h = ((ax >> 23) - 127 + 15) << 10 | (ax >> 13 & 0x3ffu);
  const std::uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // may carry into the exponent: correct
  return static_cast<std::uint16_t>(sign | h);
}

/// bfloat16 -> float (exact).
inline float bfloat16_to_float(std::uint16_t b) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

/// float -> bfloat16, round to nearest even; NaN stays NaN.
inline std::uint16_t float_to_bfloat16(float f) noexcept {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);
  return static_cast<std::uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

/// Number of elements of a shape; throws graph_error on a negative dimension
/// or overflow.
inline std::size_t element_count(const std::vector<std::int64_t>& dims) {
  std::uint64_t n = 1;
  for (std::int64_t d : dims) {
    if (d < 0) throw graph_error("dfgpar: tensor dimension " + std::to_string(d) + " is negative");
    if (d != 0 && n > std::numeric_limits<std::uint64_t>::max() / static_cast<std::uint64_t>(d))
      throw graph_error("dfgpar: tensor shape overflows");
    n *= static_cast<std::uint64_t>(d);
  }
  if (n > std::numeric_limits<std::size_t>::max()) throw graph_error("dfgpar: tensor shape overflows");
  return static_cast<std::size_t>(n);
}

/// A dense tensor value: ONNX element type, dimensions (row-major) and the
/// elements in the C++ type chosen by `storage_for(elem_type)`.
struct tensor {
  std::int32_t elem_type = ::onnx::TensorProto::FLOAT;
  std::vector<std::int64_t> dims;
  tensor_storage data = std::vector<float>{};

  /// Number of elements.
  std::size_t size() const {
    return std::visit([](const auto& v) { return v.size(); }, data);
  }
  /// Bytes of the element data.
  std::uint64_t bytes() const {
    return std::visit([](const auto& v) { return v.size() * sizeof(v[0]); }, data);
  }
  std::size_t rank() const noexcept { return dims.size(); }

  /// The elements as T (must be the storage type of elem_type).
  template <class T>
  const std::vector<T>& values() const {
    return std::get<std::vector<T>>(data);
  }
  template <class T>
  std::vector<T>& values() {
    return std::get<std::vector<T>>(data);
  }

  bool is_floating() const noexcept {
    using tp = ::onnx::TensorProto;
    return elem_type == tp::FLOAT || elem_type == tp::DOUBLE || elem_type == tp::FLOAT16 ||
           elem_type == tp::BFLOAT16;
  }
  bool is_integer() const noexcept { return !is_floating() && elem_type != ::onnx::TensorProto::BOOL; }

  /// Element i as double (16-bit floats decoded).
  double as_double(std::size_t i) const {
    using tp = ::onnx::TensorProto;
    if (elem_type == tp::FLOAT16) return half_to_float(values<std::uint16_t>()[i]);
    if (elem_type == tp::BFLOAT16) return bfloat16_to_float(values<std::uint16_t>()[i]);
    return std::visit([i](const auto& v) { return static_cast<double>(v[i]); }, data);
  }
  /// The elements of an integer or bool tensor as int64 (shape arguments,
  /// indices, axes). Throws graph_error for floating-point tensors.
  std::vector<std::int64_t> to_int64() const {
    if (is_floating()) throw graph_error("dfgpar: expected an integer tensor, got " + elem_type_name(elem_type));
    return std::visit(
        [](const auto& v) {
          std::vector<std::int64_t> out(v.size());
          for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<std::int64_t>(v[i]);
          return out;
        },
        data);
  }

  friend bool operator==(const tensor&, const tensor&) = default;
};

/// A zero-filled tensor of the given type and shape.
inline tensor make_tensor(std::int32_t elem_type, std::vector<std::int64_t> dims) {
  tensor t;
  t.elem_type = elem_type;
  t.data = storage_for(elem_type);
  const std::size_t n = element_count(dims);
  t.dims = std::move(dims);
  std::visit([n](auto& v) { v.resize(n); }, t.data);
  return t;
}

/// A tensor holding `values` (whose C++ type must be the storage type of elem_type).
template <class T>
tensor make_tensor(std::int32_t elem_type, std::vector<std::int64_t> dims, std::vector<T> values) {
  tensor t;
  t.elem_type = elem_type;
  if (!std::holds_alternative<std::vector<T>>(storage_for(elem_type)))
    throw graph_error("dfgpar: make_tensor: C++ element type does not match " + elem_type_name(elem_type));
  if (element_count(dims) != values.size()) throw graph_error("dfgpar: make_tensor: shape and value count differ");
  t.dims = std::move(dims);
  t.data = std::move(values);
  return t;
}

namespace detail {

template <class T, class Field>
void copy_field(std::vector<T>& out, const Field& f) {
  out.resize(static_cast<std::size_t>(f.size()));
  for (int i = 0; i < f.size(); ++i) out[static_cast<std::size_t>(i)] = static_cast<T>(f.Get(i));
}

}  // namespace detail

/// Decodes a TensorProto (raw_data or the typed repeated fields).
/// Throws graph_error for strings, complex numbers, external data that was
/// not loaded, segments, or a size that does not match the dims.
inline tensor from_proto(const ::onnx::TensorProto& p) {
  using tp = ::onnx::TensorProto;
  const std::string what = "dfgpar: tensor '" + p.name() + "': ";
  if (p.data_location() == tp::EXTERNAL && !p.has_raw_data())
    throw graph_error(what + "external data was not loaded");
  if (p.has_segment()) throw graph_error(what + "segmented tensors are not supported");
  if (!is_supported_elem_type(p.data_type()))
    throw graph_error(what + "element type " + elem_type_name(p.data_type()) + " is not supported");
  tensor t;
  t.elem_type = p.data_type();
  t.dims.assign(p.dims().begin(), p.dims().end());
  t.data = storage_for(t.elem_type);
  const std::size_t n = element_count(t.dims);
  if (p.has_raw_data()) {
    std::visit(
        [&](auto& v) {
          using T = typename std::decay_t<decltype(v)>::value_type;
          if (p.raw_data().size() != n * sizeof(T))
            throw graph_error(what + "raw_data has " + std::to_string(p.raw_data().size()) + " bytes, expected " +
                              std::to_string(n * sizeof(T)));
          v.resize(n);
          if (n) std::memcpy(v.data(), p.raw_data().data(), n * sizeof(T));
        },
        t.data);
  } else {
    std::visit(
        [&](auto& v) {
          switch (t.elem_type) {
            case tp::FLOAT: detail::copy_field(v, p.float_data()); break;
            case tp::DOUBLE: detail::copy_field(v, p.double_data()); break;
            case tp::INT64: detail::copy_field(v, p.int64_data()); break;
            case tp::UINT32: case tp::UINT64: detail::copy_field(v, p.uint64_data()); break;
            default: detail::copy_field(v, p.int32_data()); break;  // int8..int32, uint8, uint16, bool, 16-bit floats
          }
          if (v.size() != n)
            throw graph_error(what + "has " + std::to_string(v.size()) + " values, expected " + std::to_string(n));
        },
        t.data);
  }
  if (t.elem_type == tp::BOOL)
    for (auto& b : t.values<std::uint8_t>()) b = b != 0;
  return t;
}

/// Encodes a tensor as a TensorProto with raw_data (little-endian).
inline ::onnx::TensorProto to_proto(const tensor& t, const std::string& name) {
  ::onnx::TensorProto p;
  p.set_name(name);
  p.set_data_type(t.elem_type);
  for (std::int64_t d : t.dims) p.add_dims(d);
  std::visit(
      [&](const auto& v) {
        p.set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(v[0])));
      },
      t.data);
  return p;
}

/// Reads a serialized TensorProto file (the ONNX test-data `input_0.pb` format).
inline ::onnx::TensorProto read_tensor_proto(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw graph_error("dfgpar: cannot open " + path.string());
  std::ostringstream buf;
  buf << in.rdbuf();
  ::onnx::TensorProto p;
  if (!p.ParseFromString(buf.str())) throw graph_error("dfgpar: " + path.string() + " is not a TensorProto");
  return p;
}

/// Reads a serialized TensorProto file and decodes it.
inline tensor read_tensor(const std::filesystem::path& path) { return from_proto(read_tensor_proto(path)); }

/// Writes a tensor as a serialized TensorProto file.
inline void write_tensor(const tensor& t, const std::string& name, const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !to_proto(t, name).SerializeToOstream(&out)) throw graph_error("dfgpar: cannot write " + path.string());
}

}  // namespace dfgpar::onnx
