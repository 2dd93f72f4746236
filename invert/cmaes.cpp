// CMA-ES (see cmaes.h). Constants follow Hansen, "The CMA Evolution Strategy: A Tutorial" (2016), Table 1.
#include "invert/cmaes.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "core/random.h"

namespace tumorforge::invert {

void symmetric_eigen(std::vector<std::vector<double>> A, std::vector<double>& w, std::vector<std::vector<double>>& V) {
  const size_t n = A.size();
  V.assign(n, std::vector<double>(n, 0.0));
  for (size_t i = 0; i < n; ++i) V[i][i] = 1.0;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (size_t p = 0; p < n; ++p)
      for (size_t q = p + 1; q < n; ++q) off += A[p][q] * A[p][q];
    if (off < 1e-30) break;
    for (size_t p = 0; p < n; ++p) {
      for (size_t q = p + 1; q < n; ++q) {
        if (std::abs(A[p][q]) < 1e-300) continue;
        const double theta = (A[q][q] - A[p][p]) / (2 * A[p][q]);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (size_t k = 0; k < n; ++k) {  // A <- A J
          const double akp = A[k][p], akq = A[k][q];
          A[k][p] = c * akp - s * akq;
          A[k][q] = s * akp + c * akq;
        }
        for (size_t k = 0; k < n; ++k) {  // A <- Jᵀ A
          const double apk = A[p][k], aqk = A[q][k];
          A[p][k] = c * apk - s * aqk;
          A[q][k] = s * apk + c * aqk;
        }
        for (size_t k = 0; k < n; ++k) {
          const double vkp = V[k][p], vkq = V[k][q];
          V[k][p] = c * vkp - s * vkq;
          V[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  w.resize(n);
  for (size_t i = 0; i < n; ++i) w[i] = A[i][i];
}

Cmaes::Cmaes(std::vector<double> mean, double sigma, CmaesOptions o)
    : n_(static_cast<int64_t>(mean.size())), mean_(std::move(mean)), sigma_(sigma), rng_state_(core::splitmix64(o.seed) << 20) {
  if (n_ < 1) throw std::invalid_argument("CMA-ES: empty start point");
  if (!(sigma > 0) || !std::isfinite(sigma)) throw std::invalid_argument("CMA-ES: sigma must be positive");
  const double n = static_cast<double>(n_);
  lambda_ = o.population > 0 ? o.population : 4 + static_cast<int64_t>(std::floor(3 * std::log(n)));
  if (lambda_ < 2) throw std::invalid_argument("CMA-ES: population must be >= 2");
  mu_ = lambda_ / 2;
  weights_.resize(static_cast<size_t>(mu_));
  for (int64_t i = 0; i < mu_; ++i) weights_[static_cast<size_t>(i)] = std::log((lambda_ + 1) / 2.0) - std::log(i + 1.0);
  const double wsum = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  double w2 = 0;
  for (double& w : weights_) {
    w /= wsum;
    w2 += w * w;
  }
  mueff_ = 1 / w2;
  cc_ = (4 + mueff_ / n) / (n + 4 + 2 * mueff_ / n);
  cs_ = (mueff_ + 2) / (n + mueff_ + 5);
  c1_ = 2 / ((n + 1.3) * (n + 1.3) + mueff_);
  cmu_ = std::min(1 - c1_, 2 * (mueff_ - 2 + 1 / mueff_) / ((n + 2) * (n + 2) + mueff_));
  damps_ = 1 + 2 * std::max(0.0, std::sqrt((mueff_ - 1) / (n + 1)) - 1) + cs_;
  chi_n_ = std::sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
  pc_.assign(static_cast<size_t>(n_), 0.0);
  ps_.assign(static_cast<size_t>(n_), 0.0);
  C_.assign(static_cast<size_t>(n_), std::vector<double>(static_cast<size_t>(n_), 0.0));
  B_ = C_;
  for (int64_t i = 0; i < n_; ++i) C_[static_cast<size_t>(i)][static_cast<size_t>(i)] = B_[static_cast<size_t>(i)][static_cast<size_t>(i)] = 1;
  D_.assign(static_cast<size_t>(n_), 1.0);
  best_f_ = std::numeric_limits<double>::infinity();
}

double Cmaes::gaussian() {  // Box-Muller on splitmix64 uniforms: no library RNG, same stream everywhere
  if (have_spare_) {
    have_spare_ = false;
    return spare_;
  }
  auto uniform = [&] { return (static_cast<double>(core::splitmix64(rng_state_++) >> 11) + 0.5) * 0x1.0p-53; };
  const double u1 = uniform(), u2 = uniform();
  const double r = std::sqrt(-2 * std::log(u1));
  spare_ = r * std::sin(2 * M_PI * u2);
  have_spare_ = true;
  return r * std::cos(2 * M_PI * u2);
}

const std::vector<std::vector<double>>& Cmaes::ask() {
  if (asked_) return population_;
  const size_t n = static_cast<size_t>(n_);
  population_.assign(static_cast<size_t>(lambda_), std::vector<double>(n));
  steps_ = population_;
  for (int64_t k = 0; k < lambda_; ++k) {
    std::vector<double> z(n);
    for (double& v : z) v = gaussian();
    auto& y = steps_[static_cast<size_t>(k)];
    for (size_t i = 0; i < n; ++i) {
      double s = 0;
      for (size_t j = 0; j < n; ++j) s += B_[i][j] * D_[j] * z[j];
      y[i] = s;
      population_[static_cast<size_t>(k)][i] = mean_[i] + sigma_ * s;
    }
  }
  asked_ = true;
  return population_;
}

void Cmaes::tell(const std::vector<double>& fitness) {
  if (!asked_) throw std::logic_error("CMA-ES: tell() before ask()");
  if (static_cast<int64_t>(fitness.size()) != lambda_) throw std::invalid_argument("CMA-ES: need one fitness per candidate");
  const size_t n = static_cast<size_t>(n_);
  std::vector<size_t> order(static_cast<size_t>(lambda_));
  std::iota(order.begin(), order.end(), size_t{0});
  // Non-finite fitness ranks last.
  auto key = [&](size_t i) { return std::isfinite(fitness[i]) ? fitness[i] : std::numeric_limits<double>::infinity(); };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  if (key(order[0]) < best_f_ || best_x_.empty()) {  // the first generation sets it even if all are non-finite
    best_f_ = key(order[0]);
    best_x_ = population_[order[0]];
  }
  // Weighted mean of the best μ steps (in units of σ).
  std::vector<double> yw(n, 0.0);
  for (int64_t k = 0; k < mu_; ++k)
    for (size_t i = 0; i < n; ++i) yw[i] += weights_[static_cast<size_t>(k)] * steps_[order[static_cast<size_t>(k)]][i];
  for (size_t i = 0; i < n; ++i) mean_[i] += sigma_ * yw[i];

  // C^{-1/2} yw = B D^{-1} Bᵀ yw
  std::vector<double> bt(n, 0.0), cinv(n, 0.0);
  for (size_t j = 0; j < n; ++j) {
    for (size_t i = 0; i < n; ++i) bt[j] += B_[i][j] * yw[i];
    bt[j] /= D_[j];
  }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) cinv[i] += B_[i][j] * bt[j];
  const double cs_norm = std::sqrt(cs_ * (2 - cs_) * mueff_);
  double ps_len = 0;
  for (size_t i = 0; i < n; ++i) {
    ps_[i] = (1 - cs_) * ps_[i] + cs_norm * cinv[i];
    ps_len += ps_[i] * ps_[i];
  }
  ps_len = std::sqrt(ps_len);
  ++generation_;
  const double gen = static_cast<double>(generation_);
  const bool hsig = ps_len / std::sqrt(1 - std::pow(1 - cs_, 2 * gen)) / chi_n_ < 1.4 + 2 / (static_cast<double>(n_) + 1);
  const double cc_norm = std::sqrt(cc_ * (2 - cc_) * mueff_);
  for (size_t i = 0; i < n; ++i) pc_[i] = (1 - cc_) * pc_[i] + (hsig ? cc_norm * yw[i] : 0.0);
  const double dh = hsig ? 0.0 : cc_ * (2 - cc_);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j <= i; ++j) {
      double rank_mu = 0;
      for (int64_t k = 0; k < mu_; ++k) {
        const auto& y = steps_[order[static_cast<size_t>(k)]];
        rank_mu += weights_[static_cast<size_t>(k)] * y[i] * y[j];
      }
      C_[i][j] = (1 - c1_ - cmu_ + c1_ * dh) * C_[i][j] + c1_ * pc_[i] * pc_[j] + cmu_ * rank_mu;
      C_[j][i] = C_[i][j];
    }
  }
  sigma_ *= std::exp((cs_ / damps_) * (ps_len / chi_n_ - 1));
  // The decomposition costs O(n³); the tutorial's lazy schedule keeps it below the sampling cost.
  if (gen - static_cast<double>(eigen_generation_) > static_cast<double>(lambda_) / (c1_ + cmu_) / static_cast<double>(n_) / 10)
    update_eigensystem();
  asked_ = false;
}

void Cmaes::update_eigensystem() {
  eigen_generation_ = generation_;
  std::vector<double> w;
  symmetric_eigen(C_, w, B_);
  for (size_t i = 0; i < w.size(); ++i) D_[i] = std::sqrt(std::max(w[i], 1e-300));
}

double Cmaes::max_step() const {
  double m = 0;
  for (size_t i = 0; i < C_.size(); ++i) m = std::max(m, C_[i][i]);
  return sigma_ * std::sqrt(m);
}

}  // namespace tumorforge::invert
