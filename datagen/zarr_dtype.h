// Zarr v2 data types (little-endian numpy type strings such as "<f4", "<f2", "|u1", "<i4", "<f8") and the
// conversions between them and C++ values, including IEEE float16 with round-to-nearest-even.
#pragma once
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace tumorforge::datagen {

enum class DType { kU1, kI1, kI2, kU2, kI4, kU4, kI8, kF2, kF4, kF8 };

DType parse_dtype(const std::string& code);  // throws for big-endian, structured or unknown types
std::string dtype_code(DType t);
size_t dtype_size(DType t);

uint16_t float_to_half(float f);
float half_to_float(uint16_t h);
// Bulk float -> half (F16C instructions when compiled for them; same round-to-nearest-even results).
void floats_to_halves(const float* src, size_t n, uint16_t* dst);

// Converts n values of C++ type T into the stored representation `t` (and back).
template <typename T>
void encode_values(DType t, const T* src, size_t n, void* dst);
template <typename T>
void decode_values(DType t, const void* src, size_t n, T* dst);

// ---- implementation ----
namespace detail {
template <typename S, typename T>
void cast_copy_to(const T* src, size_t n, void* dst) {
  auto* d = static_cast<uint8_t*>(dst);
  for (size_t i = 0; i < n; ++i) {
    S v = static_cast<S>(src[i]);
    std::memcpy(d + i * sizeof(S), &v, sizeof(S));
  }
}
template <typename S, typename T>
void cast_copy_from(const void* src, size_t n, T* dst) {
  const auto* s = static_cast<const uint8_t*>(src);
  for (size_t i = 0; i < n; ++i) {
    S v;
    std::memcpy(&v, s + i * sizeof(S), sizeof(S));
    dst[i] = static_cast<T>(v);
  }
}
}  // namespace detail

template <typename T>
void encode_values(DType t, const T* src, size_t n, void* dst) {
  switch (t) {
    case DType::kU1: return detail::cast_copy_to<uint8_t>(src, n, dst);
    case DType::kI1: return detail::cast_copy_to<int8_t>(src, n, dst);
    case DType::kI2: return detail::cast_copy_to<int16_t>(src, n, dst);
    case DType::kU2: return detail::cast_copy_to<uint16_t>(src, n, dst);
    case DType::kI4: return detail::cast_copy_to<int32_t>(src, n, dst);
    case DType::kU4: return detail::cast_copy_to<uint32_t>(src, n, dst);
    case DType::kI8: return detail::cast_copy_to<int64_t>(src, n, dst);
    case DType::kF4: return detail::cast_copy_to<float>(src, n, dst);
    case DType::kF8: return detail::cast_copy_to<double>(src, n, dst);
    case DType::kF2: {
      if constexpr (std::is_same_v<T, float>) {
        if (reinterpret_cast<uintptr_t>(dst) % alignof(uint16_t) == 0)
          return floats_to_halves(src, n, static_cast<uint16_t*>(dst));
      }
      auto* d = static_cast<uint8_t*>(dst);
      for (size_t i = 0; i < n; ++i) {
        uint16_t h = float_to_half(static_cast<float>(src[i]));
        std::memcpy(d + 2 * i, &h, 2);
      }
      return;
    }
  }
}

template <typename T>
void decode_values(DType t, const void* src, size_t n, T* dst) {
  switch (t) {
    case DType::kU1: return detail::cast_copy_from<uint8_t>(src, n, dst);
    case DType::kI1: return detail::cast_copy_from<int8_t>(src, n, dst);
    case DType::kI2: return detail::cast_copy_from<int16_t>(src, n, dst);
    case DType::kU2: return detail::cast_copy_from<uint16_t>(src, n, dst);
    case DType::kI4: return detail::cast_copy_from<int32_t>(src, n, dst);
    case DType::kU4: return detail::cast_copy_from<uint32_t>(src, n, dst);
    case DType::kI8: return detail::cast_copy_from<int64_t>(src, n, dst);
    case DType::kF4: return detail::cast_copy_from<float>(src, n, dst);
    case DType::kF8: return detail::cast_copy_from<double>(src, n, dst);
    case DType::kF2: {
      const auto* s = static_cast<const uint8_t*>(src);
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, s + 2 * i, 2);
        dst[i] = static_cast<T>(half_to_float(h));
      }
      return;
    }
  }
}

}  // namespace tumorforge::datagen
