// ../shared (reference data beside the checkout) for doctest tests that need it. When it is missing the test
// process exits with 77, which CTest reports as skipped (SKIP_RETURN_CODE 77 on those tests), never as passed;
// with CI=true, where ../shared is present by contract, a missing folder fails the test instead.
#pragma once
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace tumorforge::testing {

constexpr int kSkipReturnCode = 77;

// TUMORFORGE_SHARED_DIR/<sub>, or never returns (skip), or fails the test under CI=true.
inline std::filesystem::path shared_path_or_skip(const std::string& sub) {
  const std::filesystem::path p = std::filesystem::path(TUMORFORGE_SHARED_DIR) / sub;
  if (std::filesystem::exists(p)) return p;
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::string(ci) == "true") FAIL(p.string() << " is missing, and CI=true requires ../shared");
  std::fprintf(stderr, "%s not found: skipped (CTest reports it as skipped)\n", p.string().c_str());
  std::fflush(nullptr);
  std::exit(kSkipReturnCode);
}

}  // namespace tumorforge::testing
