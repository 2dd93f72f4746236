// The quickstart's outputs a person looks at: per-case slice figures (tissue, truth, direct, hybrid), the
// training curve, and report.md assembling them with the numbers of the run.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "invert/model_case.h"

namespace tumorforge::cli {

// Rows: tissue, true concentration, then one row per (label, result cube (1, 1, S, S, S)), through the cube centre.
void write_case_figure(const std::string& path, const invert::ModelCase& c,
                       const std::vector<std::pair<std::string, torch::Tensor>>& results);
// Training loss (per logged step) and validation loss from a run's metrics.jsonl, log scale.
void write_training_curve(const std::string& metrics_jsonl, const std::string& png_path);
void write_quickstart_report(const std::string& out_dir, const nlohmann::json& stages, double wall_seconds);

}  // namespace tumorforge::cli
