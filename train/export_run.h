// `tumorforge export`: one HDF5 bundle from a run's newest (or best) checkpoint, with the model config, θ
// normalization, training-data description, validation metrics and provenance.
#pragma once
#include <string>

namespace tumorforge::train {

// Returns the checkpoint directory that was exported.
std::string export_run(const std::string& run_dir, bool best, const std::string& out_path);

}  // namespace tumorforge::train
