// NIfTI-1 I/O on top of nifti2_io (see nifti_io.h). The nifti library prints its own diagnostics; we
// silence them and turn every failure into one exception message that names the file.
#include "solver/nifti_io.h"

#include <nifti2_io.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/atomic_file.h"
#include "core/errors.h"

namespace tumorforge::solver {
namespace {

struct NimDeleter {
  void operator()(nifti_image* nim) const { nifti_image_free(nim); }
};
using NimPtr = std::unique_ptr<nifti_image, NimDeleter>;

using core::fail;

// 2^31 voxels (a 1290³ float volume, 8.6 GB): far beyond any brain image, small enough to refuse absurd headers.
constexpr int64_t kMaxVoxels = int64_t{1} << 31;

bool has_nifti_extension(const std::string& path) {
  auto ends = [&](const char* s) {
    size_t n = std::strlen(s);
    return path.size() >= n && path.compare(path.size() - n, n, s) == 0;
  };
  return ends(".nii") || ends(".nii.gz");
}

template <typename T>
void copy_scaled(const void* src, std::vector<float>& dst, double slope, double inter) {
  const T* p = static_cast<const T*>(src);
  for (size_t n = 0; n < dst.size(); ++n) dst[n] = static_cast<float>(static_cast<double>(p[n]) * slope + inter);
}

core::Affine affine_of(const nifti_image& nim) {
  core::Affine a{};
  const nifti_dmat44* m = nullptr;
  if (nim.sform_code > 0) m = &nim.sto_xyz;
  else if (nim.qform_code > 0) m = &nim.qto_xyz;
  if (!m) return core::scaling_affine({std::abs(nim.dx), std::abs(nim.dy), std::abs(nim.dz)});
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) a[r][c] = m->m[r][c];
  return a;
}

NimPtr make_header(const Grid& grid, int datatype, const std::string& description) {
  const int64_t dims[8] = {3, grid.dims[0], grid.dims[1], grid.dims[2], 1, 1, 1, 1};
  NimPtr nim(nifti_make_new_nim(dims, datatype, 1));
  if (!nim) throw std::runtime_error("nifti: cannot allocate image header");
  nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
  nim->dx = nim->pixdim[1] = grid.spacing_mm[0];
  nim->dy = nim->pixdim[2] = grid.spacing_mm[1];
  nim->dz = nim->pixdim[3] = grid.spacing_mm[2];
  nim->xyz_units = NIFTI_UNITS_MM;
  nifti_dmat44 m;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) m.m[r][c] = grid.affine[r][c];
  nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;
  nim->sto_xyz = m;
  nim->sto_ijk = nifti_dmat44_inverse(m);
  nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
  nifti_dmat44_to_quatern(m, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d, &nim->qoffset_x,
                          &nim->qoffset_y, &nim->qoffset_z, nullptr, nullptr, nullptr, &nim->qfac);
  nim->qto_xyz = m;
  nim->qto_ijk = nim->sto_ijk;
  std::strncpy(nim->descrip, description.c_str(), sizeof(nim->descrip) - 1);
  return nim;
}

void write_image(const std::string& path, NimPtr nim) {
  if (!has_nifti_extension(path)) fail(path, "output must end in .nii or .nii.gz");
  core::ensure_parent_dir(path);
  core::TempFile tmp(path);
  if (nifti_set_filenames(nim.get(), tmp.path().c_str(), 0, 1) != 0) fail(path, "cannot set output file name");
  nifti_image_write(nim.get());
  std::error_code ec;
  if (!std::filesystem::exists(tmp.path(), ec) || std::filesystem::file_size(tmp.path(), ec) == 0)
    fail(path, "writing failed (directory not writable or disk full?)");
  tmp.commit();
}

// The voxel data exactly as stored. niftilib's own loader (nifti_image_load) silently replaces NaN and Inf in
// float images with 0, which would hide exactly the bad input the stages must refuse.
// The header's size is not trusted: the data are read in pieces, so a header claiming more voxels than the file
// holds is refused as truncated after reading what is there, never by allocating what it claims (fuzzing found it).
void read_voxels_verbatim(nifti_image& nim, const std::string& path) {
  int64_t bytes = 0;
  if (nim.nvox <= 0 || nim.nbyper <= 0 || __builtin_mul_overflow(nim.nvox, static_cast<int64_t>(nim.nbyper), &bytes))
    fail(path, "image has no voxels or an impossible size in its header");
  if (nim.nvox > kMaxVoxels)
    fail(path, "header claims " + std::to_string(nim.nvox) + " voxels, more than the " + std::to_string(kMaxVoxels) + " tumorforge reads");
  znzFile fp = znzopen(nim.iname, "rb", nifti_is_gzfile(nim.iname));
  if (znz_isnull(fp)) fail(path, "cannot open the image data");
  // Grown piece by piece with realloc (glibc moves large blocks with mremap, so the peak stays one copy of the
  // data) and handed to niftilib, which frees nim.data with free().
  std::unique_ptr<uint8_t, decltype(&std::free)> data(nullptr, &std::free);
  int64_t have = 0;
  bool ok = nim.iname_offset >= 0 && znzseek(fp, nim.iname_offset, SEEK_SET) >= 0;
  constexpr int64_t kPiece = int64_t{64} << 20;
  while (ok && have < bytes) {
    const int64_t want = std::min(kPiece, bytes - have);
    void* grown = std::realloc(data.get(), static_cast<size_t>(have + want));
    if (grown == nullptr) {
      znzclose(fp);
      fail(path, "out of memory reading " + std::to_string(bytes) + " bytes");
    }
    (void)data.release();
    data.reset(static_cast<uint8_t*>(grown));
    ok = znzread(data.get() + have, 1, static_cast<size_t>(want), fp) == static_cast<size_t>(want);
    have += want;
  }
  znzclose(fp);
  if (!ok) fail(path, "image data truncated or unreadable (the header promises " + std::to_string(bytes) + " bytes)");
  nim.data = data.release();
  if (nim.swapsize > 1 && nim.byteorder != nifti_short_order()) nifti_swap_Nbytes(nim.nvox, nim.swapsize, nim.data);
}

}  // namespace

Volume read_nifti(const std::string& path) {
  nifti_set_debug_level(0);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(path, "no such file");
  if (!std::filesystem::is_regular_file(path, ec)) fail(path, "not a regular file");
  if (!has_nifti_extension(path)) fail(path, "expected a NIfTI file ending in .nii or .nii.gz");
  NimPtr nim(nifti_image_read(path.c_str(), 0));
  if (!nim) fail(path, "not a readable NIfTI image (corrupt or truncated?)");
  read_voxels_verbatim(*nim, path);
  if (nim->nx < 1 || nim->ny < 1 || nim->nz < 1) fail(path, "image has an empty dimension");
  if (nim->nvox != nim->nx * nim->ny * nim->nz)
    fail(path, "expected a 3D volume, got " + std::to_string(nim->ndim) + "D with " +
                   std::to_string(nim->nvox / (nim->nx * nim->ny * nim->nz)) + " volumes");

  Grid grid;
  grid.dims = {nim->nx, nim->ny, nim->nz};
  grid.spacing_mm = {std::abs(nim->dx), std::abs(nim->dy), std::abs(nim->dz)};
  for (double h : grid.spacing_mm)
    if (!(h > 0) || !std::isfinite(h)) fail(path, "voxel spacing must be positive and finite");
  if (nim->xyz_units == NIFTI_UNITS_METER || nim->xyz_units == NIFTI_UNITS_MICRON)
    fail(path, "spatial units must be mm (header says " + std::string(nifti_units_string(nim->xyz_units)) + ")");
  grid.affine = affine_of(*nim);

  Volume v(grid);
  double slope = (nim->scl_slope != 0.0 && std::isfinite(nim->scl_slope)) ? nim->scl_slope : 1.0;
  double inter = std::isfinite(nim->scl_inter) && nim->scl_slope != 0.0 ? nim->scl_inter : 0.0;
  switch (nim->datatype) {
    case DT_UINT8: copy_scaled<uint8_t>(nim->data, v.data, slope, inter); break;
    case DT_INT8: copy_scaled<int8_t>(nim->data, v.data, slope, inter); break;
    case DT_INT16: copy_scaled<int16_t>(nim->data, v.data, slope, inter); break;
    case DT_UINT16: copy_scaled<uint16_t>(nim->data, v.data, slope, inter); break;
    case DT_INT32: copy_scaled<int32_t>(nim->data, v.data, slope, inter); break;
    case DT_FLOAT32: copy_scaled<float>(nim->data, v.data, slope, inter); break;
    case DT_FLOAT64: copy_scaled<double>(nim->data, v.data, slope, inter); break;
    default:
      fail(path, std::string("unsupported voxel type ") + nifti_datatype_string(nim->datatype) +
                     " (use uint8, int16, float32 or float64)");
  }
  return v;
}

void write_nifti(const std::string& path, const Volume& volume, const std::string& description) {
  NimPtr nim = make_header(volume.grid, DT_FLOAT32, description);
  std::memcpy(nim->data, volume.data.data(), volume.data.size() * sizeof(float));
  write_image(path, std::move(nim));
}

void write_nifti_labels(const std::string& path, const Grid& grid, const std::vector<uint8_t>& labels,
                        const std::string& description) {
  if (static_cast<int64_t>(labels.size()) != grid.num_voxels())
    throw std::invalid_argument("write_nifti_labels: label count does not match the grid");
  NimPtr nim = make_header(grid, DT_UINT8, description);
  std::memcpy(nim->data, labels.data(), labels.size());
  write_image(path, std::move(nim));
}

}  // namespace tumorforge::solver
