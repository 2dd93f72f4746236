// SurrogateNet, InverseNet and their shared encoder (see networks.h).
#include "models/networks.h"

#include "models/fk_prior.h"

#include <stdexcept>

namespace tumorforge::models {

EncoderImpl::EncoderImpl(const NetConfig& c) : skip_stage_inputs_(c.kind == "surrogate" && c.wiring == "paper") {
  const auto& w = c.widths;
  stem = register_module("stem", SameConv3d(c.in_channels(), w[0], 3));
  blocks = register_module("blocks", torch::nn::ModuleList());
  norms = register_module("norms", torch::nn::ModuleList());
  downs = register_module("downs", torch::nn::ModuleList());
  for (size_t s = 0; s + 1 < w.size(); ++s) {
    blocks->push_back(ConvNeXtBlock(w[s], c.kernel_size, c.layer_scale_init));
    norms->push_back(ChannelNorm(w[s]));
    downs->push_back(torch::nn::Conv3d(torch::nn::Conv3dOptions(w[s], w[s + 1], 2).stride(2)));
  }
  neck = register_module("neck", ConvNeXtBlock(w.back(), c.kernel_size, c.layer_scale_init));
}

torch::Tensor EncoderImpl::forward(const torch::Tensor& x_in, std::vector<torch::Tensor>* skips) {
  auto x = stem(x_in);
  for (size_t s = 0; s < blocks->size(); ++s) {
    if (skips && skip_stage_inputs_) skips->push_back(x);
    x = blocks[s]->as<ConvNeXtBlockImpl>()->forward(x);
    if (skips && !skip_stage_inputs_) skips->push_back(x);
    x = downs[s]->as<torch::nn::Conv3dImpl>()->forward(norms[s]->as<ChannelNormImpl>()->forward(x));
  }
  return neck(x);
}

SurrogateNetImpl::SurrogateNetImpl(const NetConfig& c) : config_(c) {
  config_.validate();
  if (c.kind != "surrogate") throw std::invalid_argument("SurrogateNet needs kind = surrogate");
  const auto& w = c.widths;
  const int64_t n = c.neck_size(), stages = c.stages();
  encoder = register_module("encoder", Encoder(c));
  theta_embed = register_module("theta_embed", torch::nn::Linear(c.n_params, w.back() * n * n * n));
  ups = register_module("ups", torch::nn::ModuleList());
  fuse = register_module("fuse", torch::nn::ModuleList());
  blocks = register_module("blocks", torch::nn::ModuleList());
  if (c.theta_film) film = register_module("film", torch::nn::ModuleList());
  for (int64_t s = stages - 1; s >= 0; --s) {  // decoder stages from the neck up
    const auto su = static_cast<size_t>(s);
    if (c.theta_film) film->push_back(torch::nn::Linear(c.n_params, 2 * w[su]));
    ups->push_back(torch::nn::ConvTranspose3d(torch::nn::ConvTranspose3dOptions(w[su + 1], w[su], 2).stride(2)));
    if (has_skip(s)) fuse->push_back(torch::nn::Conv3d(torch::nn::Conv3dOptions(2 * w[su], w[su], 1)));
    else fuse->push_back(torch::nn::Identity());
    blocks->push_back(ConvNeXtBlock(w[su], c.kernel_size, c.layer_scale_init));
  }
  head = register_module("head", SameConv3d(w[0], 1, 3));
}

bool SurrogateNetImpl::has_skip(int64_t stage) const { return config_.wiring == "unet" || stage > 0; }

torch::Tensor brain_mask(const torch::Tensor& tissue, double threshold) {
  return (tissue.narrow(1, 0, 1) + tissue.narrow(1, 1, 1) >= threshold).to(tissue.scalar_type());
}

torch::Tensor SurrogateNetImpl::brain_mask(const torch::Tensor& tissue) const {
  return models::brain_mask(tissue, config_.mask_threshold);
}

torch::Tensor SurrogateNetImpl::seed_map(const torch::Tensor& theta) const {
  // θ[0:3] is the seed offset from the cube centre, normalized so that ±1 is ±S/2 voxels (the store's
  // theta_range), hence the voxel position (S − 1)/2 + θ·S/2. A separable Gaussian: three 1D profiles.
  const double S = static_cast<double>(config_.input_size), inv2s2 = 0.5 / (config_.seed_sigma_voxels * config_.seed_sigma_voxels);
  const auto pos = theta.narrow(1, 0, 3) * (S / 2) + (S - 1) / 2;                         // (N, 3)
  const auto axis = torch::arange(config_.input_size, theta.options());
  const auto prof = torch::exp(-(axis.view({1, 1, -1}) - pos.unsqueeze(2)).pow(2) * inv2s2);  // (N, 3, S)
  const auto N = theta.size(0), s = config_.input_size;
  return (prof.select(1, 0).view({N, 1, s, 1, 1}) * prof.select(1, 1).view({N, 1, 1, s, 1}) *
          prof.select(1, 2).view({N, 1, 1, 1, s}));
}

torch::Tensor SurrogateNetImpl::forward(const torch::Tensor& tissue, const torch::Tensor& theta) {
  const int64_t S = config_.input_size, n = config_.neck_size();
  TORCH_CHECK(tissue.dim() == 5 && tissue.size(1) == 3 && tissue.size(2) == S && tissue.size(3) == S && tissue.size(4) == S,
              "surrogate: tissue must be (N, 3, ", S, ", ", S, ", ", S, ")");
  TORCH_CHECK(theta.dim() == 2 && theta.size(0) == tissue.size(0) && theta.size(1) == config_.n_params,
              "surrogate: theta must be (N, ", config_.n_params, ")");
  std::vector<torch::Tensor> skips;
  std::vector<torch::Tensor> channels{tissue};
  if (config_.seed_channel) channels.push_back(seed_map(theta).to(tissue.scalar_type()));
  if (config_.fk_prior.enabled()) channels.push_back(coarse_fk(tissue, theta, config_.fk_prior, config_.mask_threshold).to(tissue.scalar_type()));
  const auto input = channels.size() == 1 ? tissue : torch::cat(channels, 1);
  auto x = encoder(input, &skips);
  // What the global paths see: all of θ, or μ_D, μ_ρ only (seed_global = false: the seed is the channel's).
  const auto theta_g = config_.seed_is_global() ? theta : theta * torch::tensor({0.f, 0.f, 0.f, 1.f, 1.f}, theta.options());
  x = x + theta_embed(theta_g).view({-1, config_.widths.back(), n, n, n});
  const auto stages = static_cast<size_t>(config_.stages());
  for (size_t d = 0; d < stages; ++d) {
    const size_t s = stages - 1 - d;  // the encoder stage this decoder stage mirrors
    x = ups[d]->as<torch::nn::ConvTranspose3dImpl>()->forward(x);
    if (has_skip(static_cast<int64_t>(s))) x = fuse[d]->as<torch::nn::Conv3dImpl>()->forward(torch::cat({x, skips[s]}, 1));
    if (config_.theta_film) {
      const auto ss = film[d]->as<torch::nn::LinearImpl>()->forward(theta_g).view({x.size(0), 2, x.size(1), 1, 1, 1});
      x = x * (1 + ss.select(1, 0)) + ss.select(1, 1);
    }
    x = blocks[d]->as<ConvNeXtBlockImpl>()->forward(x);
  }
  return torch::sigmoid(head(x)) * brain_mask(tissue);
}

InverseNetImpl::InverseNetImpl(const NetConfig& c) : config_(c) {
  config_.validate();
  if (c.kind != "inverse") throw std::invalid_argument("InverseNet needs kind = inverse");
  encoder = register_module("encoder", Encoder(c));
  head = register_module("head", torch::nn::Linear(c.widths.back(), c.n_params));
}

torch::Tensor InverseNetImpl::forward(const torch::Tensor& concentration, const torch::Tensor& tissue) {
  auto x = encoder(torch::cat({concentration, tissue}, 1));
  return torch::tanh(head(x.mean({2, 3, 4})));
}

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda" || name == "auto") {
    if (torch::cuda::is_available()) return torch::kCUDA;
    if (name == "auto") return torch::kCPU;
    throw std::invalid_argument("--device cuda: no CUDA device (this LibTorch build " +
                                std::string(torch::cuda::is_available() ? "has" : "lacks") + " CUDA support)");
  }
  throw std::invalid_argument("--device '" + name + "': expected cpu, cuda or auto");
}

}  // namespace tumorforge::models
