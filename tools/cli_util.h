// Small helpers shared by the subcommands: the progress bar, "i,j,k" triples, JSON output.
#pragma once
#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "solver/tissue.h"

namespace tumorforge::cli {

// Thrown by a subcommand to end with a specific exit code after it has printed its own report.
struct ExitWith {
  int code;
};

// A one-line progress bar on stderr when stderr is a terminal and the work has run > 1 s; otherwise (a job log)
// one info line a minute.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  void update(double fraction, const std::string& detail);
  void finish();  // ends the line if anything was drawn
  ~ProgressBar() { finish(); }

 private:
  std::string label_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool enabled_ = false, drawn_ = false;
};

std::array<double, 3> parse_triple(const std::string& text, const std::string& flag);
std::array<int64_t, 3> parse_int_triple(const std::string& text, const std::string& flag);

// CLI11's PositiveNumber accepts inf; physical parameters must be finite too.
CLI::Validator positive_finite();

void write_json(const std::string& path, const nlohmann::json& j);  // pretty, atomic

// Flags generated from a config's JSON keys (`dw_min` -> `--dw-min`), so flags, config-file keys and the
// stored JSON share names. `collect()` returns only the flags given, typed like the defaults.
class JsonFlags {
 public:
  JsonFlags(CLI::App* cmd, const nlohmann::json& defaults, const std::map<std::string, std::string>& help,
            const std::vector<std::string>& skip = {});
  nlohmann::json collect() const;

 private:
  CLI::App* cmd_;
  nlohmann::json defaults_;
  std::shared_ptr<std::map<std::string, std::string>> values_;
};
std::string flag_of(std::string key);

// The anatomy flags shared by simulate and invert: --tissue-labels | --wm --gm [--csf] | --phantom N.
void add_anatomy_options(CLI::App* cmd, solver::TissueSource& tissue);
void require_anatomy(const solver::TissueSource& tissue);  // throws when none was given

// A shipped checkpoint: ./checkpoints/<name> when it exists there, else the source tree's checkpoints/.
std::string default_checkpoint(const std::string& name);  // "dw_min" -> "--dw-min"

}  // namespace tumorforge::cli
