// The coarse Fisher-Kolmogorov solve of the surrogate's prior channel (see fk_prior.h).
#include "models/fk_prior.h"

#include <cmath>

namespace tumorforge::models {

double coarse_fk_dw_cap(const FkPrior& p) {
  const double dt = p.stop_time_days / static_cast<double>(p.steps);
  return 0.9 * p.spacing_mm * p.spacing_mm / (6.0 * dt);
}

namespace {

// A 1D Gaussian profile per sample and axis at continuous voxel positions pos (N, 3), normalized to sum 1 over the
// axis, so that the seed's mass does not depend on where between voxels it sits.
torch::Tensor seed_profiles(const torch::Tensor& pos, int64_t S, double sigma_voxels) {
  const auto axis = torch::arange(S, pos.options());
  const auto prof = torch::exp(-(axis.view({1, 1, -1}) - pos.unsqueeze(2)).pow(2) * (0.5 / (sigma_voxels * sigma_voxels)));
  return prof / prof.sum(2, true).clamp_min(1e-30);  // (N, 3, S)
}

// Flux-form divergence along `dim` of g · ∇c, where g (one size shorter along dim) holds face coefficients.
torch::Tensor divergence(const torch::Tensor& c, const torch::Tensor& g, int64_t dim, int64_t S) {
  const auto flux = g * (c.narrow(dim, 1, S - 1) - c.narrow(dim, 0, S - 1));
  std::vector<int64_t> hi(6, 0), lo(6, 0);  // constant_pad_nd lists the last dimension first
  hi[static_cast<size_t>(2 * (4 - dim) + 1)] = 1;
  lo[static_cast<size_t>(2 * (4 - dim))] = 1;
  return torch::constant_pad_nd(flux, hi) - torch::constant_pad_nd(flux, lo);
}

}  // namespace

torch::Tensor coarse_fk(const torch::Tensor& tissue, const torch::Tensor& theta, const FkPrior& p, double matter_threshold) {
  TORCH_CHECK(p.enabled(), "coarse_fk: fk_prior.steps is 0");
  const int64_t N = theta.size(0), S = tissue.size(2);
  const auto opts = theta.options();
  const double h = p.spacing_mm, T = p.stop_time_days, dt = T / static_cast<double>(p.steps);

  // Face coefficients 0.5·(k_a + k_b)/h², k = WM + GM/R, between matter voxels only: fixed by the anatomy.
  torch::Tensor gx, gy, gz, matter;
  {
    torch::NoGradGuard no_grad;
    const auto t = tissue.to(opts.dtype());
    const auto wm = t.narrow(1, 0, 1), gm = t.narrow(1, 1, 1);
    matter = (wm + gm >= matter_threshold).to(opts.dtype());
    const auto k = (wm + gm / p.ratio_dw_dg) * matter;  // zero outside matter: no face touches it
    auto face = [&](int64_t dim) {
      const auto a = k.narrow(dim, 0, S - 1), b = k.narrow(dim, 1, S - 1);
      const auto both = matter.narrow(dim, 0, S - 1) * matter.narrow(dim, 1, S - 1);
      return 0.5 * (a + b) * both / (h * h);
    };
    gx = face(2), gy = face(3), gz = face(4);
  }

  // θ → D_w, ρ (per sample, shaped to broadcast over the cube).
  auto mu = [&](int64_t col, const std::array<double, 2>& r) { return r[0] + (theta.select(1, col) + 1) * (0.5 * (r[1] - r[0])); };
  const auto dw = mu(3, p.mu_d_range).pow(2) / T;
  const double cap = coarse_fk_dw_cap(p);
  const auto dw_dt = (cap * torch::tanh(dw / cap) * dt).view({N, 1, 1, 1, 1});
  const auto growth = torch::exp(mu(4, p.mu_rho_range).pow(2) / T * dt).view({N, 1, 1, 1, 1});  // e^{ρ dt}

  // The initial condition: seed_mass_mm3 spread as a separable Gaussian at the continuous seed position.
  const auto pos = theta.narrow(1, 0, 3) * (static_cast<double>(S) / 2) + (static_cast<double>(S) - 1) / 2;
  const auto prof = seed_profiles(pos, S, p.seed_sigma_voxels);
  auto c = (p.seed_mass_mm3 / (h * h * h)) * prof.select(1, 0).view({N, 1, S, 1, 1}) * prof.select(1, 1).view({N, 1, 1, S, 1}) *
           prof.select(1, 2).view({N, 1, 1, 1, S});
  c = c.clamp_max(1.0) * matter;
  for (int64_t s = 0; s < p.steps; ++s) {
    c = c * growth / (1 + c * (growth - 1));  // the logistic equation solved exactly over dt: stays in [0, 1]
    c = c + dw_dt * (divergence(c, gx, 2, S) + divergence(c, gy, 3, S) + divergence(c, gz, 4, S));
  }
  return c;
}

}  // namespace tumorforge::models
