// Field metrics (see field_metrics.h), computed in double.
#include "models/field_metrics.h"

#include <cmath>
#include <vector>

namespace tumorforge::models {

FieldMetrics field_metrics(const torch::Tensor& pred_in, const torch::Tensor& target_in, const torch::Tensor& mask_in,
                           double thr) {
  auto p = pred_in.to(torch::kCPU, torch::kDouble), t = target_in.to(torch::kCPU, torch::kDouble);
  auto m = mask_in.to(torch::kCPU, torch::kDouble) > 0.5;
  auto pm = p.masked_select(m), tm = t.masked_select(m);
  FieldMetrics r;
  if (pm.numel() == 0) return r;
  auto d = pm - tm;
  r.mse = d.pow(2).mean().item<double>();
  r.mae = d.abs().mean().item<double>();
  auto pc = pm - pm.mean(), tc = tm - tm.mean();
  double den = std::sqrt(pc.pow(2).sum().item<double>() * tc.pow(2).sum().item<double>());
  r.ncc = den > 0 ? (pc * tc).sum().item<double>() / den : 0.0;
  auto ps = pm >= thr, ts = tm >= thr;
  double inter = (ps & ts).sum().item<double>(), total = ps.sum().item<double>() + ts.sum().item<double>();
  r.dice = total > 0 ? 2 * inter / total : 1.0;
  return r;
}

CentresOfMass centres_of_mass(const torch::Tensor& f) {
  TORCH_CHECK(f.dim() == 5 && f.size(1) == 1, "centres_of_mass: expected (N, 1, S0, S1, S2), got ", f.sizes());
  const auto opt = f.options();
  const torch::Tensor mass = f.sum({1, 2, 3, 4});
  const torch::Tensor den = mass.clamp_min(1e-6);
  std::vector<torch::Tensor> axes;
  for (int64_t d = 2; d <= 4; ++d) {
    std::vector<int64_t> view(5, 1);
    view[static_cast<size_t>(d)] = f.size(d);
    axes.push_back((f * torch::arange(f.size(d), opt).view(view)).sum({1, 2, 3, 4}) / den);
  }
  return {torch::stack(axes, 1), mass};
}

}  // namespace tumorforge::models
