// Training data from dataset stores: samples as tensors (tissue crop cut from the store's atlas by
// crop_origin, concentration crop, normalized θ), and a loader with background reader threads and a bounded
// prefetch queue. Batches come in a seeded order that depends only on (seed, epoch); the position
// (epoch, batch) is the loader's whole state, saved in checkpoints for exact resume.
#pragma once
#include <torch/torch.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "datagen/dataset_store.h"

namespace tumorforge::train {

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
  const datagen::DatasetStore& store() const { return store_; }
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
  datagen::DatasetStore store_;
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

struct LoaderState {
  int64_t epoch = 0, batch = 0;  // next batch to hand out
};

class Loader {
 public:
  // max_shift > 0: every sample's cube is moved by a random shift in [−max_shift, max_shift]³ voxels, drawn from
  // (seed, batch, sample) so that resume repeats it. Data-parallel ranks: `batch_size` is the global batch and
  // rank r of `world` reads samples [r·b/world, (r+1)·b/world) of each — the same samples, shifts and order as one
  // process, whatever the world size.
  Loader(const SampleSource& reader, int64_t batch_size, uint64_t seed, int64_t threads, int64_t prefetch, LoaderState start,
         int64_t max_shift = 0, int rank = 0, int world = 1);
  ~Loader();
  Batch next();
  LoaderState state() const { return state_; }  // position of the next batch
  int64_t batches_per_epoch() const { return per_epoch_; }
  int64_t first_in_batch() const { return first_; }  // global position of this rank's first sample

 private:
  std::vector<int64_t> batch_indices(int64_t global) const;
  void work();
  const SampleSource& reader_;
  int64_t batch_size_, per_epoch_, prefetch_, max_shift_ = 0;
  int64_t first_ = 0, local_ = 0;  // this rank's slice of each global batch
  uint64_t seed_;
  LoaderState state_;
  int64_t next_global_ = 0, produce_ = 0;  // next batch the consumer wants / a worker should read
  mutable std::map<int64_t, std::vector<int64_t>> perm_cache_;
  std::map<int64_t, Batch> ready_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::string error_;
  std::vector<std::thread> workers_;
};

// The order of samples in an epoch: a seeded Fisher-Yates shuffle of `n` (splitmix64, no library RNG).
std::vector<int64_t> epoch_permutation(int64_t n, uint64_t seed, int64_t epoch);

}  // namespace tumorforge::train
