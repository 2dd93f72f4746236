// `tumorforge invert`: one patient (or phantom) case from NIfTI files to personalized parameters and the full
// concentration: bring the target to the checkpoints' grid, estimate θ (hybrid by default), run the solver at
// θ̂ on the input grid, and write result.json, concentration.nii.gz, surrogate.nii.gz and slices.png.
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include "core/atomic_file.h"
#include "core/grid_ops.h"
#include "invert/figures.h"
#include "invert/inversion.h"
#include "invert/model_case.h"
#include "solver/nifti_io.h"
#include "core/provenance.h"
#include "solver/regrid.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/invert_options.h"
#include "tools/plan_output.h"
#include "models/field_metrics.h"
#include "core/timing.h"

namespace tumorforge::cli {
namespace {

struct InvertArgs {
  std::string surrogate, inverse, target, segmentation, out, device = "auto", theta0;
  std::string labels, core_labels, edema_labels;
  bool plan = false;  // also write the radiotherapy plans (plan/), as `tumorforge plan` would
  std::string recurrence, brain_mask;
  double margin_mm = 15.0;
  solver::TissueSource tissue;
  invert::InvertConfig cfg;
  bool resample = false;
  int threads = 0;
};

torch::Tensor as_tensor(const std::vector<float>& v) {
  return torch::from_blob(const_cast<float*>(v.data()), {static_cast<int64_t>(v.size())}, torch::kFloat32);
}

// Agreement of the final run with the target on the input grid, inside the solver's tissue.
nlohmann::json final_metrics(const invert::ModelCase& c, const core::Volume& target, const std::vector<float>& result,
                             double th_matter) {
  const auto mask_u8 = solver::matter_mask(*c.solver.tissue, th_matter);
  std::vector<float> mask(mask_u8.begin(), mask_u8.end());
  if (c.kind == invert::TargetKind::kConcentration) {
    models::FieldMetrics m = models::field_metrics(as_tensor(result), as_tensor(target.data), as_tensor(mask));
    return {{"ncc", m.ncc}, {"mse", m.mse}, {"mae", m.mae}, {"dice_033", m.dice}, {"region", "WM + GM >= th_matter"}};
  }
  return nlohmann::json::object();
}

nlohmann::json segmentation_metrics(const invert::TumorMasks& masks, const std::vector<float>& result,
                                    const invert::ObjectiveConfig& o) {
  // Dice of {c >= tau} against the 0/1 mask (>= tau too, as tau is in (0, 1]) over the whole grid.
  const torch::Tensor everywhere = torch::ones({static_cast<int64_t>(result.size())});
  auto dice = [&](const std::vector<float>& m, double tau) {
    return models::field_metrics(as_tensor(result), as_tensor(m), everywhere, tau).dice;
  };
  return {{"dice_core", dice(masks.core, o.tau_core)}, {"dice_visible_tumor", dice(masks.whole, o.tau_edema)}};
}

void run_invert(InvertArgs& a) {
  const auto t0 = core::Clock::now();
  if (a.target.empty() == a.segmentation.empty()) throw std::invalid_argument("give exactly one of --target or --segmentation");
  require_anatomy(a.tissue);
  finish_fit_options(a.cfg, a.theta0);
  a.cfg.threads = a.threads;
  if (a.threads > 0) torch::set_num_threads(a.threads);
  const bool want_plan = a.plan || !a.recurrence.empty();
  if (want_plan && a.segmentation.empty()) throw std::invalid_argument("--plan/--recurrence need a --segmentation target (its tumor core)");
  if (!(a.margin_mm > 0) || !std::isfinite(a.margin_mm)) throw std::invalid_argument("--margin-mm must be a positive number of mm");
  if (a.inverse.empty() && invert::method_needs_inverse(a.cfg.method))
    throw std::invalid_argument("--method " + a.cfg.method + " needs --inverse");

  // Everything that can be wrong with the inputs is checked before anything is written.
  const torch::Device dev = models::parse_device(a.device);
  invert::Networks nets = invert::load_networks(a.surrogate, a.inverse, dev);
  auto tissue = std::make_shared<const solver::TissueMaps>(solver::load_tissue(a.tissue));
  const std::string target_path = a.target.empty() ? a.segmentation : a.target;
  const auto kind = a.target.empty() ? invert::TargetKind::kSegmentation : invert::TargetKind::kConcentration;
  const core::Volume target = solver::read_nifti(target_path);
  if (!solver::same_grid(tissue->grid, target.grid)) {
    // An atlas for a patient: bring the anatomy onto the patient's grid; outputs stay on the patient's grid.
    const auto how = a.tissue.labels_path.empty() ? solver::Interpolation::kTrilinear : solver::Interpolation::kNearest;
    spdlog::info("tissue ({}, affine {}) resampled onto the target's grid ({}, affine {}) through both affines, {}",
                 tissue->grid.describe(), solver::describe_affine(tissue->grid.affine), target.grid.describe(),
                 solver::describe_affine(target.grid.affine), how == solver::Interpolation::kNearest ? "nearest (labels)" : "trilinear (fractions)");
    tissue = std::make_shared<const solver::TissueMaps>(solver::regrid_tissue(*tissue, target.grid, how, "tissue " + a.tissue.describe()));
  }
  const std::string flag = a.target.empty() ? "--segmentation " : "--target ";
  std::optional<invert::LabelConvention> conv;
  invert::TumorMasks masks;
  if (kind == invert::TargetKind::kSegmentation) {
    conv = invert::label_convention(a.labels, a.core_labels, a.edema_labels);
    masks = invert::tumor_masks(target, flag + target_path, *conv);
    spdlog::info("segmentation labels: {}", conv->describe());
  }
  std::optional<core::Volume> recurrence, brain_mask;
  if (!a.recurrence.empty()) {
    recurrence = solver::read_nifti(a.recurrence);
    if (!solver::same_grid(recurrence->grid, target.grid))
      throw std::invalid_argument("--recurrence " + a.recurrence + ": grid " + recurrence->grid.describe() +
                                  " differs from the segmentation's (" + target.grid.describe() + "); register it to the segmentation first");
  }
  if (!a.brain_mask.empty()) brain_mask = solver::regrid(solver::read_nifti(a.brain_mask), target.grid, solver::Interpolation::kNearest,
                                                          "--brain-mask " + a.brain_mask);
  invert::ModelCase c = invert::prepare_patient(tissue, target, kind, nets.spec, a.resample, flag + target_path,
                                                a.cfg.fit.objective.tau_core, a.cfg.fit.objective.tau_edema,
                                                conv ? &*conv : nullptr);
  spdlog::info("case: {} on {}, model cube {}^3 at {} mm (block {}x{}x{}), method {}{}", target_path, tissue->grid.describe(),
               c.solver.crop, nets.spec.spacing_mm[0], c.solver.factor[0], c.solver.factor[1], c.solver.factor[2],
               a.cfg.method, a.cfg.fit.origin == "fitted" ? "" : ", origin " + a.cfg.fit.origin);

  invert::Inversion inv = invert::invert_case(nets, c, a.cfg);
  for (const auto& [name, s] : inv.stages.items())
    spdlog::info("stage {:<16} loss {:.6g}  {:.2f} s{}", name, s.value("loss", NAN), s.value("seconds", NAN),
                 s.contains("iterations") ? fmt::format("  ({} iterations)", s["iterations"].get<int64_t>()) : "");

  const std::vector<float>& result = inv.final_run.concentration.data;
  nlohmann::json metrics = kind == invert::TargetKind::kConcentration
                               ? final_metrics(c, target, result, nets.spec.th_matter)
                               : segmentation_metrics(masks, result, a.cfg.fit.objective);
  const invert::Theta raw = nets.spec.denormalize(inv.theta);
  const auto& seed_mm = inv.final_run.seed_mm;
  const auto& A = tissue->grid.affine;
  std::array<double, 3> world{};
  for (size_t r = 0; r < 3; ++r) {
    world[r] = A[r][3];
    for (size_t k = 0; k < 3; ++k) world[r] += A[r][k] * static_cast<double>(inv.final_run.seed_voxel[k]);
  }
  nlohmann::json cfg_json = a.cfg;
  nlohmann::json result_json = {
      {"method", inv.method},
      {"chosen_stage", inv.chosen},
      {"theta_normalized", inv.theta},
      {"parameters",
       {{"seed_mm", seed_mm},
        {"seed_voxel", inv.final_run.seed_voxel},
        {"seed_world_mm", world},
        {"seed_offset_from_cube_centre_mm", {raw[0], raw[1], raw[2]}},
        {"mu_d_mm", raw[3]},
        {"mu_rho", raw[4]},
        {"dw_mm2_per_day", inv.final_run.dw_mm2_per_day},
        {"rho_per_day", inv.final_run.rho_per_day},
        {"stop_time_days", inv.final_run.stop_time_days},
        {"units", "seed_mm: mm from voxel (0,0,0)'s centre along the array axes; mu_d = sqrt(D_w T) in mm; "
                  "mu_rho = sqrt(rho T); D_w, rho at T = stop_time_days"}}},
      {"stages", inv.stages},
      {"final_run", inv.final_run.to_json()},
      {"final_run_vs_target", metrics},
      {"model_cube", {{"crop_origin_voxels", c.solver.crop_origin}, {"block_factor", c.solver.factor},
                      {"centre_of_mass_offset_mm", c.com_offset_mm}, {"spec", nets.spec.to_json()}}},
      {"device", dev.str()},
      {"threads", torch::get_num_threads()},
      {"wall_seconds_inversion", inv.seconds},
      {"wall_seconds_total", core::seconds_since(t0)},
      {"checkpoints", nets.files},
      {"target", target_path},
      {"anatomy", tissue->source},
      {"config", cfg_json},
      {"provenance", core::provenance([&] {
         auto files = a.tissue.input_files();
         files.push_back(target_path);
         return files;
       }())}};

  core::StagedDir out_dir(a.out);
  const std::string staging = out_dir.path();
  {
    core::Volume surrogate(tissue->grid);
    surrogate.data = c.solver.from_cube(inv.surrogate);
    solver::write_nifti(staging + "/concentration.nii.gz", inv.final_run.concentration, "tumorforge invert: final FK run");
    solver::write_nifti(staging + "/surrogate.nii.gz", surrogate, "tumorforge invert: surrogate at theta");
    std::vector<float> target_rows = target.data;
    if (kind == invert::TargetKind::kSegmentation)  // core bright, edema dim
      for (size_t i = 0; i < target_rows.size(); ++i) target_rows[i] = masks.core[i] > 0 ? 0.8f : masks.whole[i] > 0 ? 0.4f : 0.0f;
    const auto com = core::centre_of_mass(result, tissue->grid);
    const std::array<int64_t, 3> centre{std::lround(com[0]), std::lround(com[1]), std::lround(com[2])};
    core::write_png(staging + "/slices.png",
                      invert::slice_figure(*tissue, {{&target_rows, "TARGET"}, {&result, "FINAL RUN"}, {&surrogate.data, "SURROGATE"}}, centre));
    result_json["figure"] = {{"file", "slices.png"},
                             {"rows", {"target", "final solver run", "surrogate at theta"}},
                             {"columns", {"axial (z)", "coronal (y)", "sagittal (x)"}},
                             {"through_voxel", centre}};
    if (want_plan) {
      std::filesystem::create_directories(staging + "/plan");
      std::vector<uint8_t> brain = brain_mask ? std::vector<uint8_t>(brain_mask->data.size()) : brain_from_tissue(*tissue);
      if (brain_mask)
        for (size_t i = 0; i < brain.size(); ++i) brain[i] = brain_mask->data[i] > 0.5f;
      nlohmann::json pj = write_plan_files(staging + "/plan", target.grid, masks, *conv, result, brain,
                                           recurrence ? &*recurrence : nullptr, a.margin_mm);
      pj["inputs"] = {{"concentration", "../concentration.nii.gz"}, {"segmentation", target_path},
                      {"brain", a.brain_mask.empty() ? a.tissue.describe() : a.brain_mask},
                      {"recurrence", a.recurrence.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.recurrence)}};
      write_json(staging + "/plan/plan.json", pj);
      result_json["plan"] = pj;
    }
    write_json(staging + "/result.json", result_json);
    out_dir.commit();
  }
  spdlog::info("mu_D {:.3f} mm, mu_rho {:.3f} (D_w {:.4g} mm2/day, rho {:.4g}/day at T = {} days), seed voxel ({}, {}, {})",
               raw[3], raw[4], inv.final_run.dw_mm2_per_day, inv.final_run.rho_per_day, inv.final_run.stop_time_days,
               inv.final_run.seed_voxel[0], inv.final_run.seed_voxel[1], inv.final_run.seed_voxel[2]);
  spdlog::info("final solver run vs target: {}", metrics.dump());
  spdlog::info("wrote {}/result.json, concentration.nii.gz, surrogate.nii.gz, slices.png ({:.1f} s)", a.out,
               result_json["wall_seconds_total"].get<double>());
}

}  // namespace

void register_invert(CLI::App& app) {
  auto a = std::make_shared<InvertArgs>();
  CLI::App* cmd = app.add_subcommand(
      "invert",
      "Personalize the FK model to one tumor: estimate the seed and mu_D = sqrt(D_w T), mu_rho = sqrt(rho T)\n"
      "from a concentration map or a BraTS segmentation, then run the solver there. Methods: direct (inverse\n"
      "net), gb (L-BFGS through the frozen surrogate), hybrid (the default: gb from the direct guess; direct's\n"
      "and gb's estimates each go through the solver polish and the closer final run is kept), cmaes-surrogate,\n"
      "cmaes-solver. Every method ends with a local search with the solver (--polish-runs). By default\n"
      "each estimate is tried with its fitted seed and with the seed at the target's centre of mass, and the\n"
      "solver decides (--origin auto). The shipped checkpoints were trained on the 2 mm atlas and the phantom\n"
      "(4 mm, 32^3 cubes); give 2 mm or 4 mm inputs (--resample block-averages 2 mm to 4 mm). Example:\n"
      "  tumorforge invert --target c.nii.gz --wm wm.nii.gz --gm gm.nii.gz --csf csf.nii.gz --resample --out runs/case1\n"
      "Writes result.json, concentration.nii.gz (final solver run), surrogate.nii.gz and slices.png.");
  cmd->add_option("--config", "read options from this TOML/INI file: `key = value` lines, keys = flag names");
  add_checkpoint_options(cmd, a->surrogate, a->inverse);
  auto* tg = cmd->add_option_group("target", "exactly one of these");
  tg->add_option("--target", a->target, "tumor-cell concentration in [0, 1] (NIfTI)");
  tg->add_option("--segmentation", a->segmentation, "tumor label map (NIfTI) read by --labels");
  auto* lg = cmd->add_option_group("labels", "how --segmentation labels are read (required with it)");
  lg->add_option("--labels", a->labels, "brats2021 (1 NCR, 2 ED, 4 ET) | brats2023 (1 NCR, 2 ED, 3 ET) | gliodil\n"
                 "(1 ET, 3 ED, 4 NCR; also the BraTS toolkit's)");
  lg->add_option("--core-labels", a->core_labels, "instead of --labels: tumor-core labels, e.g. 1,4");
  lg->add_option("--edema-labels", a->edema_labels, "instead of --labels: edema labels, e.g. 3");
  add_anatomy_options(cmd, a->tissue);
  cmd->add_option("--out", a->out, "output directory")->required();
  auto* pg = cmd->add_option_group("plan", "radiotherapy plans from the result (segmentation targets; see `tumorforge plan`)");
  pg->add_flag("--plan", a->plan, "also write OUT/plan/: standard and model plans, plan.png, plan.json");
  pg->add_option("--recurrence", a->recurrence, "follow-up recurrence (implies --plan): coverage of each plan");
  pg->add_option("--brain-mask", a->brain_mask, "brain mask for the plans (default: the tissue, WM + GM + CSF >= 0.5)");
  pg->add_option("--margin-mm", a->margin_mm, "standard plan margin around the tumor core, mm")->capture_default_str();
  cmd->add_option("--method", a->cfg.method, "direct | gb | hybrid | cmaes-surrogate | cmaes-solver")->capture_default_str();
  add_fit_options(cmd, a->cfg, a->theta0);
  cmd->add_flag("--resample", a->resample, "block-average inputs whose spacing divides the checkpoints' (e.g. 2 mm -> 4 mm)");
  cmd->add_option("--device", a->device, "cpu | cuda | auto")->capture_default_str();
  cmd->add_option("--threads", a->threads, "CPU threads for the networks and the solver (0: all cores)")->capture_default_str();
  cmd->callback([a] { run_invert(*a); });
}

}  // namespace tumorforge::cli
