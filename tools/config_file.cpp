// Config-file expansion into command-line tokens (see config_file.h).
#include "tools/config_file.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace tumorforge::cli {

std::vector<std::string> expand_config_args(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  auto it = std::find_if(args.begin(), args.end(),
                         [](const std::string& a) { return a == "--config" || a.rfind("--config=", 0) == 0; });
  if (it == args.end()) return args;
  std::string path = it->size() > 9 ? it->substr(9) : (it + 1 != args.end() ? *(it + 1) : "");
  if (path.empty()) throw std::invalid_argument("--config needs a file name");
  if (!std::filesystem::is_regular_file(path)) throw std::invalid_argument("--config " + path + ": no such file");
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const std::exception& e) {
    throw std::invalid_argument("--config " + path + ": " + e.what());
  }
  std::vector<std::string> injected;
  for (const auto& item : items) {
    if (!item.parents.empty()) throw std::invalid_argument("--config " + path + ": sections are not supported ([" + item.parents[0] + "])");
    std::string flag = "--" + item.name;
    std::replace(flag.begin() + 2, flag.end(), '_', '-');
    // Booleans as `--flag=value`, one token: CLI11 reads that both for flags (`--resample`) and for options
    // taking a bool (`--bf16 false`), so `key = false` switches a default-on setting off instead of vanishing.
    if (item.inputs.size() == 1 && (item.inputs[0] == "true" || item.inputs[0] == "false")) {
      injected.push_back(flag + "=" + item.inputs[0]);
      continue;
    }
    injected.push_back(flag);
    for (const auto& v : item.inputs) injected.push_back(v);
  }
  // Move `--config FILE` and the file's flags before the first option after the subcommand names, so any
  // flag given explicitly on the command line comes later and wins.
  const long at = it - args.begin();
  args.erase(args.begin() + at, args.begin() + at + (it->size() > 9 ? 1 : 2));
  injected.insert(injected.begin(), {"--config", path});
  size_t p = 1;
  while (p < args.size() && args[p].rfind("-", 0) == 0) p += (args[p] == "--log-level") ? 2 : 1;  // top-level options
  while (p < args.size() && args[p].rfind("-", 0) != 0) ++p;  // subcommand names and positionals
  args.insert(args.begin() + static_cast<long>(std::min(p, args.size())), injected.begin(), injected.end());
  return args;
}

}  // namespace tumorforge::cli
