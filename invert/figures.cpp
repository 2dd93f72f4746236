// The slice figure (see figures.h).
#include "invert/figures.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "core/bitmap_font.h"

namespace tumorforge::invert {

std::array<double, 3> overlay_colour(double cval, double g) {
  std::array<double, 3> col{g, g, g};
  if (cval > 0.01) {
    const auto h = core::heat_colour(0.25 + 0.75 * std::min(cval, 1.0));
    const double a = std::min(1.0, 0.35 + cval);
    for (size_t k = 0; k < 3; ++k) col[k] = (1 - a) * col[k] + a * h[k];
  }
  return col;
}

namespace {

std::array<uint8_t, 3> rgb8(const std::array<double, 3>& c) {
  return {static_cast<uint8_t>(std::lround(255 * std::clamp(c[0], 0.0, 1.0))), static_cast<uint8_t>(std::lround(255 * std::clamp(c[1], 0.0, 1.0))),
          static_cast<uint8_t>(std::lround(255 * std::clamp(c[2], 0.0, 1.0)))};
}

}  // namespace

Image slice_figure(const solver::TissueMaps& tissue, const std::vector<SliceRow>& rows,
                   const std::array<int64_t, 3>& centre, int64_t slice_pixels) {
  const auto& d = tissue.grid.dims;
  const int64_t edge = std::max({d[0], d[1], d[2]});
  const int64_t scale = std::max<int64_t>(1, slice_pixels / edge), gap = 4;
  const int64_t cell = edge * scale;
  const std::array<uint8_t, 3> ink{40, 40, 40};
  int64_t left = 0;
  for (const auto& r : rows) left = std::max(left, r.label.empty() ? 0 : core::text_width(r.label) + 8);
  const int64_t bar_w = 14, right = 8 + bar_w + 6 + core::text_width("0.5") + 8;
  const int64_t top = kSliceTitleBand, height = top + static_cast<int64_t>(rows.size()) * (cell + gap) + gap;
  Image img(left + 3 * cell + 4 * gap + right, height, 255);
  std::array<int64_t, 3> at{};
  for (size_t a = 0; a < 3; ++a) at[a] = std::clamp<int64_t>(centre[a], 0, d[a] - 1);
  const std::array<std::string, 3> titles{"AXIAL Z=" + std::to_string(at[2]), "CORONAL Y=" + std::to_string(at[1]),
                                          "SAGITTAL X=" + std::to_string(at[0])};
  for (int c = 0; c < 3; ++c) {
    const int64_t x0 = left + gap + c * (cell + gap);
    core::draw_text(img, x0 + std::max<int64_t>(0, (cell - core::text_width(titles[static_cast<size_t>(c)])) / 2), 5,
                    titles[static_cast<size_t>(c)], ink);
  }
  for (size_t r = 0; r < rows.size(); ++r)
    if (!rows[r].label.empty())
      core::draw_text(img, 4, top + gap + static_cast<int64_t>(r) * (cell + gap) + cell / 2 - 7, rows[r].label, ink);
  // Colour bar: c from 0 (bottom) to 1 (top) over white-matter gray, as the overlay draws it.
  const int64_t bx = left + 3 * cell + 4 * gap + 8, by0 = top + gap, by1 = height - gap - 1;
  for (int64_t y = by0; y <= by1; ++y) {
    const double cval = static_cast<double>(by1 - y) / static_cast<double>(std::max<int64_t>(1, by1 - by0));
    const auto px = rgb8(overlay_colour(cval, 0.9));
    for (int64_t x = bx; x < bx + bar_w; ++x) img.set(x, y, px);
  }
  for (const auto& [v, text] : std::vector<std::pair<double, std::string>>{{0.0, "0"}, {0.5, "0.5"}, {1.0, "1"}}) {
    const int64_t y = by1 - static_cast<int64_t>(std::lround(v * static_cast<double>(by1 - by0)));
    for (int64_t x = bx + bar_w; x < bx + bar_w + 4; ++x) img.set(x, y, ink);
    core::draw_text(img, bx + bar_w + 6, std::clamp<int64_t>(y - 7, 0, height - 14), text, ink);
  }
  // Column c shows the plane orthogonal to axis 2 - c: (x, y) at z, (x, z) at y, (y, z) at x.
  for (size_t r = 0; r < rows.size(); ++r) {
    for (int c = 0; c < 3; ++c) {
      const int fixed = 2 - c;
      const int u_axis = fixed == 0 ? 1 : 0, v_axis = fixed == 2 ? 1 : 2;
      const int64_t x0 = left + gap + c * (cell + gap), y0 = top + gap + static_cast<int64_t>(r) * (cell + gap);
      std::array<int64_t, 3> p{};
      p[static_cast<size_t>(fixed)] = std::clamp<int64_t>(centre[static_cast<size_t>(fixed)], 0, d[static_cast<size_t>(fixed)] - 1);
      for (int64_t v = 0; v < d[v_axis]; ++v) {
        for (int64_t u = 0; u < d[u_axis]; ++u) {
          p[static_cast<size_t>(u_axis)] = u;
          p[static_cast<size_t>(v_axis)] = v;
          const size_t i = static_cast<size_t>(tissue.grid.index(p[0], p[1], p[2]));
          const double g = std::clamp(0.9 * tissue.wm[i] + 0.55 * tissue.gm[i] + 0.2 * tissue.csf[i], 0.0, 1.0);
          const auto px = rgb8(rows[r].concentration ? overlay_colour((*rows[r].concentration)[i], g) : std::array<double, 3>{g, g, g});
          // Image rows run top-down; flip v so anatomy's "up" (larger index) is at the top.
          const int64_t py = y0 + (edge - 1 - v - (edge - d[v_axis]) / 2) * scale;
          const int64_t px0 = x0 + (u + (edge - d[u_axis]) / 2) * scale;
          for (int64_t dy = 0; dy < scale; ++dy)
            for (int64_t dx = 0; dx < scale; ++dx) img.set(px0 + dx, py + dy, px);
        }
      }
    }
  }
  return img;
}

}  // namespace tumorforge::invert
