// Compass search with the numerical solver (see polish.h).
#include "invert/polish.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "invert/solver_run.h"
#include "core/timing.h"

namespace tumorforge::invert {
namespace {

constexpr int64_t kPollSize = 2 * static_cast<int64_t>(datagen::kThetaSize);

}  // namespace

void PolishConfig::validate() const {
  if (max_runs != 0 && max_runs < kPollSize + 1)
    throw std::invalid_argument("--polish-runs " + std::to_string(max_runs) + ": give 0 (no polish) or at least " +
                                std::to_string(kPollSize + 1) + " (the start and one poll of ±each parameter)");
  if (!(spacing_mm > 0)) throw std::invalid_argument("--polish-spacing must be > 0 mm");
}

void to_json(nlohmann::json& j, const PolishConfig& c) {
  j = {{"max_runs", c.max_runs}, {"spacing_mm", c.spacing_mm}, {"seed_step_mm", c.seed_step_mm}, {"mu_step", c.mu_step},
       {"min_seed_step_mm", c.min_seed_step_mm}};
}

nlohmann::json PolishResult::to_json(const ModelSpec& spec) const {
  return {{"theta_normalized", theta}, {"theta", spec.denormalize(theta)}, {"start_loss", start_loss}, {"loss", loss},
          {"runs", runs}, {"polls", polls}, {"moves", moves}, {"search_spacing_mm", spacing_mm}, {"seconds", seconds}};
}

std::array<int64_t, 3> search_block(const ModelCase& c, double spacing_mm) {
  const SolverContext& s = c.solver;
  std::array<int64_t, 3> f{1, 1, 1};
  for (size_t k = 0; k < 3; ++k)
    for (int64_t d = s.factor[k]; d >= 1; --d)
      if (s.factor[k] % d == 0 && s.fine.grid.spacing_mm[k] * static_cast<double>(d) <= spacing_mm + 1e-6) {
        f[k] = d;
        break;
      }
  return f;
}

ModelCase case_for_search(const ModelCase& c, double spacing_mm, double mask_threshold) {
  const SolverContext& s = c.solver;
  const std::array<int64_t, 3> f = search_block(c, spacing_mm);
  if (f == std::array<int64_t, 3>{1, 1, 1}) return c;
  ModelCase out = c;
  SolverContext& o = out.solver;
  o.fine = core::coarsen(s.fine, f);
  o.tissue = std::make_shared<const solver::TissueMaps>(solver::block_average(*s.tissue, f, o.fine.grid));
  for (size_t k = 0; k < 3; ++k) o.factor[k] = s.factor[k] / f[k];
  if (c.full) {
    auto coarser = [&](const torch::Tensor& t) {
      if (!t.defined()) return t;
      const torch::Tensor v = t.contiguous();
      const std::vector<float> fine(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
      return flat_tensor(core::block_average(fine, s.fine.grid, f, o.fine.grid));
    };
    WholeGrid& w = *out.full;
    w.target = coarser(w.target);
    w.core = coarser(w.core);
    w.whole = coarser(w.whole);
    w.brain = flat_brain_mask(*o.tissue, mask_threshold);
  }
  return out;
}

PolishResult polish(const ModelCase& c0, const ModelSpec& spec, const Theta& start, const ObjectiveConfig& objective,
                    const PolishConfig& cfg, int threads) {
  const auto t0 = core::Clock::now();
  const ModelCase c = case_for_search(c0, cfg.spacing_mm, spec.mask_threshold);
  const BatchLoss loss = solver_batch_loss(c, spec, objective, threads);
  PolishResult r;
  r.spacing_mm = c.solver.fine.grid.spacing_mm[0];
  r.theta = start;
  r.start_loss = r.loss = loss({start})[0];
  r.runs = 1;
  Theta raw = spec.denormalize(start);
  std::array<double, datagen::kThetaSize> step{};
  for (size_t k = 0; k < 3; ++k) step[k] = cfg.seed_step_mm;
  for (size_t k = 3; k < datagen::kThetaSize; ++k) step[k] = std::max(cfg.mu_step * raw[k], 0.1);
  // Stay where θ means something: inside the normalization box, μ above zero.
  auto inside = [&](Theta t) {
    Theta n = spec.normalize(t);
    for (double& v : n) v = std::clamp(v, -1.0, 1.0);
    t = spec.denormalize(n);
    for (size_t k = 3; k < datagen::kThetaSize; ++k) t[k] = std::max(t[k], 0.05);
    return t;
  };
  while (r.runs + kPollSize <= cfg.max_runs && step[0] >= cfg.min_seed_step_mm) {
    std::vector<Theta> poll;
    for (size_t k = 0; k < datagen::kThetaSize; ++k)
      for (double sign : {-1.0, 1.0}) {
        Theta t = raw;
        t[k] += sign * step[k];
        poll.push_back(spec.normalize(inside(t)));
      }
    const std::vector<double> losses = loss(poll);
    r.runs += kPollSize;
    ++r.polls;
    const size_t best = static_cast<size_t>(std::min_element(losses.begin(), losses.end()) - losses.begin());
    if (losses[best] < r.loss * (1 - 1e-6)) {
      r.loss = losses[best];
      r.theta = poll[best];
      raw = spec.denormalize(r.theta);
      ++r.moves;
    } else {
      for (double& s : step) s *= 0.5;
    }
  }
  r.seconds = core::seconds_since(t0);
  return r;
}

}  // namespace tumorforge::invert
