// Data augmentation by the exact symmetries of the FK problem on a cube centred on the tumor: mirroring an
// axis maps a solution on mirrored anatomy to the mirrored solution, with the seed offset's sign flipped on
// that axis (the normalized offset range is symmetric, ±S/2 voxels). A mirrored x axis is the mirrored brain.
#pragma once
#include <cstdint>

#include "train/loader.h"

namespace tumorforge::train {

// Which axes sample `n` of training step `step` mirrors: bit k set = axis k. Depends only on (seed, step, n),
// so an exact resume repeats the same flips.
unsigned flip_mask(uint64_t seed, int64_t step, int64_t n);

// Mirrors each sample of `b` (tissue, concentration, θ offset) by its flip_mask; sample n of `b` is sample
// first + n of the step's global batch (data-parallel ranks hold slices of it).
Batch random_flips(Batch b, uint64_t seed, int64_t step, int64_t first = 0);

}  // namespace tumorforge::train
