// The dataset store: init writes a valid layout, run fills it deterministically, resumes skip finished
// samples, bad configs and foreign stores are refused without touching anything.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "datagen/datagen_run.h"
#include "core/grid_ops.h"
#include "solver/fk_solver.h"
#include "datagen/verify.h"

namespace fs = std::filesystem;
using namespace tumorforge::datagen;

namespace {

DatagenConfig tiny_config() {
  DatagenConfig c = preset_config("dev");
  c.n_samples = 6;
  c.tissue.phantom_size = 40;
  c.tissue.phantom_spacing_mm = 3.0;
  c.sim_spacing_mm = 3.0;
  c.crop = 16;
  c.ranges.stop_volume = {"uniform", 1000, 20000};
  c.ranges.dw = {"uniform", 0.1, 2};
  return c;
}

std::string fresh(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("tumorforge_test_ds_" + std::to_string(::getpid()));
  fs::create_directories(d);
  fs::remove_all(d / name);
  return (d / name).string();
}

}  // namespace

TEST_CASE("init + run produce a verified store whose samples match an independent recomputation") {
  const std::string path = fresh("a.zarr");
  DatasetStore::init(path, tiny_config());
  DatasetStore s = DatasetStore::open(path);
  CHECK(s.read_status() == std::vector<uint8_t>(6, kPending));
  RunOptions opt;
  opt.threads = 2;
  RunSummary sum = run_shard(s, opt);
  CHECK(sum.done + sum.failed == 6);
  CHECK(sum.done >= 5);
  VerifyReport rep = verify_store(s, 2);
  CHECK(rep.corrupt.empty());
  CHECK(rep.done == sum.done);

  // Sample 3 recomputed on its own equals what the parallel run stored (float16 rounding only).
  auto tissue = s.sim_tissue();
  double a = 0, b = 0;
  SampleRecord r = compute_sample(s, tissue, seed_candidates(tissue, s.config().seed_min_matter), 3, &a, &b);
  REQUIRE(r.failure.empty());
  auto stored = s.array("concentration").read<float>({3, 0, 0, 0}, {1, 16, 16, 16});
  for (size_t n = 0; n < stored.size(); ++n) REQUIRE(stored[n] == doctest::Approx(r.concentration[n]).epsilon(1e-3).scale(1e-3));
  auto theta = s.array("theta").read<float>({3, 0}, {1, 5});
  CHECK(theta[3] == r.theta[3]);
  // theta's mu_D = sqrt(D_w * T) with the stored raw parameters.
  auto params = s.array("params").read<double>({3, 0}, {1, 6});
  CHECK(theta[3] == doctest::Approx(std::sqrt(params[3] * params[5])));

  // A second run has nothing left to do.
  RunSummary again = run_shard(s, opt);
  CHECK(again.todo == 0);
  CHECK(again.skipped == 6);
}

TEST_CASE("shards partition the samples") {
  const std::string path = fresh("b.zarr");
  DatasetStore::init(path, tiny_config());
  DatasetStore s = DatasetStore::open(path);
  RunOptions opt;
  opt.shard = parse_shard("1/3");
  run_shard(s, opt);
  auto st = s.read_status();
  for (int i = 0; i < 6; ++i) CHECK((st[static_cast<size_t>(i)] != kPending) == (i % 3 == 1));
  CHECK_THROWS_WITH(parse_shard("3/3"), doctest::Contains("0 <= K < N"));
  CHECK_THROWS_WITH(parse_shard("x"), doctest::Contains("expected K/N"));
}

TEST_CASE("bad configs and foreign stores are refused, existing stores untouched") {
  DatagenConfig c = tiny_config();
  c.crop = 64;
  CHECK_THROWS_WITH(DatasetStore::init(fresh("c.zarr"), c), doctest::Contains("exceeds the stored grid"));
  CHECK_FALSE(fs::exists(fresh("c.zarr")));
  c = tiny_config();
  c.ranges.stop_volume = {"uniform", 1000, 1e9};
  CHECK_THROWS_WITH(DatasetStore::init(fresh("c.zarr"), c), doctest::Contains("impossible"));
  c = tiny_config();
  c.spacing_mm = 4.0;
  CHECK_THROWS_WITH(DatasetStore::init(fresh("c.zarr"), c), doctest::Contains("not an integer multiple"));
  nlohmann::json j = {{"dw_maximum", 3}};
  CHECK_THROWS_WITH(merge_json(j, c), doctest::Contains("unknown datagen config key 'dw_maximum'"));

  const std::string path = fresh("d.zarr");
  DatasetStore::init(path, tiny_config());
  auto before = fs::last_write_time(path + "/.zattrs");
  CHECK_THROWS_WITH(DatasetStore::init(path, tiny_config()), doctest::Contains("exists already"));
  CHECK(fs::last_write_time(path + "/.zattrs") == before);
  CHECK_THROWS_WITH(DatasetStore::open(path + "/atlas"), doctest::Contains("not a tumorforge dataset"));
  CHECK_THROWS_WITH(DatasetStore::open(path + "/concentration"), doctest::Contains("not a Zarr group"));
}

TEST_CASE("simulating on a finer grid than the stored one block-averages into the crop") {
  DatagenConfig c = tiny_config();
  c.tissue.phantom_size = 48;
  c.tissue.phantom_spacing_mm = 2.0;
  c.sim_spacing_mm = 2.0;
  c.spacing_mm = 4.0;
  c.crop = 8;
  c.n_samples = 3;
  const std::string path = fresh("e.zarr");
  DatasetStore::init(path, c);
  DatasetStore s = DatasetStore::open(path);
  CHECK(s.store_level().grid.dims == std::array<int64_t, 3>{24, 24, 24});
  CHECK(s.store_level().origin_mm[0] == 1.0);  // centre of fine voxels 0 and 1 (0 mm and 2 mm)
  CHECK(fs::exists(path + "/sim_atlas/wm/.zarray"));
  CHECK(s.sim_tissue().grid.dims == std::array<int64_t, 3>{48, 48, 48});
  RunSummary sum = run_shard(s, {});
  CHECK(sum.done == 3);
  CHECK(verify_store(s, 1).corrupt.empty());
  // Stored volume (4 mm voxels) equals the simulated one (2 mm voxels) when the crop holds the whole tumor.
  auto stats = s.array("stats").read<double>({0, 0}, {1, kNumStats});
  auto conc = s.array("concentration").read<float>({0, 0, 0, 0}, {1, 8, 8, 8});
  double sum_c = 0;
  for (float v : conc) sum_c += v;
  CHECK(sum_c * 64.0 <= stats[kFinalVolume] * 1.001);
  CHECK(sum_c * 64.0 >= 0.5 * stats[kFinalVolume]);
}

TEST_CASE("sample_fk_params rebuilds a sample's solver inputs: rerunning them reproduces its stored crop") {
  DatagenConfig cfg = tiny_config();
  cfg.dtype = "float32";  // exact comparison with the stored crop
  cfg.ranges.stop_volume = {"loguniform", 1000, 20000};
  const std::string path = fresh("replay.zarr");
  DatasetStore::init(path, cfg);
  DatasetStore s = DatasetStore::open(path);
  run_shard(s, {});
  const auto status = s.read_status();
  const auto tissue = s.sim_tissue(0);
  int checked = 0;
  for (int64_t i = 0; i < 6; ++i) {
    if (status[static_cast<size_t>(i)] != kDone) continue;
    CAPTURE(i);
    const tumorforge::solver::FkParams p = sample_fk_params(s, i);
    const auto raw = s.array("params").read<double>({i, 0}, {1, 6});
    CHECK(p.dw_mm2_per_day == raw[3]);
    CHECK(p.rho_per_day == raw[4]);
    const auto fk = simulate_sample(s.config(), tissue, p);
    CHECK(fk.final_time_days == raw[5]);
    const auto o = s.array("crop_origin").read<int32_t>({i, 0}, {1, 3});
    const auto mine = crop_cube(fk.concentration.data, s.sim_level().grid, {o[0], o[1], o[2]}, cfg.crop);
    const auto stored = s.array("concentration").read<float>({i, 0, 0, 0}, {1, cfg.crop, cfg.crop, cfg.crop});
    CHECK(mine == stored);
    ++checked;
  }
  CHECK(checked >= 5);
}

TEST_CASE("a stored pair is what the solver computes at its theta: the run invert makes (T = 100 days) reproduces the crop") {
  // The surrogate stands in for the solver at θ = (seed, sqrt(D_w T), sqrt(ρ T)); invert's final run uses
  // T = 100 days, D_w = μ_D²/T, ρ = μ_ρ²/T. Volume-stopped samples are rerun to their stop time
  // (rerun_at_stop_time), so that both runs take the same steps in rescaled time and agree to float rounding.
  // Without the rerun (old stores) the stored tumor is a coarser-dt run's: asserted smaller below.
  auto stored_vs_invert_run = [](bool rerun, double* worst, double* mass_ratio) {
    DatagenConfig cfg = tiny_config();
    cfg.dtype = "float32";
    cfg.ranges.rho = {"uniform", 0.5, 3};
    cfg.rerun_at_stop_time = rerun;
    const std::string path = fresh(rerun ? "theta_rerun.zarr" : "theta_norerun.zarr");
    DatasetStore::init(path, cfg);
    DatasetStore s = DatasetStore::open(path);
    CHECK(s.config().rerun_at_stop_time == rerun);
    run_shard(s, {});
    const auto tissue = s.sim_tissue(0);
    const auto status = s.read_status();
    int checked = 0;
    double stored_mass = 0, run_mass = 0;
    *worst = 0;
    for (int64_t i = 0; i < cfg.n_samples; ++i) {
      if (status[static_cast<size_t>(i)] != kDone) continue;
      const auto raw = s.array("params").read<double>({i, 0}, {1, 6});
      const auto stats = s.array("stats").read<double>({i, 0}, {1, kNumStats});
      if (stats[kStopReason] != 2) continue;  // stopped by volume: the case in question
      const auto th = s.array("theta").read<float>({i, 0}, {1, 5});
      tumorforge::solver::FkParams p;
      p.stop_time_days = 100;
      p.dw_mm2_per_day = double(th[3]) * th[3] / p.stop_time_days;
      p.rho_per_day = double(th[4]) * th[4] / p.stop_time_days;
      p.seed_mm = {raw[0] - s.sim_level().origin_mm[0], raw[1] - s.sim_level().origin_mm[1], raw[2] - s.sim_level().origin_mm[2]};
      const auto fk = tumorforge::solver::simulate(tissue, p);
      const auto o = s.array("crop_origin").read<int32_t>({i, 0}, {1, 3});
      const auto mine = crop_cube(fk.concentration.data, s.sim_level().grid, {o[0], o[1], o[2]}, cfg.crop);
      const auto stored = s.array("concentration").read<float>({i, 0, 0, 0}, {1, cfg.crop, cfg.crop, cfg.crop});
      for (size_t n = 0; n < stored.size(); ++n) {
        *worst = std::max(*worst, double(std::abs(stored[n] - mine[n])));
        stored_mass += stored[n], run_mass += mine[n];
      }
      ++checked;
    }
    *mass_ratio = stored_mass / std::max(run_mass, 1e-12);
    return checked;
  };
  double worst = 0, ratio = 0;
  CHECK(stored_vs_invert_run(true, &worst, &ratio) >= 4);
  MESSAGE("rerun at the stop time: largest difference " << worst << ", stored / rerun mass " << ratio);
  // Not bit-equal: the solver ends on the first step at or past T (ceil(N) steps of T/N), so the stored run and
  // invert's run at the same θ cut rescaled time into slightly different steps; 2.4e-2 and 0.991 measured.
  CHECK(worst < 0.05);
  CHECK(ratio == doctest::Approx(1.0).epsilon(0.02));
  CHECK(stored_vs_invert_run(false, &worst, &ratio) >= 4);
  MESSAGE("volume-stopped field stored as is (old stores): largest difference " << worst << ", stored / rerun mass " << ratio);
  CHECK(ratio < 0.97);
}

TEST_CASE("a store written before rerun_at_stop_time existed reads as false (what it holds)") {
  const std::string path = fresh("old_config.zarr");
  DatasetStore::init(path, tiny_config());
  const fs::path attrs = fs::path(path) / ".zattrs";
  nlohmann::json j = nlohmann::json::parse(std::ifstream(attrs));
  CHECK(j["config"]["rerun_at_stop_time"] == true);
  j["config"].erase("rerun_at_stop_time");
  std::ofstream(attrs) << j.dump();
  CHECK_FALSE(DatasetStore::open(path).config().rerun_at_stop_time);
}

TEST_CASE("a sample marked failed is skipped by a rerun and redone, as before, with retry_failed (--retry-failed)") {
  const std::string path = fresh("retry.zarr");
  DatasetStore::init(path, tiny_config());
  DatasetStore s = DatasetStore::open(path);
  RunOptions opt;
  opt.threads = 2;
  run_shard(s, opt);
  REQUIRE(s.read_status()[2] == kDone);
  const auto before = s.array("concentration").read<float>({2, 0, 0, 0}, {1, 16, 16, 16});
  // Sample 2 as a crashed or failed attempt leaves it: status failed, data garbage.
  const std::vector<float> zeros(before.size(), 0.0f);
  s.array("concentration").write<float>({2, 0, 0, 0}, {1, 16, 16, 16}, zeros.data());
  const uint8_t failed = kFailed;
  s.array("status").write<uint8_t>({2}, {1}, &failed);

  RunSummary rerun = run_shard(s, opt);
  CHECK(rerun.todo == 0);
  CHECK(s.read_status()[2] == kFailed);
  opt.retry_failed = true;
  RunSummary retry = run_shard(s, opt);
  CHECK(retry.todo == 1);
  CHECK(retry.done == 1);
  CHECK(s.read_status()[2] == kDone);
  CHECK(s.array("concentration").read<float>({2, 0, 0, 0}, {1, 16, 16, 16}) == before);  // deterministic in (seed, i)
}

TEST_CASE("the lmi preset stops every run at its own sampled time within the LMI ranges") {
  DatagenConfig c = preset_config("lmi");
  CHECK(c.crop == 128);
  CHECK(c.ranges.stop_volume.dist == "none");
  c.validate();
  c.n_samples = 4;  // the preset's ranges on a grid small enough for a unit test
  c.tissue.phantom_size = 40;
  c.tissue.phantom_spacing_mm = 3.0;
  c.sim_spacing_mm = 3.0;
  c.crop = 16;
  const std::string path = fresh("lmi.zarr");
  DatasetStore::init(path, c);
  DatasetStore s = DatasetStore::open(path);
  RunOptions opt;
  opt.threads = 2;
  RunSummary sum = run_shard(s, opt);
  REQUIRE(sum.done == 4);
  const auto params = s.array("params").read<double>({0, 0}, {4, 6});
  const auto stats = s.array("stats").read<double>({0, 0}, {4, kNumStats});
  std::set<double> times;
  for (size_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    CHECK(params[i * 6 + 3] >= 0.02);  // D_w, mm²/day
    CHECK(params[i * 6 + 3] <= 1.5);
    CHECK(params[i * 6 + 4] >= 0.002);  // ρ, 1/day
    CHECK(params[i * 6 + 4] <= 0.2);
    CHECK(params[i * 6 + 5] >= 50);  // T, days
    CHECK(params[i * 6 + 5] <= 1500 + stats[i * kNumStats + kDtDays]);  // the step that crosses T
    CHECK(stats[i * kNumStats + kStopReason] == 1);  // stopped by time, never by volume
    times.insert(params[i * 6 + 5]);
  }
  CHECK(times.size() == 4);
}
