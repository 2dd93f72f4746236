// Phantom geometry (see phantom.h). All lengths are fractions of the field of view L = size * spacing, so the
// phantom looks the same at every resolution; classify() labels one point, make_phantom() averages 8 points
// per voxel into tissue fractions.
#include "solver/phantom.h"

#include <tbb/parallel_for.h>

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace tumorforge::solver {
namespace {

enum class Tissue { kBackground, kCsf, kGm, kWm };

double sq(double x) { return x * x; }

// Point (x, y, z) in units of the field of view, origin at the centre; x left-right, y back-front, z down-up.
Tissue classify(double x, double y, double z) {
  // Brain envelope: an ellipsoid, flatter at the bottom.
  const double rx = 0.34, ry = 0.43, rz = z < 0 ? 0.27 : 0.33;
  const double r = std::sqrt(sq(x / rx) + sq(y / ry) + sq(z / rz));
  if (r > 1.06) return Tissue::kBackground;
  if (r > 1.0) return Tissue::kCsf;  // subarachnoid CSF shell

  // Midline (longitudinal) fissure between the hemispheres, upper part only.
  const double fissure_half_width = 0.006;
  const bool upper = z > -0.05 + 0.15 * (1.0 - r);
  if (upper && std::abs(x) < fissure_half_width && r > 0.35) return Tissue::kCsf;
  if (upper && std::abs(x) < 3.5 * fissure_half_width && r > 0.3) return Tissue::kGm;

  // Sulci: thin clefts where an angular wave pattern crosses zero, reaching from the surface inwards.
  const double theta = std::atan2(y / ry, x / rx);
  const double phi = std::acos(std::max(-1.0, std::min(1.0, (z / rz) / std::max(r, 1e-9))));
  const double wave = std::sin(7.0 * theta + 2.0 * std::sin(3.0 * phi)) * std::sin(5.0 * phi + 0.7 * std::cos(2.0 * theta));
  const double sulcus_depth = 0.24 + 0.06 * std::sin(4.0 * theta + phi);  // in normalized radius
  if (r > 1.0 - sulcus_depth && std::abs(wave) < 0.07) return Tissue::kCsf;
  if (r > 1.0 - sulcus_depth - 0.05 && std::abs(wave) < 0.26) return Tissue::kGm;

  // Cortex.
  if (r > 0.88) return Tissue::kGm;

  // Lateral ventricles: two curved ellipsoids beside the midline.
  for (double side : {-1.0, 1.0}) {
    const double cx = side * 0.055, cy = 0.01, cz = 0.04 + 0.25 * sq(y);
    if (sq((x - cx) / 0.035) + sq((y - cy) / 0.15) + sq((z - cz) / 0.05) < 1.0) return Tissue::kCsf;
  }
  // Deep gray matter (thalamus / basal ganglia) lateral to the ventricles.
  for (double side : {-1.0, 1.0}) {
    if (sq((x - side * 0.12) / 0.05) + sq((y + 0.02) / 0.08) + sq((z + 0.02) / 0.06) < 1.0) return Tissue::kGm;
  }
  return Tissue::kWm;
}

}  // namespace

TissueMaps make_phantom(const PhantomConfig& config) {
  if (config.size < 8 || config.size > 1024)
    throw std::runtime_error("phantom size must be within 8..1024 voxels, got " + std::to_string(config.size));
  if (!(config.spacing_mm > 0) || !std::isfinite(config.spacing_mm))
    throw std::runtime_error("phantom spacing must be a positive number of mm");

  TissueMaps t;
  const int64_t n = config.size;
  t.grid.dims = {n, n, n};
  t.grid.spacing_mm = {config.spacing_mm, config.spacing_mm, config.spacing_mm};
  t.grid.affine = core::scaling_affine(t.grid.spacing_mm);
  for (int a = 0; a < 3; ++a) t.grid.affine[a][3] = -0.5 * (n - 1) * config.spacing_mm;  // centre at world 0
  std::ostringstream src;
  src << "phantom:" << n << "@" << config.spacing_mm << "mm";
  t.source = src.str();
  const size_t nv = static_cast<size_t>(t.grid.num_voxels());
  t.wm.assign(nv, 0.0f);
  t.gm.assign(nv, 0.0f);
  t.csf.assign(nv, 0.0f);

  tbb::parallel_for(int64_t{0}, n, [&](int64_t k) {
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < n; ++i) {
        float counts[4] = {0, 0, 0, 0};
        for (int s = 0; s < 8; ++s) {
          // Sub-voxel sample at +-1/4 voxel, in field-of-view units centred on the grid centre.
          double x = (i + ((s & 1) ? 0.25 : -0.25) - 0.5 * (n - 1)) / n;
          double y = (j + ((s & 2) ? 0.25 : -0.25) - 0.5 * (n - 1)) / n;
          double z = (k + ((s & 4) ? 0.25 : -0.25) - 0.5 * (n - 1)) / n;
          counts[static_cast<int>(classify(x, y, z))] += 0.125f;
        }
        size_t idx = static_cast<size_t>(i + n * (j + n * k));
        t.csf[idx] = counts[1];
        t.gm[idx] = counts[2];
        t.wm[idx] = counts[3];
      }
  });
  return t;
}

}  // namespace tumorforge::solver
