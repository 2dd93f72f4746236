// `tumorforge plan`: radiotherapy target volumes from a segmentation and a tumor-cell concentration (a final
// solver run of `invert`), the PredictGBM way — the standard plan (tumor core + margin inside the brain) and the
// model plan (as many voxels, by concentration) — and, with a follow-up, the recurrence each plan covers.
// Writes standard_plan.nii.gz, model_plan.nii.gz (uint8, the segmentation's grid and affine), plan.png and
// plan.json, staged under a temp name and moved into --out.
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <optional>

#include "core/atomic_file.h"
#include "core/grid_ops.h"
#include "invert/labels.h"
#include "invert/plan.h"
#include "invert/plan_figure.h"
#include "solver/nifti_io.h"
#include "core/provenance.h"
#include "solver/regrid.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/invert_options.h"
#include "tools/plan_output.h"

namespace tumorforge::cli {
namespace {

struct PlanArgs {
  std::string concentration, segmentation, labels, core_labels, edema_labels, brain_mask, recurrence, out;
  solver::TissueSource tissue;
  double margin_mm = 15.0;
};

// `v` on `grid`: as is when the grids match, else resampled through both affines (with a log line).
core::Volume on_grid(const core::Volume& v, const core::Grid& grid, solver::Interpolation how, const std::string& what) {
  if (solver::same_grid(v.grid, grid)) return v;
  spdlog::info("{} ({}) resampled onto the segmentation's grid ({}) through both affines", what, v.grid.describe(), grid.describe());
  return solver::regrid(v, grid, how, what);
}

std::vector<uint8_t> brain_of(const PlanArgs& a, const core::Grid& grid) {
  std::vector<uint8_t> brain(static_cast<size_t>(grid.num_voxels()), 0);
  if (!a.brain_mask.empty()) {
    const core::Volume m = on_grid(solver::read_nifti(a.brain_mask), grid, solver::Interpolation::kNearest, "--brain-mask " + a.brain_mask);
    for (size_t i = 0; i < brain.size(); ++i) brain[i] = m.data[i] > 0.5f;
  } else {
    require_anatomy(a.tissue);
    const auto how = a.tissue.labels_path.empty() ? solver::Interpolation::kTrilinear : solver::Interpolation::kNearest;
    solver::TissueMaps t = solver::load_tissue(a.tissue);
    if (!solver::same_grid(t.grid, grid)) t = solver::regrid_tissue(t, grid, how, "tissue " + a.tissue.describe());
    brain = brain_from_tissue(t);
  }
  return brain;
}


void run_plan(const PlanArgs& a) {
  if (!(a.margin_mm > 0) || !std::isfinite(a.margin_mm)) throw std::invalid_argument("--margin-mm must be a positive number of mm");
  if (!a.brain_mask.empty() && (!a.tissue.labels_path.empty() || !a.tissue.wm_path.empty() || a.tissue.phantom_size > 0))
    throw std::invalid_argument("give the brain as --brain-mask or as tissue (--tissue-labels, --wm/--gm/--csf), not both");
  const invert::LabelConvention conv = invert::label_convention(a.labels, a.core_labels, a.edema_labels);
  const core::Volume seg = solver::read_nifti(a.segmentation);
  const core::Grid& grid = seg.grid;
  const invert::TumorMasks tumor = invert::tumor_masks(seg, "--segmentation " + a.segmentation, conv);
  core::Volume conc = on_grid(solver::read_nifti(a.concentration), grid, solver::Interpolation::kTrilinear,
                                "--concentration " + a.concentration);
  for (size_t i = 0; i < conc.data.size(); ++i)
    if (!std::isfinite(conc.data[i]) || conc.data[i] < -1e-4f || conc.data[i] > 1 + 1e-4f)
      throw std::invalid_argument("--concentration " + a.concentration + ": value " + std::to_string(conc.data[i]) +
                                  " at " + grid.voxel_name(static_cast<int64_t>(i)) + " is outside [0, 1]");
  const std::vector<uint8_t> brain = brain_of(a, grid);
  std::optional<core::Volume> rec;
  if (!a.recurrence.empty()) {
    // A follow-up is registered to the pre-operative scan before it is compared: another grid means it was not.
    rec = solver::read_nifti(a.recurrence);
    if (!solver::same_grid(rec->grid, grid))
      throw std::invalid_argument("--recurrence " + a.recurrence + ": grid " + rec->grid.describe() + ", affine " +
                                  solver::describe_affine(rec->grid.affine) + " differs from the segmentation's (" + grid.describe() +
                                  ", affine " + solver::describe_affine(grid.affine) + "); register it to the segmentation first");
  }
  std::vector<std::string> files{a.concentration, a.segmentation};
  for (const auto& f : {a.brain_mask, a.recurrence})
    if (!f.empty()) files.push_back(f);
  core::StagedDir out_dir(a.out);
  const std::string staging = out_dir.path();
  {
    nlohmann::json j = write_plan_files(staging, grid, tumor, conv, conc.data, brain, rec ? &*rec : nullptr, a.margin_mm);
    j["inputs"] = {{"concentration", a.concentration}, {"segmentation", a.segmentation},
                   {"brain", a.brain_mask.empty() ? a.tissue.describe() : a.brain_mask},
                   {"recurrence", a.recurrence.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.recurrence)}};
    j["provenance"] = core::provenance(files);
    write_json(staging + "/plan.json", j);
    out_dir.commit();
  }
  spdlog::info("wrote {}/standard_plan.nii.gz, model_plan.nii.gz, plan.png, plan.json", a.out);
}

}  // namespace

void register_plan(CLI::App& app) {
  auto a = std::make_shared<PlanArgs>();
  CLI::App* cmd = app.add_subcommand(
      "plan",
      "Radiotherapy target volumes (PredictGBM definitions): the standard plan is the tumor core (necrotic +\n"
      "enhancing) grown by --margin-mm (Euclidean, in mm) inside the brain; the model plan takes as many voxels,\n"
      "those of highest concentration inside the brain. With --recurrence, the fraction of the follow-up\n"
      "recurrence each plan covers. Example, after `tumorforge invert ... --out runs/p1`:\n"
      "  tumorforge plan --concentration runs/p1/concentration.nii.gz --segmentation seg.nii.gz --labels gliodil \\\n"
      "      --brain-mask brain.nii.gz --recurrence rec.nii.gz --out runs/p1/plan\n"
      "Writes standard_plan.nii.gz, model_plan.nii.gz (uint8, the segmentation's grid), plan.png, plan.json.");
  cmd->add_option("--concentration", a->concentration, "tumor-cell concentration in [0, 1] (NIfTI; other grids are resampled)")->required();
  cmd->add_option("--segmentation", a->segmentation, "tumor label map (NIfTI): defines the output grid")->required();
  cmd->add_option("--labels", a->labels, "brats2021 (1 NCR, 2 ED, 4 ET) | brats2023 (1 NCR, 2 ED, 3 ET) | gliodil (1 ET, 3 ED, 4 NCR)");
  cmd->add_option("--core-labels", a->core_labels, "instead of --labels: tumor-core labels, e.g. 1,4");
  cmd->add_option("--edema-labels", a->edema_labels, "instead of --labels: edema labels, e.g. 3");
  cmd->add_option("--brain-mask", a->brain_mask, "brain mask (NIfTI, > 0.5 = brain); or give the tissue below");
  add_anatomy_options(cmd, a->tissue);
  cmd->add_option("--recurrence", a->recurrence, "follow-up recurrence: a binary mask, or a label map read by --labels");
  cmd->add_option("--margin-mm", a->margin_mm, "clinical target margin around the tumor core, mm")->capture_default_str();
  cmd->add_option("--out", a->out, "output directory")->required();
  cmd->callback([a] { run_plan(*a); });
}

}  // namespace tumorforge::cli
