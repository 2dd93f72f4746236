// Grid operations: block averaging with its origin shift, centre of mass, zero-padded C-order crops.
#include <doctest/doctest.h>

#include <cmath>

#include "core/grid_ops.h"

using namespace tumorforge::core;

TEST_CASE("coarsening by 2 averages blocks and moves the origin to the block centre") {
  GridLevel fine;
  fine.grid.dims = {4, 4, 3};
  fine.grid.spacing_mm = {1, 1, 1};
  fine.grid.affine = scaling_affine({1, 1, 1});
  GridLevel coarse = coarsen(fine, {2, 2, 2});
  CHECK(coarse.grid.dims == std::array<int64_t, 3>{2, 2, 2});
  CHECK(coarse.origin_mm[0] == 0.5);
  CHECK(coarse.grid.affine[0][3] == 0.5);
  std::vector<float> f(48);
  for (size_t n = 0; n < f.size(); ++n) f[n] = static_cast<float>(n);
  auto c = block_average(f, fine.grid, {2, 2, 2}, coarse.grid);
  CHECK(c[0] == doctest::Approx((0 + 1 + 4 + 5 + 16 + 17 + 20 + 21) / 8.0));
  CHECK(c[7] == doctest::Approx((42 + 43 + 46 + 47) / 4.0));  // partial block at z = 2
}

TEST_CASE("crop is centred on the centre of mass, zero-padded outside the grid, C order") {
  Grid g;
  g.dims = {10, 10, 10};
  std::vector<float> f(1000, 0.0f);
  f[static_cast<size_t>(g.index(1, 2, 3))] = 1.0f;
  auto com = centre_of_mass(f, g);
  CHECK(com[0] == 1.0);
  auto o = crop_origin_for(com, 4);
  for (int a = 0; a < 3; ++a) CHECK(std::abs(o[a] + 1.5 - com[a]) <= 0.5);  // cube centre = origin + (edge-1)/2
  auto cube = crop_cube(f, g, {-1, 0, 1}, 4);  // leaves the grid on x
  CHECK(cube[static_cast<size_t>((3 - 1) + 4 * ((2 - 0) + 4 * (1 + 1)))] == 1.0f);  // (x=2, y=2, z=2): z fastest
  CHECK_THROWS(centre_of_mass(std::vector<float>(1000, 0.0f), g));
}
