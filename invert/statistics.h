// Summary statistics and paired significance tests for the evaluation tables: mean ± standard error, median,
// the paired t-test and the Wilcoxon signed-rank test (two-sided p-values, matching scipy.stats.ttest_rel and
// scipy.stats.wilcoxon's defaults: exact distribution for n <= 50 without ties or zeros, else the normal
// approximation with tie correction). No LibTorch.
#pragma once
#include <vector>

namespace tumorforge::invert {

struct Summary {
  double mean = 0, standard_error = 0, median = 0;
  int n = 0;
};
Summary summarize(const std::vector<double>& values);  // NaNs are skipped

// Two-sided p-values for paired samples a[i], b[i] (pairs with a NaN are dropped). NaN when undefined
// (fewer than 2 pairs, or all differences zero).
double paired_t_test(const std::vector<double>& a, const std::vector<double>& b);
double wilcoxon_signed_rank(const std::vector<double>& a, const std::vector<double>& b);

// Regularized incomplete beta I_x(a, b) (continued fraction) and the standard normal CDF, exposed for tests.
double incomplete_beta(double a, double b, double x);
double normal_cdf(double z);

}  // namespace tumorforge::invert
