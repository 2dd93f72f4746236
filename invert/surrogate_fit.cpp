// Direct prediction, L-BFGS and CMA-ES through the networks (see surrogate_fit.h).
#include "invert/surrogate_fit.h"

#include <algorithm>
#include <cmath>

#include "core/timing.h"
#include "invert/cmaes.h"
#include "models/bundle.h"
#include "core/provenance.h"

namespace tumorforge::invert {
namespace {

using core::Clock;
using core::seconds_since;

torch::Tensor theta_tensor(const std::vector<Theta>& thetas, const torch::Device& d) {
  constexpr auto K = static_cast<int64_t>(datagen::kThetaSize);
  torch::Tensor t = torch::empty({static_cast<int64_t>(thetas.size()), K});
  for (size_t i = 0; i < thetas.size(); ++i)
    for (size_t k = 0; k < datagen::kThetaSize; ++k) t[static_cast<int64_t>(i)][static_cast<int64_t>(k)] = static_cast<float>(thetas[i][k]);
  return t.to(d);
}

void freeze(torch::nn::Module& m) {
  m.eval();
  for (auto& p : m.parameters()) p.set_requires_grad(false);
}

}  // namespace

void to_json(nlohmann::json& j, const FitConfig& c) {
  j = {{"max_iterations", c.max_iterations},   {"inner_iterations", c.inner_iterations},
       {"max_evaluations", c.max_evaluations}, {"history", c.history}, {"tolerance", c.tolerance},
       {"patience", c.patience}, {"lbfgs_tolerance_grad", c.lbfgs_tolerance_grad},
       {"lbfgs_tolerance_change", c.lbfgs_tolerance_change}, {"parametrization", "theta = lo + (hi - lo) * sigmoid(u), lo/hi: training support"},
       {"cmaes_sigma", c.cmaes_sigma},
       {"cmaes_population", c.cmaes_population}, {"cmaes_max_evaluations", c.cmaes_max_evaluations},
       {"cmaes_tolerance", c.cmaes_tolerance}, {"seed", c.seed}, {"origin", c.origin},
       {"objective", c.objective}};
}

nlohmann::json FitResult::to_json(const ModelSpec& spec) const {
  return {{"theta_normalized", theta}, {"theta", spec.denormalize(theta)}, {"loss", loss},
          {"iterations", iterations},  {"evaluations", evaluations}, {"outer_steps", outer_steps},        {"seconds", seconds},
          {"iteration_seconds", iteration_seconds}, {"loss_history", loss_history}, {"stop_reason", stop_reason}};
}

Networks load_networks(const std::string& sur_path, const std::string& inv_path, const torch::Device& device) {
  Networks n;
  n.device = device;
  models::Bundle sb = models::read_bundle(sur_path);
  if (sb.config.kind != "surrogate") throw std::invalid_argument(sur_path + ": not a surrogate bundle (kind " + sb.config.kind + ")");
  n.spec = ModelSpec::from_bundle(sb, sur_path);
  n.surrogate = models::SurrogateNet(sb.config);
  models::load_weights(sb, *n.surrogate, sur_path);
  freeze(*n.surrogate);
  n.surrogate->to(device);
  n.files["surrogate"] = {{"path", sur_path}, {"sha256", core::sha256_file(sur_path)}};
  if (!inv_path.empty()) {
    models::Bundle ib = models::read_bundle(inv_path);
    if (ib.config.kind != "inverse") throw std::invalid_argument(inv_path + ": not an inverse bundle (kind " + ib.config.kind + ")");
    check_same_spec(n.spec, sur_path, ModelSpec::from_bundle(ib, inv_path), inv_path);
    n.inverse = models::InverseNet(ib.config);
    models::load_weights(ib, *n.inverse, inv_path);
    freeze(*n.inverse);
    n.inverse->to(device);
    n.files["inverse"] = {{"path", inv_path}, {"sha256", core::sha256_file(inv_path)}};
  }
  return n;
}

Theta with_com_origin(const ModelSpec& spec, const ModelCase& c, const Theta& mu_from) {
  Theta raw = spec.denormalize(mu_from);
  for (size_t k = 0; k < 3; ++k) raw[k] = c.com_offset_mm[k];
  return spec.clamp_to_support(spec.normalize(raw));
}

Theta direct_theta(const Networks& n, const ModelCase& c) {
  if (!n.inverse) throw std::invalid_argument("this method needs the inverse network (--inverse)");
  torch::NoGradGuard no_grad;
  torch::Tensor t = n.inverse.ptr()->forward(c.target.to(n.device), c.tissue.to(n.device)).to(torch::kCPU, torch::kFloat64);
  Theta out{};
  for (size_t k = 0; k < datagen::kThetaSize; ++k) out[k] = t[0][static_cast<int64_t>(k)].item<double>();
  return out;
}

torch::Tensor surrogate_cube(const Networks& n, const ModelCase& c, const Theta& theta) {
  torch::NoGradGuard no_grad;
  return n.surrogate.ptr()->forward(c.tissue.to(n.device), theta_tensor({theta}, n.device)).to(torch::kCPU, torch::kFloat32);
}

std::vector<double> surrogate_losses(const Networks& n, const ModelCase& c, const std::vector<Theta>& thetas,
                                     const ObjectiveConfig& cfg) {
  torch::NoGradGuard no_grad;
  const auto B = static_cast<int64_t>(thetas.size());
  const torch::Tensor tissue = c.tissue.to(n.device);
  const torch::Tensor pred = n.surrogate.ptr()->forward(tissue.expand({B, -1, -1, -1, -1}).contiguous(), theta_tensor(thetas, n.device));
  const torch::Tensor l = case_loss(pred, c, n.surrogate.ptr()->brain_mask(tissue), cfg).to(torch::kCPU, torch::kFloat64);
  std::vector<double> out(static_cast<size_t>(B));
  for (int64_t i = 0; i < B; ++i) out[static_cast<size_t>(i)] = l[i].item<double>();
  return out;
}

FitResult fit_gradient(const Networks& n, const ModelCase& c, Theta start, const FitConfig& cfg) {
  const auto t0 = Clock::now();
  if (cfg.seed_fixed()) start = with_com_origin(n.spec, c, start);
  start = n.spec.clamp_to_support(start);
  const torch::Tensor tissue = c.tissue.to(n.device);
  const torch::Tensor mask = n.surrogate.ptr()->brain_mask(tissue);
  const torch::Tensor full = theta_tensor({start}, n.device);
  // The leaf holds what is fitted: all five components, or only (μ_D, μ_ρ) with the seed fixed.
  const int64_t first = cfg.seed_fixed() ? datagen::kThetaMuD : 0, fitted_n = datagen::kThetaSize - first;
  const torch::Tensor lo = theta_tensor({n.spec.support_lo}, n.device).narrow(1, first, fitted_n);
  const torch::Tensor hi = theta_tensor({n.spec.support_hi}, n.device).narrow(1, first, fitted_n);
  // θ = lo + (hi − lo)·sigmoid(u); the start is pulled 1e-3 inside the box so that u is finite.
  const torch::Tensor frac = ((full.narrow(1, first, fitted_n) - lo) / (hi - lo).clamp_min(1e-12)).clamp(1e-3, 1 - 1e-3);
  torch::Tensor leaf = torch::log(frac / (1 - frac)).detach().clone().set_requires_grad(true);
  auto theta_of = [&] {
    const torch::Tensor fitted = lo + (hi - lo) * torch::sigmoid(leaf);
    return first == 0 ? fitted : torch::cat({full.narrow(1, 0, first), fitted}, 1);
  };

  FitResult r;
  torch::optim::LBFGS opt({leaf}, torch::optim::LBFGSOptions(1.0)
                                      .max_iter(cfg.inner_iterations)
                                      .max_eval(cfg.inner_iterations * 5 / 4)
                                      .tolerance_grad(cfg.lbfgs_tolerance_grad)
                                      .tolerance_change(cfg.lbfgs_tolerance_change)
                                      .history_size(cfg.history)
                                      .line_search_fn("strong_wolfe"));
  double best_loss = std::numeric_limits<double>::infinity();
  torch::Tensor best_leaf = leaf.detach().clone();
  auto closure = [&] {
    opt.zero_grad();
    torch::Tensor loss = case_loss(n.surrogate.ptr()->forward(tissue, theta_of()), c, mask, cfg.objective).sum();
    loss.backward();
    ++r.evaluations;
    const double l = loss.item<double>();
    if (l < best_loss) {  // the line search may end on a worse point than one it tried: keep the best seen
      best_loss = l;
      best_leaf = leaf.detach().clone();
    }
    return loss;
  };
  auto& opts = static_cast<torch::optim::LBFGSOptions&>(opt.param_groups()[0].options());
  double previous = std::numeric_limits<double>::infinity();
  int64_t calm = 0;
  r.stop_reason = "max_iterations";
  for (int64_t step = 0; step < cfg.max_iterations; ++step) {
    const int64_t left = cfg.max_evaluations - r.evaluations;
    if (left < 2) {
      r.stop_reason = "max_evaluations";
      break;
    }
    opts.max_eval(std::min(left, cfg.inner_iterations * 5 / 4));
    const auto ti = Clock::now();
    const int64_t evals_before = r.evaluations;
    opt.step(closure);
    r.iteration_seconds.push_back(seconds_since(ti));
    r.loss_history.push_back(best_loss);
    ++r.outer_steps;
    if (!std::isfinite(best_loss)) {
      r.stop_reason = "non-finite loss";
      break;
    }
    if (r.evaluations == evals_before + 1 || std::abs(previous - best_loss) <= cfg.tolerance * std::abs(best_loss)) {
      if (++calm >= cfg.patience || r.evaluations == evals_before + 1) {  // one evaluation: L-BFGS saw a flat point
        r.stop_reason = "converged";
        break;
      }
    } else {
      calm = 0;
    }
    previous = best_loss;
  }
  {
    torch::NoGradGuard no_grad;
    leaf.copy_(best_leaf);
  }
  for (const auto& kv : opt.state())
    r.iterations += static_cast<const torch::optim::LBFGSParamState&>(*kv.second).n_iter();
  const torch::Tensor final_theta = theta_of().detach().to(torch::kCPU, torch::kFloat64);
  for (size_t k = 0; k < datagen::kThetaSize; ++k) r.theta[k] = final_theta[0][static_cast<int64_t>(k)].item<double>();
  r.loss = surrogate_losses(n, c, {r.theta}, cfg.objective)[0];
  r.seconds = seconds_since(t0);
  return r;
}

FitResult fit_cmaes(const BatchLoss& batch_loss, Theta start, const FitConfig& cfg, const ModelSpec& spec) {
  const auto t0 = Clock::now();
  start = spec.clamp_to_support(start);
  const size_t first = cfg.seed_fixed() ? datagen::kThetaMuD : 0;
  std::vector<double> mean(start.begin() + static_cast<std::ptrdiff_t>(first), start.end());
  CmaesOptions o;
  o.population = cfg.cmaes_population;
  o.seed = cfg.seed;
  Cmaes es(mean, cfg.cmaes_sigma, o);
  if (cfg.cmaes_max_evaluations < es.population())  // not one generation would fit: nothing to return
    throw std::invalid_argument("--cmaes-max-evaluations " + std::to_string(cfg.cmaes_max_evaluations) +
                                " is below one CMA-ES generation (population " + std::to_string(es.population()) + ")");
  FitResult r;
  r.stop_reason = "max_evaluations";
  auto full = [&](const std::vector<double>& x) {
    Theta t = start;
    for (size_t k = first; k < datagen::kThetaSize; ++k) t[k] = x[k - first];
    return t;
  };
  while (r.evaluations + es.population() <= cfg.cmaes_max_evaluations) {
    const auto ti = Clock::now();
    const auto& pop = es.ask();
    std::vector<Theta> points;
    std::vector<double> penalty;
    for (const auto& x : pop) {
      Theta t = full(x), clamped = spec.clamp_to_support(t);
      double p = 0;
      for (size_t k = 0; k < datagen::kThetaSize; ++k) p += (t[k] - clamped[k]) * (t[k] - clamped[k]);
      points.push_back(clamped);
      penalty.push_back(p);
    }
    std::vector<double> f = batch_loss(points);
    for (size_t i = 0; i < f.size(); ++i) f[i] += penalty[i];
    es.tell(f);
    r.evaluations += es.population();
    ++r.iterations;
    r.iteration_seconds.push_back(seconds_since(ti));
    r.loss_history.push_back(es.best_f());
    if (es.max_step() < cfg.cmaes_tolerance) {
      r.stop_reason = "converged";
      break;
    }
  }
  r.theta = spec.clamp_to_support(full(es.best_x()));
  r.loss = es.best_f();
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace tumorforge::invert
