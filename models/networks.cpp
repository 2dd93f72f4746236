// SurrogateNet, InverseNet and their shared encoder (see networks.h).
#include "models/networks.h"

#include <stdexcept>

namespace tumorforge::models {

EncoderImpl::EncoderImpl(const NetConfig& c) {
  const auto& w = c.widths;
  stem = register_module("stem", torch::nn::Conv3d(torch::nn::Conv3dOptions(c.in_channels(), w[0], 3).padding(1)));
  blocks = register_module("blocks", torch::nn::ModuleList());
  norms = register_module("norms", torch::nn::ModuleList());
  downs = register_module("downs", torch::nn::ModuleList());
  for (size_t s = 0; s < 4; ++s) {
    blocks->push_back(ConvNeXtBlock(w[s], c.kernel_size, c.layer_scale_init));
    norms->push_back(ChannelNorm(w[s]));
    downs->push_back(torch::nn::Conv3d(torch::nn::Conv3dOptions(w[s], w[s + 1], 2).stride(2)));
  }
  neck = register_module("neck", ConvNeXtBlock(w[4], c.kernel_size, c.layer_scale_init));
}

torch::Tensor EncoderImpl::forward(const torch::Tensor& x_in, std::vector<torch::Tensor>* skips) {
  auto x = stem(x_in);
  for (size_t s = 0; s < 4; ++s) {
    x = blocks[s]->as<ConvNeXtBlockImpl>()->forward(x);
    if (skips) skips->push_back(x);
    x = downs[s]->as<torch::nn::Conv3dImpl>()->forward(norms[s]->as<ChannelNormImpl>()->forward(x));
  }
  return neck(x);
}

SurrogateNetImpl::SurrogateNetImpl(const NetConfig& c) : config_(c) {
  config_.validate();
  if (c.kind != "surrogate") throw std::invalid_argument("SurrogateNet needs kind = surrogate");
  const auto& w = c.widths;
  const int64_t s16 = c.input_size / 16;
  encoder = register_module("encoder", Encoder(c));
  theta_embed = register_module("theta_embed", torch::nn::Linear(c.n_params, w[4] * s16 * s16 * s16));
  ups = register_module("ups", torch::nn::ModuleList());
  fuse = register_module("fuse", torch::nn::ModuleList());
  blocks = register_module("blocks", torch::nn::ModuleList());
  if (c.theta_film) film = register_module("film", torch::nn::ModuleList());
  for (int s = 3; s >= 0; --s) {  // decoder stages from the neck up
    if (c.theta_film) film->push_back(torch::nn::Linear(c.n_params, 2 * w[s]));
    ups->push_back(torch::nn::ConvTranspose3d(torch::nn::ConvTranspose3dOptions(w[s + 1], w[s], 2).stride(2)));
    fuse->push_back(torch::nn::Conv3d(torch::nn::Conv3dOptions(2 * w[s], w[s], 1)));
    blocks->push_back(ConvNeXtBlock(w[s], c.kernel_size, c.layer_scale_init));
  }
  head = register_module("head", torch::nn::Conv3d(torch::nn::Conv3dOptions(w[0], 1, 3).padding(1)));
}

torch::Tensor SurrogateNetImpl::brain_mask(const torch::Tensor& tissue) const {
  return (tissue.narrow(1, 0, 1) + tissue.narrow(1, 1, 1) >= config_.mask_threshold).to(tissue.scalar_type());
}

torch::Tensor SurrogateNetImpl::forward(const torch::Tensor& tissue, const torch::Tensor& theta) {
  const int64_t S = config_.input_size, s16 = S / 16;
  TORCH_CHECK(tissue.dim() == 5 && tissue.size(1) == 3 && tissue.size(2) == S && tissue.size(3) == S && tissue.size(4) == S,
              "surrogate: tissue must be (N, 3, ", S, ", ", S, ", ", S, ")");
  TORCH_CHECK(theta.dim() == 2 && theta.size(0) == tissue.size(0) && theta.size(1) == config_.n_params,
              "surrogate: theta must be (N, ", config_.n_params, ")");
  std::vector<torch::Tensor> skips;
  auto x = encoder(tissue, &skips);
  x = x + theta_embed(theta).view({-1, config_.widths[4], s16, s16, s16});
  for (size_t d = 0; d < 4; ++d) {
    x = ups[d]->as<torch::nn::ConvTranspose3dImpl>()->forward(x);
    x = fuse[d]->as<torch::nn::Conv3dImpl>()->forward(torch::cat({x, skips[3 - d]}, 1));
    if (config_.theta_film) {
      const auto ss = film[d]->as<torch::nn::LinearImpl>()->forward(theta).view({x.size(0), 2, x.size(1), 1, 1, 1});
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
  head = register_module("head", torch::nn::Linear(c.widths[4], c.n_params));
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
