// Model bundles: a written bundle reads back with identical weights, and the seal (bundle_seal.h) refuses every
// kind of damage — one flipped byte, a truncated or extended file, an unsealed HDF5 file, a damaged seal — with
// a one-line error naming the file, before libhdf5 reads anything.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <unistd.h>

#include "models/bundle.h"
#include "models/bundle_seal.h"
#include "models/networks.h"

using namespace tumorforge::models;
namespace fs = std::filesystem;

namespace {

std::vector<char> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const fs::path& p, const std::vector<char>& b) {
  std::ofstream(p, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size()));
}

std::string read_error(const fs::path& p) {
  try {
    read_bundle(p.string());
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a sealed bundle reads back exactly, any damage is refused by the seal, naming the file") {
  const fs::path dir = fs::temp_directory_path() / ("tf_bundle_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  NetConfig c;
  c.kind = "inverse";
  c.widths = {4, 6, 8, 10, 12};
  c.kernel_size = 3;
  c.input_size = 16;
  torch::manual_seed(3);
  InverseNet net(c);
  const fs::path good = dir / "net.h5";
  write_bundle(good.string(), c, {{"note", "test"}}, *net);

  const Bundle b = read_bundle(good.string());
  CHECK(b.meta["note"] == "test");
  for (const auto& p : net->named_parameters(true)) CHECK(torch::equal(b.weights.at(p.key()), p.value()));

  const std::vector<char> bytes = slurp(good);
  REQUIRE(bytes.size() > kSealBytes + 1000);
  CHECK(std::string(bytes.data(), std::strlen(kSealMagic)) == kSealMagic);
  const fs::path bad = dir / "bad.h5";
  auto refused = [&](const std::vector<char>& b, const std::string& why) {
    spit(bad, b);
    const std::string e = read_error(bad);
    INFO(e);
    CHECK(e.rfind(bad.string() + ": ", 0) == 0);
    CHECK(e.find(why) != std::string::npos);
  };
  for (size_t at : {kSealBytes, kSealBytes + 100, bytes.size() / 2, bytes.size() - 1}) {
    auto b = bytes;
    b[at] ^= 0x01;
    refused(b, "SHA-256 does not match");
  }
  refused(std::vector<char>(bytes.begin(), bytes.end() - 1), "truncated or extended");
  {
    auto b = bytes;
    b.push_back('\0');
    refused(b, "truncated or extended");
  }
  refused(std::vector<char>(bytes.begin() + kSealBytes, bytes.end()), "unsealed HDF5 file");
  {
    auto b = bytes;
    b[std::strlen(kSealMagic) + 10] = 'x';  // inside the digest
    refused(b, "damaged seal");
  }
  {
    auto b = bytes;
    b[0] = 'T';
    refused(b, "no seal");
  }
  refused(std::vector<char>(bytes.begin(), bytes.begin() + 100), "no seal");
  // Resealing (what tools/convert_bundle.py does after a deliberate edit) makes a file readable again.
  auto resealed = bytes;
  resealed[std::strlen(kSealMagic) + 10] = 'x';
  spit(bad, resealed);
  REQUIRE(!read_error(bad).empty());
  seal_bundle(bad.string());
  CHECK(read_error(bad).empty());
  fs::remove_all(dir);
}
