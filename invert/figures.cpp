// The slice figure (see figures.h).
#include "invert/figures.h"

#include <algorithm>
#include <cmath>

namespace tumorforge::invert {

Image slice_figure(const solver::TissueMaps& tissue, const std::vector<SliceRow>& rows,
                   const std::array<int64_t, 3>& centre, int64_t slice_pixels) {
  const auto& d = tissue.grid.dims;
  const int64_t edge = std::max({d[0], d[1], d[2]});
  const int64_t scale = std::max<int64_t>(1, slice_pixels / edge), gap = 4;
  const int64_t cell = edge * scale;
  Image img(3 * cell + 4 * gap, static_cast<int64_t>(rows.size()) * (cell + gap) + gap, 255);
  // Column c shows the plane orthogonal to axis 2 - c: (x, y) at z, (x, z) at y, (y, z) at x.
  for (size_t r = 0; r < rows.size(); ++r) {
    for (int c = 0; c < 3; ++c) {
      const int fixed = 2 - c;
      const int u_axis = fixed == 0 ? 1 : 0, v_axis = fixed == 2 ? 1 : 2;
      const int64_t x0 = gap + c * (cell + gap), y0 = gap + static_cast<int64_t>(r) * (cell + gap);
      std::array<int64_t, 3> p{};
      p[static_cast<size_t>(fixed)] = std::clamp<int64_t>(centre[static_cast<size_t>(fixed)], 0, d[static_cast<size_t>(fixed)] - 1);
      for (int64_t v = 0; v < d[v_axis]; ++v) {
        for (int64_t u = 0; u < d[u_axis]; ++u) {
          p[static_cast<size_t>(u_axis)] = u;
          p[static_cast<size_t>(v_axis)] = v;
          const size_t i = static_cast<size_t>(tissue.grid.index(p[0], p[1], p[2]));
          const double g = std::clamp(0.9 * tissue.wm[i] + 0.55 * tissue.gm[i] + 0.2 * tissue.csf[i], 0.0, 1.0);
          std::array<double, 3> col{g, g, g};
          if (rows[r].concentration) {
            const double cval = (*rows[r].concentration)[i];
            if (cval > 0.01) {
              const auto h = core::heat_colour(0.25 + 0.75 * cval);
              const double a = std::min(1.0, 0.35 + cval);
              for (int k = 0; k < 3; ++k) col[static_cast<size_t>(k)] = (1 - a) * col[static_cast<size_t>(k)] + a * h[static_cast<size_t>(k)];
            }
          }
          const std::array<uint8_t, 3> px{static_cast<uint8_t>(255 * col[0]), static_cast<uint8_t>(255 * col[1]),
                                          static_cast<uint8_t>(255 * col[2])};
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
