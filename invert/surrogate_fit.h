// Parameter estimation through the frozen networks: the direct inverse prediction, gradient-based fitting
// (L-BFGS with strong-Wolfe line search on normalized θ, clamped after every step: the paper's Algorithm 1),
// and CMA-ES over the same bounded θ with any batch loss (surrogate or solver). The bounds are the box of θ the
// training set covers (ModelSpec::support_*), not the looser normalization range: outside it the surrogate
// extrapolates, and an optimizer finds loss minima there that the solver does not share.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "invert/model_case.h"
#include "invert/model_spec.h"
#include "invert/objective.h"
#include "models/networks.h"

namespace tumorforge::invert {

struct Networks {
  models::SurrogateNet surrogate{nullptr};
  models::InverseNet inverse{nullptr};  // null when no inverse bundle was loaded
  ModelSpec spec;
  torch::Device device{torch::kCPU};
  nlohmann::json files;  // {"surrogate": {"path", "sha256"}, "inverse": {...}}
};
// Loads both bundles (inverse_path may be empty), freezes the weights, moves them to `device`.
Networks load_networks(const std::string& surrogate_path, const std::string& inverse_path, const torch::Device& device);

struct FitConfig {
  int64_t max_iterations = 40;    // L-BFGS steps (each with its own strong-Wolfe line search)
  double tolerance = 1e-7;        // stop when |L_prev − L| < tolerance
  int64_t line_search_evaluations = 25;
  double cmaes_sigma = 0.3;       // initial step in normalized θ
  int64_t cmaes_population = 0;   // 0: 4 + floor(3 ln n)
  int64_t cmaes_max_evaluations = 800;
  double cmaes_tolerance = 1e-3;  // stop when σ·max std < this (normalized θ)
  uint64_t seed = 0;
  bool com_origin = false;        // seed fixed at the target's centre of mass; only μ_D, μ_ρ are fitted
  ObjectiveConfig objective;
};
void to_json(nlohmann::json& j, const FitConfig& c);

struct FitResult {
  Theta theta{};  // normalized
  double loss = 0;
  int64_t iterations = 0, evaluations = 0;
  double seconds = 0;
  std::vector<double> iteration_seconds, loss_history;
  std::string stop_reason;
  nlohmann::json to_json(const ModelSpec& spec) const;
};

// The normalized θ whose seed is the case's centre of mass (components 3, 4 from `mu_from`).
Theta with_com_origin(const ModelSpec& spec, const ModelCase& c, const Theta& mu_from);

Theta direct_theta(const Networks& n, const ModelCase& c);
torch::Tensor surrogate_cube(const Networks& n, const ModelCase& c, const Theta& theta);  // (1,1,S,S,S) CPU
std::vector<double> surrogate_losses(const Networks& n, const ModelCase& c, const std::vector<Theta>& thetas,
                                     const ObjectiveConfig& cfg);

FitResult fit_gradient(const Networks& n, const ModelCase& c, Theta start, const FitConfig& cfg);

// CMA-ES on normalized θ; candidates outside the spec's support box are evaluated at the clamped point plus a
// quadratic penalty. `batch_loss` returns one loss per θ.
using BatchLoss = std::function<std::vector<double>(const std::vector<Theta>&)>;
FitResult fit_cmaes(const BatchLoss& batch_loss, Theta start, const FitConfig& cfg, const ModelSpec& spec);

}  // namespace tumorforge::invert
