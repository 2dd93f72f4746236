// The slice figure of invert, evaluate and quickstart: orthogonal slices through a point (tissue in gray,
// concentration as a heat overlay). Images and PNG writing: core/image.h.
// Captions live in the Markdown/JSON next to the image; the images themselves carry no text.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/image.h"
#include "solver/tissue.h"

namespace tumorforge::invert {

using core::Image;

// One row of the slice figure: the tissue background, optionally with a concentration field (same grid,
// values in [0, 1]) drawn over it with the heat colormap.
struct SliceRow {
  const std::vector<float>* concentration = nullptr;  // x-fastest on the tissue grid; null: tissue only
};
// Rows top to bottom; columns: axial (z = centre), coronal (y = centre), sagittal (x = centre). Each slice is
// scaled up by an integer factor to about `slice_pixels` wide.
Image slice_figure(const solver::TissueMaps& tissue, const std::vector<SliceRow>& rows,
                   const std::array<int64_t, 3>& centre_voxel, int64_t slice_pixels = 192);

}  // namespace tumorforge::invert
