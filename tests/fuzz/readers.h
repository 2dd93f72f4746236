// The untrusted-input readers as fuzz targets: each takes arbitrary bytes, lays them out as the reader's file
// (or directory) in a scratch place, reads it, and returns "" on success or the refusal's message (any
// std::exception). A crash, a sanitizer report, a hang or an out-of-memory is a bug, and so is a refusal that is
// not the reader's own one-line "<file>: <problem>" (an allocator's or a library's exception escaping). Used by the libFuzzer
// entry point (fuzz_entry.cpp, tools/fuzz.sh) and by the regression test that replays every saved input.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace tumorforge::fuzz {

// A NIfTI-1/2 file (.nii, or .nii.gz when the bytes start with the gzip magic) through solver::read_nifti.
std::string read_nifti_bytes(const uint8_t* data, size_t size);
// A Zarr v2 array: [u16 little-endian n][n bytes of .zarray JSON][the rest: chunk 0 (0.0..., or 0/0/...)],
// opened with ZarrArray::open, chunk 0 decoded and a box of up to 4 voxels per axis read as float32.
std::string read_zarr_bytes(const uint8_t* data, size_t size);
#ifdef TUMORFORGE_FUZZ_TORCH
// An HDF5 model bundle through models::read_bundle, then its weights loaded into the network its config names.
std::string read_bundle_bytes(const uint8_t* data, size_t size);
#endif

// A scratch directory for this process (under /dev/shm when it exists: fuzzing writes a file per input).
const std::string& scratch_dir();

}  // namespace tumorforge::fuzz
