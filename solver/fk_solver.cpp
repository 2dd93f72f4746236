// FK time stepping. The work is restricted to the tissue bounding box, padded with one ghost layer of zeros so
// the 7-point stencil needs no bounds checks. Face coefficients dt·D_face/h² are precomputed once; a face
// touching a non-tissue voxel or the ghost layer has coefficient 0, which gives no-flux boundaries and keeps
// non-tissue voxels at exactly 0 (c = 0 is a fixed point of the reaction term, so no mask is needed in the loop).
// The volume Σc is accumulated per row in double and summed in row order, so results do not depend on threads.
#include "solver/fk_solver.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace tumorforge::solver {

const char* to_string(StopReason r) { return r == StopReason::kVolume ? "volume" : "time"; }

std::array<int64_t, 3> voxel_of_mm(const Grid& grid, const std::array<double, 3>& p) {
  std::array<int64_t, 3> v{};
  for (int a = 0; a < 3; ++a) {
    double idx = p[a] / grid.spacing_mm[a];
    if (!(idx > -0.5 && idx < grid.dims[a] - 0.5)) {
      std::ostringstream s;
      s << "seed (" << p[0] << ", " << p[1] << ", " << p[2] << ") mm is outside the grid (" << grid.describe()
        << ", extent 0.." << (grid.dims[a] - 1) * grid.spacing_mm[a] << " mm on axis " << a << ")";
      throw std::invalid_argument(s.str());
    }
    v[a] = std::llround(idx);
  }
  return v;
}

std::array<double, 3> mm_of_voxel(const Grid& grid, const std::array<int64_t, 3>& v) {
  return {v[0] * grid.spacing_mm[0], v[1] * grid.spacing_mm[1], v[2] * grid.spacing_mm[2]};
}

Volume seed_field(const TissueMaps& tissue, const FkParams& params) {
  const Grid& g = tissue.grid;
  auto v = voxel_of_mm(g, params.seed_mm);
  size_t center = static_cast<size_t>(g.index(v[0], v[1], v[2]));
  if (tissue.wm[center] + tissue.gm[center] < params.th_matter) {
    std::ostringstream s;
    s << "seed voxel (" << v[0] << ", " << v[1] << ", " << v[2] << ") is not brain tissue (WM+GM = "
      << tissue.wm[center] + tissue.gm[center] << " < th_matter " << params.th_matter << ")";
    throw std::invalid_argument(s.str());
  }
  Volume c(g);
  const double amplitude = 250.0 / std::pow(4.0 * M_PI * 5.0, 1.5);
  // exp(-r²/20)·amplitude <= 0.1 beyond r ≈ 7.9 mm: only a small box around the seed is touched.
  const double r_max = std::sqrt(20.0 * std::log(amplitude / 0.1)) + 1.0;
  std::array<int64_t, 3> lo{}, hi{};
  for (int a = 0; a < 3; ++a) {
    lo[a] = std::max<int64_t>(0, static_cast<int64_t>(std::floor((params.seed_mm[a] - r_max) / g.spacing_mm[a])));
    hi[a] = std::min<int64_t>(g.dims[a] - 1, static_cast<int64_t>(std::ceil((params.seed_mm[a] + r_max) / g.spacing_mm[a])));
  }
  for (int64_t k = lo[2]; k <= hi[2]; ++k)
    for (int64_t j = lo[1]; j <= hi[1]; ++j)
      for (int64_t i = lo[0]; i <= hi[0]; ++i) {
        size_t n = static_cast<size_t>(g.index(i, j, k));
        if (tissue.wm[n] + tissue.gm[n] < params.th_matter) continue;
        double dx = i * g.spacing_mm[0] - params.seed_mm[0];
        double dy = j * g.spacing_mm[1] - params.seed_mm[1];
        double dz = k * g.spacing_mm[2] - params.seed_mm[2];
        double value = amplitude * std::exp(-(dx * dx + dy * dy + dz * dz) / 20.0);
        if (value <= 0.1) value = 0.0;
        if (value > 1.0) value = 1.0;
        c.data[n] = static_cast<float>(value);
      }
  return c;
}

namespace {

constexpr int kLanes = 8;  // floats per vector (AVX2); rows and spans are multiples of this
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));  // GCC/Clang vector extension

inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);  // unaligned load (neighbours at ±1 are never aligned)
  return v;
}

// The tissue bounding box with one ghost layer, and everything the kernel needs on it.
struct Workspace {
  std::array<int64_t, 3> box_lo{}, box_dims{};  // box in grid voxels (without ghosts)
  int64_t px = 0, py = 0, pz = 0;                // padded dims = box_dims + 2
  std::vector<float> cx, cy, cz;                 // dt·D/h² of the face to the +x/+y/+z neighbour
  std::vector<float> c_now, c_next;
  std::vector<std::array<int32_t, 2>> row_span;  // per interior row (j,k): [i_begin, i_end) holding tissue
  std::vector<double> row_sum;                   // per interior row: Σc after the latest step

  int64_t padded_index(int64_t i, int64_t j, int64_t k) const { return i + px * (j + py * k); }
  int64_t rows() const { return (py - 2) * (pz - 2); }
};

Workspace build_workspace(const TissueMaps& t, const FkParams& p, double dt, const std::vector<uint8_t>& matter) {
  const Grid& g = t.grid;
  std::array<int64_t, 3> lo{g.dims[0], g.dims[1], g.dims[2]}, hi{-1, -1, -1};
  for (int64_t k = 0; k < g.dims[2]; ++k)
    for (int64_t j = 0; j < g.dims[1]; ++j)
      for (int64_t i = 0; i < g.dims[0]; ++i)
        if (matter[static_cast<size_t>(g.index(i, j, k))]) {
          lo = {std::min(lo[0], i), std::min(lo[1], j), std::min(lo[2], k)};
          hi = {std::max(hi[0], i), std::max(hi[1], j), std::max(hi[2], k)};
        }
  if (hi[0] < 0) throw std::invalid_argument("tissue map has no voxel with WM+GM >= th_matter");

  Workspace w;
  w.box_lo = lo;
  w.box_dims = {hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1};
  // Rows padded to a multiple of kLanes floats so every row starts aligned and spans can be whole vectors.
  w.px = (w.box_dims[0] + 2 + kLanes - 1) / kLanes * kLanes;
  w.py = w.box_dims[1] + 2;
  w.pz = w.box_dims[2] + 2;
  const size_t n_padded = static_cast<size_t>(w.px * w.py * w.pz);
  w.cx.assign(n_padded, 0.0f);
  w.cy.assign(n_padded, 0.0f);
  w.cz.assign(n_padded, 0.0f);
  w.c_now.assign(n_padded, 0.0f);
  w.c_next.assign(n_padded, 0.0f);
  w.row_span.assign(static_cast<size_t>(w.rows()), {0, 0});
  w.row_sum.assign(static_cast<size_t>(w.rows()), 0.0);

  // Face diffusivity (the reference's rule): D_w·[(WM_a+WM_b)/2 + (GM_a+GM_b)/(2R)] if both sides are matter.
  auto face = [&](size_t a, size_t b, double inv_h2) -> float {
    if (!matter[a] || !matter[b]) return 0.0f;
    double d = p.dw_mm2_per_day * (0.5 * (t.wm[a] + t.wm[b]) + 0.5 * (t.gm[a] + t.gm[b]) / p.ratio_dw_dg);
    return static_cast<float>(dt * d * inv_h2);
  };
  const std::array<double, 3> inv_h2{1 / (g.spacing_mm[0] * g.spacing_mm[0]), 1 / (g.spacing_mm[1] * g.spacing_mm[1]),
                                     1 / (g.spacing_mm[2] * g.spacing_mm[2])};
  for (int64_t k = 0; k < w.box_dims[2]; ++k)
    for (int64_t j = 0; j < w.box_dims[1]; ++j) {
      int32_t first = -1, last = -1;
      for (int64_t i = 0; i < w.box_dims[0]; ++i) {
        int64_t gi = lo[0] + i, gj = lo[1] + j, gk = lo[2] + k;
        size_t a = static_cast<size_t>(g.index(gi, gj, gk));
        size_t pa = static_cast<size_t>(w.padded_index(i + 1, j + 1, k + 1));
        if (matter[a]) {
          if (first < 0) first = static_cast<int32_t>(i + 1);
          last = static_cast<int32_t>(i + 1);
        }
        if (i + 1 < w.box_dims[0]) w.cx[pa] = face(a, static_cast<size_t>(g.index(gi + 1, gj, gk)), inv_h2[0]);
        if (j + 1 < w.box_dims[1]) w.cy[pa] = face(a, static_cast<size_t>(g.index(gi, gj + 1, gk)), inv_h2[1]);
        if (k + 1 < w.box_dims[2]) w.cz[pa] = face(a, static_cast<size_t>(g.index(gi, gj, gk + 1)), inv_h2[2]);
      }
      // Widen to whole vectors: the extra voxels are ghosts or non-tissue with zero coefficients and c = 0,
      // so the update leaves them at exactly 0.
      int32_t begin = first < 0 ? 0 : first / kLanes * kLanes;
      int32_t end = first < 0 ? 0 : (last + 1 + kLanes - 1) / kLanes * kLanes;
      w.row_span[static_cast<size_t>(j + w.box_dims[1] * k)] = {begin, end};
    }
  return w;
}

// Σ x[begin..end) in double, kLanes independent lanes then a fixed tree: deterministic and vectorizable.
double row_sum(const float* __restrict x, int64_t begin, int64_t end) {
  double lane[kLanes] = {};
  for (int64_t i = begin; i < end; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lane[l] += static_cast<double>(x[i + l]);
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

// One explicit Euler step on rows [row_begin, row_end): c_next = c + Σ faces coef·(c_nb − c) + a·c·(1 − c).
void step_rows(Workspace& w, float a, int64_t row_begin, int64_t row_end) {
  const int64_t sy = w.px, sz = w.px * w.py;
  const int64_t ny = w.py - 2;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const auto span = w.row_span[static_cast<size_t>(r)];
    const int64_t j = 1 + r % ny, k = 1 + r / ny;
    const int64_t base = w.padded_index(0, j, k);
    const float* c = w.c_now.data() + base;
    const float* cx = w.cx.data() + base;
    const float* cy = w.cy.data() + base;
    const float* cz = w.cz.data() + base;
    float* out = w.c_next.data() + base;
    for (int64_t i = span[0]; i < span[1]; i += kLanes) {
      const Vec ci = load(c + i);
      const Vec flux = load(cx + i) * (load(c + i + 1) - ci) + load(cx + i - 1) * (load(c + i - 1) - ci) +
                       load(cy + i) * (load(c + i + sy) - ci) + load(cy + i - sy) * (load(c + i - sy) - ci) +
                       load(cz + i) * (load(c + i + sz) - ci) + load(cz + i - sz) * (load(c + i - sz) - ci);
      const Vec next = ci + flux + a * ci * (1.0f - ci);
      std::memcpy(out + i, &next, sizeof next);
    }
    w.row_sum[static_cast<size_t>(r)] = row_sum(out, span[0], span[1]);  // the row is still in L1
  }
}

}  // namespace

FkResult simulate(const TissueMaps& tissue, const FkParams& params, const SolverOptions& options) {
  params.validate();
  return simulate_from(tissue, params, seed_field(tissue, params), options);
}

FkResult simulate_from(const TissueMaps& tissue, const FkParams& params, const Volume& initial,
                       const SolverOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  params.validate();
  const Grid& g = tissue.grid;
  if (!initial.grid.same_shape(g)) throw std::invalid_argument("initial field grid does not match the tissue grid");
  const TimeStepPlan plan = plan_time_step(params, g.spacing_mm);
  const std::vector<uint8_t> matter = matter_mask(tissue, params.th_matter);  // once: datagen runs this per sample
  if (params.stop_volume_mm3) {
    double capacity = static_cast<double>(std::count(matter.begin(), matter.end(), uint8_t{1})) * g.voxel_volume_mm3();
    if (*params.stop_volume_mm3 > capacity) {
      std::ostringstream s;
      s << "stop_volume (--stop-volume) = " << *params.stop_volume_mm3 << " mm^3 can never be reached: the tissue holds at most "
        << capacity << " mm^3";
      throw std::invalid_argument(s.str());
    }
  }

  Workspace w = build_workspace(tissue, params, plan.dt_days, matter);
  double initial_sum = 0.0;
  for (int64_t k = 0; k < w.box_dims[2]; ++k)
    for (int64_t j = 0; j < w.box_dims[1]; ++j)
      for (int64_t i = 0; i < w.box_dims[0]; ++i) {
        size_t n = static_cast<size_t>(g.index(w.box_lo[0] + i, w.box_lo[1] + j, w.box_lo[2] + k));
        float v = matter[n] ? initial.data[n] : 0.0f;
        if (!std::isfinite(v) || v < 0.0f || v > 1.0f) throw std::invalid_argument("initial field must be within [0, 1]");
        w.c_now[static_cast<size_t>(w.padded_index(i + 1, j + 1, k + 1))] = v;
        initial_sum += v;
      }

  FkResult res;
  res.dt_days = plan.dt_days;
  res.dt_rule = plan.rule;
  res.work_box_dims = w.box_dims;
  for (const auto& span : w.row_span) res.voxel_updates_per_step += span[1] - span[0];
  const double voxel_mm3 = g.voxel_volume_mm3();
  res.initial_volume_mm3 = initial_sum * voxel_mm3;
  const float a = static_cast<float>(plan.dt_days * params.rho_per_day);

  tbb::task_arena arena(options.threads > 0 ? options.threads : tbb::task_arena::automatic);
  StepInfo info;
  info.max_steps = plan.max_steps;
  for (int64_t step = 1; step <= plan.max_steps; ++step) {
    arena.execute([&] {
      tbb::parallel_for(tbb::blocked_range<int64_t>(0, w.rows(), 16),
                        [&](const tbb::blocked_range<int64_t>& r) { step_rows(w, a, r.begin(), r.end()); });
    });
    std::swap(w.c_now, w.c_next);
    double sum = 0.0;
    for (double s : w.row_sum) sum += s;  // fixed order: identical for any thread count
    info.step = step;
    info.time_days = step * plan.dt_days;
    info.volume_mm3 = sum * voxel_mm3;
    if (!std::isfinite(sum)) {
      std::ostringstream s;
      s << "solution became non-finite at step " << step << " (t = " << info.time_days << " days)";
      throw std::runtime_error(s.str());
    }
    if (options.on_step) options.on_step(info);
    res.steps = step;
    res.final_time_days = info.time_days;
    res.final_volume_mm3 = info.volume_mm3;
    if (params.stop_volume_mm3 && info.volume_mm3 >= *params.stop_volume_mm3) {
      res.stop_reason = StopReason::kVolume;
      break;
    }
  }

  res.concentration = Volume(g);
  res.min_c = 0.0f;
  res.max_c = 0.0f;
  for (int64_t k = 0; k < w.box_dims[2]; ++k)
    for (int64_t j = 0; j < w.box_dims[1]; ++j)
      for (int64_t i = 0; i < w.box_dims[0]; ++i) {
        float v = w.c_now[static_cast<size_t>(w.padded_index(i + 1, j + 1, k + 1))];
        res.concentration.at(w.box_lo[0] + i, w.box_lo[1] + j, w.box_lo[2] + k) = v;
        res.min_c = std::min(res.min_c, v);
        res.max_c = std::max(res.max_c, v);
      }
  res.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace tumorforge::solver
