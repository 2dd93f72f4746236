// SHA-256 against the FIPS 180-4 test vectors, and the provenance record's fields.
#include <doctest/doctest.h>

#include <string>

#include "core/provenance.h"

using namespace tumorforge::core;

TEST_CASE("sha256 matches the FIPS 180-4 test vectors") {
  CHECK(sha256_bytes("abc", 3) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_bytes("", 0) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  CHECK(sha256_bytes(two_blocks.data(), two_blocks.size()) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("provenance names the tool, version, commit and time") {
  auto p = provenance({});
  CHECK(p.at("tool") == "tumorforge");
  CHECK(!p.at("version").get<std::string>().empty());
  CHECK(!p.at("git_commit").get<std::string>().empty());
  CHECK(p.at("created_utc").get<std::string>().size() == 20);
}
