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

// Centres of mass of a batch of fields (N, 1, S0, S1, S2) → (N, 3) in voxels along dims 2, 3, 4, differentiable
// (the surrogate's centre-of-mass loss), and the mass (N) of each field. A field of mass ≈ 0 gets ≈ 0.
struct CentresOfMass {
  torch::Tensor com, mass;
};
CentresOfMass centres_of_mass(const torch::Tensor& fields);

}  // namespace tumorforge::models
