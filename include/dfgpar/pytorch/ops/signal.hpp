#pragma once
/// \file signal.hpp
/// The PyTorch translations of signal processing: DFT, STFT and the
/// Hann/Hamming/Blackman windows.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

/// Hann/Hamming/Blackman windows (opset 17).
inline op_translation window_op(std::string kind) {
  return [kind](op_context& c) {
    check_types(c);
    const auto dt = static_cast<std::int32_t>(c.attr_int("output_datatype", ::onnx::TensorProto::FLOAT));
    if (!is_float_type(dt) || dt == ::onnx::TensorProto::BFLOAT16)
      c.unsupported("output_datatype " + onnx::elem_type_name(dt));
    const std::string periodic = c.attr_int("periodic", 1) != 0 ? "True" : "False";
    const std::string n = int_scalar(c, 0, "size"), d = torch_dtype(dt);
    if (kind == "hann") c.assign("torch.hann_window(" + n + ", " + periodic + ", dtype=" + d + ")");
    else if (kind == "hamming")
      c.assign("torch.hamming_window(" + n + ", " + periodic + ", " + python_float(25.0 / 46.0) + ", " +
               python_float(21.0 / 46.0) + ", dtype=" + d + ")");
    else c.assign("torch.blackman_window(" + n + ", " + periodic + ", dtype=" + d + ")");
  };
}

/// DFT-17: along `axis` of a real ([..., 1]) or complex ([..., 2]) signal.
inline void dft(op_context& c) {
  check_types(c);
  require_float(c);
  if (c.elem_type(0) == ::onnx::TensorProto::BFLOAT16 || c.elem_type(0) == ::onnx::TensorProto::FLOAT16)
    c.unsupported("16-bit input");
  const auto s = c.shape(0);
  if (!s || s->empty() || ((*s).back() != 1 && (*s).back() != 2)) c.unsupported("the last dimension must be known, 1 or 2");
  const int r = static_cast<int>(s->size());
  std::int64_t axis = c.attr_int("axis", 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r - 1) c.unsupported("axis out of range");
  const bool inverse = c.attr_int("inverse", 0) != 0, onesided = c.attr_int("onesided", 0) != 0;
  const bool real = s->back() == 1;
  if (onesided && (inverse || !real)) c.unsupported("onesided with an inverse or complex transform");
  const std::string x = c.in(0), z = temp(c, "z");
  // in double precision, as the reference (numpy) computes it
  c.emit(z + " = " + (real ? x + "[..., 0].double()" : "torch.view_as_complex(" + x + ".double().contiguous())"));
  const std::string n = c.has_input(1) ? int_scalar(c, 1, "dft_length") : std::string("None");
  c.emit(z + " = torch.fft." + (inverse ? "ifft" : "fft") + "(" + z + ", " + n + ", " + std::to_string(axis) + ")");
  if (onesided) c.emit(z + " = " + z + ".narrow(" + std::to_string(axis) + ", 0, " + z + ".shape[" + std::to_string(axis) + "] // 2 + 1)");
  c.assign("torch.view_as_real(" + z + ").to(" + x + ".dtype)");
}

/// STFT-17 of a real signal [batch, length, 1]: frames of frame_length every
/// frame_step, times the window, each transformed (onesided: the first
/// half + 1 bins).
inline void stft(op_context& c) {
  check_types(c);
  require_float(c);
  const auto s = c.shape(0);
  if (!s || s->size() != 3 || (*s)[2] != 1) c.unsupported("needs a real signal of known shape [batch, length, 1]");
  const bool onesided = c.attr_int("onesided", 1) != 0;
  const std::string x = c.in(0), f = temp(c, "frames"), len = temp(c, "length");
  if (c.has_input(3)) c.emit(len + " = " + int_scalar(c, 3, "frame_length"));
  else if (c.has_input(2)) c.emit(len + " = " + c.in(2) + ".shape[0]");
  else c.unsupported("neither window nor frame_length");
  const std::string step = temp(c, "step");
  c.emit(step + " = " + int_scalar(c, 1, "frame_step"));
  c.emit(f + " = " + x + "[..., 0].double()");
  c.emit(f + " = " + f + ".unfold(1, " + len + ", " + step + ")");
  if (c.has_input(2)) c.emit(f + " = torch.mul(" + f + ", " + c.in(2) + ".double())");
  c.emit(f + " = torch.fft.fft(" + f + ", None, -1)");
  if (onesided) c.emit(f + " = " + f + ".narrow(-1, 0, " + len + " // 2 + 1)");
  c.assign("torch.view_as_real(" + f + ").to(" + x + ".dtype)");
}

}  // namespace detail

/// Fourier transforms and window functions.
inline void add_signal_translations(op_registry& r) {
  using namespace detail;
  r.add("DFT", 17, dft);
  r.add("STFT", 17, stft);
  r.add("HannWindow", 17, window_op("hann"));
  r.add("HammingWindow", 17, window_op("hamming"));
  r.add("BlackmanWindow", 17, window_op("blackman"));
}

}  // namespace dfgpar::pytorch
