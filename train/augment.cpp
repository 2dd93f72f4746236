// Axis-flip augmentation (see augment.h).
#include "train/augment.h"

#include "core/random.h"

namespace tumorforge::train {

unsigned flip_mask(uint64_t seed, int64_t step, int64_t n) {
  const uint64_t h = core::splitmix64(core::splitmix64(seed ^ 0xf11bull) ^ core::splitmix64(
                                             static_cast<uint64_t>(step) * 4096 + static_cast<uint64_t>(n)));
  return static_cast<unsigned>(h >> 61);  // three bits
}

Batch random_flips(Batch b, uint64_t seed, int64_t step, int64_t first) {
  for (int64_t n = 0; n < b.theta.size(0); ++n) {
    const unsigned mask = flip_mask(seed, step, first + n);
    if (mask == 0) continue;
    std::vector<int64_t> dims;
    for (int64_t k = 0; k < 3; ++k)
      if (mask & (1u << k)) {
        dims.push_back(k + 1);  // spatial dims of one sample (C, X, Y, Z)
        b.theta[n][k] = -b.theta[n][k];
      }
    b.tissue[n] = b.tissue[n].flip(dims);
    b.concentration[n] = b.concentration[n].flip(dims);
  }
  return b;
}

}  // namespace tumorforge::train
