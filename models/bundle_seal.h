// The seal of a model bundle: a 512-byte HDF5 user block in front of the HDF5 data that records the SHA-256 and
// the length of everything after it. write_bundle seals last; read_bundle checks the seal first, so libhdf5 never
// parses a damaged or truncated file. Why: libhdf5 1.10 trusts sizes read from damaged object headers (fuzzing
// made it allocate 4 GB, loop forever and over-read a heap buffer, all inside libhdf5). HDF5 tools and h5py skip
// user blocks, so a sealed bundle is still an ordinary HDF5 file. The seal is integrity, not authenticity: whoever
// can write the file can reseal it (tools/convert_bundle.py does).
#pragma once
#include <cstddef>
#include <string>

namespace tumorforge::models {

constexpr size_t kSealBytes = 512;  // the HDF5 user block: a power of two ≥ 512
constexpr const char* kSealMagic = "tumorforge.model_bundle.seal/1\n";

// Writes the seal into the first kSealBytes of `file` (an HDF5 file created with that user block).
void seal_bundle(const std::string& file);
// Throws "<path>: <problem>" unless `path` is sealed and its HDF5 part matches the seal.
void verify_bundle_seal(const std::string& path);

}  // namespace tumorforge::models
