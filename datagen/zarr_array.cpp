// Zarr v2 arrays and groups (see zarr_array.h). Box reads/writes walk the chunks a box touches; a write
// that covers a chunk only partly reads it first (read-modify-write), so such writes to one chunk must come
// from one writer at a time -- the dataset layout chunks every per-sample array by sample for that reason.
#include "datagen/zarr_array.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/errors.h"

namespace fs = std::filesystem;

namespace tumorforge::datagen {
namespace {

using core::fail;

// 2^28 elements (1 GiB of float32) per chunk: far beyond any chunk tumorforge writes (one sample, ~1 MB).
constexpr int64_t kMaxChunkElements = int64_t{1} << 28;

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open");
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path, "cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    fail(path, std::string("invalid JSON (") + e.what() + ")");
  }
}

// Plain POSIX calls: chunk writes are small and many, and iostreams cost more than the write itself.
void write_bytes_atomic(const std::string& path, const void* data, size_t n) {
  core::TempFile tmp(path);
  int fd = ::open(tmp.path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, std::string("cannot open for writing: ") + std::strerror(errno));
  const auto* p = static_cast<const uint8_t*>(data);
  size_t left = n;
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int err = errno;
      ::close(fd);
      fail(path, std::string("write failed: ") + std::strerror(err));
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  if (::close(fd) != 0) fail(path, std::string("close failed: ") + std::strerror(errno));
  tmp.commit();
}

nlohmann::json fill_json(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

double fill_from_json(const nlohmann::json& j) {
  if (j.is_null()) return 0.0;
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    if (s == "NaN") return std::nan("");
    if (s == "Infinity") return INFINITY;
    if (s == "-Infinity") return -INFINITY;
    throw std::runtime_error("unsupported fill_value '" + s + "'");
  }
  if (j.is_boolean()) return j.get<bool>() ? 1.0 : 0.0;
  return j.get<double>();
}

}  // namespace

ZarrArray ZarrArray::create(const std::string& path, const ArrayMeta& m, bool overwrite) {
  if (m.shape.size() != m.chunks.size() || m.shape.empty()) fail(path, "shape and chunks must have the same rank >= 1");
  for (size_t a = 0; a < m.shape.size(); ++a) {
    if (m.shape[a] < 0 || m.chunks[a] < 1) fail(path, "shape must be >= 0 and chunks >= 1 on every axis");
  }
  if (!overwrite && fs::exists(fs::path(path) / ".zarray")) fail(path, "array exists already");
  fs::create_directories(path);
  nlohmann::json j = {{"zarr_format", 2},
                      {"shape", m.shape},
                      {"chunks", m.chunks},
                      {"dtype", dtype_code(m.dtype)},
                      {"compressor", to_zarr_json(m.compressor)},
                      {"fill_value", fill_json(m.fill_value)},
                      {"order", "C"},
                      {"filters", nullptr},
                      {"dimension_separator", std::string(1, m.dimension_separator)}};
  core::write_text_atomic((fs::path(path) / ".zarray").string(), j.dump(4) + "\n");
  ZarrArray a;
  a.path_ = path;
  a.meta_ = m;
  return a;
}

ZarrArray ZarrArray::open(const std::string& path) {
  const std::string meta_path = (fs::path(path) / ".zarray").string();
  if (!fs::exists(meta_path)) fail(path, "not a Zarr array (no .zarray)");
  nlohmann::json j = read_json_file(meta_path);
  ZarrArray a;
  a.path_ = path;
  try {
    if (!j.is_object()) fail(meta_path, "metadata must be a JSON object");
    if (json_integer(j.at("zarr_format"), "zarr_format", 0, 1000) != 2) fail(meta_path, "only zarr_format 2 is supported");
    for (const auto& [key, out] : {std::pair<const char*, Shape*>{"shape", &a.meta_.shape}, {"chunks", &a.meta_.chunks}}) {
      if (!j.at(key).is_array()) fail(meta_path, std::string(key) + " must be a list of integers");
      for (const auto& v : j.at(key)) out->push_back(json_integer(v, key, 0, int64_t{1} << 40));
    }
    a.meta_.dtype = parse_dtype(j.at("dtype").get<std::string>());
    a.meta_.compressor = compressor_from_zarr_json(j.at("compressor"));
    a.meta_.fill_value = fill_from_json(j.value("fill_value", nlohmann::json()));
    if (j.value("order", std::string("C")) != "C") fail(meta_path, "only C order is supported");
    if (j.contains("filters") && !j.at("filters").is_null()) fail(meta_path, "filters are not supported");
    std::string sep = j.value("dimension_separator", std::string("."));
    if (sep != "." && sep != "/") fail(meta_path, "dimension_separator must be '.' or '/'");
    a.meta_.dimension_separator = sep[0];
  } catch (const nlohmann::json::exception& e) {
    fail(meta_path, std::string("invalid metadata (") + e.what() + ")");
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).rfind(meta_path, 0) == 0) throw;
    fail(meta_path, e.what());
  }
  if (a.meta_.shape.size() != a.meta_.chunks.size()) fail(meta_path, "shape and chunks differ in rank");
  // Sizes from a file are not trusted: every later size computation (chunk grid, chunk bytes) relies on these.
  if (a.meta_.shape.empty() || a.meta_.shape.size() > 32) fail(meta_path, "rank must be 1 to 32");
  int64_t chunk_elements = 1;
  for (size_t k = 0; k < a.meta_.shape.size(); ++k) {
    if (a.meta_.shape[k] < 0) fail(meta_path, "shape has a negative extent");
    if (a.meta_.chunks[k] < 1) fail(meta_path, "chunks must be at least 1 along every axis");
    if (__builtin_mul_overflow(chunk_elements, a.meta_.chunks[k], &chunk_elements) || chunk_elements > kMaxChunkElements)
      fail(meta_path, "chunks of more than " + std::to_string(kMaxChunkElements) + " elements are not supported");
  }
  return a;
}

int64_t ZarrArray::chunk_elements() const {
  int64_t n = 1;
  for (int64_t c : meta_.chunks) n *= c;
  return n;
}

Shape ZarrArray::chunk_grid() const {
  Shape g(meta_.shape.size());
  for (size_t a = 0; a < g.size(); ++a) g[a] = (meta_.shape[a] + meta_.chunks[a] - 1) / meta_.chunks[a];
  return g;
}

std::string ZarrArray::chunk_key(const Shape& idx) const {
  std::string key;
  for (size_t a = 0; a < idx.size(); ++a) key += (a ? std::string(1, meta_.dimension_separator) : "") + std::to_string(idx[a]);
  return key;
}

std::string ZarrArray::chunk_path(const Shape& idx) const { return (fs::path(path_) / chunk_key(idx)).string(); }

bool ZarrArray::chunk_exists(const Shape& idx) const { return fs::exists(chunk_path(idx)); }

std::vector<uint8_t> ZarrArray::fill_chunk() const {
  std::vector<uint8_t> raw(static_cast<size_t>(chunk_elements()) * itemsize());
  std::vector<double> one(1, meta_.fill_value);
  std::vector<uint8_t> value(itemsize());
  encode_values(meta_.dtype, one.data(), 1, value.data());
  for (size_t i = 0; i < raw.size(); i += itemsize()) std::memcpy(raw.data() + i, value.data(), itemsize());
  return raw;
}

std::vector<uint8_t> ZarrArray::read_chunk(const Shape& idx) const {
  const std::string p = chunk_path(idx);
  std::error_code ec;
  if (!fs::exists(p, ec)) return fill_chunk();
  std::vector<uint8_t> stored = read_file_bytes(p);
  std::vector<uint8_t> raw(static_cast<size_t>(chunk_elements()) * itemsize());
  try {
    decode_chunk(meta_.compressor, stored, raw.data(), raw.size());
  } catch (const std::exception& e) {
    fail(p, std::string("corrupt chunk: ") + e.what());
  }
  return raw;
}

void ZarrArray::write_chunk(const Shape& idx, const void* raw) const {
  const std::string p = chunk_path(idx);
  if (meta_.dimension_separator == '/') fs::create_directories(fs::path(p).parent_path());
  std::vector<uint8_t> stored = encode_chunk(meta_.compressor, raw, static_cast<size_t>(chunk_elements()) * itemsize(), itemsize());
  write_bytes_atomic(p, stored.data(), stored.size());
}

void ZarrArray::copy_box(const Shape& start, const Shape& count, uint8_t* buffer, bool to_array) const {
  const size_t rank = meta_.shape.size();
  if (start.size() != rank || count.size() != rank) fail(path_, "box rank does not match the array");
  for (size_t a = 0; a < rank; ++a)
    if (start[a] < 0 || count[a] < 0 || start[a] + count[a] > meta_.shape[a]) fail(path_, "box outside the array on axis " + std::to_string(a));
  for (int64_t c : count)
    if (c == 0) return;
  const size_t item = itemsize();
  // Box strides (C order) and chunk strides.
  Shape box_stride(rank, 1), chunk_stride(rank, 1);
  for (size_t a = rank - 1; a-- > 0;) {
    box_stride[a] = box_stride[a + 1] * count[a + 1];
    chunk_stride[a] = chunk_stride[a + 1] * meta_.chunks[a + 1];
  }
  Shape first(rank), last(rank), ci(rank);
  for (size_t a = 0; a < rank; ++a) {
    first[a] = start[a] / meta_.chunks[a];
    last[a] = (start[a] + count[a] - 1) / meta_.chunks[a];
  }
  ci = first;
  while (true) {
    // Overlap of this chunk with the box, in array coordinates.
    Shape lo(rank), hi(rank);
    bool full = true;
    for (size_t a = 0; a < rank; ++a) {
      int64_t c0 = ci[a] * meta_.chunks[a];
      lo[a] = std::max(start[a], c0);
      hi[a] = std::min(start[a] + count[a], c0 + meta_.chunks[a]);
      full = full && lo[a] == c0 && hi[a] == c0 + meta_.chunks[a];
    }
    std::vector<uint8_t> chunk = (to_array && full) ? std::vector<uint8_t>(static_cast<size_t>(chunk_elements()) * item)
                                                    : read_chunk(ci);
    // Copy row by row along the last axis.
    Shape pos = lo;
    const int64_t run = hi[rank - 1] - lo[rank - 1];
    while (true) {
      int64_t b = 0, c = 0;
      for (size_t a = 0; a < rank; ++a) {
        b += (pos[a] - start[a]) * box_stride[a];
        c += (pos[a] - ci[a] * meta_.chunks[a]) * chunk_stride[a];
      }
      uint8_t* bp = buffer + b * static_cast<int64_t>(item);
      uint8_t* cp = chunk.data() + c * static_cast<int64_t>(item);
      if (to_array) std::memcpy(cp, bp, static_cast<size_t>(run) * item);
      else std::memcpy(bp, cp, static_cast<size_t>(run) * item);
      size_t a = rank - 1;
      while (a-- > 0) {
        if (++pos[a] < hi[a]) break;
        pos[a] = lo[a];
      }
      if (a == static_cast<size_t>(-1)) break;
    }
    if (to_array) write_chunk(ci, chunk.data());
    size_t a = rank;
    while (a-- > 0) {
      if (++ci[a] <= last[a]) break;
      ci[a] = first[a];
    }
    if (a == static_cast<size_t>(-1)) break;
  }
}

nlohmann::json ZarrArray::attrs() const { return read_attrs(path_); }
void ZarrArray::set_attrs(const nlohmann::json& a) const { write_attrs(path_, a); }

void create_group(const std::string& path) {
  fs::create_directories(path);
  const std::string p = (fs::path(path) / ".zgroup").string();
  if (!fs::exists(p)) core::write_text_atomic(p, "{\n    \"zarr_format\": 2\n}\n");
}

bool is_group(const std::string& path) { return fs::exists(fs::path(path) / ".zgroup"); }
bool is_array(const std::string& path) { return fs::exists(fs::path(path) / ".zarray"); }

nlohmann::json read_attrs(const std::string& path) {
  const std::string p = (fs::path(path) / ".zattrs").string();
  if (!fs::exists(p)) return nlohmann::json::object();
  return read_json_file(p);
}

void write_attrs(const std::string& path, const nlohmann::json& attrs) {
  core::write_text_atomic((fs::path(path) / ".zattrs").string(), attrs.dump(2) + "\n");
}

}  // namespace tumorforge::datagen
