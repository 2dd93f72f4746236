// PNG figures a person can open: orthogonal slices through a point (tissue in gray, concentration as a heat
// overlay), and a line plot for training curves. PNG is written directly (zlib + CRC), no image library.
// Captions live in the Markdown/JSON next to the image; the images themselves carry no text.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "solver/tissue.h"

namespace tumorforge::invert {

struct Image {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;  // row-major, 3 bytes per pixel
  Image(int64_t w, int64_t h, uint8_t fill = 255) : width(w), height(h), rgb(static_cast<size_t>(w * h * 3), fill) {}
  void set(int64_t x, int64_t y, std::array<uint8_t, 3> c);
};

// Writes an 8-bit RGB PNG atomically.
void write_png(const std::string& path, const Image& image);

// One row of the slice figure: the tissue background, optionally with a concentration field (same grid,
// values in [0, 1]) drawn over it with the heat colormap.
struct SliceRow {
  const std::vector<float>* concentration = nullptr;  // x-fastest on the tissue grid; null: tissue only
};
// Rows top to bottom; columns: axial (z = centre), coronal (y = centre), sagittal (x = centre). Each slice is
// scaled up by an integer factor to about `slice_pixels` wide.
Image slice_figure(const solver::TissueMaps& tissue, const std::vector<SliceRow>& rows,
                   const std::array<int64_t, 3>& centre_voxel, int64_t slice_pixels = 192);

// Line plot of one or more series over a shared x axis (log y when all values are positive and log_y),
// with light grid lines at powers of ten (log) or tenths of the range.
struct Series {
  std::vector<double> x, y;
  std::array<uint8_t, 3> colour{31, 119, 180};
};
Image line_plot(const std::vector<Series>& series, bool log_y, int64_t width = 640, int64_t height = 360);

}  // namespace tumorforge::invert
