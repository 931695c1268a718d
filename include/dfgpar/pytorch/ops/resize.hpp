#pragma once
/// \file resize.hpp
/// The PyTorch translations of resampling: Resize, Upsample, GridSample.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/onnx/args/resize.hpp>
#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

inline void grid_sample(op_context& c) {
  check_types(c);
  require_float(c);
  if (c.need_rank(0) != 4) c.unsupported("input that is not 4-D");
  const std::string mode = c.attr_string("mode", "bilinear"), pm = c.attr_string("padding_mode", "zeros");
  if (mode != "bilinear" && mode != "nearest" && mode != "bicubic") c.unsupported("mode " + python_string(mode));
  if (pm != "zeros" && pm != "border" && pm != "reflection") c.unsupported("padding_mode " + python_string(pm));
  c.assign("F.grid_sample(" + c.in(0) + ", " + c.in(1) + ", '" + mode + "', '" + pm + "', " +
           (c.attr_int("align_corners", 0) != 0 ? "True" : "False") + ")");
}

/// Resize (version 11 and later), Resize-10 and Upsample, as the ONNX reference
/// computes it: one axis after the other, each output coordinate mapped
/// back to the input (coordinate_transformation_mode), then the nearest
/// input element or a linear/cubic combination of its neighbours (indices
/// outside the input clamped to the edge, or with exclude_outside their
/// weights dropped and the rest renormalised). Scales and sizes may be
/// computed at run time.
inline void resize(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const bool upsample = c.op() == "Upsample";
  const auto args = onnx::read_resize(*c.node, c.attrs(), c.opset, c.known_inputs());
  const bool legacy = args.legacy;
  const std::string& mode = args.mode;
  const std::string& ctm = args.coordinate_transformation_mode;
  const std::string& nearest = args.nearest_mode;
  const double a = args.cubic_coeff_a, extrapolation = args.extrapolation_value;
  const bool exclude = args.exclude_outside;
  if (mode != "nearest" && mode != "linear" && mode != "cubic") c.unsupported("mode " + python_string(mode));
  if (legacy && mode == "cubic") c.unsupported("mode cubic before opset 11");
  if (args.axes || args.keep_aspect_ratio_policy != "stretch") c.unsupported("axes / keep_aspect_ratio_policy");
  if (ctm != "half_pixel" && ctm != "pytorch_half_pixel" && ctm != "align_corners" && ctm != "asymmetric" &&
      ctm != "tf_crop_and_resize" && !(ctm == "tf_half_pixel_for_nn" && mode == "nearest"))
    c.unsupported("coordinate_transformation_mode " + python_string(ctm));
  if (nearest != "round_prefer_floor" && nearest != "round_prefer_ceil" && nearest != "floor" && nearest != "ceil")
    c.unsupported("nearest_mode " + python_string(nearest));
  if (exclude && mode == "nearest") c.unsupported("exclude_outside with mode nearest");
  if (mode != "nearest") require_float(c);

  // where the scales or sizes come from: a literal (Upsample-7's attribute)
  // or the input, indexed at run time
  std::string scales, sizes;
  std::vector<double> const_scales;
  if (args.sizes.given()) {
    sizes = c.in(static_cast<std::size_t>(args.sizes.input));
  } else {
    if (args.scales.known()) const_scales = *args.scales.value;
    if (args.scales.source == onnx::arg_source::input) {
      scales = c.in(static_cast<std::size_t>(args.scales.input));
    } else {
      std::vector<std::string> parts;
      for (double f : const_scales) parts.push_back(python_float(f));
      scales = "[" + join(parts) + "]";
    }
  }
  if (legacy && mode == "nearest") {
    // floor is the legacy rule for upsampling only (Upsample requires scales >= 1)
    if (!upsample) {
      if (const_scales.empty()) c.unsupported("Resize-10 nearest with computed scales");
      for (double f : const_scales)
        if (f < 1) c.unsupported("Resize-10 nearest downsampling");
    }
  }
  if (!const_scales.empty() && static_cast<int>(const_scales.size()) != r) c.unsupported("scales of the wrong length");

  const std::string x = c.in(0), o = c.out(0);
  const std::string n = temp(c, "n"), m = temp(c, "m"), s = temp(c, "s"), w = temp(c, "w"), p = temp(c, "x");
  const std::string roi = ctm == "tf_crop_and_resize" ? c.in(1) : "";
  if (ctm == "tf_crop_and_resize" && !c.has_input(1)) c.unsupported("tf_crop_and_resize without roi");
  c.assign(x);
  for (int d = 0; d < r; ++d) {
    const std::string ds = std::to_string(d);
    if (!const_scales.empty() && const_scales[static_cast<std::size_t>(d)] == 1.0 && ctm != "tf_crop_and_resize")
      continue;  // the identity on this axis, whatever the mode
    c.emit(n + " = " + x + ".shape[" + ds + "]");
    if (!sizes.empty()) {
      c.emit(m + " = int(" + sizes + "[" + ds + "])");
      c.emit(s + " = " + m + " / " + n);
      c.emit(w + " = float(" + m + ")");
    } else {
      c.emit(s + " = float(" + scales + "[" + ds + "])");
      c.emit(w + " = " + n + " * " + s);
      c.emit(m + " = int(" + w + ")");
    }
    c.emit(p + " = torch.arange(" + m + ", dtype=torch.float64, device=" + x + ".device)");
    if (ctm == "half_pixel" || ctm == "pytorch_half_pixel") {
      c.emit(p + " = torch.sub(torch.div(torch.add(" + p + ", 0.5), " + s + "), 0.5)");
      if (ctm == "pytorch_half_pixel") {
        c.emit("if " + w + " == 1.0:");
        c.emit("    " + p + " = torch.full_like(" + p + ", -0.5)");
      }
    } else if (ctm == "tf_half_pixel_for_nn") {
      c.emit(p + " = torch.div(torch.add(" + p + ", 0.5), " + s + ")");
    } else if (ctm == "asymmetric") {
      c.emit(p + " = torch.div(" + p + ", " + s + ")");
    } else if (ctm == "align_corners") {
      c.emit("if " + w + " == 1.0:");
      c.emit("    " + p + " = torch.zeros_like(" + p + ")");
      c.emit("else:");
      c.emit("    " + p + " = torch.div(torch.mul(" + p + ", " + n + " - 1), " + w + " - 1)");
    } else {
      const std::string r0 = temp(c, "r0"), r1 = temp(c, "r1");
      c.emit(r0 + " = float(" + roi + "[" + ds + "])");
      c.emit(r1 + " = float(" + roi + "[" + std::to_string(d + r) + "])");
      c.emit("if " + w + " == 1.0:");
      c.emit("    " + p + " = torch.full_like(" + p + ", (" + r1 + " - " + r0 + ") * (" + n + " - 1) / 2)");
      c.emit("else:");
      c.emit("    " + p + " = torch.mul(" + p + ", (" + r1 + " - " + r0 + ") * (" + n + " - 1) / (" + w + " - 1))");
      c.emit(p + " = torch.add(" + p + ", " + r0 + " * (" + n + " - 1))");
    }
    std::vector<std::int64_t> bshape(static_cast<std::size_t>(r - d), 1);
    bshape[0] = -1;
    const std::string bs = python_int_list(bshape);
    const std::string y = temp(c, "y"), idx = temp(c, "i");
    auto clamp_index = [&](const std::string& i) {
      c.emit(i + " = torch.clamp(" + i + ", 0, " + n + " - 1).to(torch.int64)");
    };
    if (mode == "nearest") {
      if (nearest == "round_prefer_floor") c.emit(idx + " = torch.ceil(torch.sub(" + p + ", 0.5))");
      else if (nearest == "round_prefer_ceil") c.emit(idx + " = torch.floor(torch.add(" + p + ", 0.5))");
      else if (nearest == "floor") c.emit(idx + " = torch.floor(" + p + ")");
      else c.emit(idx + " = torch.ceil(" + p + ")");
      clamp_index(idx);
      c.emit(y + " = torch.index_select(" + o + ", " + ds + ", " + idx + ")");
    } else {
      // base = ceil(x) - 1 and ratio t in (0, 1], as the reference prefers
      // the left neighbour; tap k sits at base + offset_k
      const std::string base = temp(c, "base"), t = temp(c, "t"), v = temp(c, "v"), u = temp(c, "u");
      c.emit(base + " = torch.sub(torch.ceil(" + p + "), 1)");
      c.emit(t + " = torch.sub(" + p + ", " + base + ")");
      // weights as polynomials in the distance u to the tap (Horner, highest power first)
      struct tap {
        int offset;
        std::string distance;  // u as an expression of t
        std::vector<double> poly;
      };
      std::vector<tap> taps;
      if (mode == "linear") {
        taps = {{0, t, {-1.0, 1.0}}, {1, t, {1.0, 0.0}}};  // 1 - t and t
      } else {
        const std::vector<double> far{a, -5 * a, 8 * a, -4 * a}, near{a + 2, -(a + 3), 0.0, 1.0};
        taps = {{-1, "torch.add(" + t + ", 1.0)", far},
                {0, t, near},
                {1, "torch.rsub(" + t + ", 1.0)", near},
                {2, "torch.rsub(" + t + ", 2.0)", far}};
      }
      std::vector<std::string> ws;
      for (std::size_t k = 0; k < taps.size(); ++k) {
        const std::string wk = temp(c, "w" + std::to_string(k)), ik = temp(c, "i" + std::to_string(k));
        c.emit(u + " = " + taps[k].distance);
        c.emit(wk + " = torch.full_like(" + u + ", " + python_float(taps[k].poly[0]) + ")");
        for (std::size_t j = 1; j < taps[k].poly.size(); ++j)
          c.emit(wk + " = torch.add(torch.mul(" + wk + ", " + u + "), " + python_float(taps[k].poly[j]) + ")");
        c.emit(ik + " = torch.add(" + base + ", " + std::to_string(taps[k].offset) + ")");
        if (exclude) c.emit(wk + " = torch.where((" + ik + " < 0) | (" + ik + " > " + n + " - 1), torch.zeros_like(" + wk + "), " + wk + ")");
        ws.push_back(wk);
      }
      if (exclude) {
        const std::string sum = temp(c, "sum");
        c.emit(sum + " = " + ws[0]);
        for (std::size_t k = 1; k < ws.size(); ++k) c.emit(sum + " = torch.add(" + sum + ", " + ws[k] + ")");
        for (const auto& wk : ws) c.emit(wk + " = torch.div(" + wk + ", " + sum + ")");
      }
      for (std::size_t k = 0; k < taps.size(); ++k) {
        const std::string ik = temp(c, "i" + std::to_string(k));
        clamp_index(ik);
        c.emit(v + " = torch.index_select(" + o + ", " + ds + ", " + ik + ")");
        c.emit(v + " = torch.mul(" + v + ", " + ws[k] + ".reshape(" + bs + ").to(" + x + ".dtype))");
        c.emit(k == 0 ? y + " = " + v : y + " = torch.add(" + y + ", " + v + ")");
      }
    }
    if (ctm == "tf_crop_and_resize") {
      const std::string out = temp(c, "out");
      c.emit(out + " = torch.logical_or(" + p + " < 0, " + p + " > " + n + " - 1)");
      c.emit(y + " = torch.where(" + out + ".reshape(" + bs + "), torch.full_like(" + y + ", " +
             python_float(extrapolation) + "), " + y + ")");
    }
    c.emit(o + " = " + y);
  }
}

}  // namespace detail

/// Resize, Upsample and GridSample.
inline void add_resize_translations(op_registry& r) {
  using namespace detail;
  r.add("Upsample", 1, resize);
  r.add("Resize", 10, resize);
  r.add("GridSample", 16, grid_sample);
}

}  // namespace dfgpar::pytorch
