// Tissue anatomy as three fraction maps (white matter, gray matter, CSF) on one grid, built from a label map
// (0 background, 1 CSF, 2 GM, 3 WM: the atlas convention), from separate fraction maps, or from the phantom.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/grid.h"

namespace tumorforge::solver {

using core::Grid;  // the solver works on core grids and volumes throughout
using core::Volume;

struct TissueMaps {
  Grid grid;
  std::vector<float> wm, gm, csf;  // fractions in [0, 1], x-fastest like Volume::data
  std::string source;              // human-readable origin ("labels:/path", "phantom:96@2mm", ...)
};

// Label values are rounded; anything not within 0.01 of 0..3 is an error naming the file and voxel.
TissueMaps tissue_from_labels(const Volume& labels, const std::string& source);
// Shapes must match; values must be finite and within [0, 1] (±1e-3, then clamped). csf may be absent.
TissueMaps tissue_from_fractions(const Volume& wm, const Volume& gm, const std::optional<Volume>& csf,
                                 const std::string& source);

// Voxels that can hold tumor cells: WM + GM >= th_matter (the solver's and the reference's "tissue").
std::vector<uint8_t> matter_mask(const TissueMaps& tissue, double th_matter);
double matter_volume_mm3(const TissueMaps& tissue, double th_matter);
// Hard labels (0 bg, 1 CSF, 2 GM, 3 WM) by the largest fraction, background when all are below 0.5 in sum.
std::vector<uint8_t> hard_labels(const TissueMaps& tissue);
// The three fractions block-averaged onto a coarser grid (core::block_average on each).
TissueMaps block_average(const TissueMaps& fine, const std::array<int64_t, 3>& factor, const Grid& coarse_grid);

// Where the anatomy comes from on the command line: exactly one of labels, wm+gm(+csf), or phantom size.
struct TissueSource {
  std::string labels_path;
  std::string wm_path, gm_path, csf_path;
  int phantom_size = 0;           // > 0: built-in phantom with this many voxels per edge
  double phantom_spacing_mm = 2.0;
  std::string describe() const;
  std::vector<std::string> input_files() const;  // the files to checksum for provenance
};
TissueMaps load_tissue(const TissueSource& source);

}  // namespace tumorforge::solver
