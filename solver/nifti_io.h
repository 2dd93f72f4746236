// NIfTI-1 reading and writing (.nii, .nii.gz) through Debian's nifti2 library. Inputs of any common
// scalar type (uint8, int8, int16, uint16, int32, float32, float64) are read as float32 with scl_slope
// applied; the affine is taken from the sform (else qform, else spacing) and written back unchanged.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/grid.h"

namespace tumorforge::solver {

using core::Grid;
using core::Volume;

// Throws std::runtime_error("<path>: <problem>") for missing, unreadable, non-3D or unsupported files.
Volume read_nifti(const std::string& path);

// Writes float32 (atomically: temp name + rename). `description` goes into the header's descrip field.
void write_nifti(const std::string& path, const Volume& volume, const std::string& description = "");
// Writes a uint8 label map on `grid`.
void write_nifti_labels(const std::string& path, const Grid& grid, const std::vector<uint8_t>& labels,
                        const std::string& description = "");

}  // namespace tumorforge::solver
