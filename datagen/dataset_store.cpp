// Creating, opening and writing dataset stores (see dataset_store.h).
#include "datagen/dataset_store.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/provenance.h"

namespace fs = std::filesystem;

namespace tumorforge::datagen {
namespace {

Compressor compressor_of(const DatagenConfig& c) {
  Compressor comp;
  if (c.compressor == "none") comp.id = "none";
  else if (c.compressor == "zlib") comp.id = "zlib";
  else comp.cname = c.compressor == "blosc-zstd" ? "zstd" : "lz4";
  comp.clevel = c.clevel;
  return comp;
}

nlohmann::json level_json(const core::GridLevel& l) {
  return {{"dims", l.grid.dims}, {"spacing_mm", l.grid.spacing_mm}, {"origin_mm", l.origin_mm}, {"affine", l.grid.affine}};
}

core::GridLevel level_from_json(const nlohmann::json& j) {
  core::GridLevel l;
  l.grid.dims = j.at("dims").get<std::array<int64_t, 3>>();
  l.grid.spacing_mm = j.at("spacing_mm").get<std::array<double, 3>>();
  l.origin_mm = j.at("origin_mm").get<std::array<double, 3>>();
  l.grid.affine = j.at("affine").get<core::Affine>();
  return l;
}

// Writes wm/gm/csf of one anatomy as (1, X, Y, Z) float32 arrays under `group`.
void write_anatomy(const std::string& group, const solver::TissueMaps& t, const core::GridLevel& level, const Compressor& comp) {
  create_group(group);
  const auto& d = t.grid.dims;
  ArrayMeta m;
  m.shape = {1, d[0], d[1], d[2]};
  m.chunks = {1, d[0], d[1], d[2]};
  m.dtype = DType::kF4;
  m.compressor = comp;
  for (auto [name, field] : {std::pair<const char*, const std::vector<float>*>{"wm", &t.wm}, {"gm", &t.gm}, {"csf", &t.csf}}) {
    ZarrArray a = ZarrArray::create(group + "/" + name, m);
    std::vector<float> c = core::to_c_order(*field, d);
    a.write<float>({0, 0, 0, 0}, m.shape, c.data());
    a.set_attrs({{"grid", level_json(level)}, {"units", "tissue fraction"}, {"axes", {"atlas_id", "x", "y", "z"}}});
  }
  write_attrs(group, {{"grid", level_json(level)}});
}

ArrayMeta per_sample(int64_t n, std::vector<int64_t> row, DType dtype, const Compressor& comp) {
  ArrayMeta m;
  m.shape = {n};
  m.chunks = {1};
  m.shape.insert(m.shape.end(), row.begin(), row.end());
  m.chunks.insert(m.chunks.end(), row.begin(), row.end());
  m.dtype = dtype;
  m.compressor = comp;
  return m;
}

}  // namespace

std::vector<int64_t> seed_candidates(const solver::TissueMaps& t, double min_matter) {
  std::vector<int64_t> v;
  for (size_t n = 0; n < t.wm.size(); ++n)
    if (t.wm[n] + t.gm[n] >= min_matter) v.push_back(static_cast<int64_t>(n));
  return v;
}

void DatasetStore::init(const std::string& path, DatagenConfig cfg) {
  cfg.validate();
  if (fs::exists(path)) throw std::invalid_argument(path + ": exists already; refusing to overwrite a store");
  solver::TissueMaps native = solver::load_tissue(cfg.tissue);
  core::GridLevel native_level{native.grid, {0, 0, 0}};
  if (cfg.sim_spacing_mm == 0) cfg.sim_spacing_mm = native.grid.spacing_mm[0];
  auto k_sim = core::integer_factor(native.grid.spacing_mm, cfg.sim_spacing_mm, "sim_spacing");
  core::GridLevel sim = core::coarsen(native_level, k_sim);
  solver::TissueMaps sim_tissue = solver::block_average(native, k_sim, sim.grid);
  if (cfg.spacing_mm == 0) cfg.spacing_mm = cfg.sim_spacing_mm;
  auto k_store = core::integer_factor(sim.grid.spacing_mm, cfg.spacing_mm, "spacing");
  core::GridLevel store = core::coarsen(sim, k_store);
  solver::TissueMaps store_tissue = solver::block_average(sim_tissue, k_store, store.grid);

  for (int a = 0; a < 3; ++a)
    if (cfg.crop > store.grid.dims[a]) {
      std::ostringstream s;
      s << "crop " << cfg.crop << " voxels exceeds the stored grid " << store.grid.describe();
      throw std::invalid_argument(s.str());
    }
  if (cfg.chunk == 0) cfg.chunk = cfg.crop;
  const auto seeds = seed_candidates(sim_tissue, cfg.seed_min_matter);
  if (seeds.empty()) throw std::invalid_argument("no voxel has WM + GM >= seed_min_matter; check the anatomy");
  const double capacity = solver::matter_volume_mm3(sim_tissue, cfg.th_matter);
  if (cfg.ranges.stop_volume.dist != "none") {
    double vmax = cfg.ranges.stop_volume.dist == "fixed" ? cfg.ranges.stop_volume.min : cfg.ranges.stop_volume.max;
    if (vmax > capacity) {
      std::ostringstream s;
      s << "stop_volume up to " << vmax << " mm^3 is impossible: the anatomy holds " << capacity << " mm^3 of tissue";
      throw std::invalid_argument(s.str());
    }
  }

  // Build everything under a temporary name beside the target, then rename: a crash leaves no half store.
  const std::string tmp = core::temp_path_for(fs::absolute(path).lexically_normal().string());
  try {
    const Compressor comp = compressor_of(cfg);
    create_group(tmp);
    const int64_t n = cfg.n_samples, e = cfg.crop, ch = cfg.chunk;
    ArrayMeta conc;
    conc.shape = {n, e, e, e};
    conc.chunks = {1, ch, ch, ch};
    conc.dtype = cfg.dtype == "float16" ? DType::kF2 : DType::kF4;
    conc.compressor = comp;
    ZarrArray::create(tmp + "/concentration", conc).set_attrs({{"axes", {"sample", "x", "y", "z"}}, {"units", "tumor cell fraction"}});
    ZarrArray::create(tmp + "/crop_origin", per_sample(n, {3}, DType::kI4, comp))
        .set_attrs({{"description", "stored-grid voxel of the crop's (0,0,0); -1 for failed samples"}});
    ZarrArray::create(tmp + "/params", per_sample(n, {6}, DType::kF8, comp))
        .set_attrs({{"columns", {"seed_x_mm", "seed_y_mm", "seed_z_mm", "dw_mm2_per_day", "rho_per_day", "stop_time_days"}},
                    {"description", "raw parameters; seed in atlas mm; T = time the run stopped at"}});
    ZarrArray::create(tmp + "/theta", per_sample(n, {5}, DType::kF4, comp))
        .set_attrs({{"columns", {"x_mm", "y_mm", "z_mm", "mu_d", "mu_rho"}},
                    {"description", "seed offset from the crop centre (mm); mu_d = sqrt(D_w T), mu_rho = sqrt(rho T)"}});
    ZarrArray::create(tmp + "/status", per_sample(n, {}, DType::kU1, comp))
        .set_attrs({{"values", {{"0", "pending"}, {"1", "done"}, {"2", "failed"}}}});
    ArrayMeta stats = per_sample(n, {kNumStats}, DType::kF8, comp);
    ZarrArray::create(tmp + "/stats", stats).set_attrs({{"columns", std::vector<std::string>(kStatsColumns, kStatsColumns + kNumStats)}});
    ArrayMeta ids;
    ids.shape = {n};
    ids.chunks = {std::min<int64_t>(n, 65536)};
    ids.dtype = DType::kI4;
    ids.compressor = comp;
    ZarrArray atlas_id = ZarrArray::create(tmp + "/atlas_id", ids);  // all 0: one anatomy per store for now
    std::vector<int32_t> zeros(static_cast<size_t>(n), 0);
    atlas_id.write<int32_t>({0}, {n}, zeros.data());
    create_group(tmp + "/failures");

    write_anatomy(tmp + "/atlas", store_tissue, store, comp);
    if (k_store != std::array<int64_t, 3>{1, 1, 1}) write_anatomy(tmp + "/sim_atlas", sim_tissue, sim, comp);

    const double t_max = cfg.ranges.stop_time.dist == "fixed" ? cfg.ranges.stop_time.min : cfg.ranges.stop_time.max;
    const double half_mm = 0.5 * static_cast<double>(e) * cfg.spacing_mm;
    auto rmax = [](const Range& r) { return r.dist == "fixed" ? r.min : r.max; };
    nlohmann::json config_json = cfg;
    nlohmann::json attrs = {
        {"layout", kLayoutName},
        {"layout_version", kLayoutVersion},
        {"config", config_json},
        {"sim_grid", level_json(sim)},
        {"store_grid", level_json(store)},
        {"atlases", {{{"id", 0}, {"source", native.source}, {"native_grid", level_json(native_level)}}}},
        {"theta_range",
         {{"columns", {"x_mm", "y_mm", "z_mm", "mu_d", "mu_rho"}},
          {"lo", {-half_mm, -half_mm, -half_mm, 0.0, 0.0}},
          {"hi", {half_mm, half_mm, half_mm, std::sqrt(rmax(cfg.ranges.dw) * t_max), std::sqrt(rmax(cfg.ranges.rho) * t_max)}},
          {"normalized", "2 (theta - lo) / (hi - lo) - 1, in [-1, 1]"}}},
        {"seed_candidates", seeds.size()},
        {"tissue_volume_mm3", capacity},
        {"provenance", core::provenance(cfg.tissue.input_files())}};
    write_attrs(tmp, attrs);
    fs::rename(tmp, path);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
}

DatasetStore DatasetStore::open(const std::string& path) {
  if (!fs::exists(path)) throw std::invalid_argument(path + ": no such store");
  if (!is_group(path)) throw std::invalid_argument(path + ": not a Zarr group (no .zgroup)");
  DatasetStore s;
  s.path_ = path;
  s.attrs_ = read_attrs(path);
  if (s.attrs_.value("layout", std::string()) != kLayoutName)
    throw std::invalid_argument(path + ": not a tumorforge dataset (layout '" + s.attrs_.value("layout", std::string("none")) + "')");
  if (s.attrs_.value("layout_version", 0) != kLayoutVersion)
    throw std::invalid_argument(path + ": dataset layout version " + std::to_string(s.attrs_.value("layout_version", 0)) +
                                ", this tumorforge reads version " + std::to_string(kLayoutVersion));
  try {
    s.config_ = preset_config(s.attrs_.at("config").at("preset").get<std::string>());
    s.config_.rerun_at_stop_time = false;  // what stores written before the key existed hold
    merge_json(s.attrs_.at("config"), s.config_);
    s.sim_ = level_from_json(s.attrs_.at("sim_grid"));
    s.store_ = level_from_json(s.attrs_.at("store_grid"));
  } catch (const std::exception& e) {
    throw std::invalid_argument(path + ": damaged .zattrs (" + e.what() + ")");
  }
  s.factor_ = core::integer_factor(s.sim_.grid.spacing_mm, s.config_.spacing_mm, "spacing");
  for (const char* name : {"concentration", "crop_origin", "params", "theta", "stats", "status"})
    s.arrays_.emplace(name, ZarrArray::open(path + "/" + name));
  return s;
}

ZarrArray DatasetStore::array(const std::string& name) const {
  auto it = arrays_.find(name);
  return it != arrays_.end() ? it->second : ZarrArray::open(path_ + "/" + name);
}

solver::TissueMaps DatasetStore::sim_tissue(int atlas_id) const {
  const std::string group = path_ + (fs::exists(path_ + "/sim_atlas") ? "/sim_atlas" : "/atlas");
  solver::TissueMaps t;
  t.grid = sim_.grid;
  t.source = attrs_.at("atlases").at(atlas_id).at("source").get<std::string>();
  const auto& d = t.grid.dims;
  for (auto [name, field] : {std::pair<const char*, std::vector<float>*>{"wm", &t.wm}, {"gm", &t.gm}, {"csf", &t.csf}}) {
    ZarrArray a = ZarrArray::open(group + "/" + name);
    *field = core::from_c_order(a.read<float>({atlas_id, 0, 0, 0}, {1, d[0], d[1], d[2]}), d);
  }
  return t;
}

std::vector<uint8_t> DatasetStore::read_status() const {
  ZarrArray a = array("status");
  std::vector<uint8_t> s(static_cast<size_t>(n_samples()));
  for (int64_t i = 0; i < n_samples(); ++i) {
    if (!a.chunk_exists({i})) continue;  // pending
    s[static_cast<size_t>(i)] = a.read_chunk({i})[0];
  }
  return s;
}

void DatasetStore::write_sample(int64_t i, const SampleRecord& r) const {
  const int64_t e = config_.crop;
  if (r.failure.empty()) {
    if (static_cast<int64_t>(r.concentration.size()) != e * e * e) throw std::logic_error("concentration crop has the wrong size");
    array("concentration").write<float>({i, 0, 0, 0}, {1, e, e, e}, r.concentration.data());
  } else {
    nlohmann::json f = {{"sample", i}, {"reason", r.failure}, {"params", r.params}};
    core::write_text_atomic(path_ + "/failures/" + std::to_string(i) + ".json", f.dump(2) + "\n");
  }
  array("crop_origin").write<int32_t>({i, 0}, {1, 3}, r.crop_origin.data());
  array("params").write<double>({i, 0}, {1, 6}, r.params.data());
  array("theta").write<float>({i, 0}, {1, 5}, r.theta.data());
  array("stats").write<double>({i, 0}, {1, kNumStats}, r.stats.data());
  const uint8_t status = r.failure.empty() ? kDone : kFailed;
  array("status").write<uint8_t>({i}, {1}, &status);  // last: the sample's completion marker
}

}  // namespace tumorforge::datagen
