// Counter-based sampling (order- and shard-independent) and parameter ranges.
#include <doctest/doctest.h>

#include <cmath>

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
