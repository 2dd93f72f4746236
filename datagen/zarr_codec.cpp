// Chunk compression and strict decompression (see zarr_codec.h).
#include "datagen/zarr_codec.h"

#include <blosc.h>
#include <zlib.h>

#include <cstring>
#include <stdexcept>

namespace tumorforge::datagen {

nlohmann::json to_zarr_json(const Compressor& c) {
  if (c.id == "none") return nullptr;
  if (c.id == "zlib") return {{"id", "zlib"}, {"level", c.clevel}};
  return {{"id", "blosc"}, {"cname", c.cname}, {"clevel", c.clevel}, {"shuffle", c.shuffle}, {"blocksize", c.blocksize}};
}

int64_t json_integer(const nlohmann::json& j, const std::string& what, int64_t lo, int64_t hi) {
  const bool integer = j.is_number_integer();  // signed or unsigned JSON integer, never a float
  if (!integer || (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(hi)) || j.get<int64_t>() < lo ||
      j.get<int64_t>() > hi)
    throw std::runtime_error(what + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + j.dump());
  return j.get<int64_t>();
}

Compressor compressor_from_zarr_json(const nlohmann::json& j) {
  Compressor c;
  if (j.is_null()) {
    c.id = "none";
    return c;
  }
  if (!j.is_object()) throw std::runtime_error("compressor must be an object or null");
  c.id = j.at("id").get<std::string>();
  auto integer = [&](const char* key, int64_t def, int64_t lo, int64_t hi) {
    return j.contains(key) ? static_cast<int>(json_integer(j.at(key), std::string("compressor ") + key, lo, hi)) : static_cast<int>(def);
  };
  if (c.id == "zlib") {
    c.clevel = integer("level", 1, -1, 9);
  } else if (c.id == "blosc") {
    c.cname = j.value("cname", std::string("lz4"));
    c.clevel = integer("clevel", 5, 0, 9);
    c.shuffle = integer("shuffle", 1, -1, 2);
    c.blocksize = integer("blocksize", 0, 0, int64_t{1} << 30);
    if (c.shuffle == -1) c.shuffle = 1;  // numcodecs AUTOSHUFFLE: byte shuffle for typesize > 1
  } else {
    throw std::runtime_error("compressor '" + c.id + "' is not supported (blosc, zlib or none)");
  }
  return c;
}

std::vector<uint8_t> encode_chunk(const Compressor& c, const void* raw, size_t nbytes, size_t typesize) {
  if (c.id == "none") {
    const auto* p = static_cast<const uint8_t*>(raw);
    return std::vector<uint8_t>(p, p + nbytes);
  }
  if (c.id == "zlib") {
    uLongf size = compressBound(static_cast<uLong>(nbytes));
    std::vector<uint8_t> out(size);
    if (compress2(out.data(), &size, static_cast<const Bytef*>(raw), static_cast<uLong>(nbytes), c.clevel) != Z_OK)
      throw std::runtime_error("zlib compression failed");
    out.resize(size);
    return out;
  }
  std::vector<uint8_t> out(nbytes + BLOSC_MAX_OVERHEAD);
  int shuffle = typesize > 1 ? c.shuffle : (c.shuffle == 2 ? 2 : 0);
  int n = blosc_compress_ctx(c.clevel, shuffle, typesize, nbytes, raw, out.data(), out.size(), c.cname.c_str(),
                             static_cast<size_t>(c.blocksize), 1);
  if (n <= 0) throw std::runtime_error("blosc compression failed (codec '" + c.cname + "' available?)");
  out.resize(static_cast<size_t>(n));
  return out;
}

void decode_chunk(const Compressor& c, const std::vector<uint8_t>& stored, void* out, size_t expected) {
  if (c.id == "none") {
    if (stored.size() != expected)
      throw std::runtime_error("raw chunk has " + std::to_string(stored.size()) + " bytes, expected " + std::to_string(expected));
    std::memcpy(out, stored.data(), expected);
    return;
  }
  if (c.id == "zlib") {
    uLongf size = static_cast<uLongf>(expected);
    int rc = uncompress(static_cast<Bytef*>(out), &size, stored.data(), static_cast<uLong>(stored.size()));
    if (rc != Z_OK || size != expected)
      throw std::runtime_error("zlib stream is corrupt or truncated (" + std::string(rc == Z_OK ? "short output" : zError(rc)) + ")");
    return;
  }
  if (stored.size() < BLOSC_MIN_HEADER_LENGTH)
    throw std::runtime_error("blosc chunk of " + std::to_string(stored.size()) + " bytes is shorter than its header");
  size_t nbytes = 0, cbytes = 0, blocksize = 0;
  blosc_cbuffer_sizes(stored.data(), &nbytes, &cbytes, &blocksize);
  if (cbytes != stored.size())
    throw std::runtime_error("blosc header says " + std::to_string(cbytes) + " compressed bytes, file has " +
                             std::to_string(stored.size()) + " (truncated?)");
  if (nbytes != expected)
    throw std::runtime_error("blosc header says " + std::to_string(nbytes) + " bytes, expected " + std::to_string(expected));
  int n = blosc_decompress_ctx(stored.data(), out, expected, 1);
  if (n < 0 || static_cast<size_t>(n) != expected) throw std::runtime_error("blosc decompression failed (corrupt chunk)");
}

}  // namespace tumorforge::datagen
