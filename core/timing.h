// Wall-clock timing of stages (seconds in every JSON record, progress lines, benchmarks).
#pragma once
#include <chrono>

namespace tumorforge::core {

using Clock = std::chrono::steady_clock;  // monotonic: immune to clock changes during multi-day runs

inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace tumorforge::core
