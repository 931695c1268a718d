#pragma once
/// \file detection.hpp
/// The PyTorch translations of object detection: NonMaxSuppression, RoiAlign.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

/// NonMaxSuppression: per batch and class, the boxes by descending score
/// (equal scores: lower index first) with score > score_threshold, each
/// kept unless its IoU with a kept box exceeds iou_threshold, at most
/// max_output_boxes_per_class of them.
inline void non_max_suppression(op_context& c) {
  check_types(c);
  require_float(c);
  const std::int64_t center = c.attr_int("center_point_box", 0);
  if (center != 0 && center != 1) c.unsupported("center_point_box " + std::to_string(center));
  const std::string bx = c.in(0), sc = c.in(1), o = c.out(0);
  const std::string nb = temp(c, "boxes"), a = temp(c, "a"), b = temp(c, "b"), area = temp(c, "area"),
                    sel = temp(c, "selected"), limit = temp(c, "limit"), iou_t = temp(c, "iou_thr"),
                    sc_t = temp(c, "score_thr"), n = temp(c, "n"), cl = temp(c, "class"),
                    order = temp(c, "order"), kept = temp(c, "kept"), count = temp(c, "count"), i = temp(c, "i"),
                    k = temp(c, "k"), box = temp(c, "box"), lo = temp(c, "lo"), hi = temp(c, "hi"),
                    inter = temp(c, "inter"), uni = temp(c, "union"), iou = temp(c, "iou");
  c.emit(limit + " = " + (c.has_input(2) ? int_scalar(c, 2, "max_output_boxes_per_class") : std::string("0")));
  c.emit(iou_t + " = " + (c.has_input(3) ? "float(" + c.in(3) + ".reshape(-1)[0])" : std::string("0.0")));
  c.emit(sc_t + " = " + (c.has_input(4) ? "float(" + c.in(4) + ".reshape(-1)[0])" : std::string("-float('inf')")));
  // corners (y1, x1, y2, x2) with y1 <= y2 and x1 <= x2
  if (center == 0) {
    c.emit(a + " = torch.minimum(" + bx + "[..., :2], " + bx + "[..., 2:])");
    c.emit(b + " = torch.maximum(" + bx + "[..., :2], " + bx + "[..., 2:])");
  } else {
    // (x_center, y_center, width, height)
    c.emit(a + " = torch.sub(" + bx + "[..., :2], torch.div(" + bx + "[..., 2:], 2.0)).flip(-1)");
    c.emit(b + " = torch.add(" + bx + "[..., :2], torch.div(" + bx + "[..., 2:], 2.0)).flip(-1)");
  }
  c.emit(nb + " = torch.cat([" + a + ", " + b + "], -1)");
  c.emit(area + " = torch.mul(" + b + "[..., 0] - " + a + "[..., 0], " + b + "[..., 1] - " + a + "[..., 1])");
  c.emit(sel + " = [torch.zeros([0, 3], dtype=torch.int64)]");
  c.emit("for " + n + " in range(" + sc + ".shape[0]):");
  c.emit("    for " + cl + " in range(" + sc + ".shape[1]):");
  const std::string ss = temp(c, "s"), m = temp(c, "m"), sup = temp(c, "sup");
  c.emit("        " + ss + " = " + sc + "[" + n + ", " + cl + "]");
  c.emit("        " + order + " = torch.sort(" + ss + ", stable=True, descending=True)[1]");
  c.emit("        " + order + " = " + order + "[torch.gt(" + ss + "[" + order + "], " + sc_t + ")]");
  c.emit("        " + kept + " = " + order + "[:0]");
  c.emit("        " + count + " = 0");
  c.emit("        " + m + " = " + order + ".shape[0]");
  c.emit("        for " + k + " in range(" + m + "):");
  c.emit("            " + i + " = int(" + order + "[" + k + "])");
  c.emit("            if " + count + " >= " + limit + ":");
  c.emit("                break");
  c.emit("            " + box + " = " + nb + "[" + n + ", " + i + "]");
  c.emit("            " + lo + " = torch.maximum(" + box + "[:2], " + nb + "[" + n + ", " + kept + ", :2])");
  c.emit("            " + hi + " = torch.minimum(" + box + "[2:], " + nb + "[" + n + ", " + kept + ", 2:])");
  c.emit("            " + inter + " = torch.clamp(torch.sub(" + hi + ", " + lo + "), min=0.0).prod(-1)");
  c.emit("            " + uni + " = torch.sub(torch.add(" + area + "[" + n + ", " + i + "], " + area + "[" + n + ", " +
         kept + "]), " + inter + ")");
  c.emit("            " + iou + " = torch.where(torch.logical_and(" + inter + " > 0, " + uni + " > 0), torch.div(" +
         inter + ", " + uni + "), torch.zeros_like(" + inter + "))");
  c.emit("            " + sup + " = bool(torch.any(torch.gt(" + iou + ", " + iou_t + ")))");
  c.emit("            if " + sup + ":");
  c.emit("                continue");
  c.emit("            " + kept + " = torch.cat([" + kept + ", " + order + "[" + k + ":" + k + " + 1]])");
  c.emit("            " + count + " += 1");
  c.emit("            " + sel + ".append(torch.tensor([[" + n + ", " + cl + ", " + i + "]]))");
  c.assign("torch.cat(" + sel + ")");
}

/// RoiAlign as the ONNX reference (and ONNX Runtime) computes it: per region
/// of interest, a grid of sampling_ratio x sampling_ratio points per output
/// bin (adaptive, ceil(roi size / bins), when 0), each sampled bilinearly
/// (points more than one pixel outside the input count 0), then the bin's
/// average, or with mode max the largest of the points' weighted corners.
/// RoiAlign-10 has no coordinate_transformation_mode: it maps coordinates
/// as output_half_pixel does (no half-pixel shift, regions at least 1 x 1);
/// RoiAlign-16's default is half_pixel. Written with torch only
/// (torchvision's roi_align has neither the max rule nor is it in torch).
inline op_translation roi_align(bool has_transformation_mode) {
  return [has_transformation_mode](op_context& c) {
    check_types(c);
    require_float(c);
    if (c.need_rank(0) != 4) c.unsupported("input that is not 4-D");
    const std::string ctm =
        has_transformation_mode ? c.attr_string("coordinate_transformation_mode", "half_pixel") : "output_half_pixel";
    if (ctm != "half_pixel" && ctm != "output_half_pixel")
      c.unsupported("coordinate_transformation_mode " + python_string(ctm));
    const bool half_pixel = ctm == "half_pixel";
    const std::string mode = c.attr_string("mode", "avg");
    if (mode != "avg" && mode != "max") c.unsupported("mode " + python_string(mode));
    const std::int64_t oh = c.attr_int("output_height", 1), ow = c.attr_int("output_width", 1);
    const std::int64_t ratio = c.attr_int("sampling_ratio", 0);
    if (oh < 1 || ow < 1) c.unsupported("output_height/output_width below 1");
    if (ratio < 0) c.unsupported("a negative sampling_ratio");
    const std::string scale = python_float(c.attr_float("spatial_scale", 1.0));
    const std::string x = c.in(0), rois = c.in(1), idx = c.in(2), o = c.out(0);
    const std::string n = temp(c, "n"), xb = temp(c, "xb"), f64 = "torch.float64";
    c.assign("torch.zeros([" + rois + ".shape[0], " + x + ".shape[1], " + std::to_string(oh) + ", " +
             std::to_string(ow) + "], dtype=" + x + ".dtype)");
    c.emit("for " + n + " in range(" + rois + ".shape[0]):");
    c.emit("    " + xb + " = " + x + "[int(" + idx + "[" + n + "])]");
    // per axis (y: coordinates 1 and 3, x: 0 and 2): the sample positions
    // of every bin, the two neighbours of each and their weights
    struct axis {
      std::string name;
      int first, dim;
      std::int64_t bins;
    };
    std::vector<std::string> grids;
    for (const axis& a : {axis{"y", 1, 2, oh}, axis{"x", 0, 3, ow}}) {
      auto t = [&](const std::string& part) { return temp(c, part + "_" + a.name); };
      const std::string start = t("start"), size = t("size"), bin = t("bin"), grid = t("grid"), p = t("p"),
                        len = t("len"), valid = t("valid"), lo = t("lo"), hi = t("hi"), w_lo = t("w_lo"),
                        w_hi = t("w_hi"), at_end = t("at_end"), bins = std::to_string(a.bins);
      const std::string off = half_pixel ? " - 0.5" : "";
      c.emit("    " + start + " = float(" + rois + "[" + n + ", " + std::to_string(a.first) + "]) * " + scale + off);
      c.emit("    " + size + " = float(" + rois + "[" + n + ", " + std::to_string(a.first + 2) + "]) * " + scale + off +
             " - " + start);
      if (!half_pixel) c.emit("    " + size + " = max(" + size + ", 1.0)");
      c.emit("    " + bin + " = " + size + " / " + bins);
      if (ratio > 0) {
        c.emit("    " + grid + " = " + std::to_string(ratio));
      } else {
        // ceil(size / bins), 0 or less for an empty region
        c.emit("    " + grid + " = int(" + bin + ")");
        c.emit("    if " + grid + " < " + bin + ":");
        c.emit("        " + grid + " += 1");
        c.emit("    " + grid + " = max(" + grid + ", 0)");
      }
      c.emit("    " + p + " = torch.add(torch.arange(" + grid + ", dtype=" + f64 + "), 0.5).mul(" + bin + " / max(" +
             grid + ", 1))");
      c.emit("    " + p + " = torch.add(torch.arange(" + bins + ", dtype=" + f64 + ").mul(" + bin + ").reshape(-1, 1), " +
             p + ").reshape(-1)");
      c.emit("    " + p + " = torch.add(" + p + ", " + start + ")");
      c.emit("    " + len + " = " + x + ".shape[" + std::to_string(a.dim) + "]");
      c.emit("    " + valid + " = torch.logical_and(" + p + " >= -1.0, " + p + " <= " + len + ")");
      c.emit("    " + p + " = torch.clamp(" + p + ", min=0.0)");
      c.emit("    " + lo + " = torch.floor(" + p + ").to(torch.int64)");
      c.emit("    " + at_end + " = " + lo + " >= " + len + " - 1");
      c.emit("    " + lo + " = torch.where(" + at_end + ", torch.full_like(" + lo + ", " + len + " - 1), " + lo + ")");
      c.emit("    " + hi + " = torch.where(" + at_end + ", " + lo + ", torch.add(" + lo + ", 1))");
      c.emit("    " + p + " = torch.where(" + at_end + ", " + lo + ".to(" + f64 + "), " + p + ")");
      c.emit("    " + w_hi + " = torch.sub(" + p + ", " + lo + ").mul(" + valid + ")");
      c.emit("    " + w_lo + " = torch.rsub(torch.sub(" + p + ", " + lo + "), 1.0).mul(" + valid + ")");
      grids.push_back(grid);
    }
    // the four weighted corners of every sample: [channels, y samples, x samples]
    const std::string ry = temp(c, "rows_lo"), rh = temp(c, "rows_hi"), v = temp(c, "v");
    const auto wy = [&](const std::string& w) { return temp(c, w + "_y") + ".reshape(-1, 1)"; };
    const auto wx = [&](const std::string& w) { return temp(c, w + "_x") + ".reshape(1, -1)"; };
    auto corner = [&](const std::string& rows, const std::string& col, const std::string& wyk, const std::string& wxk) {
      return "torch.mul(" + rows + ".index_select(2, " + temp(c, col + "_x") + "), torch.mul(" + wy(wyk) + ", " + wx(wxk) +
             ").to(" + x + ".dtype))";
    };
    c.emit("    " + ry + " = " + xb + ".index_select(1, " + temp(c, "lo_y") + ")");
    c.emit("    " + rh + " = " + xb + ".index_select(1, " + temp(c, "hi_y") + ")");
    const std::string shape = "[" + x + ".shape[1], " + std::to_string(oh) + ", " + grids[0] + ", " +
                              std::to_string(ow) + ", " + grids[1] + "]";
    const std::string combine = mode == "avg" ? "torch.add(" : "torch.maximum(";
    c.emit("    if " + grids[0] + " > 0 and " + grids[1] + " > 0:");
    c.emit("        " + v + " = " + corner(ry, "lo", "w_lo", "w_lo"));
    c.emit("        " + v + " = " + combine + v + ", " + corner(ry, "hi", "w_lo", "w_hi") + ")");
    c.emit("        " + v + " = " + combine + v + ", " + corner(rh, "lo", "w_hi", "w_lo") + ")");
    c.emit("        " + v + " = " + combine + v + ", " + corner(rh, "hi", "w_hi", "w_hi") + ")");
    c.emit("        " + v + " = " + v + ".reshape(" + shape + ")");
    if (mode == "avg")
      c.emit("        " + o + "[" + n + "] = torch.div(" + v + ".sum([2, 4]), " + grids[0] + " * " + grids[1] + ")");
    else
      c.emit("        " + o + "[" + n + "] = torch.amax(" + v + ", [2, 4])");
  };
}

}  // namespace detail

/// Object detection: NonMaxSuppression, RoiAlign.
inline void add_detection_translations(op_registry& r) {
  using namespace detail;
  r.add("NonMaxSuppression", 10, non_max_suppression);
  r.add("RoiAlign", 10, roi_align(false));
  r.add("RoiAlign", 16, roi_align(true));
}

}  // namespace dfgpar::pytorch
