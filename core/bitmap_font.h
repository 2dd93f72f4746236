// A 5×7 bitmap font for labels inside PNG figures (panel titles, legends): uppercase letters, digits and a
// few signs; lowercase is drawn as uppercase, anything else as a blank.
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "core/image.h"

namespace tumorforge::core {

// Draws `text` with its top-left corner at (x, y); each font pixel is a scale×scale block. Returns the x after it.
int64_t draw_text(Image& image, int64_t x, int64_t y, const std::string& text, std::array<uint8_t, 3> colour, int scale = 2);
int64_t text_width(const std::string& text, int scale = 2);

}  // namespace tumorforge::core
