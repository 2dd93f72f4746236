// The training loader: batches of dataset samples (datagen/store_reader.h) read by background threads into a
// bounded prefetch queue. Batches come in a seeded order that depends only on (seed, epoch); the position
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

#include "datagen/store_reader.h"

namespace tumorforge::train {

using datagen::Batch;
using datagen::SampleSource;

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
