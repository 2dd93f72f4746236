// Counter-based sampling (order- and shard-independent), ranges, block averaging and crops.
#include <doctest/doctest.h>

#include <cmath>

#include "datagen/resample.h"
#include "datagen/sampling.h"

using namespace tumorforge::datagen;

TEST_CASE("sample i depends only on (seed, i) and stays within its ranges") {
  ParamRanges r{{"uniform", 0.001, 10}, {"loguniform", 0.002, 0.2}, {"uniform", 1000, 400000}, {"fixed", 100, 100}};
  std::vector<int64_t> seeds{3, 17, 42, 99};
  SampledParams a = sample_params(r, 7, 12345, seeds), b = sample_params(r, 7, 12345, seeds);
  CHECK(a.dw_mm2_per_day == b.dw_mm2_per_day);
  CHECK(a.seed_voxel_linear == b.seed_voxel_linear);
  CHECK(sample_params(r, 8, 12345, seeds).dw_mm2_per_day != a.dw_mm2_per_day);
  double log_mean = 0;
  for (int i = 0; i < 4000; ++i) {
    SampledParams p = sample_params(r, 1, static_cast<uint64_t>(i), seeds);
    REQUIRE(p.dw_mm2_per_day >= 0.001);
    REQUIRE(p.dw_mm2_per_day <= 10);
    REQUIRE(p.rho_per_day >= 0.002);
    REQUIRE(p.rho_per_day <= 0.2);
    REQUIRE(p.stop_time_days == 100);
    REQUIRE(p.stop_volume_mm3.has_value());
    log_mean += std::log(p.rho_per_day) / 4000;
  }
  // Log-uniform: the mean of log(rho) is the midpoint of the log range (4000 samples: error ~0.02).
  CHECK(log_mean == doctest::Approx(0.5 * (std::log(0.002) + std::log(0.2))).epsilon(0.02));
}

TEST_CASE("impossible ranges are rejected with the parameter's name") {
  CHECK_THROWS_WITH(Range({"uniform", 5, 1}).validate("dw", false), doctest::Contains("dw range"));
  CHECK_THROWS_WITH(Range({"none", 0, 0}).validate("rho", false), doctest::Contains("only allowed for stop_volume"));
  CHECK_THROWS_WITH(Range({"gaussian", 1, 2}).validate("rho", false), doctest::Contains("dist must be"));
  CHECK_NOTHROW(Range({"none", 0, 0}).validate("stop_volume", true));
}

TEST_CASE("coarsening by 2 averages blocks and moves the origin to the block centre") {
  GridLevel fine;
  fine.grid.dims = {4, 4, 3};
  fine.grid.spacing_mm = {1, 1, 1};
  fine.grid.affine = tumorforge::solver::scaling_affine({1, 1, 1});
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
  tumorforge::solver::Grid g;
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
