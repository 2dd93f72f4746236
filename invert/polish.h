// The last step of every inversion: a local search with the numerical solver itself around the selected θ.
// The networks bring θ close (the direct net within a few mm and ~1.5 in μ_D; gb as far as the surrogate is
// right), but the result a user gets is the solver's run, and the solver is cheap on a 2 mm grid (0.1–0.2 s a
// run at the dev setting), so a few dozen runs can correct what the networks got slightly wrong.
//
// Compass search (a derivative-free pattern search; Kolda, Lewis & Torczon, SIAM Review 2003): poll the ten
// points θ ± step along each of the five parameters (seed x, y, z in mm, μ_D, μ_ρ relative), all runs of a
// poll side by side; move to the best if it lowers the loss, else halve the steps. It never accepts a worse
// point, so the result is never worse than its start on the grid it searches. Inputs finer than
// `spacing_mm` are searched on a block-averaged copy (e.g. 1 mm → 2 mm): a run at 1 mm costs ~15× more.
// Segmentations are polished only at their own resolution (invert_case skips the coarse search): a thresholded
// loss on a 2 mm copy is no faithful proxy of the 1 mm one (on the example patient the start point's loss was
// 0.38 at 2 mm and 0.24 at 1 mm, and the search traded 0.20 of visible-tumor Dice for 0.21 of core Dice).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "invert/model_case.h"
#include "invert/model_spec.h"
#include "invert/objective.h"

namespace tumorforge::invert {

struct PolishConfig {
  int64_t max_runs = 51;        // solver runs at most: the start and 5 polls (0: no polish — the paper's protocol)
  double spacing_mm = 2.0;      // search on a grid at least this coarse (when the input's blocks allow)
  double seed_step_mm = 4.0;    // first step of the seed position (one voxel of the dev networks' grid)
  double mu_step = 0.15;        // first step of μ_D and μ_ρ, relative to their value
  double min_seed_step_mm = 0.5;  // stop when the seed step has been halved below this
  void validate() const;        // throws naming the flag
};
void to_json(nlohmann::json& j, const PolishConfig& c);

struct PolishResult {
  Theta theta{};           // normalized
  double start_loss = 0, loss = 0;  // on the search grid
  int64_t runs = 0, polls = 0, moves = 0;
  double spacing_mm = 0;   // the search grid's spacing
  double seconds = 0;
  nlohmann::json to_json(const ModelSpec& spec) const;
};

// The block (per axis) that takes the case's solver grid to one at least `spacing_mm` coarse: the largest divisor
// of the solver -> networks block that fits; {1, 1, 1} when the input is already coarse enough.
std::array<int64_t, 3> search_block(const ModelCase& c, double spacing_mm);

// The case with its solver (and whole-grid target) moved onto a grid at least `spacing_mm` coarse, block-averaged
// (itself when already coarse enough); the brain mask is WM + GM >= mask_threshold there.
ModelCase case_for_search(const ModelCase& c, double spacing_mm, double mask_threshold);

PolishResult polish(const ModelCase& c, const ModelSpec& spec, const Theta& start, const ObjectiveConfig& objective,
                    const PolishConfig& cfg, int threads);

}  // namespace tumorforge::invert
