// NetConfig validation and JSON.
#include "models/net_config.h"

#include <cmath>
#include <stdexcept>

namespace tumorforge::models {

void NetConfig::validate() const {
  if (kind != "surrogate" && kind != "inverse") throw std::invalid_argument("model kind must be surrogate or inverse, got '" + kind + "'");
  if (widths.size() < 2 || widths.size() > 7)
    throw std::invalid_argument("widths must list 2 to 7 channel counts (one per encoder stage, then the neck)");
  for (int64_t w : widths)
    if (w < 1 || w > 4096) throw std::invalid_argument("widths must be within 1..4096");
  if (kernel_size < 1 || kernel_size % 2 == 0 || kernel_size > 15) throw std::invalid_argument("kernel_size must be odd, 1..15");
  // Bundles are files from elsewhere: bound what a config can make the loader allocate.
  if (input_size > 512) throw std::invalid_argument("input size (crop) " + std::to_string(input_size) + " is above 512");
  const int64_t div = int64_t{1} << stages();
  if (input_size < div || input_size % div != 0)
    throw std::invalid_argument("input size (crop) " + std::to_string(input_size) + " must be a positive multiple of " +
                                std::to_string(div) + " (2^stages, " + std::to_string(stages()) + " stages)");
  if (wiring != "unet" && wiring != "paper") throw std::invalid_argument("wiring must be unet or paper, got '" + wiring + "'");
  if (!(seed_sigma_voxels > 0)) throw std::invalid_argument("seed_sigma_voxels must be positive");
  if (n_params != 5) throw std::invalid_argument("n_params must be 5");
  const FkPrior& p = fk_prior;
  if (p.steps < 0 || p.steps > 10000) throw std::invalid_argument("fk_prior.steps must be within 0..10000");
  if (p.enabled() && kind != "surrogate") throw std::invalid_argument("fk_prior is a surrogate input; the inverse net has none");
  auto positive = [](double v, const char* what) {
    if (!(v > 0) || !std::isfinite(v)) throw std::invalid_argument(std::string("fk_prior.") + what + " must be positive and finite");
  };
  positive(p.spacing_mm, "spacing_mm");
  positive(p.stop_time_days, "stop_time_days");
  positive(p.ratio_dw_dg, "ratio_dw_dg");
  positive(p.seed_mass_mm3, "seed_mass_mm3");
  positive(p.seed_sigma_voxels, "seed_sigma_voxels");
  for (const auto& r : {p.mu_d_range, p.mu_rho_range})
    if (!(r[0] >= 0 && r[1] > r[0] && std::isfinite(r[1]))) throw std::invalid_argument("fk_prior: a μ range must be 0 <= lo < hi");
}

double NetConfig::min_parameters() const {
  double n = 0;
  for (int64_t w : widths) n += 8.0 * static_cast<double>(w) * static_cast<double>(w);
  if (kind == "surrogate") n += 6.0 * static_cast<double>(widths.back()) * std::pow(static_cast<double>(neck_size()), 3);
  return n;
}

void to_json(nlohmann::json& j, const FkPrior& p) {
  j = {{"steps", p.steps}, {"spacing_mm", p.spacing_mm}, {"stop_time_days", p.stop_time_days}, {"mu_d_range", p.mu_d_range},
       {"mu_rho_range", p.mu_rho_range}, {"ratio_dw_dg", p.ratio_dw_dg}, {"seed_mass_mm3", p.seed_mass_mm3},
       {"seed_sigma_voxels", p.seed_sigma_voxels}};
}

void from_json(const nlohmann::json& j, FkPrior& p) {
  const nlohmann::json known = FkPrior{};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.contains(it.key())) throw std::invalid_argument("unknown fk_prior key '" + it.key() + "'");
  const FkPrior d;
  p.steps = j.value("steps", d.steps);
  p.spacing_mm = j.value("spacing_mm", d.spacing_mm);
  p.stop_time_days = j.value("stop_time_days", d.stop_time_days);
  p.mu_d_range = j.value("mu_d_range", d.mu_d_range);
  p.mu_rho_range = j.value("mu_rho_range", d.mu_rho_range);
  p.ratio_dw_dg = j.value("ratio_dw_dg", d.ratio_dw_dg);
  p.seed_mass_mm3 = j.value("seed_mass_mm3", d.seed_mass_mm3);
  p.seed_sigma_voxels = j.value("seed_sigma_voxels", d.seed_sigma_voxels);
}

void to_json(nlohmann::json& j, const NetConfig& c) {
  j = {{"kind", c.kind},           {"widths", c.widths},         {"kernel_size", c.kernel_size},
       {"input_size", c.input_size}, {"n_params", c.n_params},   {"layer_scale_init", c.layer_scale_init},
       {"mask_threshold", c.mask_threshold}, {"theta_film", c.theta_film}, {"seed_channel", c.seed_channel},
       {"seed_sigma_voxels", c.seed_sigma_voxels}, {"seed_global", c.seed_global}, {"wiring", c.wiring}};
  if (c.fk_prior.enabled()) j["fk_prior"] = c.fk_prior;  // absent = off, so configs without it read as they did
}

void from_json(const nlohmann::json& j, NetConfig& c) {
  nlohmann::json known = NetConfig{};
  known["fk_prior"] = FkPrior{};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.contains(it.key())) throw std::invalid_argument("unknown model config key '" + it.key() + "'");
  NetConfig d;
  c.kind = j.value("kind", d.kind);
  c.widths = j.value("widths", d.widths);
  c.kernel_size = j.value("kernel_size", d.kernel_size);
  c.input_size = j.value("input_size", d.input_size);
  c.n_params = j.value("n_params", d.n_params);
  c.layer_scale_init = j.value("layer_scale_init", d.layer_scale_init);
  c.mask_threshold = j.value("mask_threshold", d.mask_threshold);
  // Absent keys: a bundle from before the feature, which it did not have.
  c.theta_film = j.value("theta_film", false);
  c.seed_channel = j.value("seed_channel", false);
  c.seed_sigma_voxels = j.value("seed_sigma_voxels", d.seed_sigma_voxels);
  c.wiring = j.value("wiring", std::string("unet"));
  c.seed_global = j.value("seed_global", true);
  c.fk_prior = j.contains("fk_prior") ? j.at("fk_prior").get<FkPrior>() : FkPrior{};
}

}  // namespace tumorforge::models
