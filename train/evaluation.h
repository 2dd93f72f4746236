// Evaluating a network on a dataset store: the surrogate's MSE, MAE, NCC and Dice at 0.33 (within the brain
// mask, mean over samples), the inverse net's per-component MSE/MAE in normalized θ. Used for validation
// during training and by `tumorforge test-model` on a held-out store.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "models/networks.h"
#include "train/loader.h"

namespace tumorforge::train {

// Either network behind one interface: the loss of a batch and the module for saving and optimizing.
struct Net {
  models::SurrogateNet surrogate{nullptr};
  models::InverseNet inverse{nullptr};
  explicit Net(const models::NetConfig& c);
  torch::nn::Module& module();
  // The loss as sum / count (count: voxels in the mask, or elements): data-parallel ranks add both over the
  // global batch, so that N ranks compute the one-process loss and gradient exactly (up to rounding).
  struct Terms {
    torch::Tensor sum;
    double count = 0;
  };
  // com_weight: TrainConfig::com_loss_weight (surrogate only).
  Terms loss_terms(const Batch& b, bool mask_region, double com_weight = 0);
  torch::Tensor loss(const Batch& b, bool mask_region);  // sum / max(count, 1)
};

Batch to_device(Batch b, const torch::Device& d);

// limit > 0: only the first `limit` finished samples. Returns {"val_loss", metrics..., "val_samples"}.
nlohmann::json evaluate(Net& net, const datagen::StoreReader& data, int64_t batch, int64_t limit, const torch::Device& dev);

}  // namespace tumorforge::train
