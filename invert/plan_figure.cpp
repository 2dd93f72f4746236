// The plan overlay (see plan_figure.h).
#include "invert/plan_figure.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/bitmap_font.h"

namespace tumorforge::invert {

using core::draw_text;
using core::text_width;

namespace {

constexpr std::array<uint8_t, 3> kEdema{230, 200, 60}, kCore{200, 40, 40}, kRecurrence{200, 60, 200},
    kStandard{40, 110, 230}, kModel{30, 170, 60}, kText{20, 20, 20};

std::array<uint8_t, 3> blend(std::array<uint8_t, 3> a, std::array<uint8_t, 3> b, double t) {
  std::array<uint8_t, 3> out{};
  for (size_t k = 0; k < 3; ++k) out[k] = static_cast<uint8_t>(std::lround(a[k] * (1 - t) + b[k] * t));
  return out;
}

}  // namespace

Image plan_figure(const core::Grid& g, const std::vector<uint8_t>& brain, const TumorMasks& tumor, const Plans& plans,
                  const std::vector<uint8_t>* rec, const std::array<int64_t, 3>& c, double margin_mm, int64_t slice_pixels) {
  const auto& d = g.dims;
  // Panel p shows axes (u, v) at a fixed third axis: axial (x, y | z), coronal (x, z | y), sagittal (y, z | x).
  const std::array<std::array<int, 3>, 3> axes{{{0, 1, 2}, {0, 2, 1}, {1, 2, 0}}};
  const char* names[3] = {"AXIAL Z=", "CORONAL Y=", "SAGITTAL X="};
  const int64_t longest = std::max({d[0], d[1], d[2]});
  const int64_t s = std::max<int64_t>(1, slice_pixels / longest);  // integer zoom
  const int64_t panel = longest * s, pad = 12, title_h = 26, legend_h = 56;  // two legend lines
  Image img(3 * panel + 4 * pad, title_h + panel + legend_h + 2 * pad);
  for (int p = 0; p < 3; ++p) {
    const int u = axes[static_cast<size_t>(p)][0], v = axes[static_cast<size_t>(p)][1], w = axes[static_cast<size_t>(p)][2];
    const int64_t x0 = pad + p * (panel + pad), y0 = pad + title_h;
    draw_text(img, x0, pad, names[p] + std::to_string(c[static_cast<size_t>(w)]), kText, 2);
    auto voxel = [&](int64_t a, int64_t b) {  // slice coords -> linear index, or -1 outside
      std::array<int64_t, 3> ijk{};
      ijk[static_cast<size_t>(u)] = a;
      ijk[static_cast<size_t>(v)] = b;
      ijk[static_cast<size_t>(w)] = c[static_cast<size_t>(w)];
      return g.contains(ijk[0], ijk[1], ijk[2]) ? g.index(ijk[0], ijk[1], ijk[2]) : int64_t{-1};
    };
    auto in = [&](const std::vector<uint8_t>& m, int64_t a, int64_t b) {
      const int64_t n = voxel(a, b);
      return n >= 0 && m[static_cast<size_t>(n)] != 0;
    };
    auto outline = [&](const std::vector<uint8_t>& m, int64_t a, int64_t b) {
      return in(m, a, b) && (!in(m, a - 1, b) || !in(m, a + 1, b) || !in(m, a, b - 1) || !in(m, a, b + 1));
    };
    const int64_t du = d[static_cast<size_t>(u)], dv = d[static_cast<size_t>(v)];
    for (int64_t b = 0; b < dv; ++b)
      for (int64_t a = 0; a < du; ++a) {
        const int64_t n = voxel(a, b);
        std::array<uint8_t, 3> col = brain[static_cast<size_t>(n)] ? std::array<uint8_t, 3>{150, 150, 150}
                                                                  : std::array<uint8_t, 3>{0, 0, 0};
        if (tumor.whole[static_cast<size_t>(n)] > 0) col = blend(col, kEdema, 0.7);
        if (tumor.core[static_cast<size_t>(n)] > 0) col = blend(col, kCore, 0.8);
        if (rec && (*rec)[static_cast<size_t>(n)]) col = blend(col, kRecurrence, 0.6);
        if (outline(plans.standard, a, b)) col = kStandard;
        if (outline(plans.model, a, b)) col = kModel;
        for (int64_t yy = 0; yy < s; ++yy)
          for (int64_t xx = 0; xx < s; ++xx) img.set(x0 + a * s + xx, y0 + (dv - 1 - b) * s + yy, col);  // v axis up
      }
  }
  int64_t x = pad, y = pad + title_h + panel + pad;
  std::ostringstream std_label;
  std_label << "STANDARD PLAN (CORE + " << margin_mm << " MM)";
  const std::vector<std::pair<std::array<uint8_t, 3>, std::string>> legend = {
      {kEdema, "EDEMA"}, {kCore, "TUMOR CORE"}, {kRecurrence, "RECURRENCE"}, {kStandard, std_label.str()}, {kModel, "MODEL PLAN"}};
  for (const auto& [col, label] : legend) {
    if (label == "RECURRENCE" && !rec) continue;
    if (x + 20 + text_width(label) > img.width) x = pad, y += 22;  // wrap
    for (int64_t yy = 0; yy < 14; ++yy)
      for (int64_t xx = 0; xx < 14; ++xx) img.set(x + xx, y + yy, col);
    x = draw_text(img, x + 20, y, label, kText, 2) + 16;
  }
  return img;
}

}  // namespace tumorforge::invert
