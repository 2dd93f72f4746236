// Every setting of a training run in one typed config (nanoGPT style): saved in each checkpoint and in the
// export, so a run is reproduced from its own files. `tumorforge train` flags are generated from these keys.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tumorforge::train {

struct TrainConfig {
  std::string model = "surrogate";  // surrogate | inverse
  std::vector<int64_t> widths{16, 32, 64, 128, 256};  // one per encoder stage, then the neck
  // Surrogate architecture (models/net_config.h): "seed-channel" (the seed as a Gaussian input channel, FiLM,
  // U-Net skips; θ whole at the neck and in FiLM), "seed-spatial" (the same, but the seed enters only as the
  // channel: the neck and FiLM see μ_D, μ_ρ), "paper" (the authors' wiring: stage-input skips, no
  // full-resolution skip, θ only at the neck) or "film" (no seed channel: the dev surrogate of session 2).
  std::string arch = "seed-channel";
  // Random axis flips of tissue, concentration and seed offset together (exact symmetries of FK on a cube
  // centred on the tumor): "flips" or "none". Drawn from (seed, step), so resume repeats them exactly.
  std::string augment = "flips";
  // Random cube shifts of up to this many voxels per axis (tissue recut from the atlas, concentration and seed
  // offset moved with it): the tumor then sits where its seed put it, not always at the cube centre. 0: off.
  int64_t shift_voxels = 6;
  // Surrogate: adds this × the squared distance between the predicted and the true tumor's centres of mass, in
  // cube edges and averaged over the samples whose tumor holds at least one voxel's mass, to the MSE. Why: the
  // MSE barely notices a tumor drawn a voxel off, and where it sits is what the seed fit reads. 0: off.
  double com_loss_weight = 0;
  // Surrogate: a coarse FK solve at θ on the network grid as a further input channel (models/fk_prior.h), with
  // this many explicit steps; its physics (grid spacing, T, D_w/D_g, θ ranges) is the training store's. 0: off.
  int64_t fk_prior_steps = 0;
  int64_t kernel_size = 7;
  double layer_scale_init = 1e-6;
  std::string train, val;           // dataset stores
  // Fine-tuning: the weights of an exported bundle (tumorforge export) instead of random ones. Its network must
  // be the one these keys describe; the optimizer and the schedule start afresh. Empty: random initial weights.
  std::string init_from;
  double lr = 1e-4;                 // Adam (paper)
  int64_t batch = 3;                // (paper)
  int64_t max_steps = 2000;
  std::string schedule = "constant";  // constant | cosine (with linear warm-up)
  int64_t warmup_steps = 0;
  double grad_clip = 1.0;           // max global grad norm; 0 = off
  std::string loss_region = "mask";  // surrogate MSE over the brain mask, or the whole volume
  std::string device = "auto";      // cpu | cuda | auto
  bool bf16 = true;                 // bf16 autocast on CUDA (ignored on CPU)
  int64_t threads = 0;              // CPU intra-op threads (0 = all cores)
  uint64_t seed = 0;                // weights and shuffling
  int64_t val_every = 200;          // steps
  int64_t val_limit = 0;            // validate on at most this many samples (0 = all)
  double checkpoint_minutes = 30;
  int64_t checkpoint_every = 0;     // also every N steps (0 = off)
  int64_t keep_last = 2;
  int64_t log_every = 10;
  int64_t loader_threads = 2;
  int64_t prefetch = 8;             // batches read ahead
  // Data-parallel runs (train/distributed.h; the world size comes from the launcher, `batch` is the global batch).
  std::string backend = "auto";     // gloo | nccl | auto (nccl on CUDA, else gloo)
  double dist_timeout_minutes = 30; // a collective waiting longer fails (rank 0 validates while the others wait)

  void validate() const;
};

void to_json(nlohmann::json& j, const TrainConfig& c);
void merge_json(const nlohmann::json& j, TrainConfig& c);  // unknown keys are an error

}  // namespace tumorforge::train
