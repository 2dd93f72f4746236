// Progress bar and parsing helpers for the CLI (see cli_util.h).
#include "tools/cli_util.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"

namespace tumorforge::cli {

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), start_(std::chrono::steady_clock::now()), last_draw_(start_),
      enabled_(isatty(STDERR_FILENO) == 1) {}

void ProgressBar::update(double fraction, const std::string& detail) {
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - start_).count();
  if (!enabled_) {
    // Not a terminal (a cluster job's log, nohup): one log line a minute instead of the redrawn bar.
    if (std::chrono::duration<double>(now - last_draw_).count() < 60.0) return;
    last_draw_ = now;
    spdlog::info("{}: {:.0f}% {}, {:.0f} s", label_, 100 * std::min(1.0, std::max(0.0, fraction)), detail, elapsed);
    return;
  }
  if (elapsed < 1.0 || std::chrono::duration<double>(now - last_draw_).count() < 0.1) return;
  last_draw_ = now;
  fraction = std::min(1.0, std::max(0.0, fraction));
  constexpr int kWidth = 30;
  int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
  std::fprintf(stderr, "\r%s [%s] %3.0f%% %s  %.0fs, ETA %.0fs\x1b[K", label_.c_str(), bar.c_str(), 100 * fraction,
               detail.c_str(), elapsed, eta);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

std::array<double, 3> parse_triple(const std::string& text, const std::string& flag) {
  std::array<double, 3> v{};
  std::istringstream s(text);
  std::string part;
  int n = 0;
  while (std::getline(s, part, ',')) {
    if (n >= 3) break;
    try {
      size_t used = 0;
      v[static_cast<size_t>(n)] = std::stod(part, &used);
      if (used != part.size() || !std::isfinite(v[static_cast<size_t>(n)])) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw std::invalid_argument(flag + " '" + text + "': expected three numbers x,y,z");
    }
    ++n;
  }
  if (n != 3 || s.rdbuf()->in_avail() > 0) throw std::invalid_argument(flag + " '" + text + "': expected three numbers x,y,z");
  return v;
}

std::array<int64_t, 3> parse_int_triple(const std::string& text, const std::string& flag) {
  auto d = parse_triple(text, flag);
  std::array<int64_t, 3> v{};
  for (int a = 0; a < 3; ++a) {
    if (d[a] != std::floor(d[a])) throw std::invalid_argument(flag + " '" + text + "': expected three integers i,j,k");
    v[a] = static_cast<int64_t>(d[a]);
  }
  return v;
}

CLI::Validator positive_finite() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        try {
          size_t used = 0;
          double x = std::stod(text, &used);
          if (used == text.size() && std::isfinite(x) && x > 0) return {};
        } catch (const std::exception&) {
        }
        return "must be a positive finite number, got '" + text + "'";
      },
      "POSITIVE");
}

std::string flag_of(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  return "--" + key;
}

JsonFlags::JsonFlags(CLI::App* cmd, const nlohmann::json& defaults, const std::map<std::string, std::string>& help,
                     const std::vector<std::string>& skip)
    : cmd_(cmd), defaults_(defaults), values_(std::make_shared<std::map<std::string, std::string>>()) {
  for (auto it = defaults.begin(); it != defaults.end(); ++it) {
    if (std::find(skip.begin(), skip.end(), it.key()) != skip.end()) continue;
    auto h = help.find(it.key());
    std::string text = h != help.end() ? h->second : "";
    std::string def = it->is_string() ? it->get<std::string>() : it->dump();
    cmd->add_option(flag_of(it.key()), (*values_)[it.key()], text + " [" + def + "]");
  }
}

nlohmann::json JsonFlags::collect() const {
  nlohmann::json given = nlohmann::json::object();
  for (const auto& [key, text] : *values_) {
    if (cmd_->get_option(flag_of(key))->count() == 0) continue;
    const nlohmann::json& d = defaults_.at(key);
    try {
      size_t used = 0;
      if (d.is_boolean()) {
        if (text != "true" && text != "false") throw std::invalid_argument("");
        given[key] = text == "true";
      } else if (d.is_number_integer() || d.is_number_unsigned()) {
        given[key] = std::stoll(text, &used);
        if (used != text.size()) throw std::invalid_argument("");
      } else if (d.is_number()) {
        given[key] = std::stod(text, &used);
        if (used != text.size()) throw std::invalid_argument("");
      } else if (d.is_array()) {
        nlohmann::json arr = nlohmann::json::array();
        std::stringstream ss(text);
        std::string part;
        while (std::getline(ss, part, ',')) arr.push_back(std::stoll(part));
        given[key] = arr;
      } else {
        given[key] = text;
      }
    } catch (const std::exception&) {
      throw std::invalid_argument(flag_of(key) + " '" + text + "': expected " +
                                  (d.is_boolean() ? "true or false" : d.is_array() ? "comma-separated integers" : "a number"));
    }
  }
  return given;
}

void write_json(const std::string& path, const nlohmann::json& j) { core::write_text_atomic(path, j.dump(2) + "\n"); }

void add_anatomy_options(CLI::App* cmd, solver::TissueSource& t) {
  auto* anat = cmd->add_option_group("anatomy", "exactly one of these");
  anat->add_option("--tissue-labels", t.labels_path, "label map: 0 background, 1 CSF, 2 GM, 3 WM (NIfTI)");
  anat->add_option("--wm", t.wm_path, "white-matter fraction map (NIfTI, with --gm)");
  anat->add_option("--gm", t.gm_path, "gray-matter fraction map (NIfTI, with --wm)");
  anat->add_option("--csf", t.csf_path, "CSF fraction map (NIfTI, optional)");
  anat->add_option("--phantom", t.phantom_size, "built-in phantom with N voxels per edge")->check(CLI::Range(8, 1024));
  anat->add_option("--phantom-spacing", t.phantom_spacing_mm, "phantom voxel size, mm")->check(positive_finite())->capture_default_str();
}

void require_anatomy(const solver::TissueSource& t) {
  if (t.labels_path.empty() && t.wm_path.empty() && t.gm_path.empty() && t.phantom_size == 0)
    throw std::invalid_argument("no anatomy: give --tissue-labels FILE, --wm FILE --gm FILE, or --phantom N");
}

std::string default_checkpoint(const std::string& name) {
  const std::string local = "checkpoints/" + name;
  if (std::filesystem::exists(local)) return local;
  return std::string(TUMORFORGE_SOURCE_DIR) + "/checkpoints/" + name;
}

}  // namespace tumorforge::cli
