// PNG writing (zlib + CRC, no image library), the heat colour map and the line plot (see image.h).
#include "core/image.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/atomic_file.h"

namespace tumorforge::core {
namespace {

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

void put_chunk(std::vector<uint8_t>& out, const char* type, const std::vector<uint8_t>& data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  const size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  put_u32(out, static_cast<uint32_t>(crc32(0L, out.data() + start, static_cast<uInt>(out.size() - start))));
}

}  // namespace

// A perceptually ordered black-red-yellow-white ramp ("hot"), t in [0, 1].
std::array<double, 3> heat_colour(double t) {
  t = std::clamp(t, 0.0, 1.0);
  return {std::clamp(3 * t, 0.0, 1.0), std::clamp(3 * t - 1, 0.0, 1.0), std::clamp(3 * t - 2, 0.0, 1.0)};
}

void Image::set(int64_t x, int64_t y, std::array<uint8_t, 3> c) {
  if (x < 0 || y < 0 || x >= width || y >= height) return;
  const size_t i = static_cast<size_t>((y * width + x) * 3);
  rgb[i] = c[0];
  rgb[i + 1] = c[1];
  rgb[i + 2] = c[2];
}

void write_png(const std::string& path, const Image& img) {
  std::vector<uint8_t> raw;
  raw.reserve(static_cast<size_t>((img.width * 3 + 1) * img.height));
  for (int64_t y = 0; y < img.height; ++y) {
    raw.push_back(0);  // filter type: none
    const uint8_t* row = img.rgb.data() + y * img.width * 3;
    raw.insert(raw.end(), row, row + img.width * 3);
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<uint8_t> packed(packed_size);
  if (compress2(packed.data(), &packed_size, raw.data(), static_cast<uLong>(raw.size()), 6) != Z_OK)
    throw std::runtime_error(path + ": PNG compression failed");
  packed.resize(packed_size);
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  put_u32(ihdr, static_cast<uint32_t>(img.width));
  put_u32(ihdr, static_cast<uint32_t>(img.height));
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit, RGB, deflate, no filter, no interlace
  put_chunk(png, "IHDR", ihdr);
  put_chunk(png, "IDAT", packed);
  put_chunk(png, "IEND", {});
  core::write_text_atomic(path, std::string(png.begin(), png.end()));
}

Image line_plot(const std::vector<Series>& series, bool log_y, int64_t width, int64_t height) {
  Image img(width, height, 255);
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const auto& s : series)
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      if (log_y && s.y[i] <= 0) log_y = false;
      xmin = std::min(xmin, s.x[i]);
      xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, s.y[i]);
      ymax = std::max(ymax, s.y[i]);
    }
  if (!std::isfinite(xmin)) return img;
  auto ty = [&](double y) { return log_y ? std::log10(y) : y; };
  double lo = ty(ymin), hi = ty(ymax);
  if (log_y) {
    lo = std::floor(lo);
    hi = std::ceil(hi);
  }
  if (hi <= lo) hi = lo + 1;
  if (xmax <= xmin) xmax = xmin + 1;
  const int64_t m = 24;
  auto X = [&](double x) { return m + static_cast<int64_t>(std::lround((x - xmin) / (xmax - xmin) * static_cast<double>(width - 2 * m))); };
  auto Y = [&](double y) { return height - m - static_cast<int64_t>(std::lround((ty(y) - lo) / (hi - lo) * static_cast<double>(height - 2 * m))); };
  const std::array<uint8_t, 3> grid{225, 225, 225}, axis{90, 90, 90};
  const int ticks = log_y ? static_cast<int>(hi - lo) : 10;
  for (int k = 0; k <= ticks; ++k) {
    const int64_t y = height - m - (height - 2 * m) * k / ticks;
    for (int64_t x = m; x <= width - m; ++x) img.set(x, y, grid);
  }
  for (int64_t x = m; x <= width - m; ++x) img.set(x, height - m, axis);
  for (int64_t y = m; y <= height - m; ++y) img.set(m, y, axis);
  for (const auto& s : series) {
    for (size_t i = 1; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.y[i - 1]) || !std::isfinite(s.y[i])) continue;
      const int64_t xa = X(s.x[i - 1]), ya = Y(s.y[i - 1]), xb = X(s.x[i]), yb = Y(s.y[i]);
      const int64_t steps = std::max<int64_t>({1, std::abs(xb - xa), std::abs(yb - ya)});
      for (int64_t k = 0; k <= steps; ++k) {
        const int64_t x = xa + (xb - xa) * k / steps, y = ya + (yb - ya) * k / steps;
        img.set(x, y, s.colour);
        img.set(x, y + 1, s.colour);
      }
    }
  }
  return img;
}

}  // namespace tumorforge::core
