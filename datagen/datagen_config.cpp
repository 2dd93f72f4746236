// Presets, validation and JSON for DatagenConfig.
#include "datagen/datagen_config.h"

#include <cmath>
#include <set>
#include <stdexcept>

namespace tumorforge::datagen {

DatagenConfig preset_config(const std::string& name) {
  DatagenConfig c;
  c.preset = name;
  // The paper's ranges: D_w, rho ~ U(0.001, 10), stopping volume ~ U(1e3, 4e5) mm³, T = 100 days.
  c.ranges.dw = {"uniform", 0.001, 10};
  c.ranges.rho = {"uniform", 0.001, 10};
  c.ranges.stop_volume = {"uniform", 1000, 400000};
  c.ranges.stop_time = {"fixed", 100, 100};
  if (name == "paper") {
    c.n_samples = 28000;
    c.crop = 128;
    c.tissue.phantom_size = 192;  // used only when no atlas is given
    c.tissue.phantom_spacing_mm = 1.0;
  } else if (name == "lmi") {
    c.n_samples = 28000;
    c.crop = 128;
    c.tissue.phantom_size = 192;
    c.tissue.phantom_spacing_mm = 1.0;
    c.ranges.dw = {"uniform", 0.02, 1.5};
    c.ranges.rho = {"uniform", 0.002, 0.2};
    c.ranges.stop_volume = {"none", 0, 0};
    c.ranges.stop_time = {"uniform", 50, 1500};
  } else if (name == "dev") {
    c.n_samples = 64;
    c.crop = 64;
    c.tissue.phantom_size = 96;
    c.tissue.phantom_spacing_mm = 2.0;
    c.sim_spacing_mm = 2.0;
  } else {
    throw std::invalid_argument("preset '" + name + "' is unknown (paper, lmi, dev)");
  }
  return c;
}

void DatagenConfig::validate() const {
  if (n_samples < 1 || n_samples > 100'000'000) throw std::invalid_argument("n_samples must be within 1..1e8");
  if (crop < 4 || crop > 1024) throw std::invalid_argument("crop must be within 4..1024 voxels");
  if (chunk < 0 || chunk > crop) throw std::invalid_argument("chunk must be within 0..crop");
  if (dtype != "float16" && dtype != "float32") throw std::invalid_argument("dtype must be float16 or float32, got '" + dtype + "'");
  static const std::set<std::string> comps = {"blosc-lz4", "blosc-zstd", "zlib", "none"};
  if (!comps.count(compressor)) throw std::invalid_argument("compressor must be blosc-lz4, blosc-zstd, zlib or none, got '" + compressor + "'");
  if (clevel < 0 || clevel > 9) throw std::invalid_argument("clevel must be within 0..9");
  if (sim_spacing_mm < 0 || !std::isfinite(sim_spacing_mm)) throw std::invalid_argument("sim_spacing must be >= 0 mm");
  if (spacing_mm < 0 || !std::isfinite(spacing_mm)) throw std::invalid_argument("spacing must be >= 0 mm");
  if (!(seed_min_matter > 0 && seed_min_matter <= 2)) throw std::invalid_argument("seed_min_matter must be within (0, 2]");
  if (!(ratio_dw_dg > 0) || !std::isfinite(ratio_dw_dg)) throw std::invalid_argument("ratio_dw_dg must be positive");
  if (!(th_matter > 0) || th_matter > seed_min_matter) throw std::invalid_argument("th_matter must be within (0, seed_min_matter]");
  ranges.dw.validate("dw", false);
  ranges.rho.validate("rho", false);
  ranges.stop_volume.validate("stop_volume", true);
  ranges.stop_time.validate("stop_time", false);
}

namespace {

void put_range(nlohmann::json& j, const std::string& name, const Range& r) {
  j[name + "_dist"] = r.dist;
  j[name + "_min"] = r.min;
  j[name + "_max"] = r.max;
}

}  // namespace

void to_json(nlohmann::json& j, const DatagenConfig& c) {
  j = {{"preset", c.preset},
       {"n_samples", c.n_samples},
       {"rng_seed", c.rng_seed},
       {"tissue_labels", c.tissue.labels_path},
       {"wm", c.tissue.wm_path},
       {"gm", c.tissue.gm_path},
       {"csf", c.tissue.csf_path},
       {"phantom", c.tissue.phantom_size},
       {"phantom_spacing", c.tissue.phantom_spacing_mm},
       {"sim_spacing", c.sim_spacing_mm},
       {"spacing", c.spacing_mm},
       {"crop", c.crop},
       {"chunk", c.chunk},
       {"dtype", c.dtype},
       {"compressor", c.compressor},
       {"clevel", c.clevel},
       {"seed_min_matter", c.seed_min_matter},
       {"ratio_dw_dg", c.ratio_dw_dg},
       {"th_matter", c.th_matter},
       {"monotone_dt", c.monotone_dt},
       {"rerun_at_stop_time", c.rerun_at_stop_time}};
  put_range(j, "dw", c.ranges.dw);
  put_range(j, "rho", c.ranges.rho);
  put_range(j, "stop_volume", c.ranges.stop_volume);
  put_range(j, "stop_time", c.ranges.stop_time);
}

void merge_json(const nlohmann::json& j, DatagenConfig& c) {
  nlohmann::json known;
  to_json(known, c);
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.contains(it.key())) throw std::invalid_argument("unknown datagen config key '" + it.key() + "'");
  try {
    auto get = [&](const char* key, auto& field) {
      if (j.contains(key)) field = j.at(key).get<std::decay_t<decltype(field)>>();
    };
    get("preset", c.preset);
    get("n_samples", c.n_samples);
    get("rng_seed", c.rng_seed);
    get("tissue_labels", c.tissue.labels_path);
    get("wm", c.tissue.wm_path);
    get("gm", c.tissue.gm_path);
    get("csf", c.tissue.csf_path);
    get("phantom", c.tissue.phantom_size);
    get("phantom_spacing", c.tissue.phantom_spacing_mm);
    get("sim_spacing", c.sim_spacing_mm);
    get("spacing", c.spacing_mm);
    get("crop", c.crop);
    get("chunk", c.chunk);
    get("dtype", c.dtype);
    get("compressor", c.compressor);
    get("clevel", c.clevel);
    get("seed_min_matter", c.seed_min_matter);
    get("ratio_dw_dg", c.ratio_dw_dg);
    get("th_matter", c.th_matter);
    get("monotone_dt", c.monotone_dt);
    get("rerun_at_stop_time", c.rerun_at_stop_time);
    for (auto [name, range] : {std::pair<const char*, Range*>{"dw", &c.ranges.dw}, {"rho", &c.ranges.rho},
                               {"stop_volume", &c.ranges.stop_volume}, {"stop_time", &c.ranges.stop_time}}) {
      std::string n(name);
      if (j.contains(n + "_dist")) range->dist = j.at(n + "_dist").get<std::string>();
      if (j.contains(n + "_min")) range->min = j.at(n + "_min").get<double>();
      if (j.contains(n + "_max")) range->max = j.at(n + "_max").get<double>();
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("datagen config: wrong value type (") + e.what() + ")");
  }
}

}  // namespace tumorforge::datagen
