// Sealing and checking model bundles (see bundle_seal.h). The seal is text, so `head -c 512 model.h5` shows it:
//   tumorforge.model_bundle.seal/1
//   sha256 <64 hex digits of bytes 512..end>
//   hdf5_bytes <count of bytes 512..end>
// then NUL bytes up to 512.
#include "models/bundle_seal.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/errors.h"
#include "core/provenance.h"

namespace tumorforge::models {
namespace {

constexpr char kHdf5Signature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};

}  // namespace

void seal_bundle(const std::string& file) {
  const uint64_t size = std::filesystem::file_size(file);
  if (size < kSealBytes + sizeof kHdf5Signature) core::fail(file, "too short to seal");
  std::string seal = std::string(kSealMagic) + "sha256 " + core::sha256_file(file, kSealBytes) + "\nhdf5_bytes " +
                     std::to_string(size - kSealBytes) + "\n";
  seal.resize(kSealBytes, '\0');
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.write(seal.data(), static_cast<std::streamsize>(seal.size()));
  f.flush();
  if (!f) core::fail(file, "cannot write the bundle's seal");
}

void verify_bundle_seal(const std::string& path) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) core::fail(path, "cannot read (" + ec.message() + ")");
  std::ifstream in(path, std::ios::binary);
  char head[kSealBytes + 1] = {};  // + 1: always NUL-terminated for sscanf
  in.read(head, static_cast<std::streamsize>(std::min<uint64_t>(size, kSealBytes)));
  if (!in && size >= kSealBytes) core::fail(path, "cannot read");
  if (size >= sizeof kHdf5Signature && std::memcmp(head, kHdf5Signature, sizeof kHdf5Signature) == 0)
    core::fail(path, "an unsealed HDF5 file (bundles written before December 2026 have no seal): seal it with tools/convert_bundle.py");
  const size_t magic = std::strlen(kSealMagic);
  if (size < kSealBytes || std::memcmp(head, kSealMagic, magic) != 0) core::fail(path, "not a tumorforge model bundle (no seal)");
  char digest[65] = {};
  unsigned long long hdf5_bytes = 0;
  if (std::sscanf(head + magic, "sha256 %64[0-9a-f]\nhdf5_bytes %llu\n", digest, &hdf5_bytes) != 2 || std::strlen(digest) != 64)
    core::fail(path, "damaged seal (the first 512 bytes)");
  if (hdf5_bytes != size - kSealBytes)
    core::fail(path, "truncated or extended: its seal records " + std::to_string(hdf5_bytes) + " bytes after the seal, the file holds " +
                         std::to_string(size - kSealBytes));
  if (core::sha256_file(path, kSealBytes) != digest)
    core::fail(path, "damaged: its SHA-256 does not match its seal (edited on purpose? reseal it with tools/convert_bundle.py)");
}

}  // namespace tumorforge::models
