// The voxel grid every stage works on: dimensions, spacing in mm and the voxel-to-world affine, plus a
// dense float32 volume on that grid. Storage is x-fastest (NIfTI order): index = i + nx*(j + ny*k).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tumorforge::core {

using Affine = std::array<std::array<double, 4>, 4>;  // world_mm = A * (i, j, k, 1)

struct Grid {
  std::array<int64_t, 3> dims{0, 0, 0};
  std::array<double, 3> spacing_mm{1.0, 1.0, 1.0};
  Affine affine{{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}};

  int64_t num_voxels() const { return dims[0] * dims[1] * dims[2]; }
  double voxel_volume_mm3() const { return spacing_mm[0] * spacing_mm[1] * spacing_mm[2]; }
  int64_t index(int64_t i, int64_t j, int64_t k) const { return i + dims[0] * (j + dims[1] * k); }
  bool contains(int64_t i, int64_t j, int64_t k) const {
    return i >= 0 && j >= 0 && k >= 0 && i < dims[0] && j < dims[1] && k < dims[2];
  }
  // Same dims and spacing (to 1e-4 mm); affines are not compared because tools disagree on rounding.
  bool same_shape(const Grid& other) const;
  std::string describe() const;  // "240x240x155 @ 1x1x1 mm"
  // A storage index as the voxel a user can find in a viewer: "voxel (i, j, k)" (error messages).
  std::string voxel_name(int64_t index) const;
};

// Diagonal affine with the given spacing and the origin at voxel (0,0,0).
Affine scaling_affine(const std::array<double, 3>& spacing_mm);

struct Volume {
  Grid grid;
  std::vector<float> data;

  Volume() = default;
  explicit Volume(const Grid& g, float value = 0.0f) : grid(g), data(static_cast<size_t>(g.num_voxels()), value) {}
  float& at(int64_t i, int64_t j, int64_t k) { return data[static_cast<size_t>(grid.index(i, j, k))]; }
  float at(int64_t i, int64_t j, int64_t k) const { return data[static_cast<size_t>(grid.index(i, j, k))]; }
};

}  // namespace tumorforge::core
