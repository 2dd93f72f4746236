// The training loop: Adam, MSE loss, optional cosine schedule with warm-up and gradient clipping; periodic
// validation appended to RUN_DIR/metrics.jsonl; checkpoints every N minutes/steps and on SIGINT/SIGTERM;
// the best checkpoint by validation loss; exact resume from the newest complete checkpoint.
#pragma once
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "train/train_config.h"

namespace tumorforge::train {

struct RunRequest {
  TrainConfig config;      // ignored with resume (the run's own config.json is used)
  std::string run_dir;
  bool resume = false;     // continue from the newest complete checkpoint
  bool force = false;      // replace an existing run directory
  int64_t max_steps_override = 0;  // with resume: extend the run to this many steps
  std::function<void(const nlohmann::json&)> on_log;  // train/val records, for the CLI's progress line
};

struct RunResult {
  int64_t steps_done = 0;
  bool interrupted = false;
  double best_val_loss = 0;
  nlohmann::json last_val;
  int rank = 0;  // this process's data-parallel rank (0 when not distributed)
};

RunResult run_training(const RunRequest& request);

}  // namespace tumorforge::train
