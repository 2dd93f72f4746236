// Filling a store: each shard process simulates its pending samples (i % shard_count == shard_index) in
// parallel, one single-threaded solver run per sample, and writes each sample's chunks with the status
// last. Re-running skips finished samples, so a killed job resumes where it stopped.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "datagen/dataset_store.h"
#include "solver/fk_params.h"
#include "solver/fk_solver.h"

namespace tumorforge::datagen {

struct Shard {
  int64_t index = 0, count = 1;  // this process handles samples with i % count == index
};
Shard parse_shard(const std::string& text);  // "K/N" with 0 <= K < N
Shard shard_from_environment();              // SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT, else 0/1

struct RunOptions {
  Shard shard;
  int threads = 0;            // 0: all cores; samples run in parallel, each solver single-threaded
  bool retry_failed = false;  // also redo samples marked failed
  int64_t limit = 0;          // > 0: stop after this many samples (benchmarks, smoke tests)
  std::function<void(int64_t done, int64_t total)> on_progress;  // called under a lock
};

struct RunSummary {
  int64_t todo = 0, done = 0, failed = 0, skipped = 0;
  double wall_seconds = 0;
  double solve_seconds = 0, crop_seconds = 0, write_seconds = 0;  // summed over samples (CPU time of workers)
  nlohmann::json to_json() const;
};

// The solver inputs sample i was (or will be) simulated with, rebuilt from the store: its sampled parameters
// (a pure function of rng_seed and i) with the seed voxel read back from `params`. Lets `evaluate` recompute a
// sample's full-resolution concentration, which the store keeps only as a coarse crop.
solver::FkParams sample_fk_params(const DatasetStore& store, int64_t i);

// Simulates a sample as datagen stores it: the sampled run p, then, if the volume stopped it and the store
// reruns (DatagenConfig::rerun_at_stop_time), the time-stopped run to the time it stopped at. Deterministic.
solver::FkResult simulate_sample(const DatagenConfig& cfg, const solver::TissueMaps& sim_tissue, solver::FkParams p,
                                 const solver::SolverOptions& opt = {});

// Computes sample i completely (simulation, resampling, crop, theta) without writing anything.
SampleRecord compute_sample(const DatasetStore& store, const solver::TissueMaps& sim_tissue,
                            const std::vector<int64_t>& seeds, int64_t i, double* solve_s, double* crop_s);

RunSummary run_shard(const DatasetStore& store, const RunOptions& options);

// Removes temp files a killed writer on this host left behind (their pid is gone). Returns how many.
int64_t remove_stale_temp_files(const std::string& store_path);

}  // namespace tumorforge::datagen
