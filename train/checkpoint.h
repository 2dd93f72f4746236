// Training checkpoints: RUN_DIR/checkpoints/step-00000100/{model.pt, optimizer.pt, state.json, COMPLETE}
// and RUN_DIR/best/. Each is written into a temporary directory, COMPLETE last, then renamed, so a crash
// never leaves a checkpoint that looks whole; resume takes the newest directory with COMPLETE.
#pragma once
#include <torch/torch.h>

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace tumorforge::train {

void save_checkpoint(const std::string& dir, const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                     const nlohmann::json& state);
nlohmann::json load_checkpoint(const std::string& dir, torch::nn::Module& model, torch::optim::Optimizer* optimizer);
std::optional<std::string> newest_checkpoint(const std::string& run_dir);  // RUN_DIR/checkpoints/step-*
void prune_checkpoints(const std::string& run_dir, int64_t keep_last);
std::string checkpoint_name(int64_t step);  // "step-00000100"
std::string parameters_sha256(const torch::nn::Module& model);  // fingerprint for bit-exact comparisons

}  // namespace tumorforge::train
