// Block averaging and cropping (see grid_ops.h).
#include "core/grid_ops.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace tumorforge::core {

std::array<int64_t, 3> integer_factor(const std::array<double, 3>& fine, double coarse, const std::string& what) {
  std::array<int64_t, 3> f{};
  for (int a = 0; a < 3; ++a) {
    double r = coarse / fine[a];
    f[a] = std::llround(r);
    if (f[a] < 1 || std::abs(r - static_cast<double>(f[a])) > 1e-6) {
      std::ostringstream s;
      s << what << " = " << coarse << " mm is not an integer multiple of the finer grid's " << fine[a] << " mm";
      throw std::invalid_argument(s.str());
    }
  }
  return f;
}

GridLevel coarsen(const GridLevel& fine, const std::array<int64_t, 3>& k) {
  GridLevel c;
  c.grid.affine = fine.grid.affine;
  for (int a = 0; a < 3; ++a) {
    c.grid.dims[a] = (fine.grid.dims[a] + k[a] - 1) / k[a];
    c.grid.spacing_mm[a] = fine.grid.spacing_mm[a] * static_cast<double>(k[a]);
    c.origin_mm[a] = fine.origin_mm[a] + 0.5 * static_cast<double>(k[a] - 1) * fine.grid.spacing_mm[a];
  }
  // Coarse index I maps to fine index k·I + (k−1)/2: scale the affine's columns, shift its origin.
  for (int r = 0; r < 3; ++r) {
    double shift = 0;
    for (int a = 0; a < 3; ++a) {
      shift += fine.grid.affine[r][a] * 0.5 * static_cast<double>(k[a] - 1);
      c.grid.affine[r][a] = fine.grid.affine[r][a] * static_cast<double>(k[a]);
    }
    c.grid.affine[r][3] = fine.grid.affine[r][3] + shift;
  }
  return c;
}

std::vector<float> block_average(const std::vector<float>& fine, const Grid& fg,
                                 const std::array<int64_t, 3>& k, const Grid& cg) {
  if (k[0] == 1 && k[1] == 1 && k[2] == 1) return fine;
  std::vector<double> sum(static_cast<size_t>(cg.num_voxels()), 0.0);
  std::vector<int32_t> count(sum.size(), 0);
  for (int64_t z = 0; z < fg.dims[2]; ++z)
    for (int64_t y = 0; y < fg.dims[1]; ++y)
      for (int64_t x = 0; x < fg.dims[0]; ++x) {
        size_t c = static_cast<size_t>(cg.index(x / k[0], y / k[1], z / k[2]));
        sum[c] += fine[static_cast<size_t>(fg.index(x, y, z))];
        ++count[c];
      }
  std::vector<float> out(sum.size());
  for (size_t n = 0; n < out.size(); ++n) out[n] = static_cast<float>(sum[n] / count[n]);
  return out;
}

std::array<double, 3> centre_of_mass(const std::vector<float>& f, const Grid& g) {
  double m = 0, sx = 0, sy = 0, sz = 0;
  for (int64_t z = 0; z < g.dims[2]; ++z)
    for (int64_t y = 0; y < g.dims[1]; ++y)
      for (int64_t x = 0; x < g.dims[0]; ++x) {
        double v = f[static_cast<size_t>(g.index(x, y, z))];
        m += v;
        sx += v * static_cast<double>(x);
        sy += v * static_cast<double>(y);
        sz += v * static_cast<double>(z);
      }
  if (!(m > 0)) throw std::runtime_error("tumor has no mass: cannot centre a crop on it");
  return {sx / m, sy / m, sz / m};
}

std::array<int64_t, 3> crop_origin_for(const std::array<double, 3>& com, int64_t edge) {
  // The cube's centre in voxel coordinates is origin + (edge − 1)/2; put it as close to the COM as possible.
  std::array<int64_t, 3> o{};
  for (int a = 0; a < 3; ++a) o[a] = std::llround(com[a] - 0.5 * static_cast<double>(edge - 1));
  return o;
}

std::vector<float> crop_cube(const std::vector<float>& f, const Grid& g, const std::array<int64_t, 3>& o,
                             int64_t e) {
  std::vector<float> out(static_cast<size_t>(e * e * e), 0.0f);
  for (int64_t z = 0; z < e; ++z)
    for (int64_t y = 0; y < e; ++y)
      for (int64_t x = 0; x < e; ++x) {
        int64_t gx = o[0] + x, gy = o[1] + y, gz = o[2] + z;
        if (g.contains(gx, gy, gz)) out[static_cast<size_t>(z + e * (y + e * x))] = f[static_cast<size_t>(g.index(gx, gy, gz))];
      }
  return out;
}

std::vector<float> to_c_order(const std::vector<float>& xf, const std::array<int64_t, 3>& d) {
  std::vector<float> out(xf.size());
  for (int64_t z = 0; z < d[2]; ++z)
    for (int64_t y = 0; y < d[1]; ++y)
      for (int64_t x = 0; x < d[0]; ++x) out[static_cast<size_t>(z + d[2] * (y + d[1] * x))] = xf[static_cast<size_t>(x + d[0] * (y + d[1] * z))];
  return out;
}

std::vector<float> from_c_order(const std::vector<float>& co, const std::array<int64_t, 3>& d) {
  std::vector<float> out(co.size());
  for (int64_t z = 0; z < d[2]; ++z)
    for (int64_t y = 0; y < d[1]; ++y)
      for (int64_t x = 0; x < d[0]; ++x) out[static_cast<size_t>(x + d[0] * (y + d[1] * z))] = co[static_cast<size_t>(z + d[2] * (y + d[1] * x))];
  return out;
}

}  // namespace tumorforge::core
