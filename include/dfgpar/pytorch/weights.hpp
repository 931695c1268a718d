#pragma once
/// \file weights.hpp
/// Weights in the safetensors layout: an 8-byte little-endian header length,
/// a JSON header `{"name": {"dtype": "F32", "shape": [..], "data_offsets":
/// [begin, end]}, ...}` padded with spaces to a multiple of 8 bytes, then the
/// raw little-endian bytes. PyTorch users read it with the `safetensors`
/// package or, as the generated model.py does, with plain Python and
/// `torch.frombuffer` (see `python_weights_loader`).
///
/// Tensors are stored largest element size first, so every tensor starts at
/// an offset that is a multiple of its element size (no gaps, as the format
/// requires). PyTorch 1.13 has no unsigned 16/32/64-bit types: such tensors
/// are written as the next wider signed type (U16 -> I32, U32 -> I64) and
/// U64 values above INT64_MAX are refused.
/// \code
///   std::vector<dfgpar::pytorch::named_tensor> w = {{"conv1_weight", &t}};
///   std::ofstream f("weights.safetensors", std::ios::binary);
///   dfgpar::pytorch::write_safetensors(f, w);
/// \endcode

#include <dfgpar/detail/json.hpp>
#include <dfgpar/error.hpp>
#include <dfgpar/onnx/tensor.hpp>
#include <dfgpar/pytorch/names.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <istream>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dfgpar::pytorch {

/// A tensor to store under a name (the pointer must stay valid while writing).
struct named_tensor {
  std::string name;
  const onnx::tensor* value = nullptr;
};

namespace detail {

/// safetensors dtype tag of an ONNX element type as stored (after widening).
inline std::string safetensors_dtype(std::int32_t t) {
  using tp = ::onnx::TensorProto;
  switch (t) {
    case tp::FLOAT: return "F32";
    case tp::DOUBLE: return "F64";
    case tp::FLOAT16: return "F16";
    case tp::BFLOAT16: return "BF16";
    case tp::INT8: return "I8";
    case tp::UINT8: return "U8";
    case tp::INT16: return "I16";
    case tp::INT32: case tp::UINT16: return "I32";
    case tp::INT64: case tp::UINT32: case tp::UINT64: return "I64";
    case tp::BOOL: return "BOOL";
    default: throw graph_error("weights: element type " + onnx::elem_type_name(t) + " cannot be stored");
  }
}

inline std::size_t stored_element_size(std::int32_t t) {
  const std::string d = safetensors_dtype(t);
  if (d == "F64" || d == "I64") return 8;
  if (d == "F32" || d == "I32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16") return 2;
  return 1;
}

/// The bytes of t as stored (widened where PyTorch lacks the type).
inline std::string stored_bytes(const onnx::tensor& t, const std::string& name) {
  using tp = ::onnx::TensorProto;
  auto widen = [&](const auto& v, auto wide) {
    using W = decltype(wide);
    std::string out(v.size() * sizeof(W), '\0');
    for (std::size_t i = 0; i < v.size(); ++i) {
      if constexpr (std::is_same_v<std::decay_t<decltype(v[0])>, std::uint64_t>)
        if (v[i] > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
          throw graph_error("weights: tensor " + python_string(name) +
                            " holds a UINT64 value above INT64_MAX, which PyTorch cannot represent");
      const W w = static_cast<W>(v[i]);
      std::memcpy(out.data() + i * sizeof(W), &w, sizeof(W));
    }
    return out;
  };
  switch (t.elem_type) {
    case tp::UINT16: return widen(t.values<std::uint16_t>(), std::int32_t{});
    case tp::UINT32: return widen(t.values<std::uint32_t>(), std::int64_t{});
    case tp::UINT64: return widen(t.values<std::uint64_t>(), std::int64_t{});
    default:
      return std::visit(
          [](const auto& v) { return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(v[0])); },
          t.data);
  }
}

}  // namespace detail

/// Writes `tensors` in the safetensors layout. Names must be unique.
/// \throws dfgpar::graph_error for a duplicate name, a type that cannot be
/// stored, or a write error.
inline void write_safetensors(std::ostream& out, const std::vector<named_tensor>& tensors) {
  std::vector<std::size_t> order(tensors.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (const auto& nt : tensors)
    if (nt.value == nullptr) throw graph_error("weights: tensor " + python_string(nt.name) + " has no value");
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return detail::stored_element_size(tensors[a].value->elem_type) >
           detail::stored_element_size(tensors[b].value->elem_type);
  });
  std::vector<std::string> seen;
  std::string header = "{";
  std::vector<std::string> blobs;
  std::uint64_t offset = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const auto& nt = tensors[order[k]];
    seen.push_back(nt.name);
    blobs.push_back(detail::stored_bytes(*nt.value, nt.name));
    if (k) header += ",";
    header += ::dfgpar::detail::json::quote(nt.name) + ":{\"dtype\":\"" + detail::safetensors_dtype(nt.value->elem_type) +
              "\",\"shape\":" + python_int_list(nt.value->dims) + ",\"data_offsets\":[" + std::to_string(offset) +
              "," + std::to_string(offset + blobs.back().size()) + "]}";
    offset += blobs.back().size();
  }
  std::sort(seen.begin(), seen.end());
  if (auto d = std::adjacent_find(seen.begin(), seen.end()); d != seen.end())
    throw graph_error("weights: duplicate tensor name " + python_string(*d));
  header += "}";
  while (header.size() % 8) header += ' ';
  std::uint64_t n = header.size();
  char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  out.write(len, 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& b : blobs) out.write(b.data(), static_cast<std::streamsize>(b.size()));
  if (!out) throw graph_error("weights: write failed");
}

namespace detail {

/// A minimal reader of the JSON header write_safetensors produces (strings,
/// integers, arrays, objects); enough for round-trip tests, not a JSON parser.
struct st_reader {
  std::string_view s;
  std::size_t i = 0;
  [[noreturn]] void bad() const { throw graph_error("safetensors header is malformed at byte " + std::to_string(i)); }
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
  }
  void expect(char c) {
    ws();
    if (i >= s.size() || s[i] != c) bad();
    ++i;
  }
  bool peek(char c) {
    ws();
    return i < s.size() && s[i] == c;
  }
  std::string str() {
    expect('"');
    std::string out;
    while (i < s.size() && s[i] != '"') {
      if (s[i] != '\\') {
        out += s[i++];
        continue;
      }
      if (++i >= s.size()) bad();
      const char e = s[i++];
      if (e == 'u') {
        auto hex4 = [&] {
          if (i + 4 > s.size()) bad();
          std::uint32_t v = 0;
          for (int k = 0; k < 4; ++k) {
            const char c = s[i++];
            v = v * 16 + static_cast<std::uint32_t>(c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0');
          }
          return v;
        };
        std::uint32_t cp = hex4();
        if (cp >= 0xd800 && cp < 0xdc00) {
          if (i + 2 > s.size() || s[i] != '\\' || s[i + 1] != 'u') bad();
          i += 2;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (hex4() - 0xdc00);
        }
        if (cp < 0x80) out += static_cast<char>(cp);
        else if (cp < 0x800) out += static_cast<char>(0xc0 | cp >> 6), out += static_cast<char>(0x80 | (cp & 0x3f));
        else if (cp < 0x10000)
          out += static_cast<char>(0xe0 | cp >> 12), out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f)),
              out += static_cast<char>(0x80 | (cp & 0x3f));
        else
          out += static_cast<char>(0xf0 | cp >> 18), out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f)),
              out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f)), out += static_cast<char>(0x80 | (cp & 0x3f));
      } else {
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b' : e == 'f' ? '\f' : e;
      }
    }
    expect('"');
    return out;
  }
  std::int64_t integer() {
    ws();
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data() + i, s.data() + s.size(), v);
    if (ec != std::errc{}) bad();
    i = static_cast<std::size_t>(p - s.data());
    return v;
  }
  std::vector<std::int64_t> ints() {
    std::vector<std::int64_t> v;
    expect('[');
    if (peek(']')) return ++i, v;
    for (;;) {
      v.push_back(integer());
      if (peek(',')) ++i;
      else break;
    }
    expect(']');
    return v;
  }
};

inline std::int32_t onnx_type_of(const std::string& d) {
  using tp = ::onnx::TensorProto;
  if (d == "F32") return tp::FLOAT;
  if (d == "F64") return tp::DOUBLE;
  if (d == "F16") return tp::FLOAT16;
  if (d == "BF16") return tp::BFLOAT16;
  if (d == "I8") return tp::INT8;
  if (d == "U8") return tp::UINT8;
  if (d == "I16") return tp::INT16;
  if (d == "I32") return tp::INT32;
  if (d == "I64") return tp::INT64;
  if (d == "BOOL") return tp::BOOL;
  throw graph_error("safetensors dtype " + python_string(d) + " is not supported");
}

}  // namespace detail

/// Reads a safetensors file written by `write_safetensors` (names and
/// tensors in file order; widened types come back widened).
inline std::vector<std::pair<std::string, onnx::tensor>> read_safetensors(std::istream& in) {
  unsigned char len[8];
  if (!in.read(reinterpret_cast<char*>(len), 8)) throw graph_error("safetensors: short file");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | len[i];
  if (n > (std::uint64_t{1} << 30)) throw graph_error("safetensors: header too large");
  std::string header(static_cast<std::size_t>(n), '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(n))) throw graph_error("safetensors: short header");
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  detail::st_reader r{header};
  std::vector<std::pair<std::string, onnx::tensor>> out;
  r.expect('{');
  while (!r.peek('}')) {
    std::string name = r.str();
    r.expect(':');
    r.expect('{');
    std::string dtype;
    std::vector<std::int64_t> shape, offsets;
    while (!r.peek('}')) {
      const std::string key = r.str();
      r.expect(':');
      if (key == "dtype") dtype = r.str();
      else if (key == "shape") shape = r.ints();
      else if (key == "data_offsets") offsets = r.ints();
      else r.bad();
      if (r.peek(',')) ++r.i;
    }
    r.expect('}');
    if (offsets.size() != 2 || offsets[0] < 0 || offsets[1] < offsets[0] ||
        static_cast<std::uint64_t>(offsets[1]) > data.size())
      throw graph_error("safetensors: bad data_offsets for " + python_string(name));
    onnx::tensor t = onnx::make_tensor(detail::onnx_type_of(dtype), shape);
    std::visit(
        [&](auto& v) {
          const std::size_t bytes = v.size() * sizeof(v[0]);
          if (bytes != static_cast<std::size_t>(offsets[1] - offsets[0]))
            throw graph_error("safetensors: size mismatch for " + python_string(name));
          if (bytes) std::memcpy(v.data(), data.data() + offsets[0], bytes);
        },
        t.data);
    out.emplace_back(std::move(name), std::move(t));
    if (r.peek(',')) ++r.i;
  }
  return out;
}

/// Python source of `load_weights(path) -> dict[str, torch.Tensor]`, the
/// reader the generated model.py uses (plain Python + torch.frombuffer).
inline std::string python_weights_loader() {
  return R"PY(DTYPES = {
    'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16,
    'BF16': torch.bfloat16, 'I64': torch.int64, 'I32': torch.int32,
    'I16': torch.int16, 'I8': torch.int8, 'U8': torch.uint8,
    'BOOL': torch.bool,
}


def load_weights(path):
    """Reads a safetensors file: {name: tensor}, without the safetensors
    package (8-byte header length, JSON header, raw little-endian bytes)."""
    with open(path, 'rb') as f:
        data = bytearray(f.read())
    n = int.from_bytes(data[:8], 'little')
    header = json.loads(data[8:8 + n].decode('utf-8'))
    weights = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        dtype = DTYPES[info['dtype']]
        begin, end = info['data_offsets']
        if end == begin:
            t = torch.empty(info['shape'], dtype=dtype)
        else:
            size = torch.empty(0, dtype=dtype).element_size()
            t = torch.frombuffer(data, dtype=dtype, offset=8 + n + begin,
                                 count=(end - begin) // size)
        weights[name] = t.reshape(info['shape']).clone()
    return weights
)PY";
}

}  // namespace dfgpar::pytorch
