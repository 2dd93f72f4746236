// Counter-based random streams: every random choice in tumorforge (dataset parameters, shuffles, flips, cube
// shifts, CMA-ES) is a pure function of (seed, counters) through splitmix64, so sharding, ordering and resume
// repeat it exactly and no library RNG differs between platforms.
#pragma once
#include <cstdint>

namespace tumorforge::core {

// The splitmix64 finalizer (Steele, Lea & Flood 2014): a well-mixed 64-bit hash.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace tumorforge::core
