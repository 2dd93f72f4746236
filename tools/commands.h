// One registration function per subcommand; each lives in its own cmd_<name>.cpp.
#pragma once
#include <CLI/CLI.hpp>

namespace tumorforge::cli {
void register_phantom(CLI::App& app);
void register_simulate(CLI::App& app);
void register_datagen(CLI::App& app);
void register_train(CLI::App& app);   // needs LibTorch
void register_export(CLI::App& app);  // needs LibTorch
void register_test_model(CLI::App& app);  // needs LibTorch
void register_invert(CLI::App& app);      // needs LibTorch
void register_evaluate(CLI::App& app);    // needs LibTorch
void register_quickstart(CLI::App& app);  // needs LibTorch
void register_plan(CLI::App& app);        // needs LibTorch (lives with invert/)
}  // namespace tumorforge::cli
