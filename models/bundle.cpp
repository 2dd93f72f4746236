// HDF5 bundle writing and reading (see bundle.h), on the HDF5 C API.
#include "models/bundle.h"

#include <hdf5.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "models/bundle_seal.h"

namespace tumorforge::models {
namespace {

using core::fail;

// 2^28 values (1 GiB of float32) per weight: far above any tumorforge network's largest tensor.
constexpr uint64_t kMaxWeightElements = uint64_t{1} << 28;
// An attribute of the object header holds at most 64 KiB.
constexpr size_t kMaxAttributeBytes = size_t{1} << 16;

struct H5Handle {  // closes any HDF5 id with its own close function
  hid_t id;
  herr_t (*close)(hid_t);
  ~H5Handle() {
    if (id >= 0) close(id);
  }
};

// Fixed-length UTF-8 strings in the object header. Not variable-length ones: those live in HDF5's global heap,
// where a damaged file can send libhdf5 1.10 into an endless loop (fuzzing found one; h5py hangs on it too).
void write_string_attr(hid_t loc, const std::string& name, const std::string& value) {
  H5Handle type{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(type.id, std::max<size_t>(1, value.size()));
  H5Tset_strpad(type.id, H5T_STR_NULLPAD);
  H5Tset_cset(type.id, H5T_CSET_UTF8);
  H5Handle space{H5Screate(H5S_SCALAR), H5Sclose};
  H5Handle attr{H5Acreate2(loc, name.c_str(), type.id, space.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
  std::string padded = value;
  padded.resize(std::max<size_t>(1, value.size()), '\0');
  if (attr.id < 0 || H5Awrite(attr.id, type.id, padded.data()) < 0) throw std::runtime_error("cannot write attribute " + name);
}

std::string read_string_attr(hid_t loc, const std::string& name) {
  if (H5Aexists(loc, name.c_str()) <= 0) throw std::runtime_error("missing attribute '" + name + "'");
  H5Handle attr{H5Aopen(loc, name.c_str(), H5P_DEFAULT), H5Aclose};
  if (attr.id < 0) throw std::runtime_error("cannot open attribute '" + name + "'");
  H5Handle type{H5Aget_type(attr.id), H5Tclose};
  if (H5Tget_class(type.id) != H5T_STRING) throw std::runtime_error("attribute '" + name + "' is not a string");
  if (H5Tis_variable_str(type.id) != 0)
    throw std::runtime_error("attribute '" + name + "' is a variable-length string, as bundles written before December 2026 "
                             "have it: convert the file with tools/convert_bundle.py");
  H5Handle space{H5Aget_space(attr.id), H5Sclose};
  if (H5Sget_simple_extent_npoints(space.id) != 1) throw std::runtime_error("attribute '" + name + "' is not a single string");
  const size_t n = H5Tget_size(type.id);
  if (n == 0 || n > kMaxAttributeBytes) throw std::runtime_error("attribute '" + name + "' has an impossible size");
  std::string s(n, '\0');
  if (H5Aread(attr.id, type.id, s.data()) < 0) throw std::runtime_error("cannot read attribute " + name);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

herr_t collect_link(hid_t, const char* name, const H5L_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->push_back(name);
  return 0;
}

herr_t collect_attr(hid_t, const char* name, const H5A_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->push_back(name);
  return 0;
}

}  // namespace

void write_bundle(const std::string& path, const NetConfig& config, const nlohmann::json& meta, const torch::nn::Module& module) {
  core::ensure_parent_dir(path);
  core::TempFile tmp(path);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  {
    H5Handle fcpl{H5Pcreate(H5P_FILE_CREATE), H5Pclose};
    H5Pset_userblock(fcpl.id, kSealBytes);  // room for the seal, written once the file is closed
    H5Handle file{H5Fcreate(tmp.path().c_str(), H5F_ACC_TRUNC, fcpl.id, H5P_DEFAULT), H5Fclose};
    if (file.id < 0) fail(path, "cannot create HDF5 file");
    nlohmann::json cfg = config;
    write_string_attr(file.id, "format", "tumorforge.model_bundle/1");
    write_string_attr(file.id, "config", cfg.dump());
    for (auto it = meta.begin(); it != meta.end(); ++it) write_string_attr(file.id, it.key(), it.value().dump());
    H5Handle group{H5Gcreate2(file.id, "weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose};
    for (const auto& item : module.named_parameters(true)) {
      torch::Tensor t = item.value().detach().to(torch::kCPU, torch::kFloat).contiguous();
      std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
      H5Handle space{H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose};
      H5Handle ds{H5Dcreate2(group.id, item.key().c_str(), H5T_IEEE_F32LE, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose};
      if (ds.id < 0 || H5Dwrite(ds.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr<float>()) < 0)
        fail(path, "cannot write weight " + item.key());
    }
  }
  seal_bundle(tmp.path());
  tmp.commit();
}

Bundle read_bundle(const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  if (!std::filesystem::exists(path)) fail(path, "no such file");
  verify_bundle_seal(path);  // before libhdf5 reads a byte: it is not safe on damaged files
  if (H5Fis_hdf5(path.c_str()) <= 0) fail(path, "not an HDF5 file (corrupt or truncated?)");
  H5Handle file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  if (file.id < 0) fail(path, "cannot open HDF5 file");
  Bundle b;
  try {
    if (read_string_attr(file.id, "format") != "tumorforge.model_bundle/1") fail(path, "not a tumorforge model bundle");
    b.config = nlohmann::json::parse(read_string_attr(file.id, "config")).get<NetConfig>();
    b.config.validate();
    std::vector<std::string> attrs;
    H5Aiterate2(file.id, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attr, &attrs);
    for (const auto& n : attrs)
      if (n != "format" && n != "config") b.meta[n] = nlohmann::json::parse(read_string_attr(file.id, n));
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).rfind(path, 0) == 0) throw;
    fail(path, e.what());
  } catch (const std::exception& e) {
    fail(path, std::string("damaged metadata (") + e.what() + ")");
  }
  if (H5Lexists(file.id, "weights", H5P_DEFAULT) <= 0) fail(path, "no /weights group");
  H5Handle group{H5Gopen2(file.id, "weights", H5P_DEFAULT), H5Gclose};
  std::vector<std::string> names;
  H5Literate(group.id, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_link, &names);
  for (const auto& n : names) {
    H5Handle ds{H5Dopen2(group.id, n.c_str(), H5P_DEFAULT), H5Dclose};
    if (ds.id < 0) fail(path, "weight " + n + " is not a readable dataset");
    H5Handle space{H5Dget_space(ds.id), H5Sclose};
    const int rank = H5Sget_simple_extent_ndims(space.id);
    if (rank < 0 || rank > 8) fail(path, "weight " + n + " has an impossible rank");
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
    // The shape in the file is not trusted: it must describe data the file really holds before anything is
    // allocated for it (fuzzing found a 4 TB request from a 2 kB file).
    uint64_t elements = 1;
    for (hsize_t d : dims)
      if (d > kMaxWeightElements || __builtin_mul_overflow(elements, static_cast<uint64_t>(d), &elements) || elements > kMaxWeightElements)
        fail(path, "weight " + n + " claims more than " + std::to_string(kMaxWeightElements) + " values");
    if (H5Dget_storage_size(ds.id) < elements * sizeof(float))
      fail(path, "weight " + n + " holds fewer bytes than its shape needs (truncated or damaged)");
    std::vector<int64_t> shape(dims.begin(), dims.end());
    torch::Tensor t = torch::empty(shape, torch::kFloat);
    if (H5Dread(ds.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr<float>()) < 0) fail(path, "cannot read weight " + n);
    b.weights[n] = t;
  }
  double stored = 0;
  for (const auto& [name, t] : b.weights) stored += static_cast<double>(t.numel());
  const double needed = b.config.min_parameters();
  if (stored < needed)
    fail(path, "holds " + std::to_string(static_cast<int64_t>(stored)) + " weight values, fewer than the network its config describes needs (at least " +
                   std::to_string(static_cast<int64_t>(needed)) + ")");
  return b;
}

void load_weights(const Bundle& b, torch::nn::Module& module, const std::string& path) {
  torch::NoGradGuard no_grad;
  size_t used = 0;
  for (auto& item : module.named_parameters(true)) {
    auto it = b.weights.find(item.key());
    if (it == b.weights.end()) fail(path, "weight '" + item.key() + "' is missing (bundle and model config disagree)");
    if (it->second.sizes() != item.value().sizes()) {
      std::ostringstream s;
      s << "weight '" << item.key() << "' has shape " << it->second.sizes() << ", the model expects " << item.value().sizes();
      fail(path, s.str());
    }
    item.value().copy_(it->second.to(item.value().device(), item.value().scalar_type()));
    ++used;
  }
  if (used != b.weights.size()) fail(path, std::to_string(b.weights.size() - used) + " tensors in the bundle do not belong to the model");
}

std::map<std::string, torch::Tensor> with_zero_input_channel(std::map<std::string, torch::Tensor> weights, const std::string& name) {
  auto it = weights.find(name);
  if (it == weights.end() || it->second.dim() != 5) throw std::invalid_argument("no conv weight '" + name + "' to widen");
  auto& w = it->second;
  auto extra = torch::zeros({w.size(0), 1, w.size(2), w.size(3), w.size(4)}, w.options());
  w = torch::cat({w, extra}, 1);
  return weights;
}

}  // namespace tumorforge::models
