// Grid helpers: shape comparison and printing.
#include "core/grid.h"

#include <cmath>
#include <sstream>

namespace tumorforge::core {

bool Grid::same_shape(const Grid& other) const {
  if (dims != other.dims) return false;
  for (int a = 0; a < 3; ++a)
    if (std::abs(spacing_mm[a] - other.spacing_mm[a]) > 1e-4) return false;
  return true;
}

std::string Grid::describe() const {
  std::ostringstream s;
  s << dims[0] << "x" << dims[1] << "x" << dims[2] << " @ " << spacing_mm[0] << "x" << spacing_mm[1] << "x"
    << spacing_mm[2] << " mm";
  return s.str();
}

std::string Grid::voxel_name(int64_t index) const {
  const int64_t i = index % dims[0], j = (index / dims[0]) % dims[1], k = index / (dims[0] * dims[1]);
  return "voxel (" + std::to_string(i) + ", " + std::to_string(j) + ", " + std::to_string(k) + ")";
}

Affine scaling_affine(const std::array<double, 3>& spacing_mm) {
  Affine a{{{spacing_mm[0], 0, 0, 0}, {0, spacing_mm[1], 0, 0}, {0, 0, spacing_mm[2], 0}, {0, 0, 0, 1}}};
  return a;
}

}  // namespace tumorforge::core
