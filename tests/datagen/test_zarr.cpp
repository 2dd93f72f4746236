// Zarr v2 arrays: round trips over dtypes, compressors, separators and edge chunks; fill values for
// missing chunks; corrupt and truncated chunks are detected and named; float16 conversion.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "datagen/zarr_array.h"

namespace fs = std::filesystem;
using namespace tumorforge::datagen;

namespace {

fs::path scratch(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("tumorforge_test_zarr_" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d.parent_path());
  return d;
}

ArrayMeta meta(DType t, const std::string& comp, char sep) {
  ArrayMeta m;
  m.shape = {5, 7, 9};
  m.chunks = {2, 3, 4};
  m.dtype = t;
  m.dimension_separator = sep;
  if (comp == "zlib" || comp == "none") m.compressor.id = comp;
  else m.compressor.cname = comp;
  return m;
}

}  // namespace

TEST_CASE("every dtype and compressor round-trips whole arrays and boxes across edge chunks") {
  for (DType t : {DType::kU1, DType::kI2, DType::kI4, DType::kF2, DType::kF4, DType::kF8})
    for (std::string comp : {"lz4", "zstd", "zlib", "none"})
      for (char sep : {'.', '/'}) {
        CAPTURE(dtype_code(t));
        CAPTURE(comp);
        CAPTURE(sep);
        ZarrArray a = ZarrArray::create(scratch("a").string(), meta(t, comp, sep));
        std::vector<double> v(5 * 7 * 9);
        for (size_t n = 0; n < v.size(); ++n) v[n] = static_cast<double>(n % 100);
        a.write<double>({0, 0, 0}, {5, 7, 9}, v.data());
        ZarrArray b = ZarrArray::open(a.path());
        CHECK(b.read<double>({0, 0, 0}, {5, 7, 9}) == v);
        // A box straddling chunk borders, written and read back; the rest is untouched.
        std::vector<double> box(2 * 4 * 3, 77.0);
        b.write<double>({1, 2, 3}, {2, 4, 3}, box.data());
        CHECK(b.read<double>({1, 2, 3}, {2, 4, 3}) == box);
        CHECK(b.read<double>({0, 0, 0}, {1, 1, 1})[0] == 0.0);
        CHECK(b.read<double>({4, 6, 8}, {1, 1, 1})[0] == v.back());
      }
}

TEST_CASE("missing chunks read as fill_value, NaN included") {
  ArrayMeta m = meta(DType::kF4, "lz4", '.');
  m.fill_value = NAN;
  ZarrArray a = ZarrArray::create(scratch("fill").string(), m);
  float one = 1.0f;
  a.write<float>({0, 0, 0}, {1, 1, 1}, &one);
  auto v = a.read<float>({0, 0, 0}, {5, 7, 9});
  CHECK(v[0] == 1.0f);
  CHECK(std::isnan(v[1]));
  CHECK(std::isnan(v.back()));
  CHECK_FALSE(a.chunk_exists({2, 2, 2}));
}

TEST_CASE("truncated or corrupt chunks are reported with the chunk key") {
  for (std::string comp : {"lz4", "zlib", "none"}) {
    CAPTURE(comp);
    ZarrArray a = ZarrArray::create(scratch("bad").string(), meta(DType::kF4, comp, '.'));
    std::vector<float> v(5 * 7 * 9, 0.5f);
    for (size_t n = 0; n < v.size(); ++n) v[n] = static_cast<float>(n);
    a.write<float>({0, 0, 0}, {5, 7, 9}, v.data());
    const std::string key = a.chunk_path({1, 1, 1});
    fs::resize_file(key, fs::file_size(key) / 2);
    CHECK_THROWS_WITH(a.read_chunk({1, 1, 1}), doctest::Contains("1.1.1: corrupt chunk"));
  }
  ZarrArray a = ZarrArray::create(scratch("garbage").string(), meta(DType::kF4, "lz4", '.'));
  std::ofstream(a.chunk_path({0, 0, 0})) << "garbage garbage garbage";
  CHECK_THROWS_WITH(a.read_chunk({0, 0, 0}), doctest::Contains("0.0.0: corrupt chunk"));
}

TEST_CASE("metadata: refuses to overwrite, rejects filters, F order and unknown dtypes") {
  fs::path p = scratch("meta");
  ZarrArray::create(p.string(), meta(DType::kF4, "lz4", '.'));
  CHECK_THROWS_WITH(ZarrArray::create(p.string(), meta(DType::kF4, "lz4", '.')), doctest::Contains("exists already"));
  auto patch = [&](const std::string& from, const std::string& to) {
    std::ifstream in(p / ".zarray");
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    s.replace(s.find(from), from.size(), to);
    std::ofstream(p / ".zarray") << s;
  };
  patch("\"filters\": null", "\"filters\": [{\"id\": \"delta\"}]");
  CHECK_THROWS_WITH(ZarrArray::open(p.string()), doctest::Contains("filters are not supported"));
  patch("\"filters\": [{\"id\": \"delta\"}]", "\"filters\": null");
  patch("\"<f4\"", "\">f4\"");
  CHECK_THROWS_WITH(ZarrArray::open(p.string()), doctest::Contains("big-endian"));
  CHECK_THROWS_WITH(ZarrArray::open(scratch("nothing").string()), doctest::Contains("not a Zarr array"));
}

TEST_CASE("float16: every half value survives half->float->half, rounding is to nearest even") {
  for (uint32_t h = 0; h < 65536; ++h) {
    float f = half_to_float(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    REQUIRE(float_to_half(f) == h);
  }
  // At 1.0 a half's ulp is 1/1024: 0.5 ulp rounds to even (down), 1.5 ulp to even (up), 0.75 ulp up.
  CHECK(half_to_float(float_to_half(1.0f + 1.0f / 2048)) == 1.0f);
  CHECK(half_to_float(float_to_half(1.0f + 3.0f / 2048)) == 1.0f + 1.0f / 512);
  CHECK(half_to_float(float_to_half(1.0f + 3.0f / 4096)) == 1.0f + 1.0f / 1024);
  CHECK(std::isinf(half_to_float(float_to_half(70000.0f))));
  CHECK(half_to_float(float_to_half(0.333333f)) == doctest::Approx(0.333333f).epsilon(1e-3));
  CHECK(half_to_float(float_to_half(1e-8f)) == 0.0f);
}

TEST_CASE("bulk float->half conversion equals the scalar reference on every float16 neighbourhood") {
  std::vector<float> in;
  for (uint32_t h = 0; h < 65536; h += 7) {
    float f = half_to_float(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    in.push_back(f);
    in.push_back(std::nextafter(f, INFINITY));
    in.push_back(std::nextafter(f, -INFINITY));
    in.push_back(f * 1.0001f);
  }
  std::vector<uint16_t> bulk(in.size());
  floats_to_halves(in.data(), in.size(), bulk.data());
  for (size_t i = 0; i < in.size(); ++i) REQUIRE(bulk[i] == float_to_half(in[i]));
}
