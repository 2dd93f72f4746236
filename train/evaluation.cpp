// Evaluation on a store (see evaluation.h).
#include "train/evaluation.h"

#include <cmath>

#include "datagen/theta.h"
#include "models/field_metrics.h"

namespace tumorforge::train {

Net::Net(const models::NetConfig& c) {
  if (c.kind == "surrogate") surrogate = models::SurrogateNet(c);
  else inverse = models::InverseNet(c);
}

torch::nn::Module& Net::module() { return surrogate ? static_cast<torch::nn::Module&>(*surrogate) : *inverse; }

Net::Terms Net::loss_terms(const Batch& b, bool mask_region, double com_weight) {
  if (surrogate) {
    auto pred = surrogate->forward(b.tissue, b.theta);
    auto err = (pred - b.concentration).pow(2);
    Terms t = {err.sum(), static_cast<double>(err.numel())};
    if (mask_region) {
      auto m = surrogate->brain_mask(b.tissue);
      t = {(err * m).sum(), m.sum().item<double>()};
    }
    if (com_weight > 0) {
      // Added to the sum scaled by the count, so that sum / count = MSE + weight × mean squared centre distance.
      const auto p = models::centres_of_mass(pred.to(torch::kFloat)), q = models::centres_of_mass(b.concentration.to(torch::kFloat));
      const auto valid = (q.mass >= 1.0).to(torch::kFloat);
      const auto d2 = (p.com - q.com).div(static_cast<double>(pred.size(2))).pow(2).sum(1);
      const auto mean_d2 = (d2 * valid).sum() / valid.sum().clamp_min(1.0);
      t.sum = t.sum + com_weight * t.count * mean_d2;
    }
    return t;
  }
  auto err = (inverse->forward(b.concentration, b.tissue) - b.theta).pow(2);
  return {err.sum(), static_cast<double>(err.numel())};
}

torch::Tensor Net::loss(const Batch& b, bool mask_region) {
  Terms t = loss_terms(b, mask_region);
  return t.sum / std::max(t.count, 1.0);
}

Batch to_device(Batch b, const torch::Device& d) {
  b.tissue = b.tissue.to(d);
  b.concentration = b.concentration.to(d);
  b.theta = b.theta.to(d);
  return b;
}

nlohmann::json evaluate(Net& net, const datagen::StoreReader& val, int64_t batch, int64_t limit, const torch::Device& dev) {
  torch::NoGradGuard no_grad;
  net.module().eval();
  std::vector<int64_t> idx = val.done();
  if (limit > 0 && static_cast<int64_t>(idx.size()) > limit) idx.resize(static_cast<size_t>(limit));
  nlohmann::json r;
  double n = 0;
  if (net.surrogate) {
    double mse = 0, mae = 0, ncc = 0, dice = 0, com_err = 0, com_n = 0, log_mass_ratio = 0;
    for (size_t s = 0; s < idx.size(); s += static_cast<size_t>(batch)) {
      std::vector<int64_t> part(idx.begin() + static_cast<long>(s), idx.begin() + static_cast<long>(std::min(idx.size(), s + static_cast<size_t>(batch))));
      Batch b = to_device(val.read(part), dev);
      auto pred = net.surrogate->forward(b.tissue, b.theta);
      auto mask = net.surrogate->brain_mask(b.tissue);
      for (int64_t k = 0; k < pred.size(0); ++k) {
        models::FieldMetrics m = models::field_metrics(pred[k][0], b.concentration[k][0], mask[k][0]);
        mse += m.mse, mae += m.mae, ncc += m.ncc, dice += m.dice, n += 1;
      }
      const auto p = models::centres_of_mass(pred.to(torch::kDouble)), q = models::centres_of_mass(b.concentration.to(torch::kDouble));
      const auto valid = q.mass >= 1.0;
      com_err += ((p.com - q.com).pow(2).sum(1).sqrt() * valid).sum().item<double>();
      com_n += valid.sum().item<double>();
      log_mass_ratio += ((p.mass.clamp_min(1e-6) / q.mass.clamp_min(1e-6)).log() * valid).sum().item<double>();
    }
    r = {{"val_mse", mse / n}, {"val_mae", mae / n}, {"val_ncc", ncc / n}, {"val_dice_033", dice / n}, {"val_loss", mse / n},
         // distance between predicted and true centres of mass, voxels (tumors of at least one voxel's mass)
         {"val_com_error_voxels", com_n > 0 ? com_err / com_n : 0.0},
         // predicted tumor mass (Σc) over the true one, geometric mean: 1 = no size bias, < 1 = tumors drawn too small
         {"val_mass_ratio", com_n > 0 ? std::exp(log_mass_ratio / com_n) : 1.0}};
  } else {
    constexpr auto K = static_cast<int64_t>(datagen::kThetaSize);
    torch::Tensor se = torch::zeros({K}, torch::kDouble), ae = torch::zeros({K}, torch::kDouble);
    torch::Tensor ae_raw = torch::zeros({K}, torch::kDouble);
    for (size_t s = 0; s < idx.size(); s += static_cast<size_t>(batch)) {
      std::vector<int64_t> part(idx.begin() + static_cast<long>(s), idx.begin() + static_cast<long>(std::min(idx.size(), s + static_cast<size_t>(batch))));
      Batch b = to_device(val.read(part), dev);
      auto pred = net.inverse->forward(b.concentration, b.tissue);
      auto d = (pred - b.theta).to(torch::kCPU, torch::kDouble);
      ae_raw += (val.denormalize_theta(pred.to(torch::kCPU)) - val.denormalize_theta(b.theta.to(torch::kCPU))).abs().to(torch::kDouble).sum(0);
      se += d.pow(2).sum(0);
      ae += d.abs().sum(0);
      n += static_cast<double>(d.size(0));
    }
    se /= n;
    ae /= n;
    std::vector<double> mse(se.data_ptr<double>(), se.data_ptr<double>() + K), mae(ae.data_ptr<double>(), ae.data_ptr<double>() + K);
    ae_raw /= n;
    std::vector<double> mae_raw(ae_raw.data_ptr<double>(), ae_raw.data_ptr<double>() + K);
    std::vector<std::string> names, units;
    for (const auto& c : datagen::kThetaComponents) names.push_back(c.name), units.push_back(c.unit);
    r = {{"val_theta_mse", mse}, {"val_theta_mae", mae}, {"val_theta_columns", names},
         {"val_theta_mae_physical", mae_raw}, {"val_theta_physical_units", units},
         {"val_loss", se.mean().item<double>()}};
  }
  r["val_samples"] = n;
  net.module().train();
  return r;
}

}  // namespace tumorforge::train
