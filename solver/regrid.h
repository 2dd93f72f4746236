// Bringing anatomy onto another image's grid through both affines (world mm = A · voxel): an atlas in RAS onto
// a patient's LPS grid, or a 1 mm atlas onto a 2 mm scan. Each target voxel centre is mapped into the source's
// voxel space and sampled — nearest for label maps, trilinear for fractions — with 0 outside the source.
#pragma once
#include <string>

#include "solver/tissue.h"

namespace tumorforge::solver {

using core::Affine;

enum class Interpolation { kNearest, kTrilinear };

// True when both grids have the same shape and affines equal to 1e-3 mm (nothing to resample).
bool same_grid(const Grid& a, const Grid& b);
std::string describe_affine(const Affine& a);  // "[[-1,0,0,0],[0,-1,0,239],[0,0,1,0]]"

// `source` sampled at the voxel centres of `target`. Throws naming `what` and both affines when no target voxel
// centre falls inside the source image (the two images do not overlap in world space) or the source affine is
// singular.
Volume regrid(const Volume& source, const Grid& target, Interpolation how, const std::string& what);
// The three fraction maps onto `target` (WM + GM + CSF renormalized where interpolation pushed it above 1).
TissueMaps regrid_tissue(const TissueMaps& source, const Grid& target, Interpolation how, const std::string& what);

}  // namespace tumorforge::solver
