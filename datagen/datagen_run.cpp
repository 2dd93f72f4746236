// The per-sample pipeline and the sharded run loop (see datagen_run.h).
#include "datagen/datagen_run.h"

#include <signal.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/timing.h"
#include "solver/fk_solver.h"

namespace fs = std::filesystem;

namespace tumorforge::datagen {
using core::Clock;
using core::seconds_since;

Shard parse_shard(const std::string& text) {
  Shard s;
  auto slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("");
    size_t used = 0;
    s.index = std::stoll(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument("");
    s.count = std::stoll(text.substr(slash + 1), &used);
    if (used != text.size() - slash - 1) throw std::invalid_argument("");
  } catch (const std::exception&) {
    throw std::invalid_argument("--shard '" + text + "': expected K/N, e.g. 3/16");
  }
  if (s.count < 1 || s.index < 0 || s.index >= s.count)
    throw std::invalid_argument("--shard '" + text + "': need 0 <= K < N");
  return s;
}

Shard shard_from_environment() {
  const char* id = std::getenv("SLURM_ARRAY_TASK_ID");
  const char* count = std::getenv("SLURM_ARRAY_TASK_COUNT");
  if (!id || !count) return {};
  return parse_shard(std::string(id) + "/" + count);
}

nlohmann::json RunSummary::to_json() const {
  return {{"todo", todo},          {"done", done},   {"failed", failed}, {"skipped_already_done", skipped},
          {"wall_seconds", wall_seconds}, {"solve_seconds", solve_seconds}, {"crop_seconds", crop_seconds},
          {"write_seconds", write_seconds}};
}

namespace {

solver::FkParams fk_params_of(const DatagenConfig& cfg, const core::GridLevel& sim, const SampledParams& sp) {
  const auto& d = sim.grid.dims;
  const std::array<int64_t, 3> v{sp.seed_voxel_linear % d[0], (sp.seed_voxel_linear / d[0]) % d[1], sp.seed_voxel_linear / (d[0] * d[1])};
  solver::FkParams p;
  p.dw_mm2_per_day = sp.dw_mm2_per_day;
  p.rho_per_day = sp.rho_per_day;
  p.stop_time_days = sp.stop_time_days;
  p.stop_volume_mm3 = sp.stop_volume_mm3;
  p.ratio_dw_dg = cfg.ratio_dw_dg;
  p.th_matter = cfg.th_matter;
  p.monotone_dt = cfg.monotone_dt;
  p.seed_mm = solver::mm_of_voxel(sim.grid, v);
  return p;
}

}  // namespace

solver::FkParams sample_fk_params(const DatasetStore& store, int64_t i) {
  const core::GridLevel& sim = store.sim_level();
  const auto p = store.array("params").read<double>({i, 0}, {1, 6});
  std::array<int64_t, 3> v{};
  for (size_t k = 0; k < 3; ++k) {
    v[k] = std::llround((p[k] - sim.origin_mm[k]) / sim.grid.spacing_mm[k]);
    if (v[k] < 0 || v[k] >= sim.grid.dims[k])
      throw std::invalid_argument(store.path() + ": sample " + std::to_string(i) + " has its seed outside the simulation grid");
  }
  const int64_t linear = v[0] + sim.grid.dims[0] * (v[1] + sim.grid.dims[1] * v[2]);
  // A one-voxel candidate list: every other quantity comes from its own counter stream, unchanged.
  const auto& cfg = store.config();
  return fk_params_of(cfg, sim, sample_params(cfg.ranges, cfg.rng_seed, static_cast<uint64_t>(i), {linear}));
}

solver::FkResult simulate_sample(const DatagenConfig& cfg, const solver::TissueMaps& tissue, solver::FkParams p,
                                 const solver::SolverOptions& opt) {
  solver::FkResult fk = solver::simulate(tissue, p, opt);
  if (cfg.rerun_at_stop_time && fk.stop_reason == solver::StopReason::kVolume) {
    // The volume chose T; the field stored is the time-stopped run to T, whose dt is planned for T
    // (DatagenConfig::rerun_at_stop_time says why). Its volume differs a little from the target.
    const double first_wall = fk.wall_seconds;
    p.stop_time_days = fk.final_time_days;
    p.stop_volume_mm3.reset();
    fk = solver::simulate(tissue, p, opt);
    fk.stop_reason = solver::StopReason::kVolume;  // stats: T was set by the volume
    fk.wall_seconds += first_wall;
  }
  return fk;
}

SampleRecord compute_sample(const DatasetStore& store, const solver::TissueMaps& tissue, const std::vector<int64_t>& seeds,
                            int64_t i, double* solve_s, double* crop_s) {
  const DatagenConfig& cfg = store.config();
  const core::GridLevel& sim = store.sim_level();
  const SampledParams sp = sample_params(cfg.ranges, cfg.rng_seed, static_cast<uint64_t>(i), seeds);
  const auto& d = sim.grid.dims;
  const std::array<int64_t, 3> v{sp.seed_voxel_linear % d[0], (sp.seed_voxel_linear / d[0]) % d[1], sp.seed_voxel_linear / (d[0] * d[1])};
  const auto seed_atlas_mm = sim.voxel_mm({double(v[0]), double(v[1]), double(v[2])});

  SampleRecord r;
  r.params = {seed_atlas_mm[0], seed_atlas_mm[1], seed_atlas_mm[2], sp.dw_mm2_per_day, sp.rho_per_day, NAN};
  r.theta.fill(NAN);
  r.stats.fill(NAN);
  r.stats[kTargetVolume] = sp.stop_volume_mm3 ? *sp.stop_volume_mm3 : NAN;
  auto t0 = Clock::now();
  try {
    solver::SolverOptions opt;
    opt.threads = 1;  // parallelism comes from running samples side by side
    const solver::FkResult fk = simulate_sample(cfg, tissue, fk_params_of(cfg, sim, sp), opt);
    *solve_s += seconds_since(t0);
    r.stats[kSteps] = static_cast<double>(fk.steps);
    r.stats[kWallSeconds] = fk.wall_seconds;
    r.stats[kFinalVolume] = fk.final_volume_mm3;
    r.stats[kStopReason] = fk.stop_reason == solver::StopReason::kTime ? 1 : 2;
    r.stats[kDtDays] = fk.dt_days;
    r.params[5] = fk.final_time_days;
    if (!std::isfinite(fk.final_volume_mm3) || fk.min_c < 0.0f || fk.max_c > 1.0f)
      throw std::runtime_error("concentration left [0, 1] or became non-finite");

    auto t1 = Clock::now();
    const core::GridLevel& st = store.store_level();
    // Same grid for simulation and storage (the common case): crop straight from the solver's field, no copy.
    const bool coarsen = store.store_factor() != std::array<int64_t, 3>{1, 1, 1};
    std::vector<float> coarse;
    if (coarsen) coarse = core::block_average(fk.concentration.data, sim.grid, store.store_factor(), st.grid);
    const std::vector<float>& stored = coarsen ? coarse : fk.concentration.data;
    const auto com = core::centre_of_mass(stored, st.grid);
    const auto origin = core::crop_origin_for(com, cfg.crop);
    r.concentration = core::crop_cube(stored, st.grid, origin, cfg.crop);
    r.crop_origin = {static_cast<int32_t>(origin[0]), static_cast<int32_t>(origin[1]), static_cast<int32_t>(origin[2])};
    const double half = 0.5 * static_cast<double>(cfg.crop - 1);
    const auto centre_mm = st.voxel_mm({origin[0] + half, origin[1] + half, origin[2] + half});
    const double T = fk.final_time_days;
    const Theta th = theta_of(seed_atlas_mm, centre_mm, sp.dw_mm2_per_day, sp.rho_per_day, T);
    for (size_t k = 0; k < kThetaSize; ++k) r.theta[k] = static_cast<float>(th[k]);
    *crop_s += seconds_since(t1);
  } catch (const std::exception& e) {
    r.failure = e.what();
    r.concentration.clear();
    r.crop_origin = {-1, -1, -1};
    r.stats[kStopReason] = 0;
  }
  return r;
}

int64_t remove_stale_temp_files(const std::string& store_path) {
  const std::string prefix = ".tmp-" + core::host_tag() + "-";
  int64_t removed = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(store_path, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    pid_t pid = static_cast<pid_t>(std::atoll(name.c_str() + prefix.size()));
    if (pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM)) continue;  // its writer is alive
    fs::remove(it->path(), ec);
    ++removed;
  }
  return removed;
}

RunSummary run_shard(const DatasetStore& store, const RunOptions& opt) {
  auto t0 = Clock::now();
  RunSummary sum;
  const solver::TissueMaps tissue = store.sim_tissue(0);
  const std::vector<int64_t> seeds = seed_candidates(tissue, store.config().seed_min_matter);
  const std::vector<uint8_t> status = store.read_status();
  std::vector<int64_t> todo;
  for (int64_t i = opt.shard.index; i < store.n_samples(); i += opt.shard.count) {
    uint8_t s = status[static_cast<size_t>(i)];
    if (s == kDone || (s == kFailed && !opt.retry_failed)) {
      ++sum.skipped;
      continue;
    }
    todo.push_back(i);
    if (opt.limit > 0 && static_cast<int64_t>(todo.size()) >= opt.limit) break;
  }
  sum.todo = static_cast<int64_t>(todo.size());
  std::mutex m;
  tbb::task_arena arena(opt.threads > 0 ? opt.threads : tbb::task_arena::automatic);
  arena.execute([&] {
    tbb::parallel_for(size_t{0}, todo.size(), [&](size_t n) {
      double solve = 0, crop = 0;
      SampleRecord r = compute_sample(store, tissue, seeds, todo[n], &solve, &crop);
      auto tw = Clock::now();
      store.write_sample(todo[n], r);
      double write = seconds_since(tw);
      std::lock_guard<std::mutex> lock(m);
      sum.solve_seconds += solve;
      sum.crop_seconds += crop;
      sum.write_seconds += write;
      (r.failure.empty() ? sum.done : sum.failed) += 1;
      if (opt.on_progress) opt.on_progress(sum.done + sum.failed, sum.todo);
    });
  });
  sum.wall_seconds = seconds_since(t0);
  return sum;
}

}  // namespace tumorforge::datagen
