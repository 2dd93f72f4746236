// Segmentation label conventions. The same numbers mean different tissue in different toolkits — 3 is
// enhancing tumor in BraTS 2023 but edema in GliODIL — so a segmentation is read only under a named
// convention or explicit label lists, and a label the convention does not define is an error, never a guess.
//   brats2021: 1 necrotic core, 2 edema, 4 enhancing      brats2023: 1 necrotic core, 2 edema, 3 enhancing
//   gliodil (also the BraTS toolkit): 1 enhancing, 3 edema, 4 necrotic core
// Tumor core = necrotic + enhancing; visible tumor = core + edema.
#pragma once
#include <string>
#include <vector>

#include "core/grid.h"

namespace tumorforge::invert {

struct LabelConvention {
  std::string name;                          // "brats2021", ..., or "custom"
  std::vector<int> core, edema, enhancing;   // enhancing ⊆ core; empty enhancing: not known (custom lists)
  std::string describe() const;              // "gliodil (core 1,4; edema 3; enhancing 1)"
};

// `name` is brats2021 | brats2023 | gliodil, or empty with explicit lists ("1,4" and "3"); throws naming the flag.
LabelConvention label_convention(const std::string& name, const std::string& core_labels = "",
                                 const std::string& edema_labels = "", const std::string& enhancing_labels = "");

struct TumorMasks {
  std::vector<float> core, whole, enhancing;  // 0/1 per voxel, x-fastest like the volume
};
// Splits a label map by the convention; throws naming the file, the labels found and the convention assumed
// when a voxel carries a label the convention does not define (or a non-integer value).
TumorMasks tumor_masks(const core::Volume& labels, const std::string& name, const LabelConvention& convention);

}  // namespace tumorforge::invert
