// The slice figure of invert, evaluate and quickstart: orthogonal slices through a point (tissue in gray,
// concentration as a heat overlay). Images and PNG writing: core/image.h.
// The image labels itself: a title band on top names the planes and the voxel they pass through, each row
// carries its label on the left, and a colour bar on the right shows what the heat colours mean.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/image.h"
#include "solver/tissue.h"

namespace tumorforge::invert {

using core::Image;

constexpr int64_t kSliceTitleBand = 24;
// The colour of concentration c over tissue of gray level g (both in [0, 1]): transparent below 0.01, then the
// heat ramp from dark red to white, which only c = 1 reaches.
std::array<double, 3> overlay_colour(double c, double g);

// One row of the slice figure: the tissue background, optionally with a concentration field (same grid,
// values in [0, 1]) drawn over it with the heat colormap.
struct SliceRow {
  const std::vector<float>* concentration = nullptr;  // x-fastest on the tissue grid; null: tissue only
  std::string label;                                  // drawn left of the row ("TARGET", "FINAL RUN", ...)
};
// Rows top to bottom; columns: axial (z = centre), coronal (y = centre), sagittal (x = centre). Each slice is
// scaled up by an integer factor to about `slice_pixels` wide. Layout: kSliceTitleBand pixels of column titles
// on top, the row labels' width on the left, the colour bar (c from 0 to 1) on the right.
Image slice_figure(const solver::TissueMaps& tissue, const std::vector<SliceRow>& rows,
                   const std::array<int64_t, 3>& centre_voxel, int64_t slice_pixels = 192);

}  // namespace tumorforge::invert
