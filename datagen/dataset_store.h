// The dataset layout (documented in datagen/README.md): one Zarr group per split holding per-sample arrays
// chunked by sample (so concurrent shard writers never share a chunk), the anatomy once per store, and the
// generation config + provenance in .zattrs. DatasetStore creates, opens and writes such stores.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datagen/datagen_config.h"
#include "core/grid_ops.h"
#include "datagen/theta.h"
#include "datagen/zarr_array.h"
#include "solver/tissue.h"

namespace tumorforge::datagen {

inline constexpr const char* kLayoutName = "tumorforge.fk_dataset";
inline constexpr int kLayoutVersion = 1;

enum SampleStatus : uint8_t { kPending = 0, kDone = 1, kFailed = 2 };
enum StatsColumn : int { kSteps = 0, kWallSeconds, kFinalVolume, kStopReason, kTargetVolume, kDtDays, kNumStats };
inline constexpr const char* kStatsColumns[kNumStats] = {"steps", "wall_seconds", "final_volume_mm3",
                                                         "stop_reason (1 time, 2 volume, 0 failed)",
                                                         "target_stop_volume_mm3 (NaN: none)", "dt_days"};

// Everything one finished (or failed) sample writes.
struct SampleRecord {
  std::array<double, 6> params{};  // seed x, y, z (atlas mm), D_w, rho, T stopped at (days)
  std::array<float, kThetaSize> theta{};    // seed offset from crop centre (mm) x, y, z, mu_D, mu_rho
  std::array<int32_t, 3> crop_origin{-1, -1, -1};
  std::array<double, kNumStats> stats{};
  std::vector<float> concentration;  // crop³ in C order; empty for failed samples
  std::string failure;               // non-empty: the sample failed for this reason
};

class DatasetStore {
 public:
  // Creates the store from `config` (atomically: built under a temporary name, then renamed). Refuses an
  // existing path. Grid-dependent checks (crop vs grid, reachable volumes, seeds) happen here.
  static void init(const std::string& path, DatagenConfig config);
  static DatasetStore open(const std::string& path);  // checks layout and version

  const std::string& path() const { return path_; }
  const DatagenConfig& config() const { return config_; }
  const nlohmann::json& attrs() const { return attrs_; }
  int64_t n_samples() const { return config_.n_samples; }
  const core::GridLevel& sim_level() const { return sim_; }
  const core::GridLevel& store_level() const { return store_; }
  std::array<int64_t, 3> store_factor() const { return factor_; }  // sim -> stored grid

  solver::TissueMaps sim_tissue(int atlas_id = 0) const;  // the simulation-grid anatomy, read from the store
  std::vector<uint8_t> read_status() const;
  void write_sample(int64_t i, const SampleRecord& r) const;  // data first, status last

  // Per-sample arrays are opened once (open() parses their metadata); others are opened on demand.
  ZarrArray array(const std::string& name) const;

 private:
  std::string path_;
  DatagenConfig config_;
  nlohmann::json attrs_;
  core::GridLevel sim_, store_;
  std::array<int64_t, 3> factor_{1, 1, 1};
  std::map<std::string, ZarrArray> arrays_;
};

// Voxels of the simulation grid that may seed a tumor (WM + GM >= seed_min_matter), sorted.
std::vector<int64_t> seed_candidates(const solver::TissueMaps& tissue, double seed_min_matter);

}  // namespace tumorforge::datagen
