// Exported model bundles: one HDF5 file per network holding everything the inversion needs — the NetConfig,
// the θ normalization, a description of the training data, validation metrics and provenance (JSON string
// attributes on the root) and every weight as a float32 dataset under /weights/<parameter name>. h5py reads it
// as is. A seal in front of the HDF5 data (bundle_seal.h) is checked before libhdf5 reads the file. Loading checks
// names and shapes against the module rebuilt from the stored config.
#pragma once
#include <map>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "models/net_config.h"

namespace tumorforge::models {

struct Bundle {
  NetConfig config;
  nlohmann::json meta;  // "theta_range", "data", "metrics", "provenance", "train_config", ...
  std::map<std::string, torch::Tensor> weights;
};

// Writes atomically (temp name + rename). Weights are copied to CPU float32.
void write_bundle(const std::string& path, const NetConfig& config, const nlohmann::json& meta,
                  const torch::nn::Module& module);
Bundle read_bundle(const std::string& path);  // throws "<path>: <problem>"
// Copies the bundle's weights into `module`; every parameter must be present with the right shape and no
// extra tensors may remain. Throws naming the tensor.
void load_weights(const Bundle& bundle, torch::nn::Module& module, const std::string& path_for_errors);
// The weights with one more input channel, of zero weight, appended to the conv weight `name` (out, in, k, k, k):
// a network given a new input starts out computing what the bundle's did (train --fk-prior-steps --init-from).
std::map<std::string, torch::Tensor> with_zero_input_channel(std::map<std::string, torch::Tensor> weights, const std::string& name);

}  // namespace tumorforge::models
