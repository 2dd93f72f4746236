// The two networks, both rebuilt from a NetConfig:
// - SurrogateNet (forward model): tissue (N, 3, S, S, S) + normalized θ (N, 5) -> concentration (N, 1, S, S, S),
//   a 3D ConvNeXt U-Net; the seed is drawn as a Gaussian input channel (seed_channel), a coarse FK solve at θ
//   can be a further one (fk_prior, models/fk_prior.h), θ enters at the neck
//   through a linear layer and scales/shifts every decoder stage (theta_film); sigmoid output times the brain mask.
// - InverseNet (direct inverse): concentration + tissue (N, 4, S, S, S) -> normalized θ in (-1, 1) (tanh),
//   the same encoder, global average pooling and a linear head.
#pragma once
#include <torch/torch.h>

#include "models/convnext.h"
#include "models/net_config.h"

namespace tumorforge::models {

// Stem (conv 3³) and one stage per width but the last of [ConvNeXt block, ChannelNorm + conv k=2 s=2], then the
// neck block. Skips are each stage's block output ("unet" wiring) or its input ("paper" wiring).
class EncoderImpl : public torch::nn::Module {
 public:
  explicit EncoderImpl(const NetConfig& c);
  // Returns the neck output; fills `skips` (stage outputs before downsampling) when given.
  torch::Tensor forward(const torch::Tensor& x, std::vector<torch::Tensor>* skips = nullptr);

 private:
  SameConv3d stem{nullptr};
  torch::nn::ModuleList blocks, norms, downs;
  ConvNeXtBlock neck{nullptr};
  bool skip_stage_inputs_ = false;
};
TORCH_MODULE(Encoder);

class SurrogateNetImpl : public torch::nn::Module {
 public:
  explicit SurrogateNetImpl(const NetConfig& c);
  torch::Tensor forward(const torch::Tensor& tissue, const torch::Tensor& theta);
  torch::Tensor brain_mask(const torch::Tensor& tissue) const;  // (N, 1, S, S, S) float
  torch::Tensor seed_map(const torch::Tensor& theta) const;     // (N, 1, S, S, S) Gaussian at the seed offset
  const NetConfig& config() const { return config_; }

 private:
  bool has_skip(int64_t stage) const;  // the "paper" wiring drops the full-resolution skip
  NetConfig config_;
  Encoder encoder{nullptr};
  torch::nn::Linear theta_embed{nullptr};
  torch::nn::ModuleList ups, fuse, blocks;
  torch::nn::ModuleList film;  // per decoder stage: θ -> (scale, shift) per channel, when config.theta_film
  SameConv3d head{nullptr};
};
TORCH_MODULE(SurrogateNet);

class InverseNetImpl : public torch::nn::Module {
 public:
  explicit InverseNetImpl(const NetConfig& c);
  torch::Tensor forward(const torch::Tensor& concentration, const torch::Tensor& tissue);  // -> (N, 5)
  const NetConfig& config() const { return config_; }

 private:
  NetConfig config_;
  Encoder encoder{nullptr};
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(InverseNet);

// "cpu" | "cuda" | "auto" (CUDA when available); throws naming the flag for anything else or missing CUDA.
torch::Device parse_device(const std::string& name);

// The brain mask of the networks, of the losses and of the metrics: WM + GM >= threshold (the solver's th_matter,
// solver::matter_mask on flat maps). tissue: (N, 3, ...) WM, GM, CSF; returns (N, 1, ...) in tissue's dtype.
torch::Tensor brain_mask(const torch::Tensor& tissue, double threshold);

}  // namespace tumorforge::models
