// Parameter sampling for dataset generation. Counter-based: sample i's values are a pure function of
// (rng_seed, i), so any sharding, ordering or resume produces the same dataset.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tumorforge::datagen {

// One sampled quantity: dist "uniform" | "loguniform" | "fixed" (uses min) | "none" (stop_volume only).
struct Range {
  std::string dist = "uniform";
  double min = 0, max = 0;
  double sample(double u01) const;  // maps a uniform [0,1) number into the range
  void validate(const std::string& name, bool allow_none) const;
};

// A uniform double in [0, 1) from (seed, sample, stream): splitmix64 mixing, 53 random bits.
double counter_uniform(uint64_t rng_seed, uint64_t sample, uint32_t stream);

struct SampledParams {
  int64_t seed_voxel_linear = 0;  // into the simulation grid
  double dw_mm2_per_day = 0, rho_per_day = 0, stop_time_days = 0;
  std::optional<double> stop_volume_mm3;
};

struct ParamRanges {
  Range dw, rho, stop_volume, stop_time;
};

// `seed_candidates`: linear indices of simulation-grid voxels a tumor may start in (sorted).
SampledParams sample_params(const ParamRanges& ranges, uint64_t rng_seed, uint64_t sample,
                            const std::vector<int64_t>& seed_candidates);

}  // namespace tumorforge::datagen
