// Summary statistics and paired tests (see statistics.h). The incomplete beta uses Lentz's continued fraction.
#include "invert/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tumorforge::invert {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> paired_differences(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (std::isfinite(a[i]) && std::isfinite(b[i])) d.push_back(a[i] - b[i]);
  return d;
}

double beta_continued_fraction(double a, double b, double x) {
  const double tiny = 1e-300;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::abs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 500; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1 / d;
    const double step = d * c;
    h *= step;
    if (std::abs(step - 1) < 1e-15) break;
  }
  return h;
}

}  // namespace

double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_continued_fraction(a, b, x) / a;
  return 1 - front * beta_continued_fraction(b, a, 1 - x) / b;
}

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

Summary summarize(const std::vector<double>& values) {
  std::vector<double> v;
  for (double x : values)
    if (!std::isnan(x)) v.push_back(x);
  Summary s;
  s.n = static_cast<int>(v.size());
  if (v.empty()) return {kNaN, kNaN, kNaN, 0};
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / s.n;
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.standard_error = s.n > 1 ? std::sqrt(ss / (s.n - 1) / s.n) : kNaN;
  std::sort(v.begin(), v.end());
  s.median = s.n % 2 ? v[static_cast<size_t>(s.n / 2)] : 0.5 * (v[static_cast<size_t>(s.n / 2 - 1)] + v[static_cast<size_t>(s.n / 2)]);
  return s;
}

double paired_t_test(const std::vector<double>& a, const std::vector<double>& b) {
  const std::vector<double> d = paired_differences(a, b);
  const Summary s = summarize(d);
  if (s.n < 2 || !(s.standard_error > 0)) return kNaN;
  const double t = s.mean / s.standard_error, dof = s.n - 1.0;
  return incomplete_beta(dof / 2, 0.5, dof / (dof + t * t));  // P(|T| >= |t|)
}

double wilcoxon_signed_rank(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d;
  bool had_zero = false;
  for (double x : paired_differences(a, b)) {
    if (x == 0) had_zero = true;
    else d.push_back(x);  // zero differences are dropped ("wilcox" zero method)
  }
  const size_t n = d.size();
  if (n < 1) return kNaN;
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t i, size_t j) { return std::abs(d[i]) < std::abs(d[j]); });
  std::vector<double> rank(n);
  bool ties = false;
  double tie_term = 0;  // Σ (t³ − t) over tie groups
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && std::abs(d[order[j + 1]]) == std::abs(d[order[i]])) ++j;
    const double r = 0.5 * static_cast<double>(i + j) + 1;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = r;
    const double t = static_cast<double>(j - i + 1);
    if (t > 1) ties = true;
    tie_term += t * t * t - t;
    i = j + 1;
  }
  double r_plus = 0, r_minus = 0;
  for (size_t i = 0; i < n; ++i) (d[i] > 0 ? r_plus : r_minus) += rank[i];
  const double stat = std::min(r_plus, r_minus);
  if (n <= 50 && !ties && !had_zero) {
    // Exact null distribution of the rank sum: number of subsets of {1..n} with each sum.
    const size_t max_sum = n * (n + 1) / 2;
    std::vector<double> count(max_sum + 1, 0.0);
    count[0] = 1;
    for (size_t k = 1; k <= n; ++k)
      for (size_t s = max_sum; s >= k; --s) count[s] += count[s - k];
    double below = 0;
    for (size_t s = 0; s <= static_cast<size_t>(stat); ++s) below += count[s];
    return std::min(1.0, 2 * below / std::pow(2.0, static_cast<double>(n)));
  }
  const double nn = static_cast<double>(n);
  const double mean = nn * (nn + 1) / 4;
  const double var = nn * (nn + 1) * (2 * nn + 1) / 24 - tie_term / 48;
  if (!(var > 0)) return kNaN;
  return 2 * normal_cdf(-std::abs(stat - mean) / std::sqrt(var));
}

}  // namespace tumorforge::invert
