// A fast CPU depthwise 3D convolution (stride 1, "same" zero padding, odd kernel) as a LibTorch autograd op.
// LibTorch 1.13's CPU depthwise conv3d falls back to a slow im2col path; this direct kernel (TBB over
// channels, vectorizable row loops) computes the output, the input gradient (the same kernel with the
// weights flipped) and the weight gradient. CUDA tensors use the built-in op.
#pragma once
#include <torch/torch.h>

namespace tumorforge::models {

// x: (N, C, D, H, W), weight: (C, 1, k, k, k), bias: (C). Differentiable in all three.
torch::Tensor depthwise_conv3d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

// A dense "same" convolution (stride 1, odd kernel) as depthwise convolutions summed over the inputs: each
// output channel o is Σ_i depthwise(x_i, weight[o, i]). LibTorch 1.13's CPU conv3d unfolds 27 copies of the
// input; for the surrogate's head (8 -> 1, 3³) at 32³ forward + input gradient take 1.6 ms this way against 27 ms
// (one idle thread), for the stem (4 -> 8) 6.5–8 ms against 8.5–9.
// x: (N, Ci, D, H, W), weight: (Co, Ci, k, k, k), bias: (Co). Differentiable in all three.
torch::Tensor dense_conv3d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

// The raw kernels (exposed for tests and benchmarks).
torch::Tensor depthwise_conv3d_forward(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);
torch::Tensor depthwise_conv3d_grad_weight(const torch::Tensor& grad_out, const torch::Tensor& x, int64_t k);

}  // namespace tumorforge::models
