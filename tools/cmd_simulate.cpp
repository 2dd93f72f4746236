// `tumorforge simulate`: one FK run on a tissue map (atlas labels, fraction maps or the phantom), writing the
// final concentration as NIfTI and a JSON summary with the run's statistics, full configuration and provenance.
#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <optional>

#include "solver/fk_solver.h"
#include "solver/nifti_io.h"
#include "core/provenance.h"
#include "tools/cli_util.h"
#include "tools/commands.h"

namespace tumorforge::cli {
namespace {

struct SimulateArgs {
  solver::TissueSource tissue;
  solver::FkParams params;
  std::string seed_voxel, seed_mm;
  double stop_volume = 0;  // 0: not given
  bool reference_dt = false;
  int threads = 0;
  std::string out, summary;
};

std::string default_summary_path(const std::string& out) {
  for (const char* ext : {".nii.gz", ".nii"}) {
    std::string e(ext);
    if (out.size() > e.size() && out.compare(out.size() - e.size(), e.size(), e) == 0)
      return out.substr(0, out.size() - e.size()) + ".json";
  }
  return out + ".json";
}

void run_simulate(SimulateArgs& a) {
  if (a.out.size() < 5 || (a.out.rfind(".nii") != a.out.size() - 4 && a.out.rfind(".nii.gz") != a.out.size() - 7))
    throw std::invalid_argument("--out '" + a.out + "': must end in .nii or .nii.gz");
  if (a.summary.empty()) a.summary = default_summary_path(a.out);
  if (a.seed_voxel.empty() == a.seed_mm.empty())
    throw std::invalid_argument("give exactly one of --seed-voxel i,j,k or --seed-mm x,y,z");
  require_anatomy(a.tissue);

  solver::TissueMaps tissue = solver::load_tissue(a.tissue);
  solver::FkParams& p = a.params;
  if (a.stop_volume > 0) p.stop_volume_mm3 = a.stop_volume;
  p.monotone_dt = !a.reference_dt;
  if (!a.seed_voxel.empty()) {
    auto v = parse_int_triple(a.seed_voxel, "--seed-voxel");
    if (!tissue.grid.contains(v[0], v[1], v[2]))
      throw std::invalid_argument("--seed-voxel " + a.seed_voxel + " is outside the grid " + tissue.grid.describe());
    p.seed_mm = solver::mm_of_voxel(tissue.grid, v);
  } else {
    p.seed_mm = parse_triple(a.seed_mm, "--seed-mm");
  }
  p.validate();
  solver::plan_time_step(p, tissue.grid.spacing_mm);  // reject absurd step counts before any work
  auto seed_voxel = solver::voxel_of_mm(tissue.grid, p.seed_mm);
  spdlog::info("anatomy {} ({}), seed voxel ({}, {}, {}), D_w {} mm2/day, rho {} /day, T {} days{}", tissue.source,
               tissue.grid.describe(), seed_voxel[0], seed_voxel[1], seed_voxel[2], p.dw_mm2_per_day, p.rho_per_day,
               p.stop_time_days, p.stop_volume_mm3 ? fmt::format(", stop volume {} mm3", *p.stop_volume_mm3) : "");

  ProgressBar bar("simulate");
  solver::SolverOptions opt;
  opt.threads = a.threads;
  opt.on_step = [&](const solver::StepInfo& s) {
    double frac = static_cast<double>(s.step) / static_cast<double>(s.max_steps);
    if (p.stop_volume_mm3) frac = std::max(frac, s.volume_mm3 / *p.stop_volume_mm3);
    bar.update(frac, fmt::format("step {}/{} t={:.1f}d V={:.0f}mm3", s.step, s.max_steps, s.time_days, s.volume_mm3));
  };
  solver::FkResult r = solver::simulate(tissue, p, opt);
  bar.finish();

  solver::write_nifti(a.out, r.concentration, "tumorforge FK concentration");
  nlohmann::json summary = {
      {"steps", r.steps},
      {"dt_days", r.dt_days},
      {"dt_rule", r.dt_rule},
      {"final_time_days", r.final_time_days},
      {"initial_volume_mm3", r.initial_volume_mm3},
      {"final_volume_mm3", r.final_volume_mm3},
      {"stop_reason", solver::to_string(r.stop_reason)},
      {"wall_seconds", r.wall_seconds},
      {"min_c", r.min_c},
      {"max_c", r.max_c},
      {"threads", a.threads},
      {"seed_voxel", seed_voxel},
      {"grid", {{"dims", tissue.grid.dims}, {"spacing_mm", tissue.grid.spacing_mm}, {"work_box", r.work_box_dims}}},
      {"output", a.out},
      {"config", {{"tissue", a.tissue.describe()}, {"solver", p}}},
      {"provenance", core::provenance(a.tissue.input_files())}};
  write_json(a.summary, summary);
  spdlog::info("{} steps of {:.4g} days, stopped by {} at t = {:.2f} days, tumor volume {:.0f} mm3, {:.2f} s",
               r.steps, r.dt_days, solver::to_string(r.stop_reason), r.final_time_days, r.final_volume_mm3,
               r.wall_seconds);
  spdlog::info("wrote {} and {}", a.out, a.summary);
}

}  // namespace

void register_simulate(CLI::App& app) {
  auto a = std::make_shared<SimulateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Run the Fisher-Kolmogorov model dc/dt = div(D grad c) + rho c (1 - c) from a seed until --stop-time\n"
      "or, earlier, until the tumor volume reaches --stop-volume. Example on the built-in phantom:\n"
      "  tumorforge simulate --phantom 96 --seed-voxel 60,48,48 --dw 0.5 --rho 0.2 --out runs/c.nii.gz\n"
      "Every flag can also come from --config FILE (TOML/INI, the same names without dashes).");
  cmd->add_option("--config", "read options from this TOML/INI file: `key = value` lines, keys = flag names");
  add_anatomy_options(cmd, a->tissue);

  cmd->add_option("--dw", a->params.dw_mm2_per_day, "white-matter diffusivity D_w, mm^2/day")
      ->check(positive_finite())->capture_default_str();
  cmd->add_option("--rho", a->params.rho_per_day, "proliferation rate rho, 1/day")->check(positive_finite())->capture_default_str();
  cmd->add_option("--ratio-dw-dg", a->params.ratio_dw_dg, "D_w / D_g (gray matter diffuses this much slower)")
      ->check(positive_finite())->capture_default_str();
  cmd->add_option("--th-matter", a->params.th_matter, "voxels with WM+GM below this carry no tumor")
      ->check(positive_finite())->capture_default_str();
  cmd->add_option("--seed-voxel", a->seed_voxel, "tumor origin as voxel index i,j,k");
  cmd->add_option("--seed-mm", a->seed_mm, "tumor origin in mm from voxel (0,0,0)'s centre along the array axes x,y,z");
  cmd->add_option("--stop-time", a->params.stop_time_days, "stopping time T, days (also sets dt)")
      ->check(positive_finite())->capture_default_str();
  cmd->add_option("--stop-volume", a->stop_volume, "stop once the tumor volume (mm^3, = voxel volume x sum c) reaches this")
      ->check(positive_finite());
  cmd->add_flag("--reference-dt", a->reference_dt,
                "use the reference time-step rule even where it lets c overshoot 1 (default: shorten dt there)");
  cmd->add_option("--threads", a->threads, "worker threads (0 = all cores)")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--out", a->out, "final concentration, float32 NIfTI (.nii or .nii.gz)")->required();
  cmd->add_option("--summary", a->summary, "run summary JSON (default: --out with .json)");
  cmd->callback([a] { run_simulate(*a); });
}

}  // namespace tumorforge::cli
