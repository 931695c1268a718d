#pragma once
/// \file detection.hpp
/// PyTorch translations, object detection: NonMaxSuppression.

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

}  // namespace detail

/// Object detection: NonMaxSuppression.
inline void add_detection_translations(op_registry& r) {
  using namespace detail;
  r.add("NonMaxSuppression", 10, non_max_suppression);
}

}  // namespace dfgpar::pytorch
