// Inputs of one Fisher-Kolmogorov run (physics, seed, stopping rule) with units in the names, their
// validation, the time-step rule, and JSON conversion (the same keys as the CLI flags, with '_' for '-').
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/grid.h"

namespace tumorforge::solver {

struct FkParams {
  double dw_mm2_per_day = 0.5;    // D_w, diffusivity in white matter
  double rho_per_day = 0.2;       // ρ, proliferation rate (0 = pure diffusion, library only)
  double ratio_dw_dg = 10.0;      // R = D_w / D_g
  double th_matter = 0.1;         // faces carry flux only between voxels with WM + GM >= th_matter
  std::array<double, 3> seed_mm{0, 0, 0};  // grid mm: voxel (i,j,k) has its centre at (i*hx, j*hy, k*hz)
  double stop_time_days = 100.0;  // T: the run ends at T at the latest
  std::optional<double> stop_volume_mm3;  // or earlier, once hx*hy*hz*Σc reaches this
  // Shorten dt, where the reference rule would not, so that the scheme stays monotone and c in [0, 1] (see
  // plan_time_step). Off reproduces the reference rule exactly, including its overshoot above c = 1.
  bool monotone_dt = true;

  void validate() const;  // throws std::invalid_argument naming the key and the value
};

// N = max(T·D_w/h_min²·8 + 100, 1.1·T·ρ) (the reference rule); with monotone_dt also N >= T·(2·D_w·Σ 1/h² + ρ),
// which guarantees every update is a monotone map of [0,1] into itself. dt = T/N, at most ceil(N) steps.
struct TimeStepPlan {
  double n_steps_real = 0;
  int64_t max_steps = 0;
  double dt_days = 0;
  std::string rule;  // "reference" or "monotone"
};
TimeStepPlan plan_time_step(const FkParams& params, const std::array<double, 3>& spacing_mm);

void to_json(nlohmann::json& j, const FkParams& p);
void from_json(const nlohmann::json& j, FkParams& p);  // unknown keys are an error

}  // namespace tumorforge::solver
