// Solver benchmark (C++ half): STREAM-triad bandwidth and FK steps/s, voxel-updates/s and achieved GB/s on
// the 1 mm atlas (if given) and a 128³ phantom, for 1 and 2 threads. Prints JSON on stdout; run.py adds the
// numpy reference measured in the same run, prints the table and writes the JSON file.
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "solver/fk_solver.h"
#include "solver/nifti_io.h"
#include "solver/phantom.h"

using namespace tumorforge::solver;
using Clock = std::chrono::steady_clock;

namespace {

// Bytes the FK kernel moves per voxel update: loads c, cx, cy, cz and stores c_next (4 B each); the
// neighbours' values and coefficients come from cache. A write-allocate would add 4 B (not counted, as in STREAM).
constexpr double kBytesPerUpdate = 20.0;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// STREAM triad a = b + s·c on doubles, 24 B per element (no write-allocate), best of `reps`.
double triad_gb_per_s(int threads, size_t n, int reps) {
  std::vector<double> a(n), b(n), c(n);
  tbb::task_arena arena(threads);
  double best = 1e30;
  arena.execute([&] {
    tbb::parallel_for(size_t{0}, n, [&](size_t i) { a[i] = 0, b[i] = 1.0, c[i] = 2.0; }, tbb::static_partitioner());
    for (int r = 0; r < reps; ++r) {
      auto t0 = Clock::now();
      tbb::parallel_for(
          tbb::blocked_range<size_t>(0, n),
          [&](const tbb::blocked_range<size_t>& rg) {
            double* __restrict pa = a.data();
            const double* __restrict pb = b.data();
            const double* __restrict pc = c.data();
            for (size_t i = rg.begin(); i < rg.end(); ++i) pa[i] = pb[i] + 3.0 * pc[i];
          },
          tbb::static_partitioner());
      best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
    }
  });
  if (a[n / 2] != 7.0) std::fprintf(stderr, "triad check failed\n");
  return 24.0 * static_cast<double>(n) / best / 1e9;
}

nlohmann::json bench_case(const std::string& name, const TissueMaps& tissue, const std::array<int64_t, 3>& seed,
                          int threads, double stop_time_days) {
  FkParams p;
  p.dw_mm2_per_day = 0.5;
  p.rho_per_day = 0.2;
  p.stop_time_days = stop_time_days;
  p.seed_mm = mm_of_voxel(tissue.grid, seed);
  std::vector<double> stamps;
  SolverOptions opt;
  opt.threads = threads;
  opt.on_step = [&](const StepInfo&) { stamps.push_back(std::chrono::duration<double>(Clock::now().time_since_epoch()).count()); };
  FkResult r = simulate(tissue, p, opt);
  std::vector<double> per_step;
  for (size_t i = 1; i < stamps.size(); ++i) per_step.push_back(stamps[i] - stamps[i - 1]);
  double s = median(per_step);
  double updates_per_s = static_cast<double>(r.voxel_updates_per_step) / s;
  int64_t box = r.work_box_dims[0] * r.work_box_dims[1] * r.work_box_dims[2];
  return {{"case", name},
          {"grid", tissue.grid.describe()},
          {"threads", threads},
          {"steps", r.steps},
          {"seconds_per_step", s},
          {"steps_per_s", 1.0 / s},
          {"voxel_updates_per_step", r.voxel_updates_per_step},
          {"work_box_voxels", box},
          {"voxel_updates_per_s", updates_per_s},
          {"bytes_per_update", kBytesPerUpdate},
          {"achieved_gb_per_s", updates_per_s * kBytesPerUpdate / 1e9}};
}

std::array<int64_t, 3> central_wm_voxel(const TissueMaps& t) {
  const Grid& g = t.grid;
  for (int64_t d = 0; d < g.dims[0] / 2; ++d) {
    std::array<int64_t, 3> v{g.dims[0] / 2 + d, g.dims[1] / 2, g.dims[2] / 2};
    if (t.wm[static_cast<size_t>(g.index(v[0], v[1], v[2]))] >= 0.5f) return v;
  }
  throw std::runtime_error("no white matter near the centre");
}

}  // namespace

int main(int argc, char** argv) {
  std::string atlas = argc > 1 ? argv[1] : "";
  nlohmann::json out;
  out["bytes_per_update_model"] = "load c, cx, cy, cz + store c_next, float32 (20 B); write-allocate not counted";
  const size_t triad_n = size_t{1} << 25;  // 3 x 256 MiB, far beyond any cache
  for (int t : {1, 2}) out["triad"].push_back({{"threads", t}, {"gb_per_s", triad_gb_per_s(t, triad_n, 10)}});

  std::vector<std::pair<std::string, TissueMaps>> cases;
  if (!atlas.empty() && std::filesystem::exists(atlas)) cases.emplace_back("atlas_1mm", tissue_from_labels(read_nifti(atlas), atlas));
  cases.emplace_back("phantom_128", make_phantom({128, 1.5}));
  for (auto& [name, tissue] : cases) {
    auto seed = central_wm_voxel(tissue);
    for (int t : {1, 2}) out["solver"].push_back(bench_case(name, tissue, seed, t, 10.0));
    out["seeds"][name] = seed;
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
