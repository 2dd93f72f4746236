// The architecture of a network as plain data: from a NetConfig (saved in every checkpoint and export)
// the module is rebuilt exactly; no architecture constants live elsewhere. No LibTorch needed here.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tumorforge::models {

// Surrogate: a coarse Fisher-Kolmogorov solve on the network's own grid, fed to the network as an input channel
// (models/fk_prior.h). Why: the networks of sessions 2-10 placed the tumor by the seed nearly rigidly, where the
// solver's tumor moves 6-16.5 mm for a 12 mm seed move because anatomy bends it; the same solver on the same
// tissue averaged to 4 mm moves its tumor like the 2 mm one (tools/diagnostics/coarse_seed_shift.py), so a cheap
// differentiable solve at the network's grid carries what the network failed to learn. These keys are the
// training data's physics (filled from the store by `train --fk-prior-steps`); steps = 0: off.
struct FkPrior {
  int64_t steps = 0;                             // explicit steps from 0 to T (0: no prior channel)
  double spacing_mm = 4;                         // the network grid's voxel edge
  double stop_time_days = 100;                   // T: D_w = μ_D² / T, ρ = μ_ρ² / T
  std::array<double, 2> mu_d_range{0, 31.6227766016838};    // normalized θ[3] = ±1 at these μ_D (mm)
  std::array<double, 2> mu_rho_range{0, 31.6227766016838};  // normalized θ[4] = ±1 at these μ_ρ
  double ratio_dw_dg = 10;                       // D_w / D_g
  double seed_mass_mm3 = 159;  // the solver's initial condition (solver/fk_solver.h) after its cut at 0.1, at 1-2 mm
  // The seed Gaussian's σ. Not the solver's √10 mm (0.79 voxel at 4 mm): on tissue averaged to 4 mm, a seed that
  // wide lands across thin CSF the 2 mm solver's tumor cannot cross. Measured on the 49 atlas moves of
  // tests/invert (seed-follow, the prior alone): σ = 1.2 / 0.79 / 0.6 / 0.5 / 0.4 voxel moved 42 / 45 / 49 / 49 / 49
  // within the bar, mean error 2.4 / 1.7 / 1.1 / 0.86 / 0.73 mm; 0.5 keeps the seed's mass spread over enough voxels
  // to move smoothly (differentiably) with the seed.
  double seed_sigma_voxels = 0.5;
  bool enabled() const { return steps > 0; }
};

struct NetConfig {
  std::string kind = "surrogate";  // "surrogate" (tissue + θ -> c) or "inverse" (c + tissue -> θ)
  std::vector<int64_t> widths{16, 32, 64, 128, 256};  // one per encoder stage, then the neck (paper: 32 ... 512)
  int64_t kernel_size = 7;       // depthwise kernel of the ConvNeXt blocks
  int64_t input_size = 64;       // cube edge S, divisible by 2^stages
  int64_t n_params = 5;          // θ = (x, y, z, μ_D, μ_ρ), normalized to [-1, 1]
  double layer_scale_init = 1e-6;
  double mask_threshold = 0.1;   // brain mask = WM + GM >= this (the solver's th_matter)
  // Surrogate: θ also scales and shifts every decoder stage's channels (FiLM), not only the neck. Without it
  // the skip connections let the decoder ignore θ and predict a mean tumor (seen in the first dev model).
  // Configs saved before this key existed mean false.
  bool theta_film = true;
  // Surrogate: the seed position enters as a fourth input channel, a Gaussian of `seed_sigma_voxels` drawn at the
  // continuous seed offset θ[0:3] (differentiable in it), so the output can follow the seed voxel by voxel
  // instead of through the few neck voxels. Configs saved before this key existed mean false.
  bool seed_channel = true;
  double seed_sigma_voxels = 1.0;
  // Surrogate with a seed channel: whether the seed offset θ[0:3] also enters the global paths (the neck embedding
  // and FiLM) beside μ_D, μ_ρ. true: the networks of sessions 2–9, which learned to place the tumor largely
  // through those global vectors (zeroing their seed weights in session 9's network: seed-follow 5 of 11 atlas
  // moves instead of 10) — a 2³ neck and per-channel scales cannot place a tumor to the voxel. false: the
  // seed reaches the network only as the channel, which convolutions carry along with the anatomy (the
  // issue's candidate A as written). Without a seed channel θ is global whole, whatever this says. Configs saved
  // before this key existed mean true.
  bool seed_global = false;
  bool seed_is_global() const { return seed_global || !seed_channel; }
  // Surrogate skip wiring: "unet" (skips from each stage's block output, full resolution included) or "paper"
  // (the authors': skips from each stage's input, no full-resolution skip, θ only through the neck Linear).
  std::string wiring = "unet";
  FkPrior fk_prior;  // surrogate only; configs saved before this key existed have none


  int64_t stages() const { return static_cast<int64_t>(widths.size()) - 1; }
  int64_t neck_size() const { return input_size >> stages(); }
  int64_t in_channels() const { return kind == "inverse" ? 4 : 3 + (seed_channel ? 1 : 0) + (fk_prior.enabled() ? 1 : 0); }
  void validate() const;  // throws std::invalid_argument naming the field
  // A lower bound on the network's parameter count (each ConvNeXt block's two Linear layers, 8·w², and the
  // surrogate's θ embedding onto the neck, 6·w·n³): a bundle holding fewer values is refused before the network
  // is built, so a small damaged file cannot make the loader allocate gigabytes.
  double min_parameters() const;
};

void to_json(nlohmann::json& j, const FkPrior& p);
void from_json(const nlohmann::json& j, FkPrior& p);  // unknown keys are an error
void to_json(nlohmann::json& j, const NetConfig& c);
void from_json(const nlohmann::json& j, NetConfig& c);  // unknown keys are an error

}  // namespace tumorforge::models
