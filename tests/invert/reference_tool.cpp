// Command-line access to the pure-numeric parts of invert/ for the Python reference checks:
//   reference_tool cmaes <sphere|ellipsoid|rosenbrock> <seed>   -> evaluations until f < 1e-8 (JSON)
//   reference_tool stats < {"a": [...], "b": [...]}             -> paired t-test and Wilcoxon p-values (JSON)
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "invert/cmaes.h"
#include "invert/statistics.h"

using tumorforge::invert::Cmaes;

double objective(const std::string& f, const std::vector<double>& x) {
  double s = 0;
  const size_t n = x.size();
  for (size_t i = 0; i < n; ++i) {
    if (f == "sphere") s += x[i] * x[i];
    else if (f == "ellipsoid") s += std::pow(1e6, static_cast<double>(i) / static_cast<double>(n - 1)) * x[i] * x[i];
    else if (i + 1 < n) s += 100 * std::pow(x[i + 1] - x[i] * x[i], 2) + std::pow(1 - x[i], 2);
  }
  return s;
}

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "cmaes" && argc == 4) {
    const std::string f = argv[2];
    // Same start as check_cmaes.py: 3.0 everywhere (sphere, ellipsoid) or 0 (Rosenbrock), sigma 1 / 0.5.
    std::vector<double> x0(5, f == "rosenbrock" ? 0.0 : 3.0);
    tumorforge::invert::CmaesOptions o;
    o.seed = std::stoull(argv[3]);
    Cmaes es(x0, f == "rosenbrock" ? 0.5 : 1.0, o);
    int64_t evals = 0;
    double best = INFINITY;
    while (best >= 1e-8 && evals < 200000) {
      const auto& pop = es.ask();
      std::vector<double> fit;
      for (const auto& x : pop) fit.push_back(objective(f, x));
      for (double v : fit) best = std::min(best, v);
      evals += static_cast<int64_t>(fit.size());
      es.tell(fit);
    }
    std::printf("%s\n", nlohmann::json({{"evaluations", evals}, {"best", best}}).dump().c_str());
    return 0;
  }
  if (mode == "stats") {
    nlohmann::json in = nlohmann::json::parse(std::cin);
    const auto a = in.at("a").get<std::vector<double>>(), b = in.at("b").get<std::vector<double>>();
    std::printf("%s\n", nlohmann::json({{"t_p", tumorforge::invert::paired_t_test(a, b)},
                                        {"wilcoxon_p", tumorforge::invert::wilcoxon_signed_rank(a, b)}}).dump().c_str());
    return 0;
  }
  std::fprintf(stderr, "usage: reference_tool cmaes <sphere|ellipsoid|rosenbrock> <seed> | stats < json\n");
  return 2;
}
