// The Fisher-Kolmogorov solver: ∂c/∂t = ∇·(D∇c) + ρc(1−c) on a tissue map, explicit Euler in flux form
// (the reference's scheme, see solver/README.md). Pure library: no global state, TBB inside its own task
// arena, results bit-identical for any thread count.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "solver/fk_params.h"
#include "solver/tissue.h"

namespace tumorforge::solver {

enum class StopReason { kTime, kVolume };
const char* to_string(StopReason r);

struct StepInfo {
  int64_t step = 0;        // steps done so far (1-based after the first step)
  int64_t max_steps = 0;
  double time_days = 0;
  double volume_mm3 = 0;   // hx*hy*hz*Σc after this step
};

struct SolverOptions {
  int threads = 0;                                 // 0: all cores TBB sees
  std::function<void(const StepInfo&)> on_step;   // called after every step, on the calling thread
};

struct FkResult {
  Volume concentration;  // on the tissue grid, float32, 0 outside tissue
  int64_t steps = 0;
  double dt_days = 0;
  std::string dt_rule;
  double final_time_days = 0;
  double initial_volume_mm3 = 0;
  double final_volume_mm3 = 0;
  StopReason stop_reason = StopReason::kTime;
  double wall_seconds = 0;
  float min_c = 0, max_c = 0;
  std::array<int64_t, 3> work_box_dims{0, 0, 0};  // tissue bounding box the kernel runs on
  int64_t voxel_updates_per_step = 0;             // voxels the kernel touches per step (tissue rows' spans)
};

// Nearest voxel to a grid-mm point; throws if the point lies outside the grid.
std::array<int64_t, 3> voxel_of_mm(const Grid& grid, const std::array<double, 3>& point_mm);
std::array<double, 3> mm_of_voxel(const Grid& grid, const std::array<int64_t, 3>& voxel);

// The initial condition 250/(4π·5)^{3/2}·exp(−r²/20) (r in mm), ≤ 0.1 → 0, > 1 → 1, masked to tissue.
// Throws if the seed point is outside the grid or its voxel is not tissue (WM + GM < th_matter).
Volume seed_field(const TissueMaps& tissue, const FkParams& params);

// Runs from the seed in params. Throws std::invalid_argument for bad params and std::runtime_error if the
// field becomes non-finite.
FkResult simulate(const TissueMaps& tissue, const FkParams& params, const SolverOptions& options = {});
// Runs from a given initial field (on the tissue grid; masked to tissue); params.seed_mm is ignored.
FkResult simulate_from(const TissueMaps& tissue, const FkParams& params, const Volume& initial,
                       const SolverOptions& options = {});

}  // namespace tumorforge::solver
