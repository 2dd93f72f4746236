// `--config FILE` for every subcommand: the file's `key = value` lines (TOML/INI, keys = flag names, '_' or
// '-') are turned into flags placed before the command line's own, so explicit flags win and unknown keys are
// rejected by the same parser that checks flags. (CLI11 2.1 reads config files for the top-level app only.)
#pragma once
#include <string>
#include <vector>

namespace tumorforge::cli {

std::vector<std::string> expand_config_args(int argc, char** argv);

}  // namespace tumorforge::cli
