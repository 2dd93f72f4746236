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

// gb follows the authors' optimizer (../shared/reference/paper): L-BFGS with strong-Wolfe line search, several
// inner iterations per outer step, a long history; it stops when the loss has changed by less than a relative
// tolerance over `patience` outer steps, at a budget of surrogate evaluations, or after `max_iterations` steps.
// Bounds: θ = lo + (hi − lo)·sigmoid(u) with u free, so L-BFGS never sees a clamp (no stale curvature pairs).
struct FitConfig {
  int64_t max_iterations = 1000;  // outer L-BFGS steps at most (paper: 1,000)
  int64_t inner_iterations = 20;  // L-BFGS iterations per outer step (paper: 20)
  int64_t max_evaluations = 30;   // surrogate forward+backward passes at most (the wall-time budget; see README)
  int64_t history = 100;          // L-BFGS memory (paper: 100)
  double tolerance = 1e-4;        // stop when |L_prev − L| <= tolerance · L for `patience` outer steps in a row
  int64_t patience = 2;
  double lbfgs_tolerance_grad = 1e-7;    // inside a step: stop when max |∂L/∂u| is below this (paper)
  double lbfgs_tolerance_change = 1e-9;  // ... or when the loss or step changes by less than this (paper)
  double cmaes_sigma = 0.3;       // initial step in normalized θ
  int64_t cmaes_population = 0;   // 0: 4 + floor(3 ln n)
  int64_t cmaes_max_evaluations = 800;
  double cmaes_tolerance = 1e-3;  // stop when σ·max std < this (normalized θ)
  uint64_t seed = 0;
  // Where the seed comes from: "fitted" (all of θ is estimated), "com" (the paper's COM origin: θ is estimated
  // freely, the final solver run puts the seed at the target's centre of mass), "auto" (both: each estimate with
  // its fitted seed and with the centre of mass, the selection by solver runs decides) or "com-refit" (the seed
  // is fixed at the centre of mass throughout and only μ_D, μ_ρ are fitted).
  std::string origin = "auto";
  bool seed_fixed() const { return origin == "com-refit"; }
  ObjectiveConfig objective;
};
void to_json(nlohmann::json& j, const FitConfig& c);

struct FitResult {
  Theta theta{};  // normalized
  double loss = 0;
  int64_t iterations = 0, evaluations = 0;  // L-BFGS iterations (CMA-ES: generations); loss evaluations
  int64_t outer_steps = 0;
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
