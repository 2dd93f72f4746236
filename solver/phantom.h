// The built-in procedural phantom brain: the default anatomy wherever no atlas is given. Deterministic (a pure
// function of size and spacing): an ellipsoidal brain with a gray-matter cortex over a white-matter core, CSF
// ventricles, a midline fissure and sulci-like CSF clefts lined with cortex, inside a thin CSF shell, so
// simulated tumors meet the same kinds of barriers as in a real brain. Fractions come from 2x2x2 supersampling.
#pragma once
#include "solver/tissue.h"

namespace tumorforge::solver {

struct PhantomConfig {
  int size = 96;            // voxels per edge (cube)
  double spacing_mm = 2.0;  // isotropic voxel size
};

TissueMaps make_phantom(const PhantomConfig& config);

}  // namespace tumorforge::solver
