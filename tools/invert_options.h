// The inversion flags shared by `invert`, `evaluate` and `quickstart` (method settings, optimizer limits,
// segmentation loss), bound to one InvertConfig so the three commands cannot drift apart.
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "invert/inversion.h"

namespace tumorforge::cli {

// --surrogate and --inverse, defaulting to the shipped dev checkpoints.
void add_checkpoint_options(CLI::App* cmd, std::string& surrogate, std::string& inverse);
void add_fit_options(CLI::App* cmd, invert::InvertConfig& cfg, std::string& theta0_text);
// Parses --theta0 (five normalized values) into cfg and validates the whole config.
void finish_fit_options(invert::InvertConfig& cfg, const std::string& theta0_text);
// Stages a directory's files under a temp name and renames them into place, so a failed run leaves nothing.

}  // namespace tumorforge::cli
