// Data-type codes and float16 conversion (see zarr_dtype.h).
#include "datagen/zarr_dtype.h"

#include <cmath>
#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace tumorforge::datagen {

DType parse_dtype(const std::string& code) {
  static const struct { const char* code; DType t; } table[] = {
      {"|u1", DType::kU1}, {"<u1", DType::kU1}, {"|i1", DType::kI1}, {"<i1", DType::kI1}, {"<i2", DType::kI2},
      {"<u2", DType::kU2}, {"<i4", DType::kI4}, {"<u4", DType::kU4}, {"<i8", DType::kI8}, {"<f2", DType::kF2},
      {"<f4", DType::kF4}, {"<f8", DType::kF8}};
  for (const auto& e : table)
    if (code == e.code) return e.t;
  if (!code.empty() && code[0] == '>') throw std::runtime_error("big-endian dtype '" + code + "' is not supported");
  throw std::runtime_error("dtype '" + code + "' is not supported (|u1 |i1 <i2 <u2 <i4 <u4 <i8 <f2 <f4 <f8)");
}

std::string dtype_code(DType t) {
  switch (t) {
    case DType::kU1: return "|u1";
    case DType::kI1: return "|i1";
    case DType::kI2: return "<i2";
    case DType::kU2: return "<u2";
    case DType::kI4: return "<i4";
    case DType::kU4: return "<u4";
    case DType::kI8: return "<i8";
    case DType::kF2: return "<f2";
    case DType::kF4: return "<f4";
    case DType::kF8: return "<f8";
  }
  return "";
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kU1: case DType::kI1: return 1;
    case DType::kI2: case DType::kU2: case DType::kF2: return 2;
    case DType::kI4: case DType::kU4: case DType::kF4: return 4;
    case DType::kI8: case DType::kF8: return 8;
  }
  return 0;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0));  // inf/nan
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to >= 65520: overflow to inf
  if (abs < 0x38800000u) {  // below the smallest normal half (2^-14): subnormal or zero
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);  // < 2^-25 rounds to zero
    const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const int shift = 126 - static_cast<int>(abs >> 23);  // 14..24 bits to drop
    uint32_t half = mant >> shift;
    const uint32_t rest = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = ((abs >> 13) - (112u << 10));  // rebias exponent 127 -> 15
  const uint32_t rest = abs & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;  // may carry into the exponent: correct
  return static_cast<uint16_t>(sign | half);
}

void floats_to_halves(const float* src, size_t n, uint16_t* dst) {
  size_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
#endif
  for (; i < n; ++i) dst[i] = float_to_half(src[i]);
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {
      float v = std::ldexp(static_cast<float>(mant), -24);
      std::memcpy(&x, &v, 4);
      x |= sign;
    }
  } else if (exp == 31) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

}  // namespace tumorforge::datagen
