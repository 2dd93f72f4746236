// tumorforge: one executable, one subcommand per pipeline stage. Errors from any stage become one line on
// stderr ("tumorforge: error: ...") and exit code 2.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <algorithm>
#include <string>
#include <vector>

#include "core/provenance.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/config_file.h"
#include "tumorforge/version.h"

int main(int argc, char** argv) {
  using namespace tumorforge;
  core::set_command_line(argc, argv);
  CLI::App app{"tumorforge: personalized brain-tumor growth modelling (Fisher-Kolmogorov solver, datasets,\n"
               "neural surrogate, inversion). Run `tumorforge <command> --help` for each stage."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tumorforge ") + kVersion + " (git " + kGitCommit + ")");
  spdlog::set_pattern("[%H:%M:%S] %^%l%$ %v");
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->each([](const std::string& level) { spdlog::set_level(spdlog::level::from_str(level)); })
      ->capture_default_str();
  // With --config, the file's values come first: a later explicit flag then replaces them.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cli::register_phantom(app);
  cli::register_simulate(app);
  cli::register_datagen(app);
#ifdef TUMORFORGE_WITH_TORCH
  cli::register_train(app);
  cli::register_export(app);
  cli::register_test_model(app);
  cli::register_invert(app);
  cli::register_evaluate(app);
  cli::register_quickstart(app);
  cli::register_plan(app);
#endif

  try {
    std::vector<std::string> args = cli::expand_config_args(argc, argv);
    std::reverse(args.begin(), args.end());  // CLI11 consumes a reversed vector
    args.pop_back();                         // the program name
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const cli::ExitWith& e) {
    return e.code;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "tumorforge: error: %s (see --help)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tumorforge: error: %s\n", e.what());
    return 2;
  }
  return 0;
}
