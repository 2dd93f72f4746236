// The building blocks: ChannelNorm (LayerNorm over the channel axis of a channels-first tensor), the
// depthwise 3D convolution (custom CPU kernel, built-in op on CUDA), a dense "same" convolution built on it, and
// the 3D ConvNeXt block.
#pragma once
#include <torch/torch.h>

namespace tumorforge::models {

class ChannelNormImpl : public torch::nn::Module {
 public:
  explicit ChannelNormImpl(int64_t channels, double eps = 1e-6);
  torch::Tensor forward(const torch::Tensor& x);  // (N, C, D, H, W)

 private:
  torch::Tensor weight_, bias_;
  double eps_;
};
TORCH_MODULE(ChannelNorm);

class DepthwiseConv3dImpl : public torch::nn::Module {
 public:
  DepthwiseConv3dImpl(int64_t channels, int64_t kernel_size);
  torch::Tensor forward(const torch::Tensor& x);
  // true (default): the custom kernel on CPU tensors; false: LibTorch's conv3d everywhere (benchmarks, tests).
  bool use_custom_cpu_kernel = true;

 private:
  torch::Tensor weight_, bias_;
  int64_t kernel_size_;
};
TORCH_MODULE(DepthwiseConv3d);

// A dense convolution with "same" zero padding, stride 1, an odd cube kernel (the surrogate's stem and head, 3³):
// parameters, names ("weight", "bias") and initialization are torch::nn::Conv3d's, so bundles and seeds are
// unchanged; on CPU it runs as depthwise convolutions summed over the inputs (depthwise_conv3d.h, dense_conv3d).
class SameConv3dImpl : public torch::nn::Module {
 public:
  SameConv3dImpl(int64_t in_channels, int64_t out_channels, int64_t kernel_size);
  torch::Tensor forward(const torch::Tensor& x);
  bool use_custom_cpu_kernel = true;  // as DepthwiseConv3d's

 private:
  torch::Tensor weight_, bias_;
};
TORCH_MODULE(SameConv3d);

// x + γ · MLP(LayerNorm(dwconv(x))), MLP = Linear(C, 4C) → GELU → Linear(4C, C), γ initialized to layer_scale.
class ConvNeXtBlockImpl : public torch::nn::Module {
 public:
  ConvNeXtBlockImpl(int64_t channels, int64_t kernel_size, double layer_scale);
  torch::Tensor forward(const torch::Tensor& x);
  DepthwiseConv3d dwconv{nullptr};

 private:
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Linear pw1{nullptr}, pw2{nullptr};
  torch::Tensor gamma_;
};
TORCH_MODULE(ConvNeXtBlock);

// Switches every DepthwiseConv3d and SameConv3d inside `module` between the custom CPU kernels and the built-in op.
void use_custom_depthwise(torch::nn::Module& module, bool enabled);

}  // namespace tumorforge::models
