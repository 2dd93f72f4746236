// Zarr v2 compressors: blosc (lz4, zstd, ...; byte/bit shuffle) through Debian's libblosc, zlib, or none,
// as numcodecs writes them. Decoding checks every size it can (blosc header vs. stored and expected bytes,
// zlib output length), so a truncated or corrupt chunk is reported, never silently half-read.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tumorforge::datagen {

struct Compressor {
  std::string id = "blosc";  // "blosc" | "zlib" | "none"
  std::string cname = "lz4";  // blosc inner codec: lz4, lz4hc, zstd, zlib, blosclz
  int clevel = 5;             // blosc: 0-9; zlib: level 0-9
  int shuffle = 1;            // blosc: 0 none, 1 byte, 2 bit
  int blocksize = 0;          // blosc: 0 = automatic
};

// numcodecs JSON ({"id": "blosc", "cname": ..., "clevel": ..., "shuffle": ..., "blocksize": ...}, {"id":
// "zlib", "level": ...}, or null for none). Unknown ids are an error.
nlohmann::json to_zarr_json(const Compressor& c);
Compressor compressor_from_zarr_json(const nlohmann::json& j);
// An integer of Zarr metadata: a JSON integer within [lo, hi], else std::runtime_error naming `what`. (nlohmann's
// get<int>() of 1e30 is undefined behaviour, and metadata files come from elsewhere: fuzzing found it.)
int64_t json_integer(const nlohmann::json& j, const std::string& what, int64_t lo, int64_t hi);

std::vector<uint8_t> encode_chunk(const Compressor& c, const void* raw, size_t nbytes, size_t typesize);
// Throws std::runtime_error(reason) if `stored` does not decode to exactly `expected_nbytes` bytes.
void decode_chunk(const Compressor& c, const std::vector<uint8_t>& stored, void* out, size_t expected_nbytes);

}  // namespace tumorforge::datagen
