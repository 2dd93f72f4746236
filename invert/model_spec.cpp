// ModelSpec from bundle metadata (see model_spec.h).
#include "invert/model_spec.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tumorforge::invert {

ModelSpec ModelSpec::from_bundle(const models::Bundle& b, const std::string& path) {
  ModelSpec s;
  try {
    const auto& data = b.meta.at("data");
    s.crop = data.at("crop").get<int64_t>();
    s.spacing_mm = data.at("store_grid").at("spacing_mm").get<std::array<double, 3>>();
    const auto& cfg = data.at("config");
    s.stop_time_days = cfg.at("stop_time_max").get<double>();
    s.ratio_dw_dg = cfg.at("ratio_dw_dg").get<double>();
    s.th_matter = cfg.at("th_matter").get<double>();
    s.monotone_dt = cfg.value("monotone_dt", true);
    s.range = datagen::ThetaRange::from_json(b.meta.at("theta_range"));
    if (b.meta.contains("theta_stats")) {
      const auto& st = b.meta.at("theta_stats");
      s.train_mean = st.at("mean").get<Theta>();
      s.support_lo = st.at("min").get<Theta>();
      s.support_hi = st.at("max").get<Theta>();
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(path + ": bundle metadata lacks what inversion needs (" + std::string(e.what()) + ")");
  }
  s.mask_threshold = b.config.mask_threshold;
  if (s.crop != b.config.input_size)
    throw std::invalid_argument(path + ": data crop " + std::to_string(s.crop) + " differs from the network input " +
                                std::to_string(b.config.input_size));
  if (!(s.stop_time_days > 0)) throw std::invalid_argument(path + ": stop_time_max must be positive");
  return s;
}

Theta ModelSpec::normalize(const Theta& raw) const { return range.normalize(raw); }

Theta ModelSpec::denormalize(const Theta& n) const { return range.denormalize(n); }

Theta ModelSpec::clamp_to_support(Theta t) const {
  for (size_t k = 0; k < datagen::kThetaSize; ++k) t[k] = std::clamp(t[k], support_lo[k], support_hi[k]);
  return t;
}

nlohmann::json ModelSpec::to_json() const {
  nlohmann::json j = {{"crop", crop},       {"spacing_mm", spacing_mm},   {"theta_lo", range.lo},
                      {"theta_hi", range.hi},     {"stop_time_days", stop_time_days}, {"ratio_dw_dg", ratio_dw_dg},
                      {"th_matter", th_matter}, {"monotone_dt", monotone_dt}, {"mask_threshold", mask_threshold}};
  if (train_mean) j["train_mean_normalized"] = *train_mean;
  j["support_lo_normalized"] = support_lo;
  j["support_hi_normalized"] = support_hi;
  return j;
}

void check_same_spec(const ModelSpec& a, const std::string& pa, const ModelSpec& b, const std::string& pb) {
  auto close = [](double x, double y) { return std::abs(x - y) <= 1e-6 * std::max(1.0, std::abs(x)); };
  bool same = a.crop == b.crop && close(a.stop_time_days, b.stop_time_days);
  for (size_t k = 0; k < 3; ++k) same = same && close(a.spacing_mm[k], b.spacing_mm[k]);
  for (size_t k = 0; k < datagen::kThetaSize; ++k)
    same = same && close(a.range.lo[k], b.range.lo[k]) && close(a.range.hi[k], b.range.hi[k]);
  if (!same)
    throw std::invalid_argument(pa + " and " + pb + " were trained on different grids or θ ranges; use a matching pair");
}

}  // namespace tumorforge::invert
