// The surrogate's physics prior: a coarse Fisher-Kolmogorov solve on the network's own grid, written in LibTorch
// ops so that it is differentiable in θ (seed offset, μ_D, μ_ρ) and runs on any device. NetConfig::fk_prior
// holds its settings; SurrogateNet feeds the result to the network as an input channel.
#pragma once
#include <torch/torch.h>

#include "models/net_config.h"

namespace tumorforge::models {

// tissue: (N, 3, S, S, S) WM, GM, CSF fractions on the network grid; theta: (N, 5) normalized θ (the seed offset
// ±1 = ±S/2 voxels from the cube centre, as SurrogateNet::seed_map). Returns (N, 1, S, S, S) in [0, 1], zero
// outside brain matter (WM + GM >= threshold), in theta's dtype.
//
// The scheme is the solver's flux form (face D = D_w · mean(WM + GM/R), faces only between matter voxels) with
// prior.steps explicit steps of dt = T/steps, each an exact logistic reaction step then a diffusion step. What is
// coarser than solver/: the grid (the network's), the initial condition (the solver's mass after its cut at 0.1, as
// a Gaussian of prior.seed_sigma_voxels normalized per axis, so the mass moves smoothly with the seed), and
// D_w above the explicit limit of this dt: it is bent smoothly to D_cap·tanh(D_w/D_cap) with D_cap at 90% of
// the limit, so the solve stays stable and differentiable for every θ (with 64 steps at 4 mm and T = 100 days,
// D_cap = 1.5 mm²/day, μ_D ≈ 12 mm; above it the network has μ_D through its global paths).
torch::Tensor coarse_fk(const torch::Tensor& tissue, const torch::Tensor& theta, const FkPrior& prior, double matter_threshold);

// The largest D_w (mm²/day) the solve takes as it is: 90% of the explicit stability limit h² / (6 dt).
double coarse_fk_dw_cap(const FkPrior& prior);

}  // namespace tumorforge::models
