// Reading dataset stores as tensors: a sample's tissue crop (cut from the store's atlas at its crop_origin), its
// concentration crop and normalized θ, optionally with its cube shifted; several stores as one training set.
// The data layer of train, invert, evaluate and test-model (the one part of datagen/ that needs LibTorch: built
// as its own library, tumorforge_dataset, only when LibTorch is present).
#pragma once
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datagen/dataset_store.h"

namespace tumorforge::datagen {

struct Batch {
  torch::Tensor tissue;         // (B, 3, S, S, S) WM, GM, CSF fractions
  torch::Tensor concentration;  // (B, 1, S, S, S)
  torch::Tensor theta;          // (B, 5) normalized to [-1, 1]
  std::vector<int64_t> indices;  // sample indices in the store
};

// What the loader draws from: a list of finished-sample ids and a way to read them as a batch.
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual const std::vector<int64_t>& done() const = 0;
  // shifts (optional, one per id): move each sample's cube by that many voxels (see StoreReader::read).
  virtual Batch read(const std::vector<int64_t>& ids, const std::vector<std::array<int64_t, 3>>* shifts = nullptr) const = 0;
};

class StoreReader : public SampleSource {
 public:
  explicit StoreReader(const std::string& path);
  const DatasetStore& store() const { return store_; }
  int64_t crop() const { return crop_; }
  const std::vector<int64_t>& done() const override { return done_; }  // indices of finished samples
  // With shifts, sample n's cube moves by shifts[n] voxels: the tissue is cut from the atlas at the new place,
  // the stored concentration crop moves with it (zero where the stored crop has no data: the crops are centred on
  // the tumor, so that is where it has faded) and the seed offset changes by −shift. The tumor is then off the
  // cube centre, where its seed put it — without this every training tumor sits at the centre and a network can
  // learn to ignore where the seed is.
  Batch read(const std::vector<int64_t>& indices, const std::vector<std::array<int64_t, 3>>* shifts = nullptr) const override;
  torch::Tensor normalize_theta(const torch::Tensor& theta) const;    // raw -> [-1, 1]
  torch::Tensor denormalize_theta(const torch::Tensor& theta) const;  // [-1, 1] -> raw
  nlohmann::json theta_range() const { return store_.attrs().at("theta_range"); }
  nlohmann::json description() const;  // grid, spacing, crop, ranges, anatomy source: for exports
  // Mean, min and max of the normalized θ over finished samples: the inversion starts at the mean and keeps
  // θ inside [min, max], where the surrogate has seen data (the θ range itself is a looser box).
  nlohmann::json theta_stats() const;

 private:
  DatasetStore store_;
  int64_t crop_ = 0;
  std::vector<int64_t> done_;
  std::array<int64_t, 3> atlas_dims_{};
  std::vector<float> wm_, gm_, csf_;  // stored-grid anatomy, C order (x, y, z)
  torch::Tensor lo_, hi_;
};

// Several stores as one training set (e.g. the atlas and the phantom: anatomy variety). They must share the
// crop, the stored grid spacing and the θ normalization, or the samples would not mean the same thing.
// Sample ids are (store << 40) | index; `Batch::indices` holds these ids.
class TrainingSet : public SampleSource {
 public:
  explicit TrainingSet(const std::string& comma_separated_paths);
  const StoreReader& first() const { return *stores_.front(); }
  const std::vector<std::unique_ptr<StoreReader>>& stores() const { return stores_; }
  const std::vector<int64_t>& done() const override { return done_; }
  Batch read(const std::vector<int64_t>& ids, const std::vector<std::array<int64_t, 3>>* shifts = nullptr) const override;
  nlohmann::json description() const;  // the first store's description, plus "stores": every store's
  nlohmann::json theta_stats() const;   // over all finished samples of all stores

 private:
  std::vector<std::unique_ptr<StoreReader>> stores_;
  std::vector<int64_t> done_;
};

}  // namespace tumorforge::datagen
