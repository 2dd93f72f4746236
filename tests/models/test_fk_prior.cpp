// The surrogate's coarse FK prior (models/fk_prior.h): mass conservation of its flux form, growth and spread with
// μ_ρ and μ_D, a centre of mass that moves with the seed, c in [0, 1] and zero outside matter, and d/dθ against
// central finite differences (float64). Its agreement with the numerical solver on anatomy is checked in
// tests/invert (the seed-follow moves).
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cmath>

#include "models/bundle.h"
#include "models/fk_prior.h"
#include "models/networks.h"

using namespace tumorforge::models;

namespace {

FkPrior prior(int64_t steps) {
  FkPrior p;
  p.steps = steps;
  p.spacing_mm = 4;
  p.stop_time_days = 100;
  return p;
}

torch::Tensor white_matter(int64_t s, torch::Dtype dt = torch::kDouble) {
  auto t = torch::zeros({1, 3, s, s, s}, dt);
  t.narrow(1, 0, 1).fill_(1.0);
  return t;
}

// Normalized θ from μ_D, μ_ρ (the default ranges 0..√1000) and a seed offset in voxels from the cube centre.
torch::Tensor theta_of(double dx_vox, double mu_d, double mu_rho, int64_t S) {
  const double hi = std::sqrt(1000.0);
  return torch::tensor({dx_vox / (S / 2.0), 0.0, 0.0, 2 * mu_d / hi - 1, 2 * mu_rho / hi - 1}, torch::kDouble).view({1, 5});
}

double com_x(const torch::Tensor& c) {
  const auto S = c.size(2);
  const auto prof = c.sum({0, 1, 3, 4});
  return (prof * torch::arange(S, c.options())).sum().item<double>() / prof.sum().item<double>();
}

}  // namespace

TEST_CASE("coarse FK prior: flux form conserves the seed mass without growth, growth and spread follow mu_rho, mu_D") {
  const int64_t S = 24;
  const auto t = white_matter(S);
  const FkPrior p = prior(64);
  const auto still = coarse_fk(t, theta_of(0, 6, 0, S), p, 0.1);
  CHECK(still.sum().item<double>() * 64 == doctest::Approx(p.seed_mass_mm3).epsilon(1e-9));  // h³ = 64 mm³
  const auto small = coarse_fk(t, theta_of(0, 4, 3, S), p, 0.1), fast = coarse_fk(t, theta_of(0, 4, 4, S), p, 0.1);
  const auto wide = coarse_fk(t, theta_of(0, 7, 3, S), p, 0.1);
  CHECK(fast.sum().item<double>() > 1.5 * small.sum().item<double>());
  CHECK(wide.sum().item<double>() > 1.5 * small.sum().item<double>());
  for (const auto& c : {still, small, fast, wide}) {
    CHECK(c.min().item<double>() >= 0);
    CHECK(c.max().item<double>() <= 1);
  }
  // Far beyond the explicit limit of dt (μ_D = 31 mm: D_w = 9.6 mm²/day, the cap is 1.5) the solve stays bounded.
  const auto huge = coarse_fk(t, theta_of(0, 31, 20, S), p, 0.1);
  CHECK(huge.isfinite().all().item<bool>());
  CHECK(huge.max().item<double>() <= 1);
  CHECK(coarse_fk_dw_cap(p) == doctest::Approx(0.9 * 16 / (6 * 100.0 / 64)));
}

TEST_CASE("coarse FK prior: its tumor moves with the seed on uniform tissue and stays out of non-matter voxels") {
  const int64_t S = 24;
  auto t = white_matter(S);
  const FkPrior p = prior(64);
  const double c0 = com_x(coarse_fk(t, theta_of(0, 4, 3, S), p, 0.1));
  for (double d : {-2.0, 0.5, 1.25, 3.0}) {
    CAPTURE(d);
    CHECK(com_x(coarse_fk(t, theta_of(d, 4, 3, S), p, 0.1)) - c0 == doctest::Approx(d).epsilon(0.02));
  }
  // A slab of CSF (no matter) at x >= 15: nothing enters it and the tumor is pushed back from it.
  t.narrow(2, 15, S - 15).zero_();
  t.narrow(1, 2, 1).narrow(2, 15, S - 15).fill_(1.0);
  const auto walled = coarse_fk(t, theta_of(2, 5, 3, S), p, 0.1);
  CHECK(walled.narrow(2, 15, S - 15).abs().max().item<double>() == 0);
  CHECK(com_x(walled) < com_x(coarse_fk(white_matter(S), theta_of(2, 5, 3, S), p, 0.1)) - 0.2);
}

TEST_CASE("coarse FK prior: d/dtheta matches central finite differences (float64) on mixed tissue") {
  torch::manual_seed(4);
  const int64_t S = 16;
  auto wm = torch::rand({1, 1, S, S, S}, torch::kDouble);
  auto gm = (1 - wm) * torch::rand({1, 1, S, S, S}, torch::kDouble);
  const auto t = torch::cat({wm, gm, 1 - wm - gm}, 1);
  const auto weights = torch::randn({1, 1, S, S, S}, torch::kDouble);
  const FkPrior p = prior(12);
  auto theta = torch::tensor({0.15, -0.1, 0.05, -0.5, -0.6}, torch::kDouble).view({1, 5}).requires_grad_();
  auto f = [&](const torch::Tensor& th) { return (coarse_fk(t, th, p, 0.1) * weights).sum(); };
  const auto g = torch::autograd::grad({f(theta)}, {theta})[0];
  for (int64_t i = 0; i < 5; ++i) {
    const double eps = 1e-6;
    auto tp = theta.detach().clone(), tm = theta.detach().clone();
    tp[0][i] += eps;
    tm[0][i] -= eps;
    CAPTURE(i);
    CHECK(g[0][i].item<double>() == doctest::Approx((f(tp).item<double>() - f(tm).item<double>()) / (2 * eps)).epsilon(1e-5));
  }
}

TEST_CASE("a surrogate with the prior has a 5-channel stem, a zero-weight new channel leaves a bundle's output as it was") {
  torch::manual_seed(6);
  NetConfig c;
  c.widths = {4, 6, 8};
  c.kernel_size = 3;
  c.input_size = 16;
  SurrogateNet plain(c);
  c.fk_prior = prior(8);
  SurrogateNet with(c);
  CHECK(with->named_parameters()["encoder.stem.weight"].size(1) == 5);
  std::map<std::string, torch::Tensor> w;
  for (const auto& kv : plain->named_parameters()) w[kv.key()] = kv.value().detach().clone();
  w = with_zero_input_channel(w, "encoder.stem.weight");
  {
    torch::NoGradGuard ng;
    for (auto& kv : with->named_parameters()) kv.value().copy_(w.at(kv.key()));
  }
  const auto tissue = white_matter(16, torch::kFloat);
  const auto theta = torch::tensor({0.1f, -0.2f, 0.05f, -0.6f, -0.5f}).view({1, 5});
  CHECK(torch::equal(plain->forward(tissue, theta), with->forward(tissue, theta)));
  CHECK_THROWS_WITH_AS(with_zero_input_channel(w, "nope"), "no conv weight 'nope' to widen", std::invalid_argument);
  // JSON: absent means off; present round-trips; unknown keys are refused.
  nlohmann::json j = c;
  CHECK(j.at("fk_prior").at("steps") == 8);
  CHECK(j.get<NetConfig>().fk_prior.steps == 8);
  nlohmann::json plain_json = NetConfig{};
  CHECK_FALSE(plain_json.contains("fk_prior"));
  CHECK_FALSE(plain_json.get<NetConfig>().fk_prior.enabled());
  j["fk_prior"]["typo"] = 1;
  CHECK_THROWS_WITH_AS(j.get<NetConfig>(), "unknown fk_prior key 'typo'", std::invalid_argument);
}
