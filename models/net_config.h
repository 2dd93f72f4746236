// The architecture of a network as plain data: from a NetConfig (saved in every checkpoint and export)
// the module is rebuilt exactly; no architecture constants live elsewhere. No LibTorch needed here.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tumorforge::models {

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

  int64_t stages() const { return static_cast<int64_t>(widths.size()) - 1; }
  int64_t neck_size() const { return input_size >> stages(); }
  int64_t in_channels() const { return kind == "inverse" ? 4 : (seed_channel ? 4 : 3); }
  void validate() const;  // throws std::invalid_argument naming the field
  // A lower bound on the network's parameter count (each ConvNeXt block's two Linear layers, 8·w², and the
  // surrogate's θ embedding onto the neck, 6·w·n³): a bundle holding fewer values is refused before the network
  // is built, so a small damaged file cannot make the loader allocate gigabytes.
  double min_parameters() const;
};

void to_json(nlohmann::json& j, const NetConfig& c);
void from_json(const nlohmann::json& j, NetConfig& c);  // unknown keys are an error

}  // namespace tumorforge::models
