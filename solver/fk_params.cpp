// Validation, time-step planning and JSON conversion for FkParams.
#include "solver/fk_params.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace tumorforge::solver {
namespace {

constexpr int64_t kMaxSteps = 100'000'000;  // beyond this a run would take days: almost surely a unit mistake

void require(bool ok, const std::string& key, double value, const std::string& expected) {
  if (ok) return;
  std::string flag = key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  std::ostringstream s;
  s << key << " (--" << flag << ") = " << value << ": must be " << expected;
  throw std::invalid_argument(s.str());
}

}  // namespace

void FkParams::validate() const {
  auto positive = [](double x) { return std::isfinite(x) && x > 0; };
  require(positive(dw_mm2_per_day), "dw", dw_mm2_per_day, "a positive finite diffusivity in mm^2/day");
  require(std::isfinite(rho_per_day) && rho_per_day >= 0, "rho", rho_per_day, "a finite rate >= 0 in 1/day");
  require(positive(ratio_dw_dg), "ratio_dw_dg", ratio_dw_dg, "positive and finite");
  require(std::isfinite(th_matter) && th_matter > 0 && th_matter <= 2, "th_matter", th_matter, "within (0, 2]");
  require(positive(stop_time_days), "stop_time", stop_time_days, "a positive finite time in days");
  if (stop_volume_mm3) require(positive(*stop_volume_mm3), "stop_volume", *stop_volume_mm3, "a positive volume in mm^3");
  for (double x : seed_mm) require(std::isfinite(x), "seed_mm", x, "finite");
}

TimeStepPlan plan_time_step(const FkParams& p, const std::array<double, 3>& h) {
  const double T = p.stop_time_days;
  const double h_min = std::min({h[0], h[1], h[2]});
  TimeStepPlan plan;
  plan.n_steps_real = std::max(T * p.dw_mm2_per_day / (h_min * h_min) * 8 + 100, 1.1 * T * p.rho_per_day);
  plan.rule = "reference";
  if (p.monotone_dt) {
    double inv_h2 = 1 / (h[0] * h[0]) + 1 / (h[1] * h[1]) + 1 / (h[2] * h[2]);
    double n_monotone = T * (2 * p.dw_mm2_per_day * inv_h2 + p.rho_per_day);
    if (n_monotone > plan.n_steps_real) {
      plan.n_steps_real = n_monotone;
      plan.rule = "monotone";
    }
  }
  if (plan.n_steps_real > static_cast<double>(kMaxSteps)) {
    std::ostringstream s;
    s << "stop_time = " << T << " days with dw = " << p.dw_mm2_per_day << " needs " << plan.n_steps_real
      << " time steps (limit " << kMaxSteps << "); check the units (days, mm^2/day)";
    throw std::invalid_argument(s.str());
  }
  plan.max_steps = static_cast<int64_t>(std::ceil(plan.n_steps_real));
  plan.dt_days = T / plan.n_steps_real;
  return plan;
}

void to_json(nlohmann::json& j, const FkParams& p) {
  j = nlohmann::json{{"dw", p.dw_mm2_per_day},
                     {"rho", p.rho_per_day},
                     {"ratio_dw_dg", p.ratio_dw_dg},
                     {"th_matter", p.th_matter},
                     {"seed_mm", p.seed_mm},
                     {"stop_time", p.stop_time_days},
                     {"stop_volume", p.stop_volume_mm3 ? nlohmann::json(*p.stop_volume_mm3) : nlohmann::json()},
                     {"monotone_dt", p.monotone_dt}};
}

void from_json(const nlohmann::json& j, FkParams& p) {
  static const char* known[] = {"dw", "rho", "ratio_dw_dg", "th_matter", "seed_mm", "stop_time", "stop_volume",
                                "monotone_dt"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (std::find(std::begin(known), std::end(known), it.key()) == std::end(known))
      throw std::invalid_argument("unknown solver key '" + it.key() + "'");
  FkParams d;
  p.dw_mm2_per_day = j.value("dw", d.dw_mm2_per_day);
  p.rho_per_day = j.value("rho", d.rho_per_day);
  p.ratio_dw_dg = j.value("ratio_dw_dg", d.ratio_dw_dg);
  p.th_matter = j.value("th_matter", d.th_matter);
  p.seed_mm = j.value("seed_mm", d.seed_mm);
  p.stop_time_days = j.value("stop_time", d.stop_time_days);
  p.stop_volume_mm3.reset();
  if (j.contains("stop_volume") && !j.at("stop_volume").is_null()) p.stop_volume_mm3 = j.at("stop_volume").get<double>();
  p.monotone_dt = j.value("monotone_dt", d.monotone_dt);
}

}  // namespace tumorforge::solver
