// CMA-ES (Hansen's (μ/μ_w, λ)-CMA-ES with cumulative step-size adaptation, rank-one and rank-μ updates),
// written here because Debian ships no C++ CMA-ES library. Ask/tell interface so a caller can evaluate a whole
// population at once (one surrogate batch, or parallel solver runs). Bounds are handled by the caller
// (see inversion.cpp: evaluate at the clamped point plus a quadratic penalty). Deterministic for a seed.
#pragma once
#include <cstdint>
#include <vector>

namespace tumorforge::invert {

struct CmaesOptions {
  int64_t population = 0;  // λ; 0: 4 + floor(3 ln n), the standard default
  uint64_t seed = 0;
};

class Cmaes {
 public:
  Cmaes(std::vector<double> mean, double sigma, CmaesOptions options = {});
  // λ candidate points of the current generation (the same points until tell() is called).
  const std::vector<std::vector<double>>& ask();
  // Fitness of each point from ask(), lower is better; advances one generation.
  void tell(const std::vector<double>& fitness);

  const std::vector<double>& mean() const { return mean_; }
  double sigma() const { return sigma_; }
  int64_t population() const { return lambda_; }
  int64_t generation() const { return generation_; }
  // σ times the largest standard deviation of the search distribution: the stop criterion's scale.
  double max_step() const;
  const std::vector<double>& best_x() const { return best_x_; }
  double best_f() const { return best_f_; }

 private:
  void update_eigensystem();
  double gaussian();

  int64_t n_, lambda_, mu_;
  std::vector<double> weights_;
  double mueff_, cc_, cs_, c1_, cmu_, damps_, chi_n_;
  std::vector<double> mean_, pc_, ps_;
  std::vector<std::vector<double>> C_, B_;  // covariance, its eigenvectors (columns)
  std::vector<double> D_;                   // square roots of the eigenvalues
  double sigma_;
  int64_t generation_ = 0, eigen_generation_ = 0;
  std::vector<std::vector<double>> population_, steps_;  // candidates and their B·D·z steps
  bool asked_ = false;
  uint64_t rng_state_;
  bool have_spare_ = false;
  double spare_ = 0;
  std::vector<double> best_x_;
  double best_f_;
};

// Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations: A = V diag(w) Vᵀ.
void symmetric_eigen(std::vector<std::vector<double>> A, std::vector<double>& w, std::vector<std::vector<double>>& V);

}  // namespace tumorforge::invert
