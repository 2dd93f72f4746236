// Images a person can open without an image library: an RGB canvas, an atomic 8-bit PNG writer, the heat
// colour map of every concentration figure and a line plot (training curves). Text: core/bitmap_font.h.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tumorforge::core {

struct Image {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;  // row-major, 3 bytes per pixel
  Image(int64_t w, int64_t h, uint8_t fill = 255) : width(w), height(h), rgb(static_cast<size_t>(w * h * 3), fill) {}
  void set(int64_t x, int64_t y, std::array<uint8_t, 3> c);
};

// Writes an 8-bit RGB PNG atomically.
void write_png(const std::string& path, const Image& image);

// A black-red-yellow-white ramp ("hot") for t in [0, 1] (clamped), as RGB in [0, 1].
std::array<double, 3> heat_colour(double t);

// Line plot of one or more series over a shared x axis (log y when all values are positive and log_y),
// with light grid lines at powers of ten (log) or tenths of the range.
struct Series {
  std::vector<double> x, y;
  std::array<uint8_t, 3> colour{31, 119, 180};
};
Image line_plot(const std::vector<Series>& series, bool log_y, int64_t width = 640, int64_t height = 360);

}  // namespace tumorforge::core
