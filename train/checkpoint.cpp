// Checkpoint writing, loading and pruning (see checkpoint.h).
#include "train/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "core/atomic_file.h"
#include "core/provenance.h"

namespace fs = std::filesystem;

namespace tumorforge::train {

std::string checkpoint_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step-%08lld", static_cast<long long>(step));
  return buf;
}

void save_checkpoint(const std::string& dir, const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                     const nlohmann::json& state) {
  const std::string tmp = core::temp_path_for(dir);
  fs::create_directories(tmp);
  try {
    {
      torch::serialize::OutputArchive a;
      model.save(a);
      a.save_to(tmp + "/model.pt");
    }
    {
      torch::serialize::OutputArchive a;
      optimizer.save(a);
      a.save_to(tmp + "/optimizer.pt");
    }
    // Checked writes: a full disk must fail the checkpoint, never leave one marked complete with a cut state.
    core::write_text_atomic(tmp + "/state.json", state.dump(2) + "\n");
    core::write_text_atomic(tmp + "/COMPLETE", "ok\n");  // last: marks the directory whole
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    std::string what = e.what();
    throw std::runtime_error(dir + ": checkpoint not written (" + what.substr(0, what.find('\n')) + ")");
  }
  std::error_code ec;
  if (fs::exists(dir)) {  // replacing (e.g. best/): move the old one aside first, then drop it
    const std::string old = core::temp_path_for(dir);
    fs::rename(dir, old);
    fs::rename(tmp, dir);
    fs::remove_all(old, ec);
  } else {
    fs::rename(tmp, dir);
  }
}

nlohmann::json load_checkpoint(const std::string& dir, torch::nn::Module& model, torch::optim::Optimizer* optimizer) {
  if (!fs::exists(dir + "/COMPLETE")) throw std::runtime_error(dir + ": incomplete checkpoint (no COMPLETE marker)");
  try {
    torch::serialize::InputArchive a;
    a.load_from(dir + "/model.pt");
    model.load(a);
    if (optimizer) {
      torch::serialize::InputArchive o;
      o.load_from(dir + "/optimizer.pt");
      optimizer->load(o);
    }
    std::ifstream in(dir + "/state.json");
    return nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw std::runtime_error(dir + ": corrupt checkpoint (" + what.substr(0, what.find('\n')) + ")");
  }
}

namespace {

// Complete checkpoint directories of a run, oldest first (the zero-padded step sorts as text).
std::vector<std::string> complete_checkpoints(const std::string& run_dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(run_dir + "/checkpoints", ec))
    if (e.path().filename().string().rfind("step-", 0) == 0 && fs::exists(e.path() / "COMPLETE")) found.push_back(e.path().string());
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

std::optional<std::string> newest_checkpoint(const std::string& run_dir) {
  auto found = complete_checkpoints(run_dir);
  if (found.empty()) return std::nullopt;
  return found.back();
}

void prune_checkpoints(const std::string& run_dir, int64_t keep_last) {
  auto found = complete_checkpoints(run_dir);
  std::error_code ec;
  for (size_t i = 0; i + static_cast<size_t>(keep_last) < found.size(); ++i) fs::remove_all(found[i], ec);
}

std::string parameters_sha256(const torch::nn::Module& model) {
  std::string bytes;
  for (const auto& p : model.named_parameters(true)) {
    torch::Tensor t = p.value().detach().to(torch::kCPU).contiguous();
    bytes += p.key();
    bytes.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  }
  return core::sha256_bytes(bytes.data(), bytes.size());
}

}  // namespace tumorforge::train
