// NetConfig validation and JSON.
#include "models/net_config.h"

#include <stdexcept>

namespace tumorforge::models {

void NetConfig::validate() const {
  if (kind != "surrogate" && kind != "inverse") throw std::invalid_argument("model kind must be surrogate or inverse, got '" + kind + "'");
  if (widths.size() != 5) throw std::invalid_argument("widths must list 5 channel counts (4 stages + neck)");
  for (int64_t w : widths)
    if (w < 1 || w > 4096) throw std::invalid_argument("widths must be within 1..4096");
  if (kernel_size < 1 || kernel_size % 2 == 0) throw std::invalid_argument("kernel_size must be odd");
  if (input_size < 16 || input_size % 16 != 0)
    throw std::invalid_argument("input size (crop) " + std::to_string(input_size) + " must be a positive multiple of 16");
  if (n_params != 5) throw std::invalid_argument("n_params must be 5");
}

void to_json(nlohmann::json& j, const NetConfig& c) {
  j = {{"kind", c.kind},           {"widths", c.widths},         {"kernel_size", c.kernel_size},
       {"input_size", c.input_size}, {"n_params", c.n_params},   {"layer_scale_init", c.layer_scale_init},
       {"mask_threshold", c.mask_threshold}, {"theta_film", c.theta_film}};
}

void from_json(const nlohmann::json& j, NetConfig& c) {
  nlohmann::json known = NetConfig{};
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
  c.theta_film = j.value("theta_film", false);  // absent: a bundle from before FiLM conditioning
}

}  // namespace tumorforge::models
