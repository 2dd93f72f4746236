// The small core helpers: atomic files and staged directories leave nothing behind on failure, the host name, splitmix64's published
// values, the one error shape.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/host.h"
#include "core/random.h"
#include "core/timing.h"

namespace fs = std::filesystem;
using namespace tumorforge::core;

TEST_CASE("splitmix64 gives the reference implementation's first outputs") {
  // Vigna's splitmix64.c with state 0: next() adds the golden gamma, then mixes (the first three outputs).
  CHECK(splitmix64(0) == 0xe220a8397b1dcdafull);
  CHECK(splitmix64(0x9e3779b97f4a7c15ull) == 0x6e789e6aa1b965f4ull);
  CHECK(splitmix64(0x3c6ef372fe94f82aull) == 0x06c45d188009454full);
}

TEST_CASE("a TempFile not committed leaves no file and a committed one appears whole under its final name") {
  const fs::path dir = fs::temp_directory_path() / ("tf_core_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string final_path = (dir / "out.json").string();
  {
    TempFile t(final_path);
    std::ofstream(t.path()) << "half";
    CHECK(fs::path(t.path()).parent_path() == dir);  // same directory: the rename is atomic
    CHECK(fs::path(t.path()).filename().string().find(".tmp-") == 0);
  }  // destroyed without commit (as when an exception unwinds)
  CHECK(fs::is_empty(dir));
  write_text_atomic(final_path, "{}\n");
  std::ifstream in(final_path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(s == "{}\n");
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  fs::remove_all(dir);
}

TEST_CASE("a StagedDir publishes all its files at commit and nothing when it unwinds") {
  const fs::path dir = fs::temp_directory_path() / ("tf_staged_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string out = (dir / "result").string();
  try {
    StagedDir staged(out);
    write_text_atomic(staged.file("a.json"), "{}");
    throw std::runtime_error("the command failed half-way");
  } catch (const std::runtime_error&) {
  }
  CHECK(fs::is_empty(dir));  // neither the output nor the staging directory
  {
    StagedDir staged(out + "/");
    write_text_atomic(staged.file("a.json"), "1");
    fs::create_directories(staged.file("plan"));
    write_text_atomic(staged.file("plan/p.json"), "2");
    CHECK_FALSE(fs::exists(out));  // nothing visible before the commit
    staged.commit();
  }
  CHECK(fs::exists(out + "/a.json"));
  CHECK(fs::exists(out + "/plan/p.json"));
  {  // a second run into the same directory replaces its files, sub-directories included
    StagedDir staged(out);
    fs::create_directories(staged.file("plan"));
    write_text_atomic(staged.file("plan/q.json"), "3");
    staged.commit();
  }
  CHECK(fs::exists(out + "/a.json"));
  CHECK(fs::exists(out + "/plan/q.json"));
  CHECK_FALSE(fs::exists(out + "/plan/p.json"));
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);  // no staging left
  fs::remove_all(dir);
}

TEST_CASE("host name, timing and the error shape") {
  CHECK_FALSE(host_name().empty());
  CHECK(host_tag().find('-') == std::string::npos);  // temp names split on '-'
  const auto t0 = Clock::now();
  CHECK(seconds_since(t0) >= 0.0);
  CHECK_THROWS_WITH(fail("data/x.nii.gz", "not a NIfTI file"), "data/x.nii.gz: not a NIfTI file");
}
