// Everything that defines a dataset, in one typed config: anatomy, grids, crop, storage, parameter ranges,
// solver settings and the RNG seed. Presets give the defaults (paper, lmi, dev); flags and config-file keys
// override them and share their names (`dw-min` on the command line, `dw_min` in the stored JSON).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "datagen/sampling.h"
#include "solver/tissue.h"

namespace tumorforge::datagen {

struct DatagenConfig {
  std::string preset = "paper";
  int64_t n_samples = 28000;
  uint64_t rng_seed = 0;
  solver::TissueSource tissue;  // empty: the phantom (phantom_size/phantom_spacing_mm)
  double sim_spacing_mm = 0;    // 0: the atlas's own spacing; else an integer multiple of it
  double spacing_mm = 0;        // stored grid; 0: the simulation spacing; else an integer multiple of it
  int64_t crop = 128;           // stored cube edge, voxels
  int64_t chunk = 0;            // spatial chunk edge of `concentration`; 0: the whole crop
  std::string dtype = "float16";       // float16 | float32
  std::string compressor = "blosc-lz4";  // blosc-lz4 | blosc-zstd | zlib | none
  int clevel = 5;
  ParamRanges ranges;
  double seed_min_matter = 0.5;  // tumor seeds are drawn from voxels with WM + GM >= this
  double ratio_dw_dg = 10.0;
  double th_matter = 0.1;
  bool monotone_dt = true;
  // A run stopped by volume is run again to the time it stopped at, stopped by time alone, and that second
  // field is stored. The solver plans dt from the stopping time, so a run stopped early by volume took coarser
  // steps (planned for stop_time_max) than `simulate` or invert's final run take at the same θ = (seed,
  // sqrt(D_w T), sqrt(ρ T)): the stored pair then disagreed with the solver the surrogate stands in for (tumors
  // at a given θ up to half the mass; checkpoints/README.md, session 8). Stores written before the key existed
  // read as false (what they hold).
  bool rerun_at_stop_time = true;

  void validate() const;  // ranges, sizes, names; grid-dependent checks happen in init
};

// "paper": 1 mm, crop 128, the paper's ranges; "lmi": learn-morph-infer ranges, stop by time; "dev": 2 mm
// phantom (or atlas), crop 64, 2-core friendly.
DatagenConfig preset_config(const std::string& name);

void to_json(nlohmann::json& j, const DatagenConfig& c);
// Fills `c` from JSON over its current values; unknown keys are an error.
void merge_json(const nlohmann::json& j, DatagenConfig& c);

}  // namespace tumorforge::datagen
