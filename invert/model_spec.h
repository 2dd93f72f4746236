// What a pair of exported bundles expects of a case, read from their metadata: the cube edge and grid spacing
// the networks were trained on, the θ normalization, and the solver settings of the training data (T, the
// D_w/D_g ratio, the matter threshold) that the final numerical run must reuse to mean the same thing.
#pragma once
#include <array>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "datagen/theta.h"
#include "models/bundle.h"

namespace tumorforge::invert {

using Theta = datagen::Theta;  // x, y, z seed offset from the crop centre (mm), μ_D (mm), μ_ρ (1): datagen/theta.h

struct ModelSpec {
  int64_t crop = 0;                          // cube edge S (voxels)
  std::array<double, 3> spacing_mm{};        // the stored grid the networks saw
  datagen::ThetaRange range;                 // θ normalization of the training data
  std::optional<Theta> train_mean;           // mean normalized θ of the training set, when the bundle has it
  Theta support_lo{-1, -1, -1, -1, -1};      // normalized θ box the training set covers (bundle theta_stats);
  Theta support_hi{1, 1, 1, 1, 1};           // fits stay inside it: outside, the surrogate has seen no data
  double stop_time_days = 100;               // T: μ_D = sqrt(D_w T), μ_ρ = sqrt(ρ T)
  double ratio_dw_dg = 10, th_matter = 0.1;  // solver settings of the training data
  bool monotone_dt = true;
  double mask_threshold = 0.1;               // the surrogate's brain mask: WM + GM >= this

  static ModelSpec from_bundle(const models::Bundle& b, const std::string& path);
  Theta normalize(const Theta& raw) const;
  Theta denormalize(const Theta& normalized) const;
  Theta clamp_to_support(Theta normalized) const;
  double dw_mm2_per_day(const Theta& raw) const { return raw[3] * raw[3] / stop_time_days; }
  double rho_per_day(const Theta& raw) const { return raw[4] * raw[4] / stop_time_days; }
  nlohmann::json to_json() const;
};

// The inverse net must speak the surrogate's θ and grid; throws naming both files otherwise.
void check_same_spec(const ModelSpec& a, const std::string& path_a, const ModelSpec& b, const std::string& path_b);

}  // namespace tumorforge::invert
