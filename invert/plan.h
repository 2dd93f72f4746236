// Radiotherapy target volumes from a tumor and, when a follow-up exists, how much of the recurrence each
// covers — the PredictGBM benchmark's definitions. The standard plan is the tumor core (necrotic + enhancing)
// grown by a Euclidean margin in mm (voxel spacing counts) inside the brain; the model plan takes exactly as
// many voxels, those of highest predicted concentration inside the brain (ties — e.g. the zeros when the
// predicted tumor is smaller than the standard plan — go to the voxels nearer the core, then by world position,
// x then y then z, so the plan is deterministic and the same in any voxel order). Coverage = fraction of the recurrence's voxels inside a plan. No LibTorch here.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "core/grid.h"

namespace tumorforge::invert {

// Squared Euclidean distance in mm² from every voxel to the nearest voxel with mask != 0 (exact, separable:
// Felzenszwalb & Huttenlocher's lower envelope per axis, anisotropic spacing). Infinity when the mask is empty.
std::vector<double> squared_distance_mm2(const std::vector<uint8_t>& mask, const core::Grid& grid);

struct Plans {
  std::vector<uint8_t> standard, model;  // 0/1 on the patient grid
  int64_t standard_voxels = 0, model_voxels = 0;
};
// core, brain: 0/1 masks; concentration: the model's field (any non-negative score) on the same grid.
Plans make_plans(const std::vector<uint8_t>& core, const std::vector<uint8_t>& brain, const std::vector<float>& concentration,
                 const core::Grid& grid, double margin_mm);

// |recurrence ∩ plan| / |recurrence|; nullopt when the recurrence is empty.
std::optional<double> coverage(const std::vector<uint8_t>& recurrence, const std::vector<uint8_t>& plan);

}  // namespace tumorforge::invert
