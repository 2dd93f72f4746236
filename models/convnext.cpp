// ChannelNorm, DepthwiseConv3d and the ConvNeXt block (see convnext.h).
#include "models/convnext.h"

#include <cmath>

#include "models/depthwise_conv3d.h"

namespace tumorforge::models {

ChannelNormImpl::ChannelNormImpl(int64_t channels, double eps) : eps_(eps) {
  weight_ = register_parameter("weight", torch::ones({channels}));
  bias_ = register_parameter("bias", torch::zeros({channels}));
}

torch::Tensor ChannelNormImpl::forward(const torch::Tensor& x) {
  auto mean = x.mean(1, true);
  auto var = (x - mean).pow(2).mean(1, true);
  auto y = (x - mean) / torch::sqrt(var + eps_);
  return y * weight_.view({1, -1, 1, 1, 1}) + bias_.view({1, -1, 1, 1, 1});
}

DepthwiseConv3dImpl::DepthwiseConv3dImpl(int64_t channels, int64_t k) : kernel_size_(k) {
  // PyTorch's default Conv3d initialization (kaiming-uniform with a = sqrt(5)): bound = 1/sqrt(fan_in).
  const double bound = 1.0 / std::sqrt(static_cast<double>(k * k * k));
  weight_ = register_parameter("weight", torch::empty({channels, 1, k, k, k}).uniform_(-bound, bound));
  bias_ = register_parameter("bias", torch::empty({channels}).uniform_(-bound, bound));
}

torch::Tensor DepthwiseConv3dImpl::forward(const torch::Tensor& x) {
  if (use_custom_cpu_kernel && x.device().is_cpu() &&
      (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble))
    return depthwise_conv3d(x, weight_, bias_);
  return torch::conv3d(x, weight_, bias_, 1, kernel_size_ / 2, 1, weight_.size(0));
}

SameConv3dImpl::SameConv3dImpl(int64_t in_channels, int64_t out_channels, int64_t k) {
  TORCH_CHECK(k % 2 == 1, "SameConv3d: the kernel must be odd");
  // torch::nn::Conv3d's reset_parameters, step for step (same random draws for the same seed).
  weight_ = register_parameter("weight", torch::empty({out_channels, in_channels, k, k, k}));
  bias_ = register_parameter("bias", torch::empty({out_channels}));
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_uniform_(weight_, std::sqrt(5.0));
  const auto fans = torch::nn::init::_calculate_fan_in_and_fan_out(weight_);
  const double bound = 1 / std::sqrt(static_cast<double>(std::get<0>(fans)));
  torch::nn::init::uniform_(bias_, -bound, bound);
}

torch::Tensor SameConv3dImpl::forward(const torch::Tensor& x) {
  if (use_custom_cpu_kernel && x.device().is_cpu() &&
      (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble))
    return dense_conv3d(x, weight_, bias_);
  return torch::conv3d(x, weight_, bias_, 1, weight_.size(2) / 2);
}

ConvNeXtBlockImpl::ConvNeXtBlockImpl(int64_t c, int64_t k, double layer_scale) {
  dwconv = register_module("dwconv", DepthwiseConv3d(c, k));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c}).eps(1e-6)));
  pw1 = register_module("pw1", torch::nn::Linear(c, 4 * c));
  pw2 = register_module("pw2", torch::nn::Linear(4 * c, c));
  gamma_ = register_parameter("gamma", torch::full({c}, layer_scale));
}

torch::Tensor ConvNeXtBlockImpl::forward(const torch::Tensor& x) {
  auto y = dwconv(x).permute({0, 2, 3, 4, 1});  // channels last for LayerNorm and the pointwise MLP
  y = pw2(torch::gelu(pw1(norm(y)))) * gamma_;
  return x + y.permute({0, 4, 1, 2, 3});
}

void use_custom_depthwise(torch::nn::Module& module, bool enabled) {
  for (auto& m : module.modules(/*include_self=*/true))
    if (auto* d = m->as<DepthwiseConv3dImpl>()) d->use_custom_cpu_kernel = enabled;
    else if (auto* s = m->as<SameConv3dImpl>()) s->use_custom_cpu_kernel = enabled;
}

}  // namespace tumorforge::models
