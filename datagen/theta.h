// θ, the parameters the networks speak, defined once: the seed's offset from the model cube's centre (x, y, z
// in mm along the grid axes), μ_D = √(D_w·T) in mm and μ_ρ = √(ρ·T) (unitless), where T is the time the tumor
// grew (the FK solution at T depends on D_w and ρ only through D_w·T and ρ·T). The networks see θ normalized
// to [-1, 1] by the store's `theta_range`: normalized = 2 (θ − lo) / (hi − lo) − 1; the offsets' range is
// symmetric, ±S/2 voxels, so a normalized offset times S/2 is an offset in voxels.
#pragma once
#include <array>
#include <cstddef>

#include <nlohmann/json.hpp>

namespace tumorforge::datagen {

inline constexpr size_t kThetaSize = 5;
enum ThetaIndex : size_t { kThetaX = 0, kThetaY = 1, kThetaZ = 2, kThetaMuD = 3, kThetaMuRho = 4 };
using Theta = std::array<double, kThetaSize>;

struct ThetaComponent {
  const char* name;
  const char* unit;
};
inline constexpr std::array<ThetaComponent, kThetaSize> kThetaComponents{
    {{"x", "mm"}, {"y", "mm"}, {"z", "mm"}, {"mu_d", "mm"}, {"mu_rho", "1"}}};

// The normalization box of a dataset (its `theta_range` attribute).
struct ThetaRange {
  Theta lo{}, hi{};
  Theta normalize(const Theta& raw) const {
    Theta n{};
    for (size_t k = 0; k < kThetaSize; ++k) n[k] = 2 * (raw[k] - lo[k]) / (hi[k] - lo[k]) - 1;
    return n;
  }
  Theta denormalize(const Theta& normalized) const {
    Theta raw{};
    for (size_t k = 0; k < kThetaSize; ++k) raw[k] = (normalized[k] + 1) / 2 * (hi[k] - lo[k]) + lo[k];
    return raw;
  }
  // Reads {"lo": [...], "hi": [...]} (the store attribute); throws naming what is wrong.
  static ThetaRange from_json(const nlohmann::json& theta_range);
};

// θ of a run: the seed offset from `centre_mm`, μ_D and μ_ρ from D_w, ρ and the growth time T.
Theta theta_of(const std::array<double, 3>& seed_mm, const std::array<double, 3>& centre_mm, double dw_mm2_per_day,
               double rho_per_day, double time_days);

}  // namespace tumorforge::datagen
