// NIfTI round trips: the affine survives, integer and float64 inputs are read as float32, errors name the file.
#include <doctest/doctest.h>
#include <nifti2_io.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "solver/nifti_io.h"

namespace fs = std::filesystem;
using namespace tumorforge::solver;

namespace {

fs::path scratch_dir() {
  fs::path d = fs::temp_directory_path() / ("tumorforge_test_nifti_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

Grid test_grid() {
  Grid g;
  g.dims = {5, 4, 3};
  g.spacing_mm = {1.5, 2.0, 2.5};
  g.affine = {{{-1.5, 0, 0, 90}, {0, 2.0, 0, -126}, {0, 0, 2.5, -72}, {0, 0, 0, 1}}};
  return g;
}

// Writes a file of an arbitrary datatype through the nifti library directly (as other tools would).
template <typename T>
void write_raw(const std::string& path, int datatype, const Grid& g, const std::vector<T>& values) {
  const int64_t dims[8] = {3, g.dims[0], g.dims[1], g.dims[2], 1, 1, 1, 1};
  nifti_image* nim = nifti_make_new_nim(dims, datatype, 1);
  nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
  nim->dx = nim->pixdim[1] = g.spacing_mm[0];
  nim->dy = nim->pixdim[2] = g.spacing_mm[1];
  nim->dz = nim->pixdim[3] = g.spacing_mm[2];
  std::memcpy(nim->data, values.data(), values.size() * sizeof(T));
  nifti_set_filenames(nim, path.c_str(), 0, 1);
  nifti_image_write(nim);
  nifti_image_free(nim);
}

}  // namespace

TEST_CASE("float32 NIfTI round trip keeps values, spacing and affine") {
  fs::path dir = scratch_dir();
  Volume v(test_grid());
  for (size_t n = 0; n < v.data.size(); ++n) v.data[n] = 0.01f * static_cast<float>(n);
  std::string path = (dir / "v.nii.gz").string();
  write_nifti(path, v, "test");
  Volume r = read_nifti(path);
  CHECK(r.grid.dims == v.grid.dims);
  CHECK(r.grid.same_shape(v.grid));
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b) CHECK(r.grid.affine[a][b] == doctest::Approx(v.grid.affine[a][b]).epsilon(1e-6));
  CHECK(r.data == v.data);
  fs::remove_all(dir);
}

TEST_CASE("uint8, int16 and float64 inputs are read as float32") {
  fs::path dir = scratch_dir();
  Grid g = test_grid();
  size_t n = static_cast<size_t>(g.num_voxels());
  std::vector<uint8_t> u8(n);
  std::vector<int16_t> i16(n);
  std::vector<double> f64(n);
  for (size_t i = 0; i < n; ++i) u8[i] = uint8_t(i % 4), i16[i] = int16_t(-100 + int(i)), f64[i] = 0.5 * i;
  write_raw((dir / "u8.nii").string(), DT_UINT8, g, u8);
  write_raw((dir / "i16.nii.gz").string(), DT_INT16, g, i16);
  write_raw((dir / "f64.nii").string(), DT_FLOAT64, g, f64);
  Volume a = read_nifti((dir / "u8.nii").string()), b = read_nifti((dir / "i16.nii.gz").string()),
         c = read_nifti((dir / "f64.nii").string());
  CHECK(a.data[7] == 3.0f);
  CHECK(b.data[0] == -100.0f);
  CHECK(c.data[9] == 4.5f);
  CHECK(c.grid.spacing_mm[2] == doctest::Approx(2.5));
  fs::remove_all(dir);
}

TEST_CASE("unreadable inputs fail with the file name, failed writes leave no file behind") {
  fs::path dir = scratch_dir();
  CHECK_THROWS_WITH(read_nifti((dir / "missing.nii.gz").string()), doctest::Contains("missing.nii.gz: no such file"));
  std::string junk = (dir / "junk.nii.gz").string();
  std::ofstream(junk) << "not a nifti file";
  CHECK_THROWS_WITH(read_nifti(junk), doctest::Contains("junk.nii.gz"));
  Volume v(test_grid());
  CHECK_THROWS(write_nifti((dir / "v.txt").string(), v));
  CHECK_FALSE(fs::exists(dir / "v.txt"));
  size_t leftovers = 0;
  for (auto& e : fs::directory_iterator(dir)) leftovers += e.path().filename().string().rfind(".tmp-", 0) == 0;
  CHECK(leftovers == 0);
  fs::remove_all(dir);
}
