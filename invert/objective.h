// The loss an inversion minimizes, comparing predicted concentration cubes with a case's target:
// - concentration targets: MSE inside the surrogate's brain mask (the surrogate's training loss);
// - segmentation targets: soft thresholds s_τ(c) = sigmoid((c − τ) / softness) compared with the tumor core
//   (τ_core) and the whole visible tumor (τ_edema), by soft Dice (1 − Dice, averaged over the two) or by BCE.
// Works on batches, so a CMA-ES population costs one surrogate call.
#pragma once
#include <torch/torch.h>

#include <string>

#include <nlohmann/json.hpp>

#include "invert/model_case.h"

namespace tumorforge::invert {

struct ObjectiveConfig {
  std::string seg_loss = "dice";  // dice | bce
  double tau_core = 0.6, tau_edema = 0.2;
  double softness = 0.05;  // width of the soft threshold, in concentration units
};
void to_json(nlohmann::json& j, const ObjectiveConfig& c);

// pred: (B, 1, S, S, S) on any device; returns (B) losses. `mask` is the brain mask (1, 1, S, S, S).
torch::Tensor case_loss(const torch::Tensor& pred, const ModelCase& c, const torch::Tensor& mask, const ObjectiveConfig& cfg);
// The same loss for fields of any shape: `target` (concentration) or `core`/`whole` (segmentation), `mask` alike.
torch::Tensor field_loss(const torch::Tensor& pred, TargetKind kind, const torch::Tensor& target, const torch::Tensor& core,
                         const torch::Tensor& whole, const torch::Tensor& mask, const ObjectiveConfig& cfg);

}  // namespace tumorforge::invert
