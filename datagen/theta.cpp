// θ normalization and construction (see theta.h).
#include "datagen/theta.h"

#include <cmath>
#include <stdexcept>

namespace tumorforge::datagen {

ThetaRange ThetaRange::from_json(const nlohmann::json& j) {
  ThetaRange r;
  try {
    r.lo = j.at("lo").get<Theta>();
    r.hi = j.at("hi").get<Theta>();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("theta_range needs five-element 'lo' and 'hi' arrays (") + e.what() + ")");
  }
  for (size_t k = 0; k < kThetaSize; ++k)
    if (!(r.hi[k] > r.lo[k]))
      throw std::invalid_argument(std::string("theta_range: empty range for ") + kThetaComponents[k].name);
  return r;
}

Theta theta_of(const std::array<double, 3>& seed_mm, const std::array<double, 3>& centre_mm, double dw, double rho, double t) {
  return {seed_mm[0] - centre_mm[0], seed_mm[1] - centre_mm[1], seed_mm[2] - centre_mm[2], std::sqrt(dw * t), std::sqrt(rho * t)};
}

}  // namespace tumorforge::datagen
