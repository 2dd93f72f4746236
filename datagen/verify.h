// `datagen verify` and `datagen info`: check every chunk of a store, and summarise its contents.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datagen/dataset_store.h"

namespace tumorforge::datagen {

struct VerifyReport {
  int64_t pending = 0, done = 0, failed = 0;
  std::vector<std::string> corrupt;  // "<path>: <reason>" per bad chunk or inconsistent sample
  int64_t temp_files = 0;            // leftovers of killed writers
  nlohmann::json to_json() const;
};

// Reads and decodes every chunk of every done sample (values finite, concentration within [0, 1]) and
// every metadata chunk; a done sample with a missing chunk is corrupt too.
VerifyReport verify_store(const DatasetStore& store, int threads);

// Counts, stop reasons, parameter histograms (text), bytes on disk.
std::string describe_store(const DatasetStore& store);

}  // namespace tumorforge::datagen
