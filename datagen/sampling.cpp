// Counter-based sampling (see sampling.h).
#include "datagen/sampling.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "core/random.h"

namespace tumorforge::datagen {
using core::splitmix64;

namespace {

enum Stream : uint32_t { kSeedVoxel = 0, kDw = 1, kRho = 2, kStopVolume = 3, kStopTime = 4 };

}  // namespace

double counter_uniform(uint64_t rng_seed, uint64_t sample, uint32_t stream) {
  uint64_t x = splitmix64(splitmix64(rng_seed) ^ splitmix64(sample * 8 + stream + 1));
  return static_cast<double>(x >> 11) * 0x1.0p-53;
}

double Range::sample(double u) const {
  if (dist == "fixed") return min;
  if (dist == "loguniform") return std::exp(std::log(min) + u * (std::log(max) - std::log(min)));
  return min + u * (max - min);
}

void Range::validate(const std::string& name, bool allow_none) const {
  auto bad = [&](const std::string& why) {
    std::ostringstream s;
    s << name << " range " << dist << "(" << min << ", " << max << "): " << why;
    throw std::invalid_argument(s.str());
  };
  if (dist == "none") {
    if (!allow_none) bad("'none' is only allowed for stop_volume");
    return;
  }
  if (dist != "uniform" && dist != "loguniform" && dist != "fixed") bad("dist must be uniform, loguniform or fixed");
  if (!std::isfinite(min) || !(min > 0)) bad("min must be positive and finite");
  if (dist != "fixed" && (!std::isfinite(max) || max < min)) bad("max must be finite and >= min");
}

SampledParams sample_params(const ParamRanges& r, uint64_t rng_seed, uint64_t i, const std::vector<int64_t>& seeds) {
  if (seeds.empty()) throw std::invalid_argument("no voxel qualifies as a tumor seed");
  SampledParams p;
  auto pick = static_cast<size_t>(counter_uniform(rng_seed, i, kSeedVoxel) * static_cast<double>(seeds.size()));
  p.seed_voxel_linear = seeds[std::min(pick, seeds.size() - 1)];
  p.dw_mm2_per_day = r.dw.sample(counter_uniform(rng_seed, i, kDw));
  p.rho_per_day = r.rho.sample(counter_uniform(rng_seed, i, kRho));
  p.stop_time_days = r.stop_time.sample(counter_uniform(rng_seed, i, kStopTime));
  if (r.stop_volume.dist != "none") p.stop_volume_mm3 = r.stop_volume.sample(counter_uniform(rng_seed, i, kStopVolume));
  return p;
}

}  // namespace tumorforge::datagen
