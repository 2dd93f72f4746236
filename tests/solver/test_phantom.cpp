// The phantom brain: deterministic, has every tissue class, and CSF clefts reach into the brain.
#include <doctest/doctest.h>

#include "solver/phantom.h"

using namespace tumorforge::solver;

TEST_CASE("phantom is deterministic and contains WM, GM, CSF with valid fractions") {
  TissueMaps a = make_phantom({48, 2.0}), b = make_phantom({48, 2.0});
  CHECK(a.wm == b.wm);
  CHECK(a.gm == b.gm);
  CHECK(a.csf == b.csf);
  double wm = 0, gm = 0, csf = 0;
  for (size_t n = 0; n < a.wm.size(); ++n) {
    float sum = a.wm[n] + a.gm[n] + a.csf[n];
    REQUIRE(sum <= 1.0f + 1e-6f);
    wm += a.wm[n], gm += a.gm[n], csf += a.csf[n];
  }
  CHECK(wm > 0.05 * a.wm.size());  // the brain fills ~18% of the cube
  CHECK(gm > 0.05 * a.wm.size());
  CHECK(csf > 0.02 * a.wm.size());
  CHECK(a.grid.spacing_mm[0] == 2.0);
}

TEST_CASE("phantom has CSF barriers inside the brain: ventricles near the centre and sulci below the surface") {
  TissueMaps t = make_phantom({64, 2.0});
  auto labels = hard_labels(t);
  // Walk from the centre outwards along +x: WM, then at least one CSF crossing before leaving the brain
  // (ventricle), and along an oblique upward ray a sulcus between GM voxels.
  int csf_inside = 0;
  for (int64_t i = 32; i < 64; ++i) {
    uint8_t l = labels[static_cast<size_t>(t.grid.index(i, 32, 34))];
    if (l == 1) ++csf_inside;
    if (l == 0) break;
  }
  CHECK(csf_inside >= 2);
  size_t gm_next_to_csf = 0;
  for (int64_t k = 1; k < 63; ++k)
    for (int64_t j = 1; j < 63; ++j)
      for (int64_t i = 1; i < 63; ++i) {
        size_t n = static_cast<size_t>(t.grid.index(i, j, k));
        if (labels[n] == 1 && labels[n - 1] == 2 && labels[n + 1] == 2) ++gm_next_to_csf;
      }
  CHECK(gm_next_to_csf > 50);  // thin clefts lined with cortex on both sides
}
