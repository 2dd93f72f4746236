// Networks and the custom depthwise op: shapes and the brain mask, the custom op against LibTorch's conv3d
// (outputs and every gradient, float64), and d(output)/dθ against central finite differences.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cmath>

#include "models/depthwise_conv3d.h"
#include "models/field_metrics.h"
#include "models/networks.h"

using namespace tumorforge::models;

namespace {

NetConfig tiny(const std::string& kind) {
  NetConfig c;
  c.kind = kind;
  c.widths = {4, 6, 8, 10, 12};
  c.kernel_size = 3;
  c.input_size = 16;
  c.layer_scale_init = 0.5;  // not 1e-6: the blocks must matter for the gradient checks
  return c;
}

torch::Tensor tissue_batch(int64_t n, int64_t s) {
  auto wm = torch::rand({n, 1, s, s, s}, torch::kDouble);
  auto gm = (1 - wm) * torch::rand({n, 1, s, s, s}, torch::kDouble);
  auto keep = (torch::rand({n, 1, s, s, s}, torch::kDouble) > 0.2).to(torch::kDouble);  // 20% background
  return torch::cat({wm * keep, gm * keep, (1 - wm - gm) * keep}, 1);
}

}  // namespace

TEST_CASE("surrogate and inverse produce the documented shapes, the surrogate is zero outside the brain mask") {
  torch::manual_seed(0);
  SurrogateNet s(tiny("surrogate"));
  InverseNet inv(tiny("inverse"));
  auto tissue = tissue_batch(2, 16).to(torch::kFloat);
  auto theta = torch::rand({2, 5}) * 2 - 1;
  auto c = s->forward(tissue, theta);
  CHECK(c.sizes() == torch::IntArrayRef({2, 1, 16, 16, 16}));
  auto mask = s->brain_mask(tissue);
  CHECK(c.masked_select(mask == 0).abs().max().item<float>() == 0.0f);
  CHECK(c.masked_select(mask > 0).min().item<float>() > 0.0f);
  auto t = inv->forward(c, tissue);
  CHECK(t.sizes() == torch::IntArrayRef({2, 5}));
  CHECK(t.abs().max().item<float>() < 1.0f);
  CHECK_THROWS_WITH(s->forward(tissue.narrow(2, 0, 8), theta), doctest::Contains("tissue must be"));
  NetConfig bad = tiny("surrogate");
  bad.input_size = 24;
  CHECK_THROWS_WITH(SurrogateNet{bad}, doctest::Contains("multiple of 16"));
}

TEST_CASE("the seed channel is a Gaussian at the seed offset: peak at (S-1)/2 + theta*S/2 voxels, unit height") {
  NetConfig c = tiny("surrogate");
  SurrogateNet s(c);
  // Offsets of -4, +2, 0 voxels from the centre 7.5 of a 16-cube (theta = offset / 8) and a half-voxel one.
  auto theta = torch::tensor({{-0.5f, 0.25f, 0.0f, 0.0f, 0.0f}, {0.0625f, 0.0f, 0.0f, 0.0f, 0.0f}});
  auto m = s->seed_map(theta);
  CHECK(m.sizes() == torch::IntArrayRef({2, 1, 16, 16, 16}));
  // Sample 0: peak between voxels (3|4, 9|10, 7|8) at (3.5, 9.5, 7.5): the eight neighbours share the maximum.
  const float g = std::exp(-0.5f * 0.25f);  // one axis half a voxel off, σ = 1 voxel
  CHECK(m[0][0][3][9][7].item<float>() == doctest::Approx(g * g * g).epsilon(1e-5));
  CHECK(m[0][0][4][10][8].item<float>() == doctest::Approx(g * g * g).epsilon(1e-5));
  CHECK(m[0][0][3][9][7].item<float>() == doctest::Approx(m[0].max().item<float>()).epsilon(1e-6));
  // Sample 1: x at 8.0 exactly, so voxel 8 is the unique maximum along x.
  CHECK(m[1][0][8][7][7].item<float>() > m[1][0][7][7][7].item<float>());
  CHECK(m[1][0][8][7][7].item<float>() == doctest::Approx(g * g).epsilon(1e-5));
}

TEST_CASE("the seed-channel surrogate has a 4-channel stem and its output depends on the seed offset") {
  torch::manual_seed(3);
  NetConfig c = tiny("surrogate");
  SurrogateNet with(c);
  c.seed_channel = false;
  SurrogateNet without(c);
  auto tissue = tissue_batch(1, 16).to(torch::kFloat);
  CHECK(with->named_parameters()["encoder.stem.weight"].size(1) == 4);
  CHECK(without->named_parameters()["encoder.stem.weight"].size(1) == 3);
  auto a = torch::zeros({1, 5}), b = a.clone();
  b[0][0] = 0.5f;
  // Untrained, both nets are near 0.5 everywhere; the difference the seed makes is what is compared.
  const double d_with = (with->forward(tissue, a) - with->forward(tissue, b)).abs().max().item<double>();
  CHECK(d_with > 1e-4);
}

TEST_CASE("seed_global = false: the neck embedding and FiLM get no seed offset, only mu_D and mu_rho") {
  torch::manual_seed(5);
  auto tissue = tissue_batch(2, 16).to(torch::kFloat);
  const auto theta = torch::tensor({0.3f, -0.2f, 0.1f, 0.5f, -0.4f, -0.3f, 0.2f, 0.4f, -0.6f, 0.7f}).view({2, 5});
  for (bool global : {true, false}) {
    CAPTURE(global);
    NetConfig c = tiny("surrogate");
    c.seed_global = global;
    SurrogateNet s(c);
    s->forward(tissue, theta).pow(2).sum().backward();
    // The gradient reaching a global layer's seed columns is zero exactly when the seed does not enter it.
    for (const std::string name : {"theta_embed.weight", "film.0.weight", "film.1.weight"}) {
      CAPTURE(name);
      const auto g = s->named_parameters()[name].grad();
      CHECK((g.narrow(1, 0, 3).abs().max().item<float>() > 0) == global);
      CHECK(g.narrow(1, 3, 2).abs().max().item<float>() > 0);
    }
  }
  NetConfig c = tiny("surrogate");
  c.seed_global = false;
  c.seed_channel = false;  // no channel: θ is global whole whatever seed_global says
  CHECK(c.seed_is_global());
}

TEST_CASE("the paper wiring: 3 stages on a 16-cube give a 2^3 neck, no full-resolution skip, documented shapes") {
  torch::manual_seed(4);
  NetConfig c = tiny("surrogate");
  c.widths = {4, 6, 8, 10};
  c.wiring = "paper";
  c.seed_channel = false;
  c.theta_film = false;
  SurrogateNet s(c);
  CHECK(c.neck_size() == 2);
  const auto params = s->named_parameters();
  CHECK(params["theta_embed.weight"].size(0) == 10 * 2 * 2 * 2);
  CHECK(params.find("fuse.2.weight") == nullptr);  // the full-resolution decoder stage has no skip to fuse
  CHECK(params["fuse.1.weight"].size(1) == 2 * 6);
  auto tissue = tissue_batch(2, 16).to(torch::kFloat);
  CHECK(s->forward(tissue, torch::zeros({2, 5})).sizes() == torch::IntArrayRef({2, 1, 16, 16, 16}));
  NetConfig bad = c;
  bad.input_size = 12;
  CHECK_THROWS_WITH(SurrogateNet{bad}, doctest::Contains("multiple of 8"));
  bad = c;
  bad.wiring = "vnet";
  CHECK_THROWS_WITH(SurrogateNet{bad}, doctest::Contains("wiring must be unet or paper"));
}

TEST_CASE("a config saved before the seed channel and wiring keys existed loads as the net it described") {
  nlohmann::json old = {{"kind", "surrogate"}, {"widths", {4, 6, 8, 10, 12}}, {"kernel_size", 3}, {"input_size", 16},
                        {"n_params", 5}, {"layer_scale_init", 0.5}, {"mask_threshold", 0.1}, {"theta_film", true}};
  NetConfig c = old.get<NetConfig>();
  CHECK_FALSE(c.seed_channel);
  CHECK(c.seed_global);  // the networks of sessions 2–9 fed the seed to the global layers too
  CHECK(c.wiring == "unet");
  CHECK(c.in_channels() == 3);
  nlohmann::json now = NetConfig{};
  CHECK(now.at("seed_channel").get<bool>());
  CHECK_FALSE(now.at("seed_global").get<bool>());
  CHECK_FALSE(now.get<NetConfig>().seed_global);
}

TEST_CASE("SameConv3d: torch::nn::Conv3d's initial weights for a seed, and its outputs and gradients (float64)") {
  torch::manual_seed(9);
  torch::nn::Conv3d ref_module(torch::nn::Conv3dOptions(4, 3, 3).padding(1));
  torch::manual_seed(9);
  SameConv3d ours_module(4, 3, 3);
  const auto ref_p = ref_module->named_parameters(), ours_p = ours_module->named_parameters();
  CHECK(ours_p.keys() == ref_p.keys());
  for (const auto& kv : ref_p) CHECK(torch::equal(kv.value(), ours_p[kv.key()]));
  auto x = torch::randn({2, 4, 6, 7, 9}, torch::kDouble).requires_grad_();
  auto w = torch::randn({3, 4, 3, 3, 3}, torch::kDouble).requires_grad_();
  auto b = torch::randn({3}, torch::kDouble).requires_grad_();
  auto gout = torch::randn({2, 3, 6, 7, 9}, torch::kDouble);
  auto ours = dense_conv3d(x, w, b), ref = torch::conv3d(x, w, b, 1, 1);
  CHECK(torch::allclose(ours, ref, 1e-12, 1e-12));
  auto g = torch::autograd::grad({ours}, {x, w, b}, {gout}), rg = torch::autograd::grad({ref}, {x, w, b}, {gout});
  for (int i = 0; i < 3; ++i) CHECK(torch::allclose(g[i], rg[i], 1e-10, 1e-10));
}

TEST_CASE("custom depthwise conv3d equals LibTorch's conv3d in output and all gradients (float64)") {
  torch::manual_seed(1);
  for (int64_t k : {3, 7}) {
    CAPTURE(k);
    auto x = torch::randn({2, 3, 9, 8, 11}, torch::kDouble).requires_grad_();
    auto w = torch::randn({3, 1, k, k, k}, torch::kDouble).requires_grad_();
    auto b = torch::randn({3}, torch::kDouble).requires_grad_();
    auto gout = torch::randn({2, 3, 9, 8, 11}, torch::kDouble);
    auto ours = depthwise_conv3d(x, w, b);
    auto gx = torch::autograd::grad({ours}, {x, w, b}, {gout});
    auto ref = torch::conv3d(x, w, b, 1, k / 2, 1, 3);
    auto rx = torch::autograd::grad({ref}, {x, w, b}, {gout});
    CHECK(torch::allclose(ours, ref, 1e-12, 1e-12));
    for (int i = 0; i < 3; ++i) CHECK(torch::allclose(gx[i], rx[i], 1e-10, 1e-10));
  }
  {  // rows of 45: the kernel's 32-, 8- and 1-wide chunks all in one row
    auto x = torch::randn({1, 2, 4, 5, 45}, torch::kDouble).requires_grad_();
    auto w = torch::randn({2, 1, 5, 5, 5}, torch::kDouble), b = torch::randn({2}, torch::kDouble);
    auto gout = torch::randn({1, 2, 4, 5, 45}, torch::kDouble);
    auto ours = depthwise_conv3d(x, w, b), ref = torch::conv3d(x, w, b, 1, 2, 1, 2);
    CHECK(torch::allclose(ours, ref, 1e-12, 1e-12));
    CHECK(torch::allclose(torch::autograd::grad({ours}, {x}, {gout})[0], torch::autograd::grad({ref}, {x}, {gout})[0], 1e-10, 1e-10));
  }
  // Central differences on the op itself (independent of LibTorch's autograd).
  auto x = torch::randn({1, 2, 5, 5, 5}, torch::kDouble);
  auto w = torch::randn({2, 1, 3, 3, 3}, torch::kDouble).requires_grad_();
  auto b = torch::zeros({2}, torch::kDouble);
  auto loss = depthwise_conv3d(x, w, b).pow(2).sum();
  auto gw = torch::autograd::grad({loss}, {w})[0];
  auto wd = w.detach().clone();
  for (int64_t idx : {0, 13, 40}) {
    const double eps = 1e-6;
    auto plus = wd.clone(), minus = wd.clone();
    plus.view(-1)[idx] += eps;
    minus.view(-1)[idx] -= eps;
    double fd = (depthwise_conv3d_forward(x, plus, b).pow(2).sum().item<double>() -
                 depthwise_conv3d_forward(x, minus, b).pow(2).sum().item<double>()) / (2 * eps);
    CHECK(gw.view(-1)[idx].item<double>() == doctest::Approx(fd).epsilon(1e-6));
  }
}

TEST_CASE("surrogate gradient with respect to theta matches central finite differences (float64)") {
  torch::manual_seed(2);
  SurrogateNet s(tiny("surrogate"));
  s->to(torch::kDouble);
  s->eval();
  for (auto& p : s->parameters()) p.set_requires_grad(false);  // frozen, as in the inversion
  auto tissue = tissue_batch(1, 16);
  auto weights = torch::randn({1, 1, 16, 16, 16}, torch::kDouble);
  // Inside ±0.8 the seed Gaussian stays on the 16-cube, so the seed offsets have a gradient too.
  auto theta = (torch::rand({1, 5}, torch::kDouble) * 1.6 - 0.8).requires_grad_();
  auto f = [&](const torch::Tensor& t) { return (s->forward(tissue, t) * weights).sum(); };
  auto g = torch::autograd::grad({f(theta)}, {theta})[0];
  for (int64_t i = 0; i < 5; ++i) {
    const double eps = 1e-5;
    auto tp = theta.detach().clone(), tm = theta.detach().clone();
    tp[0][i] += eps;
    tm[0][i] -= eps;
    double fd = (f(tp).item<double>() - f(tm).item<double>()) / (2 * eps);
    CAPTURE(i);
    CHECK(g[0][i].item<double>() == doctest::Approx(fd).epsilon(1e-6));
  }
}

TEST_CASE("centres of mass: a voxel's index, the mass-weighted mean of two, and a gradient that moves them") {
  auto f = torch::zeros({2, 1, 8, 8, 8}, torch::kDouble);
  f[0][0][1][2][3] = 1;
  f[1][0][0][0][0] = 1;
  f[1][0][4][4][7] = 3;
  auto x = f.clone().requires_grad_(true);
  const auto r = centres_of_mass(x);
  CHECK(r.mass[0].item<double>() == 1);
  CHECK(r.mass[1].item<double>() == 4);
  CHECK(r.com[0][0].item<double>() == doctest::Approx(1));
  CHECK(r.com[0][1].item<double>() == doctest::Approx(2));
  CHECK(r.com[0][2].item<double>() == doctest::Approx(3));
  CHECK(r.com[1][0].item<double>() == doctest::Approx(3));     // (0·1 + 4·3) / 4
  CHECK(r.com[1][2].item<double>() == doctest::Approx(5.25));  // (0·1 + 7·3) / 4
  r.com[0][0].backward();
  // Adding mass at a higher i pulls the centre up; at a lower i, down.
  CHECK(x.grad()[0][0][7][0][0].item<double>() > 0);
  CHECK(x.grad()[0][0][0][0][0].item<double>() < 0);
}
