// The plan overlay PNG: axial, coronal and sagittal slices through the tumor core's centre of mass with the
// brain in gray, edema and tumor core filled, the recurrence filled, both plans as outlines, panel titles and
// a legend drawn into the image (it is meant to be opened on its own).
#pragma once
#include <array>
#include <vector>

#include "invert/figures.h"
#include "invert/labels.h"
#include "invert/plan.h"

namespace tumorforge::invert {

Image plan_figure(const core::Grid& grid, const std::vector<uint8_t>& brain, const TumorMasks& tumor, const Plans& plans,
                  const std::vector<uint8_t>* recurrence, const std::array<int64_t, 3>& centre, double margin_mm,
                  int64_t slice_pixels = 240);

}  // namespace tumorforge::invert
