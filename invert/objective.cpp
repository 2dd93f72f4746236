// Inversion losses (see objective.h).
#include "invert/objective.h"

namespace tumorforge::invert {

void to_json(nlohmann::json& j, const ObjectiveConfig& c) {
  j = {{"seg_loss", c.seg_loss}, {"tau_core", c.tau_core}, {"tau_edema", c.tau_edema}, {"softness", c.softness}};
}

namespace {

torch::Tensor per_sample_sum(const torch::Tensor& x) { return x.flatten(1).sum(1); }

torch::Tensor soft_dice_loss(const torch::Tensor& p, const torch::Tensor& t, const torch::Tensor& mask) {
  const auto inter = per_sample_sum(p * t * mask), total = per_sample_sum((p + t) * mask);
  return 1 - (2 * inter + 1e-6) / (total + 1e-6);
}

torch::Tensor bce_loss(const torch::Tensor& p, const torch::Tensor& t, const torch::Tensor& mask) {
  const auto q = p.clamp(1e-6, 1 - 1e-6);
  const auto l = -(t * torch::log(q) + (1 - t) * torch::log(1 - q));
  return per_sample_sum(l * mask) / per_sample_sum(mask.expand_as(l)).clamp_min(1);
}

}  // namespace

torch::Tensor case_loss(const torch::Tensor& pred, const ModelCase& c, const torch::Tensor& mask, const ObjectiveConfig& cfg) {
  return field_loss(pred, c.kind, c.target, c.core, c.whole, mask, cfg);
}

torch::Tensor field_loss(const torch::Tensor& pred, TargetKind kind, const torch::Tensor& target, const torch::Tensor& core_t,
                         const torch::Tensor& whole_t, const torch::Tensor& mask, const ObjectiveConfig& cfg) {
  const auto dev = pred.device();
  const auto m = mask.to(dev);
  if (kind == TargetKind::kConcentration) {
    const auto diff = (pred - target.to(dev)) * m;
    return per_sample_sum(diff * diff) / per_sample_sum(m.expand_as(diff)).clamp_min(1);
  }
  const auto soft_core = torch::sigmoid((pred - cfg.tau_core) / cfg.softness);
  const auto soft_whole = torch::sigmoid((pred - cfg.tau_edema) / cfg.softness);
  const auto core = core_t.to(dev), whole = whole_t.to(dev);
  if (cfg.seg_loss == "bce") return 0.5 * (bce_loss(soft_core, core, m) + bce_loss(soft_whole, whole, m));
  return 0.5 * (soft_dice_loss(soft_core, core, m) + soft_dice_loss(soft_whole, whole, m));
}

}  // namespace tumorforge::invert
