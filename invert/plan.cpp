// Plans and coverage (see plan.h).
#include "invert/plan.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>

namespace tumorforge::invert {
namespace {

// 1D squared distance transform of f sampled at positions q·h (q = 0..n−1): d(p) = min_q (h(p − q))² + f(q).
void distance_1d(const double* f, double* d, int64_t n, double h, std::vector<int64_t>& v, std::vector<double>& z) {
  const double inf = std::numeric_limits<double>::infinity();
  v.assign(static_cast<size_t>(n), 0);
  z.assign(static_cast<size_t>(n) + 1, 0.0);
  int64_t k = -1;
  for (int64_t q = 0; q < n; ++q) {
    if (f[q] == inf) continue;
    const double xq = static_cast<double>(q) * h;
    double s = -inf;
    while (k >= 0) {
      const double xv = static_cast<double>(v[static_cast<size_t>(k)]) * h;
      s = ((f[q] + xq * xq) - (f[v[static_cast<size_t>(k)]] + xv * xv)) / (2 * xq - 2 * xv);
      if (s > z[static_cast<size_t>(k)]) break;
      --k;
    }
    ++k;
    v[static_cast<size_t>(k)] = q;
    z[static_cast<size_t>(k)] = k == 0 ? -inf : s;
    z[static_cast<size_t>(k) + 1] = inf;
  }
  if (k < 0) {
    std::fill(d, d + n, inf);
    return;
  }
  int64_t j = 0;
  for (int64_t p = 0; p < n; ++p) {
    const double xp = static_cast<double>(p) * h;
    while (z[static_cast<size_t>(j) + 1] < xp) ++j;
    const double dx = xp - static_cast<double>(v[static_cast<size_t>(j)]) * h;
    d[p] = dx * dx + f[v[static_cast<size_t>(j)]];
  }
}

}  // namespace

std::vector<double> squared_distance_mm2(const std::vector<uint8_t>& mask, const core::Grid& g) {
  const auto& dims = g.dims;
  std::vector<double> d(mask.size());
  for (size_t i = 0; i < mask.size(); ++i) d[i] = mask[i] ? 0.0 : std::numeric_limits<double>::infinity();
  std::vector<double> line, out;
  std::vector<int64_t> v;
  std::vector<double> z;
  for (int axis = 0; axis < 3; ++axis) {
    const int64_t n = dims[static_cast<size_t>(axis)];
    const int64_t stride = axis == 0 ? 1 : axis == 1 ? dims[0] : dims[0] * dims[1];
    line.resize(static_cast<size_t>(n));
    out.resize(static_cast<size_t>(n));
    const int64_t lines = g.num_voxels() / n;
    for (int64_t l = 0; l < lines; ++l) {
      // The l-th line along `axis`: its first voxel's index.
      int64_t base;
      if (axis == 0) base = l * dims[0];
      else if (axis == 1) base = (l / dims[0]) * dims[0] * dims[1] + l % dims[0];
      else base = l;
      for (int64_t q = 0; q < n; ++q) line[static_cast<size_t>(q)] = d[static_cast<size_t>(base + q * stride)];
      distance_1d(line.data(), out.data(), n, g.spacing_mm[static_cast<size_t>(axis)], v, z);
      for (int64_t q = 0; q < n; ++q) d[static_cast<size_t>(base + q * stride)] = out[static_cast<size_t>(q)];
    }
  }
  return d;
}

Plans make_plans(const std::vector<uint8_t>& core, const std::vector<uint8_t>& brain, const std::vector<float>& conc,
                 const core::Grid& grid, double margin_mm) {
  Plans p;
  const size_t n = core.size();
  const std::vector<double> d2 = squared_distance_mm2(core, grid);
  const double m2 = margin_mm * margin_mm;
  p.standard.assign(n, 0);
  for (size_t i = 0; i < n; ++i)
    if (brain[i] && d2[i] <= m2) p.standard[i] = 1, ++p.standard_voxels;
  // The model plan: the standard plan's voxel count, by concentration inside the brain.
  std::vector<int64_t> order;
  for (size_t i = 0; i < n; ++i)
    if (brain[i]) order.push_back(static_cast<int64_t>(i));
  const auto take = std::min<int64_t>(p.standard_voxels, static_cast<int64_t>(order.size()));
  // Last tie rule: the voxel's world position (x, then y, then z, in µm), not its array index, so that the same
  // patient stored in LPS or in RAS voxel order gets the same plan.
  auto world_um = [&](int64_t idx) {
    const auto& d = grid.dims;
    const double v[3] = {static_cast<double>(idx % d[0]), static_cast<double>((idx / d[0]) % d[1]), static_cast<double>(idx / (d[0] * d[1]))};
    std::array<int64_t, 3> w{};
    for (size_t r = 0; r < 3; ++r) {
      double x = grid.affine[r][3];
      for (size_t k = 0; k < 3; ++k) x += grid.affine[r][k] * v[k];
      w[r] = std::llround(x * 1000.0);
    }
    return w;
  };
  std::partial_sort(order.begin(), order.begin() + take, order.end(), [&](int64_t a, int64_t b) {
    const float ca = conc[static_cast<size_t>(a)], cb = conc[static_cast<size_t>(b)];
    if (ca != cb) return ca > cb;
    const double da = d2[static_cast<size_t>(a)], db = d2[static_cast<size_t>(b)];
    return da != db ? da < db : world_um(a) < world_um(b);
  });
  p.model.assign(n, 0);
  for (int64_t k = 0; k < take; ++k) p.model[static_cast<size_t>(order[static_cast<size_t>(k)])] = 1;
  p.model_voxels = take;
  return p;
}

std::optional<double> coverage(const std::vector<uint8_t>& rec, const std::vector<uint8_t>& plan) {
  int64_t total = 0, inside = 0;
  for (size_t i = 0; i < rec.size(); ++i)
    if (rec[i]) ++total, inside += plan[i] != 0;
  if (total == 0) return std::nullopt;
  return static_cast<double>(inside) / static_cast<double>(total);
}

}  // namespace tumorforge::invert
