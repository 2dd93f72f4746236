// One case, one method, end to end: estimate θ (direct, gb, hybrid, cmaes-surrogate, cmaes-solver), keep the
// best candidate by solver runs, polish it with the solver (polish.h); the numerical-solver run at θ̂ is the
// result. Hybrid takes direct's and gb's picks each through the polish and keeps the better final run.
// Shared by `tumorforge invert` and `evaluate`.
#pragma once
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "invert/polish.h"
#include "invert/solver_run.h"
#include "invert/surrogate_fit.h"

namespace tumorforge::invert {

struct InvertConfig {
  std::string method = "hybrid";        // direct | gb | hybrid | cmaes-surrogate | cmaes-solver
  // hybrid: keep θ_DI or θ_GB by one numerical-solver run each (the paper's protocol; a surrogate that is wrong
  // somewhere cannot pick its own mistake) or by the surrogate's loss (no extra solver runs).
  std::string select_by = "solver";
  std::optional<Theta> theta0;          // normalized start of gb / CMA-ES (default: training mean, else 0)
  FitConfig fit;
  PolishConfig polish;                  // the last step: a local search with the solver (polish.h)
  int threads = 0;                      // solver threads (0: all)
  void validate() const;                // throws naming the flag
};
void to_json(nlohmann::json& j, const InvertConfig& c);
bool method_needs_inverse(const std::string& method);

struct Inversion {
  std::string method, chosen;  // chosen: the stage whose θ was kept ("direct", "gb", ...)
  Theta theta{};               // normalized
  nlohmann::json stages = nlohmann::json::object();  // per stage: θ, loss, iterations, seconds, ...
  SolverRun final_run;
  double final_loss = 0;       // the final run's loss against the target (whole grid for patient inputs, else the cube)
  torch::Tensor surrogate;     // (1, 1, S, S, S) surrogate prediction at θ
  double seconds = 0;          // whole method including the final run
  nlohmann::json to_json(const ModelSpec& spec) const;
};

Inversion invert_case(const Networks& n, const ModelCase& c, const InvertConfig& cfg);

}  // namespace tumorforge::invert
