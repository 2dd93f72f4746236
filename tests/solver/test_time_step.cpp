// The time-step rule: the reference's N = max(T·D_w/h_min²·8 + 100, 1.1·T·rho), and the monotone guard.
#include <doctest/doctest.h>

#include "solver/fk_params.h"

using namespace tumorforge::solver;

TEST_CASE("time step follows the reference rule where it is monotone") {
  FkParams p;
  p.dw_mm2_per_day = 0.5;
  p.rho_per_day = 0.2;
  p.stop_time_days = 100;
  TimeStepPlan plan = plan_time_step(p, {2, 2, 2});
  CHECK(plan.dt_days == doctest::Approx(0.5));  // N = 100·0.5/4·8 + 100 = 200
  CHECK(plan.max_steps == 200);
  CHECK(plan.rule == "reference");
  p.rho_per_day = 10;  // 1.1·T·rho = 1100 dominates
  p.dw_mm2_per_day = 0.001;
  plan = plan_time_step(p, {1, 1, 1});
  CHECK(plan.n_steps_real == doctest::Approx(1100));  // 1.1·100·10 rounds to 1100.0000000000002 in double,
  CHECK(plan.max_steps == 1101);                      // as in the reference, so ceil gives one more step
  CHECK(plan.rule == "reference");
}

TEST_CASE("monotone guard shortens dt only when diffusion plus reaction would exceed one step") {
  FkParams p;
  p.dw_mm2_per_day = 5.5;
  p.rho_per_day = 10;
  p.stop_time_days = 100;
  TimeStepPlan plan = plan_time_step(p, {2, 2, 2});
  CHECK(plan.rule == "monotone");
  CHECK(plan.dt_days * (2 * 5.5 * 3 / 4.0 + 10) <= 1.0 + 1e-12);
  p.monotone_dt = false;
  CHECK(plan_time_step(p, {2, 2, 2}).rule == "reference");
}

TEST_CASE("anisotropic spacing uses the smallest spacing, and absurd step counts are refused") {
  FkParams p;
  p.dw_mm2_per_day = 1;
  p.rho_per_day = 0.1;
  p.stop_time_days = 10;
  CHECK(plan_time_step(p, {1, 2, 3}).max_steps == 180);  // 10·1/1·8 + 100
  p.stop_time_days = 1e9;
  CHECK_THROWS_WITH_AS(plan_time_step(p, {1, 1, 1}), doctest::Contains("check the units"), std::invalid_argument);
}

TEST_CASE("parameter validation names the bad key") {
  FkParams p;
  p.dw_mm2_per_day = -1;
  CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("dw"), std::invalid_argument);
  p = FkParams{};
  p.rho_per_day = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("rho"), std::invalid_argument);
  p = FkParams{};
  p.stop_volume_mm3 = 0.0;
  CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("stop_volume"), std::invalid_argument);
}

TEST_CASE("FkParams round-trips through JSON and rejects unknown keys") {
  FkParams p;
  p.dw_mm2_per_day = 1.25;
  p.stop_volume_mm3 = 1234.5;
  p.seed_mm = {1, 2, 3};
  nlohmann::json j = p;
  FkParams q = j.get<FkParams>();
  CHECK(q.dw_mm2_per_day == 1.25);
  CHECK(q.stop_volume_mm3.value() == 1234.5);
  CHECK(q.seed_mm[2] == 3);
  j["diffusivity"] = 1;
  CHECK_THROWS_WITH_AS(j.get<FkParams>(), doctest::Contains("diffusivity"), std::invalid_argument);
}
