// One inversion problem on the networks' grid: the tissue and target cubes (S³ around the target's centre of
// mass, zero-padded at borders) plus what the numerical solver needs to simulate the same case on the finer
// grid it came from. Built either from a patient's NIfTI files (prepare_patient) or from a sample of a
// dataset store (case_from_store, used by `evaluate`).
#pragma once
#include <torch/torch.h>

#include <array>
#include <memory>
#include <optional>
#include <string>

#include "core/grid_ops.h"
#include "invert/labels.h"
#include "invert/model_spec.h"
#include "core/grid.h"
#include "datagen/store_reader.h"

namespace tumorforge::invert {

enum class TargetKind { kConcentration, kSegmentation };

// Where the solver runs and how its field maps onto the model cube. Positions are "level mm": the fine grid's
// voxel (0,0,0) centre is at fine.origin_mm (0 for patient inputs; the atlas position for store samples).
struct SolverContext {
  std::shared_ptr<const solver::TissueMaps> tissue;  // the fine grid
  core::GridLevel fine, coarse;                    // coarse: the networks' spacing
  std::array<int64_t, 3> factor{1, 1, 1};            // fine -> coarse block size
  std::array<int64_t, 3> crop_origin{0, 0, 0};       // cube origin in coarse voxels
  int64_t crop = 0;
  std::array<double, 3> crop_centre_mm() const;
  // Cube (1, 1, S, S, S) of a fine-grid field: block-averaged to the coarse grid, then cropped.
  torch::Tensor to_cube(const std::vector<float>& fine_field) const;
  // Fine-grid field from a cube (piecewise constant, zero outside the cube), for writing surrogate output.
  std::vector<float> from_cube(const torch::Tensor& cube) const;
};

// A case's target over the whole input grid, on the solver's own grid, as flat (1, 1, N) tensors: the numerical
// solver's runs are judged here (hybrid's selection, the polish, the final loss), so a tumor larger than the
// model cube is compared whole, and a segmentation is compared at the patient's resolution, where its Dice is
// reported — block-averaged to the networks' 4 mm, thresholds move and a better loss can mean a worse Dice.
struct WholeGrid {
  torch::Tensor target, core, whole;  // as in ModelCase
  torch::Tensor brain;                // WM + GM >= the surrogate's mask threshold
};
torch::Tensor flat_tensor(const std::vector<float>& field);  // (1, 1, N) float32 copy
// (1, 1, N) float32 0/1: solver::matter_mask (WM + GM >= threshold), the whole-grid brain of losses and metrics.
torch::Tensor flat_brain_mask(const solver::TissueMaps& tissue, double threshold);

struct ModelCase {
  TargetKind kind = TargetKind::kConcentration;
  torch::Tensor tissue;  // (1, 3, S, S, S) WM, GM, CSF fractions
  torch::Tensor target;  // (1, 1, S, S, S) concentration, or for segmentations the proxy (see README)
  torch::Tensor core, whole;  // segmentations only: (1, 1, S, S, S) fractions of tumor core / visible tumor
  std::array<double, 3> com_offset_mm{};  // the target's centre of mass relative to the cube centre
  SolverContext solver;
  std::optional<WholeGrid> full;  // patient inputs; store samples keep only their cube
};

// Patient inputs on one grid: `target` is a concentration in [0, 1] or a label map read by `labels`.
// The grid's spacing must equal the model's; with `resample` an integer multiple of it is block-averaged
// instead. Throws one-line errors naming `target_name`.
ModelCase prepare_patient(std::shared_ptr<const solver::TissueMaps> tissue, const core::Volume& target, TargetKind kind,
                          const ModelSpec& spec, bool resample, const std::string& target_name,
                          double tau_core = 0.6, double tau_edema = 0.2, const LabelConvention* labels = nullptr);

// Sample `index` of a store as a case; the solver runs on the store's simulation grid (shared `sim_tissue`).
ModelCase case_from_store(const datagen::StoreReader& reader, int64_t index,
                          std::shared_ptr<const solver::TissueMaps> sim_tissue);


}  // namespace tumorforge::invert
