// The plan files and record (see plan_output.h).
#include "tools/plan_output.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <optional>

#include "core/grid_ops.h"
#include "invert/plan.h"
#include "invert/plan_figure.h"
#include "solver/nifti_io.h"

namespace tumorforge::cli {
namespace {

nlohmann::json cov_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

std::vector<uint8_t> brain_from_tissue(const solver::TissueMaps& t) {
  std::vector<uint8_t> brain(t.wm.size());
  for (size_t i = 0; i < brain.size(); ++i) brain[i] = t.wm[i] + t.gm[i] + t.csf[i] >= 0.5f;  // brain = any tissue
  return brain;
}

nlohmann::json write_plan_files(const std::string& dir, const core::Grid& grid, const invert::TumorMasks& tumor,
                                const invert::LabelConvention& conv, const std::vector<float>& concentration,
                                const std::vector<uint8_t>& brain, const core::Volume* recurrence, double margin_mm) {
  std::vector<uint8_t> core(tumor.core.size());
  int64_t core_voxels = 0;
  for (size_t i = 0; i < core.size(); ++i) core_voxels += core[i] = tumor.core[i] > 0;
  if (core_voxels == 0) throw std::invalid_argument("the segmentation has no tumor-core voxel under " + conv.describe());
  std::optional<std::vector<uint8_t>> rec_any, rec_enh;
  if (recurrence) {
    const core::Volume& r = *recurrence;
    bool binary = true;
    for (float v : r.data) binary = binary && (v == 0.0f || v == 1.0f);
    rec_any.emplace(r.data.size());
    for (size_t i = 0; i < r.data.size(); ++i) (*rec_any)[i] = r.data[i] > 0;
    if (!binary) {  // a label map: read it with the same convention; its enhancing part is counted on its own
      const invert::TumorMasks rm = invert::tumor_masks(r, "--recurrence", conv);
      if (!conv.enhancing.empty()) {
        rec_enh.emplace(r.data.size());
        for (size_t i = 0; i < r.data.size(); ++i) (*rec_enh)[i] = rm.enhancing[i] > 0;
      }
    }
  }
  const invert::Plans plans = invert::make_plans(core, brain, concentration, grid, margin_mm);
  nlohmann::json j = {{"standard_plan_voxels", plans.standard_voxels},
                      {"model_plan_voxels", plans.model_voxels},
                      {"standard_plan_cm3", static_cast<double>(plans.standard_voxels) * grid.voxel_volume_mm3() / 1000.0},
                      {"margin_mm", margin_mm},
                      {"tumor_core_voxels", core_voxels},
                      {"labels", conv.describe()},
                      {"definitions",
                       {{"standard", "tumor core grown by margin_mm (Euclidean, mm) inside the brain"},
                        {"model", "the standard plan's voxel count, highest concentration inside the brain; ties nearer the core, "
                                  "then by world position (x, y, z), so any voxel order gives the same plan"},
                        {"coverage", "fraction of the recurrence's voxels inside the plan; enhancing = the recurrence's "
                                     "enhancing labels (null for a binary mask)"}}}};
  if (rec_any) {
    auto enh = [&](const std::vector<uint8_t>& plan) { return rec_enh ? cov_json(invert::coverage(*rec_enh, plan)) : nlohmann::json(nullptr); };
    j["coverage"] = {{"standard", {{"any", cov_json(invert::coverage(*rec_any, plans.standard))}, {"enhancing", enh(plans.standard)}}},
                     {"model", {{"any", cov_json(invert::coverage(*rec_any, plans.model))}, {"enhancing", enh(plans.model)}}}};
  }
  std::vector<float> core_f(tumor.core.begin(), tumor.core.end());
  const auto com = core::centre_of_mass(core_f, grid);
  const std::array<int64_t, 3> centre{std::lround(com[0]), std::lround(com[1]), std::lround(com[2])};
  solver::write_nifti_labels(dir + "/standard_plan.nii.gz", grid, plans.standard, "tumorforge plan: standard");
  solver::write_nifti_labels(dir + "/model_plan.nii.gz", grid, plans.model, "tumorforge plan: model");
  core::write_png(dir + "/plan.png", invert::plan_figure(grid, brain, tumor, plans, rec_any ? &*rec_any : nullptr, centre, margin_mm));
  spdlog::info("standard plan {} voxels ({:.1f} cm3, core + {} mm), model plan {} voxels", plans.standard_voxels,
               j["standard_plan_cm3"].get<double>(), margin_mm, plans.model_voxels);
  if (j.contains("coverage")) spdlog::info("recurrence coverage: {}", j["coverage"].dump());
  return j;
}

}  // namespace tumorforge::cli
