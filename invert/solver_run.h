// The numerical solver at an estimated θ: μ_D, μ_ρ become D_w = μ_D²/T and ρ = μ_ρ²/T at the training data's
// T (the FK solution at time T depends only on D_w·T and ρ·T), the seed is placed at crop centre + offset on
// the fine grid, and the run goes to T. Used for the final result, for `--select-by solver` and as CMA-ES-solver's
// objective (population members run side by side).
#pragma once
#include <array>

#include <nlohmann/json.hpp>

#include "invert/model_case.h"
#include "invert/model_spec.h"
#include "invert/objective.h"
#include "invert/surrogate_fit.h"
#include "solver/fk_solver.h"

namespace tumorforge::invert {

struct SolverRun {
  core::Volume concentration;               // fine grid
  std::array<double, 3> seed_mm{};             // level mm (see SolverContext) where the run was seeded
  std::array<int64_t, 3> seed_voxel{};         // fine-grid voxel
  double seed_moved_mm = 0;                    // > 0 when θ's seed was off tissue and moved to the nearest matter voxel
  double dw_mm2_per_day = 0, rho_per_day = 0, stop_time_days = 0;
  int64_t steps = 0;
  double seconds = 0;
  nlohmann::json to_json() const;
};

SolverRun run_solver(const SolverContext& ctx, const ModelSpec& spec, const Theta& normalized, int threads);

// (1, 1, S, S, S) brain mask of the case's tissue cube, as the surrogate defines it.
torch::Tensor brain_mask(const ModelCase& c, const ModelSpec& spec);
// Loss of a solver run against the case's target: on the whole input grid when the case has it, else the cube.
double solver_loss(const SolverRun& run, const ModelCase& c, const ModelSpec& spec, const ObjectiveConfig& cfg);
// One solver run per θ in parallel (each single-threaded), for CMA-ES-solver.
BatchLoss solver_batch_loss(const ModelCase& c, const ModelSpec& spec, const ObjectiveConfig& cfg, int threads);

}  // namespace tumorforge::invert
