// The inversion methods (see inversion.h and the paper's Algorithm 1 for gb).
#include "invert/inversion.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace tumorforge::invert {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

Theta start_point(const Networks& n, const InvertConfig& cfg) {
  if (cfg.theta0) return *cfg.theta0;
  if (n.spec.train_mean) return *n.spec.train_mean;
  return Theta{};
}

}  // namespace

bool method_needs_inverse(const std::string& m) { return m == "direct" || m == "hybrid"; }

void InvertConfig::validate() const {
  static const char* methods[] = {"direct", "gb", "hybrid", "cmaes-surrogate", "cmaes-solver"};
  if (std::find(std::begin(methods), std::end(methods), method) == std::end(methods))
    throw std::invalid_argument("--method '" + method + "': expected direct, gb, hybrid, cmaes-surrogate or cmaes-solver");
  if (fit.origin != "fitted" && fit.origin != "com" && fit.origin != "com-refit" && fit.origin != "auto")
    throw std::invalid_argument("--origin '" + fit.origin + "': expected fitted, com, com-refit or auto");
  if (select_by != "surrogate" && select_by != "solver")
    throw std::invalid_argument("--select-by '" + select_by + "': expected surrogate or solver");
  if (fit.objective.seg_loss != "dice" && fit.objective.seg_loss != "bce")
    throw std::invalid_argument("--seg-loss '" + fit.objective.seg_loss + "': expected dice or bce");
  if (!(fit.objective.tau_edema > 0 && fit.objective.tau_edema < fit.objective.tau_core && fit.objective.tau_core < 1))
    throw std::invalid_argument("--tau-edema/--tau-core: need 0 < tau_edema < tau_core < 1");
  if (fit.max_iterations < 1) throw std::invalid_argument("--max-iterations must be >= 1");
  if (fit.inner_iterations < 1) throw std::invalid_argument("--inner-iterations must be >= 1");
  if (fit.max_evaluations < 2) throw std::invalid_argument("--max-evaluations must be >= 2");
  if (fit.patience < 1) throw std::invalid_argument("--patience must be >= 1");
  if (!(fit.tolerance >= 0)) throw std::invalid_argument("--tolerance must be >= 0");
  polish.validate();
  if (theta0)
    for (double v : *theta0)
      if (!(v >= -1 && v <= 1)) throw std::invalid_argument("--theta0: normalized values must lie in [-1, 1]");
}

void to_json(nlohmann::json& j, const InvertConfig& c) {
  j = {{"method", c.method}, {"select_by", c.select_by}, {"fit", c.fit}, {"polish", c.polish}, {"threads", c.threads}};
  j["theta0"] = c.theta0 ? nlohmann::json(*c.theta0) : nlohmann::json(nullptr);
}

nlohmann::json Inversion::to_json(const ModelSpec& spec) const {
  const Theta raw = spec.denormalize(theta);
  return {{"method", method},
          {"chosen_stage", chosen},
          {"theta_normalized", theta},
          {"theta", {{"seed_offset_mm", {raw[0], raw[1], raw[2]}}, {"mu_d_mm", raw[3]}, {"mu_rho", raw[4]}}},
          {"stages", stages},
          {"final_run", final_run.to_json()},
          {"final_loss", final_loss},
          {"seconds", seconds}};
}

Inversion invert_case(const Networks& n, const ModelCase& c, const InvertConfig& cfg) {
  const auto t0 = Clock::now();
  Inversion inv;
  inv.method = cfg.method;
  const ModelSpec& spec = n.spec;
  const std::string& origin = cfg.fit.origin;
  auto record = [&](const std::string& name, const Theta& t, double loss, double secs) {
    inv.stages[name] = {{"theta_normalized", t}, {"theta", spec.denormalize(t)}, {"loss", loss}, {"seconds", secs}};
  };
  // What the estimation stages propose; the solver (or, on request, the surrogate) picks among them below.
  std::vector<std::pair<std::string, Theta>> proposals;
  if (cfg.method == "direct" || cfg.method == "hybrid") {
    const auto ts = Clock::now();
    Theta t = direct_theta(n, c);
    if (cfg.fit.seed_fixed()) t = with_com_origin(spec, c, t);
    const double secs = seconds_since(ts);
    record("direct", t, surrogate_losses(n, c, {t}, cfg.fit.objective)[0], secs);
    proposals.push_back({"direct", t});
  }
  if (cfg.method == "gb" || cfg.method == "hybrid") {
    const Theta start = cfg.method == "hybrid" ? proposals.back().second : start_point(n, cfg);
    FitResult r = fit_gradient(n, c, start, cfg.fit);
    inv.stages["gb"] = r.to_json(spec);
    inv.stages["gb"]["start_normalized"] = start;
    proposals.push_back({"gb", r.theta});
  }
  if (cfg.method == "cmaes-surrogate" || cfg.method == "cmaes-solver") {
    Theta start = start_point(n, cfg);
    if (cfg.fit.seed_fixed()) start = with_com_origin(spec, c, start);
    BatchLoss loss = cfg.method == "cmaes-surrogate"
                         ? BatchLoss([&](const std::vector<Theta>& ts) { return surrogate_losses(n, c, ts, cfg.fit.objective); })
                         : solver_batch_loss(c, spec, cfg.fit.objective, cfg.threads);
    FitResult r = fit_cmaes(loss, start, cfg.fit, spec);
    inv.stages[cfg.method] = r.to_json(spec);
    proposals.push_back({cfg.method, r.theta});
  }

  // Candidates for the final run: "com" moves every proposal's seed to the target's centre of mass (the paper's
  // COM origin); "auto" keeps both the fitted seed and the centre of mass and lets the selection decide.
  std::vector<std::pair<std::string, Theta>> candidates;
  for (const auto& [name, t] : proposals) {
    if (origin != "com") candidates.push_back({name, t});
    if (origin == "com" || origin == "auto") candidates.push_back({name + "+com", with_com_origin(spec, c, t)});
  }
  std::optional<SolverRun> kept_run;  // the solver run already made at the chosen θ
  size_t best = 0;
  if (candidates.size() > 1) {
    const auto ts = Clock::now();
    nlohmann::json sel = {{"by", cfg.select_by}, {"losses", nlohmann::json::object()}};
    std::vector<double> losses;
    std::vector<SolverRun> runs;
    if (cfg.select_by == "surrogate") {
      std::vector<Theta> ts_only;
      for (const auto& cnd : candidates) ts_only.push_back(cnd.second);
      losses = surrogate_losses(n, c, ts_only, cfg.fit.objective);
    } else {
      // The paper's protocol: one solver run per candidate, keep the one closest to the target.
      for (const auto& cnd : candidates) {
        runs.push_back(run_solver(c.solver, spec, cnd.second, cfg.threads));
        losses.push_back(solver_loss(runs.back(), c, spec, cfg.fit.objective));
      }
    }
    best = static_cast<size_t>(std::min_element(losses.begin(), losses.end()) - losses.begin());
    if (!runs.empty()) kept_run = std::move(runs[best]);
    for (size_t k = 0; k < candidates.size(); ++k) sel["losses"][candidates[k].first] = losses[k];
    sel["seconds"] = seconds_since(ts);
    inv.stages["selection"] = sel;
  }
  inv.chosen = candidates[best].first;
  inv.theta = candidates[best].second;

  const auto tf = Clock::now();
  if (!kept_run) kept_run = run_solver(c.solver, spec, inv.theta, cfg.threads);
  inv.final_loss = solver_loss(*kept_run, c, spec, cfg.fit.objective);
  double final_seconds = seconds_since(tf);
  const bool coarse_search = search_block(c, cfg.polish.spacing_mm) != std::array<int64_t, 3>{1, 1, 1};
  if (cfg.polish.max_runs > 0 && c.kind == TargetKind::kSegmentation && coarse_search) {
    inv.stages["polish"] = {{"skipped", "a segmentation is polished only at its own resolution (see polish.h); "
                                        "--polish-spacing at or below the input's spacing polishes it there"},
                            {"seconds", 0.0}};
  } else if (cfg.polish.max_runs > 0) {
    // The solver's local search around the kept θ; its result is kept only if the run at the input's own
    // resolution agrees that it is closer (the search may run on a coarser copy).
    const auto tp = Clock::now();
    const PolishResult p = polish(c, spec, inv.theta, cfg.fit.objective, cfg.polish, cfg.threads);
    nlohmann::json pj = p.to_json(spec);
    pj["kept"] = false;
    if (p.moves > 0) {
      SolverRun run = run_solver(c.solver, spec, p.theta, cfg.threads);
      const double l = solver_loss(run, c, spec, cfg.fit.objective);
      pj["loss_at_input_resolution"] = l;
      if (l < inv.final_loss) {
        pj["kept"] = true;
        kept_run = std::move(run);
        inv.final_loss = l;
        inv.theta = p.theta;
        inv.chosen += "+polish";
      }
    }
    pj["seconds"] = seconds_since(tp);  // the search and the check at the input's resolution
    inv.stages["polish"] = pj;
  }
  inv.final_run = std::move(*kept_run);
  // 0 s when the final run is one the selection or the polish already made.
  inv.stages["final_solver_run"] = {{"seconds", final_seconds}, {"loss", inv.final_loss}};
  inv.surrogate = surrogate_cube(n, c, inv.theta);
  inv.seconds = seconds_since(t0);
  return inv;
}

}  // namespace tumorforge::invert
