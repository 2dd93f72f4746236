// Validation metrics on concentration fields (MSE, MAE, NCC, Dice at a threshold, each within a mask and
// per sample) and on normalized parameters (per-component MAE and MSE).
#pragma once
#include <torch/torch.h>

namespace tumorforge::models {

struct FieldMetrics {
  double mse = 0, mae = 0, ncc = 0, dice = 0;
};
// pred, target, mask: (S, S, S) (or any equal shapes). Dice counts voxels with value >= threshold; two
// empty sets give Dice 1. NCC of two constant fields is 0.
FieldMetrics field_metrics(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& mask,
                           double dice_threshold = 0.33);

}  // namespace tumorforge::models
