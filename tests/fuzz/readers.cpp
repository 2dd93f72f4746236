// The fuzz targets (see readers.h).
#include "tests/fuzz/readers.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "datagen/zarr_array.h"
#include "solver/nifti_io.h"
#ifdef TUMORFORGE_FUZZ_TORCH
#include <hdf5.h>

#include "models/bundle.h"
#include "models/networks.h"
#endif

namespace fs = std::filesystem;

namespace tumorforge::fuzz {
namespace {

void write_file(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace

const std::string& scratch_dir() {
  static const std::string dir = [] {
    const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    const fs::path d = base / ("tumorforge_fuzz_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d.string();
  }();
  return dir;
}

std::string read_nifti_bytes(const uint8_t* data, size_t size) {
  const bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  const std::string path = scratch_dir() + (gz ? "/in.nii.gz" : "/in.nii");
  write_file(path, data, size);
  try {
    const core::Volume v = solver::read_nifti(path);
    if (static_cast<int64_t>(v.data.size()) != v.grid.num_voxels()) std::abort();  // the reader's own promise
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

std::string read_zarr_bytes(const uint8_t* data, size_t size) {
  if (size < 2) return "";
  const size_t n = std::min<size_t>(size - 2, static_cast<size_t>(data[0]) | (static_cast<size_t>(data[1]) << 8));
  const std::string dir = scratch_dir() + "/arr";
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_file(dir + "/.zarray", data + 2, n);
  try {
    const datagen::ZarrArray a = datagen::ZarrArray::open(dir);
    const datagen::Shape zero(a.meta().shape.size(), 0);
    const std::string key = a.chunk_path(zero);
    fs::create_directories(fs::path(key).parent_path());
    write_file(key, data + 2 + n, size - 2 - n);
    const std::vector<uint8_t> raw = a.read_chunk(zero);
    if (static_cast<int64_t>(raw.size()) != a.chunk_elements() * static_cast<int64_t>(a.itemsize())) std::abort();
    datagen::Shape count(a.meta().shape.size());
    for (size_t k = 0; k < count.size(); ++k) count[k] = std::min<int64_t>(a.meta().shape[k], 4);
    (void)a.read<float>(zero, count);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

#ifdef TUMORFORGE_FUZZ_TORCH
std::string read_bundle_once(const uint8_t* data, size_t size) {
  const std::string path = scratch_dir() + "/in.h5";
  write_file(path, data, size);
  try {
    const models::Bundle b = models::read_bundle(path);
    if (b.config.kind == "surrogate") {
      models::SurrogateNet net(b.config);
      models::load_weights(b, *net, path);
    } else {
      models::InverseNet net(b.config);
      models::load_weights(b, *net, path);
    }
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

std::string read_bundle_bytes(const uint8_t* data, size_t size) {
  const std::string error = read_bundle_once(data, size);
  // Every HDF5 object the reader opened must be closed again, whatever happened (a leaked file id keeps its
  // metadata cache: a long-running evaluate or a fuzzer would grow without bound).
  const ssize_t open_objects = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (open_objects > 0) {
    std::fprintf(stderr, "read_bundle left %zd HDF5 objects open (%s)\n", open_objects, error.c_str());
    std::abort();
  }
  return error;
}
#endif

}  // namespace tumorforge::fuzz
