#pragma once
/// \file npy.hpp
/// Reading and writing tensors as NumPy `.npy` files (format 1.0/2.0,
/// little-endian, C order; float32/64, int8/16/32/64, uint8, bool), or as
/// serialized ONNX TensorProto `.pb` files (by the extension), for
/// `dfgpar run --input/--output` and the tests.
/// \code
///   dfgpar::onnx::tensor t = dfgpar::onednn::read_tensor_file("input.npy");
///   dfgpar::onednn::write_tensor_file(t, "output.npy");
/// \endcode

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/tensor.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace dfgpar::onednn {

namespace detail {

struct npy_type {
  const char* descr;
  std::int32_t elem_type;
};
inline constexpr npy_type npy_types[] = {
    {"<f4", ::onnx::TensorProto::FLOAT}, {"<f8", ::onnx::TensorProto::DOUBLE}, {"|i1", ::onnx::TensorProto::INT8},
    {"<i2", ::onnx::TensorProto::INT16}, {"<i4", ::onnx::TensorProto::INT32},  {"<i8", ::onnx::TensorProto::INT64},
    {"|u1", ::onnx::TensorProto::UINT8}, {"|b1", ::onnx::TensorProto::BOOL},
};

}  // namespace detail

/// Reads a `.npy` file. \throws graph_error naming the file for anything else.
inline onnx::tensor read_npy(const std::filesystem::path& file) {
  const std::string where = file.string() + ": ";
  std::ifstream in(file, std::ios::binary);
  if (!in) throw graph_error(where + "cannot open");
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (data.size() < 10 || data.compare(0, 6, "\x93NUMPY") != 0) throw graph_error(where + "not a .npy file");
  const auto major = static_cast<unsigned char>(data[6]);
  std::size_t hlen = 0, start = 0;
  if (major == 1) {
    hlen = static_cast<unsigned char>(data[8]) | static_cast<std::size_t>(static_cast<unsigned char>(data[9])) << 8;
    start = 10;
  } else if (major == 2 || major == 3) {
    if (data.size() < 12) throw graph_error(where + "truncated header");
    for (int i = 3; i >= 0; --i) hlen = hlen << 8 | static_cast<unsigned char>(data[static_cast<std::size_t>(8 + i)]);
    start = 12;
  } else {
    throw graph_error(where + "unknown .npy version " + std::to_string(major));
  }
  if (start + hlen > data.size()) throw graph_error(where + "truncated header");
  const std::string header = data.substr(start, hlen);
  auto field = [&](const std::string& key) -> std::string {
    const auto k = header.find("'" + key + "'");
    if (k == std::string::npos) throw graph_error(where + "header has no '" + key + "'");
    auto v = header.find(':', k);
    if (v == std::string::npos) throw graph_error(where + "bad header");
    ++v;
    while (v < header.size() && header[v] == ' ') ++v;
    if (v < header.size() && header[v] == '\'') {
      const auto e = header.find('\'', v + 1);
      if (e == std::string::npos) throw graph_error(where + "bad header");
      return header.substr(v + 1, e - v - 1);
    }
    if (v < header.size() && header[v] == '(') {
      const auto e = header.find(')', v);
      if (e == std::string::npos) throw graph_error(where + "bad header");
      return header.substr(v + 1, e - v - 1);
    }
    const auto e = header.find_first_of(",}", v);
    return header.substr(v, e - v);
  };
  const std::string descr = field("descr"), order = field("fortran_order"), shape = field("shape");
  if (order.rfind("False", 0) != 0) throw graph_error(where + "Fortran order is not supported");
  std::int32_t elem_type = 0;
  for (const auto& t : detail::npy_types)
    if (descr == t.descr || (descr.size() == 3 && descr[0] == '=' && descr.substr(1) == std::string(t.descr).substr(1)))
      elem_type = t.elem_type;
  if (elem_type == 0) throw graph_error(where + "element type '" + descr + "' is not supported");
  std::vector<std::int64_t> dims;
  std::size_t i = 0;
  while (i < shape.size()) {
    while (i < shape.size() && (shape[i] == ' ' || shape[i] == ',')) ++i;
    if (i >= shape.size()) break;
    std::int64_t d = 0;
    bool any = false;
    while (i < shape.size() && shape[i] >= '0' && shape[i] <= '9') {
      d = d * 10 + (shape[i++] - '0');
      any = true;
      if (d > (std::int64_t{1} << 40)) throw graph_error(where + "dimension too large");
    }
    if (!any) throw graph_error(where + "bad shape '" + shape + "'");
  dims.push_back(d);
  }
  onnx::tensor t = onnx::make_tensor(elem_type, dims);
  const std::size_t body = start + hlen, bytes = t.bytes();
  if (data.size() - body != bytes)
    throw graph_error(where + "holds " + std::to_string(data.size() - body) + " bytes of data, the shape needs " +
                      std::to_string(bytes));
  if (bytes != 0) std::visit([&](auto& v) { std::memcpy(v.data(), data.data() + body, bytes); }, t.data);
  return t;
}

/// Writes a `.npy` file (format 1.0).
inline void write_npy(const onnx::tensor& t, std::ostream& out) {
  const char* descr = nullptr;
  for (const auto& d : detail::npy_types)
    if (d.elem_type == t.elem_type) descr = d.descr;
  if (!descr) throw graph_error("dfgpar: cannot write " + onnx::elem_type_name(t.elem_type) + " as .npy");
  std::string shape;
  for (auto d : t.dims) shape += std::to_string(d) + ",";
  if (t.dims.size() > 1) shape.pop_back();
  std::string header = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': (" + shape + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  out.write("\x93NUMPY\x01\x00", 8);
  const char len[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  out.write(len, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  std::visit([&](const auto& v) { out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(t.bytes())); },
             t.data);
}

/// Reads a tensor from `.npy`, or from a serialized TensorProto (`.pb`).
inline onnx::tensor read_tensor_file(const std::filesystem::path& file) {
  if (file.extension() == ".pb") return onnx::read_tensor(file);
  return read_npy(file);
}

}  // namespace dfgpar::onednn
