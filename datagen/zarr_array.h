// A Zarr v2 array on the local (or shared) filesystem: metadata (.zarray, .zattrs), whole chunks and arbitrary
// boxes. Chunks are written under a temporary name in their directory and renamed, so concurrent writers of
// different chunks and killed processes never leave a half-written chunk; missing chunks read as fill_value;
// edge chunks are stored full size, as Zarr requires. C order only; no filters.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datagen/zarr_codec.h"
#include "datagen/zarr_dtype.h"

namespace tumorforge::datagen {

using Shape = std::vector<int64_t>;

struct ArrayMeta {
  Shape shape, chunks;
  DType dtype = DType::kF4;
  Compressor compressor;
  double fill_value = 0.0;       // NaN allowed ("NaN" in JSON)
  char dimension_separator = '.';
};

class ZarrArray {
 public:
  // Creates the directory and .zarray; refuses to overwrite an existing array unless `overwrite`.
  static ZarrArray create(const std::string& path, const ArrayMeta& meta, bool overwrite = false);
  static ZarrArray open(const std::string& path);  // throws naming the path for missing/invalid metadata

  const ArrayMeta& meta() const { return meta_; }
  const std::string& path() const { return path_; }
  size_t itemsize() const { return dtype_size(meta_.dtype); }
  int64_t chunk_elements() const;
  Shape chunk_grid() const;  // number of chunks along each axis

  std::string chunk_key(const Shape& chunk_index) const;  // "0.3.1" or "0/3/1"
  std::string chunk_path(const Shape& chunk_index) const;
  bool chunk_exists(const Shape& chunk_index) const;

  // Raw (decoded, stored-dtype) chunk bytes; fill_value when the chunk is missing. Throws
  // "<array>/<key>: <reason>" for a corrupt chunk.
  std::vector<uint8_t> read_chunk(const Shape& chunk_index) const;
  void write_chunk(const Shape& chunk_index, const void* raw) const;

  // Boxes [start, start + count) in C order, converted from/to T.
  template <typename T>
  std::vector<T> read(const Shape& start, const Shape& count) const;
  template <typename T>
  void write(const Shape& start, const Shape& count, const T* values) const;

  nlohmann::json attrs() const;
  void set_attrs(const nlohmann::json& attrs) const;

 private:
  void copy_box(const Shape& start, const Shape& count, uint8_t* buffer, bool to_array) const;
  std::vector<uint8_t> fill_chunk() const;
  std::string path_;
  ArrayMeta meta_;
};

// Groups: a directory with .zgroup (and optional .zattrs).
void create_group(const std::string& path);
bool is_group(const std::string& path);
bool is_array(const std::string& path);
nlohmann::json read_attrs(const std::string& path);                    // {} when absent
void write_attrs(const std::string& path, const nlohmann::json& attrs);  // atomic

// ---- templates ----
template <typename T>
std::vector<T> ZarrArray::read(const Shape& start, const Shape& count) const {
  int64_t n = 1;
  for (int64_t c : count) n *= c;
  std::vector<uint8_t> raw(static_cast<size_t>(n) * itemsize());
  copy_box(start, count, raw.data(), false);
  std::vector<T> out(static_cast<size_t>(n));
  decode_values(meta_.dtype, raw.data(), out.size(), out.data());
  return out;
}

template <typename T>
void ZarrArray::write(const Shape& start, const Shape& count, const T* values) const {
  int64_t n = 1;
  for (int64_t c : count) n *= c;
  std::vector<uint8_t> raw(static_cast<size_t>(n) * itemsize());
  encode_values(meta_.dtype, values, static_cast<size_t>(n), raw.data());
  copy_box(start, count, raw.data(), true);
}

}  // namespace tumorforge::datagen
