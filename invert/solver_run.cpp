// Solver runs at estimated parameters (see solver_run.h).
#include "invert/solver_run.h"
#include "core/timing.h"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <chrono>
#include <cmath>
#include <limits>

namespace tumorforge::invert {
namespace {

// The nearest voxel with WM + GM >= th_matter to `v` (the solver cannot seed elsewhere), searching
// growing shells; the grid is small enough that this is cheap next to a run.
std::array<int64_t, 3> nearest_matter_voxel(const solver::TissueMaps& t, std::array<int64_t, 3> v, double th) {
  const auto& g = t.grid;
  auto is_matter = [&](int64_t i, int64_t j, int64_t k) {
    const size_t n = static_cast<size_t>(g.index(i, j, k));
    return t.wm[n] + t.gm[n] >= th;
  };
  if (is_matter(v[0], v[1], v[2])) return v;
  const int64_t rmax = std::max({g.dims[0], g.dims[1], g.dims[2]});
  for (int64_t r = 1; r < rmax; ++r) {
    double best = std::numeric_limits<double>::infinity();
    std::array<int64_t, 3> found{-1, -1, -1};
    for (int64_t k = v[2] - r; k <= v[2] + r; ++k)
      for (int64_t j = v[1] - r; j <= v[1] + r; ++j)
        for (int64_t i = v[0] - r; i <= v[0] + r; ++i) {
          if (std::max({std::abs(i - v[0]), std::abs(j - v[1]), std::abs(k - v[2])}) != r) continue;  // shell only
          if (!g.contains(i, j, k) || !is_matter(i, j, k)) continue;
          const double dx = (i - v[0]) * g.spacing_mm[0], dy = (j - v[1]) * g.spacing_mm[1], dz = (k - v[2]) * g.spacing_mm[2];
          const double d2 = dx * dx + dy * dy + dz * dz;
          if (d2 < best) {
            best = d2;
            found = {i, j, k};
          }
        }
    if (found[0] >= 0) return found;
  }
  throw std::runtime_error("the anatomy has no voxel with WM + GM >= " + std::to_string(th) + " to seed a tumor");
}

}  // namespace

nlohmann::json SolverRun::to_json() const {
  return {{"seed_mm", seed_mm},
          {"seed_voxel", seed_voxel},
          {"seed_moved_to_matter_mm", seed_moved_mm},
          {"dw_mm2_per_day", dw_mm2_per_day},
          {"rho_per_day", rho_per_day},
          {"stop_time_days", stop_time_days},
          {"steps", steps},
          {"seconds", seconds}};
}

SolverRun run_solver(const SolverContext& ctx, const ModelSpec& spec, const Theta& normalized, int threads) {
  const auto t0 = core::Clock::now();
  const Theta raw = spec.denormalize(normalized);
  const auto centre = ctx.crop_centre_mm();
  const core::Grid& g = ctx.fine.grid;
  SolverRun r;
  std::array<int64_t, 3> v{};
  for (size_t k = 0; k < 3; ++k) {
    const double mm = centre[k] + raw[k];
    v[k] = std::clamp<int64_t>(std::llround((mm - ctx.fine.origin_mm[k]) / g.spacing_mm[k]), 0, g.dims[k] - 1);
    r.seed_mm[k] = mm;
  }
  r.seed_voxel = nearest_matter_voxel(*ctx.tissue, v, spec.th_matter);
  if (r.seed_voxel != v) {  // θ's seed is off tissue: seed at the centre of the nearest tissue voxel instead
    double moved2 = 0;
    for (size_t k = 0; k < 3; ++k) {
      const double snapped = ctx.fine.origin_mm[k] + static_cast<double>(r.seed_voxel[k]) * g.spacing_mm[k];
      moved2 += (snapped - r.seed_mm[k]) * (snapped - r.seed_mm[k]);
      r.seed_mm[k] = snapped;
    }
    r.seed_moved_mm = std::sqrt(moved2);
  }

  solver::FkParams p;
  p.dw_mm2_per_day = std::max(spec.dw_mm2_per_day(raw), 1e-9);
  p.rho_per_day = std::max(spec.rho_per_day(raw), 1e-9);
  p.stop_time_days = spec.stop_time_days;
  p.ratio_dw_dg = spec.ratio_dw_dg;
  p.th_matter = spec.th_matter;
  p.monotone_dt = spec.monotone_dt;
  for (size_t k = 0; k < 3; ++k) p.seed_mm[k] = r.seed_mm[k] - ctx.fine.origin_mm[k];
  solver::SolverOptions opt;
  opt.threads = threads;
  solver::FkResult fk = solver::simulate(*ctx.tissue, p, opt);
  r.concentration = std::move(fk.concentration);
  r.dw_mm2_per_day = p.dw_mm2_per_day;
  r.rho_per_day = p.rho_per_day;
  r.stop_time_days = p.stop_time_days;
  r.steps = fk.steps;
  r.seconds = core::seconds_since(t0);
  return r;
}

torch::Tensor brain_mask(const ModelCase& c, const ModelSpec& spec) {
  return models::brain_mask(c.tissue, spec.mask_threshold).to(torch::kFloat32);
}

double solver_loss(const SolverRun& run, const ModelCase& c, const ModelSpec& spec, const ObjectiveConfig& cfg) {
  torch::NoGradGuard no_grad;
  if (c.full) {
    const WholeGrid& f = *c.full;
    return field_loss(flat_tensor(run.concentration.data), c.kind, f.target, f.core, f.whole, f.brain, cfg).item<double>();
  }
  return case_loss(c.solver.to_cube(run.concentration.data), c, brain_mask(c, spec), cfg).item<double>();
}

BatchLoss solver_batch_loss(const ModelCase& c, const ModelSpec& spec, const ObjectiveConfig& cfg, int threads) {
  return [&c, &spec, cfg, threads](const std::vector<Theta>& thetas) {
    std::vector<double> out(thetas.size());
    tbb::task_arena arena(threads > 0 ? threads : tbb::task_arena::automatic);
    arena.execute([&] {
      tbb::parallel_for(size_t{0}, thetas.size(), [&](size_t i) {
        out[i] = solver_loss(run_solver(c.solver, spec, thetas[i], 1), c, spec, cfg);
      });
    });
    return out;
  };
}

}  // namespace tumorforge::invert
