// Export of a training run to a model bundle (see export_run.h).
#include "train/export_run.h"

#include <sstream>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "models/bundle.h"
#include "models/networks.h"
#include "core/provenance.h"
#include "train/checkpoint.h"
#include "train/loader.h"

#include <spdlog/spdlog.h>

namespace fs = std::filesystem;

namespace tumorforge::train {

std::string export_run(const std::string& run_dir, bool best, const std::string& out) {
  if (!fs::exists(run_dir + "/config.json")) throw std::invalid_argument(run_dir + ": not a training run (no config.json)");
  std::ifstream in(run_dir + "/config.json");
  nlohmann::json cfg = nlohmann::json::parse(in);
  models::NetConfig nc = cfg.at("net").get<models::NetConfig>();
  std::string ck;
  if (best) {
    ck = run_dir + "/best";
    if (!fs::exists(ck + "/COMPLETE")) throw std::invalid_argument(run_dir + ": no complete best checkpoint (no validation yet?)");
  } else {
    auto n = newest_checkpoint(run_dir);
    if (!n) throw std::invalid_argument(run_dir + ": no complete checkpoint");
    ck = *n;
  }
  std::shared_ptr<torch::nn::Module> module;
  if (nc.kind == "surrogate") module = models::SurrogateNet(nc).ptr();
  else module = models::InverseNet(nc).ptr();
  nlohmann::json state = load_checkpoint(ck, *module, nullptr);
  // The newest validation record at or before this checkpoint's step.
  nlohmann::json metrics;
  std::ifstream log(run_dir + "/metrics.jsonl");
  std::string line;
  while (std::getline(log, line)) {
    try {
      auto r = nlohmann::json::parse(line);
      if (r.value("kind", "") == "val" && r.value("step", int64_t{0}) <= state.at("step").get<int64_t>()) metrics = r;
    } catch (const std::exception&) {
    }
  }
  nlohmann::json meta = {{"theta_range", cfg.at("theta_range")},
                         {"data", cfg.at("data")},
                         {"train_config", cfg.at("train")},
                         {"metrics", metrics},
                         {"checkpoint", {{"dir", ck}, {"step", state.at("step")}, {"param_sha256", state.at("param_sha256")}}},
                         {"training_provenance", cfg.at("provenance")},
                         {"provenance", core::provenance({})}};
  if (cfg.contains("init_from_sha256")) meta["init_from_sha256"] = cfg.at("init_from_sha256");  // fine-tuned from
  // θ statistics of the training set, for the inversion's start point and bounds; the store path in the run's
  // config is relative to where training ran, so it is tried as given and beside the run directory.
  const std::string train_stores = cfg.at("train").value("train", "");
  for (const fs::path& base : {fs::path(), fs::path(run_dir).parent_path()}) {
    std::string found;
    std::stringstream in(train_stores);
    bool all = !train_stores.empty();
    for (std::string p; std::getline(in, p, ',');) {
      all = all && fs::exists(base / p / ".zattrs");
      found += (found.empty() ? "" : ",") + (base / p).string();
    }
    if (!all) continue;
    meta["theta_stats"] = datagen::TrainingSet(found).theta_stats();
    break;
  }
  const std::string train_store = train_stores;
  if (!meta.contains("theta_stats"))
    spdlog::warn("training store '{}' not found: the bundle gets no theta_stats (inversion then uses the full θ box)", train_store);
  models::write_bundle(out, nc, meta, *module);
  return ck;
}

}  // namespace tumorforge::train
