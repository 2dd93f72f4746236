// Grid operations on float32 fields: coarsening by integer block averaging (simulate at 1 mm, store at 2 mm) and the tumor crop: centre
// of mass and a zero-padded cube around it. Positions are tracked in atlas mm: the native atlas grid's
// voxel (0,0,0) centre is 0 mm, and a coarse voxel's centre is the mean of the fine centres it covers.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/grid.h"

namespace tumorforge::core {

struct GridLevel {
  Grid grid;
  std::array<double, 3> origin_mm{0, 0, 0};  // atlas-mm position of voxel (0,0,0)'s centre
  std::array<double, 3> voxel_mm(const std::array<double, 3>& ijk) const {
    return {origin_mm[0] + ijk[0] * grid.spacing_mm[0], origin_mm[1] + ijk[1] * grid.spacing_mm[1],
            origin_mm[2] + ijk[2] * grid.spacing_mm[2]};
  }
};

// Integer factor per axis with coarse = factor · fine spacing; throws naming `what` if not an integer.
std::array<int64_t, 3> integer_factor(const std::array<double, 3>& fine_mm, double coarse_mm, const std::string& what);
GridLevel coarsen(const GridLevel& fine, const std::array<int64_t, 3>& factor);
// Mean over each block (partial blocks at the far edges average the voxels they have).
std::vector<float> block_average(const std::vector<float>& fine, const Grid& fine_grid,
                                 const std::array<int64_t, 3>& factor, const Grid& coarse_grid);

// Centre of mass in voxel coordinates (double sums); throws if the field has no mass.
std::array<double, 3> centre_of_mass(const std::vector<float>& field, const Grid& grid);
// Origin of an edge³ cube centred on `com` (voxel coordinates).
std::array<int64_t, 3> crop_origin_for(const std::array<double, 3>& com, int64_t edge);
// The cube [origin, origin + edge)³ of `field`, zero where it leaves the grid, in C order over (x, y, z)
// (z fastest), the order Zarr and numpy use for an (X, Y, Z) array.
std::vector<float> crop_cube(const std::vector<float>& field, const Grid& grid,
                             const std::array<int64_t, 3>& origin, int64_t edge);

// Volumes are x-fastest in memory (NIfTI order); Zarr arrays are C order over (x, y, z). These convert.
std::vector<float> to_c_order(const std::vector<float>& x_fastest, const std::array<int64_t, 3>& dims);
std::vector<float> from_c_order(const std::vector<float>& c_order, const std::array<int64_t, 3>& dims);

}  // namespace tumorforge::core
