// The plan files (standard_plan.nii.gz, model_plan.nii.gz, plan.png) and their JSON record, shared by
// `tumorforge plan` and `tumorforge invert --plan`.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "invert/labels.h"
#include "solver/tissue.h"

namespace tumorforge::cli {

// brain = WM + GM + CSF >= 0.5 (any tissue).
std::vector<uint8_t> brain_from_tissue(const solver::TissueMaps& tissue);

// Writes the plan files into `dir` (all inputs on `grid`) and returns plan.json's content (without inputs and
// provenance, which the caller adds). `recurrence` may be null.
nlohmann::json write_plan_files(const std::string& dir, const core::Grid& grid, const invert::TumorMasks& tumor,
                                const invert::LabelConvention& conv, const std::vector<float>& concentration,
                                const std::vector<uint8_t>& brain, const core::Volume* recurrence, double margin_mm);

}  // namespace tumorforge::cli
