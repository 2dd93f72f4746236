// Store reading and the prefetching loader (see loader.h).
#include "train/loader.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "core/random.h"
#include "datagen/theta.h"

namespace tumorforge::train {

using core::splitmix64;

std::vector<int64_t> epoch_permutation(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
  const uint64_t base = splitmix64(seed) ^ splitmix64(0x5eed0000ull + static_cast<uint64_t>(epoch));
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = static_cast<int64_t>(splitmix64(base + static_cast<uint64_t>(i)) % static_cast<uint64_t>(i + 1));
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

Loader::Loader(const SampleSource& reader, int64_t batch_size, uint64_t seed, int64_t threads, int64_t prefetch, LoaderState start,
               int64_t max_shift, int rank, int world)
    : reader_(reader), batch_size_(batch_size), prefetch_(prefetch), max_shift_(max_shift), seed_(seed), state_(start) {
  if (world < 1 || rank < 0 || rank >= world || batch_size % world != 0)
    throw std::invalid_argument("--batch " + std::to_string(batch_size) + " (the global batch) must be a multiple of the " +
                                std::to_string(world) + " ranks");
  local_ = batch_size / world;
  first_ = rank * local_;
  per_epoch_ = static_cast<int64_t>(reader.done().size()) / batch_size;
  if (per_epoch_ < 1)
    throw std::invalid_argument("batch size " + std::to_string(batch_size) + " exceeds the " +
                                std::to_string(reader.done().size()) + " finished training samples");
  next_global_ = produce_ = start.epoch * per_epoch_ + start.batch;
  for (int64_t t = 0; t < threads; ++t) workers_.emplace_back([this] { work(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(m_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_) w.join();
}

std::vector<int64_t> Loader::batch_indices(int64_t global) const {
  const int64_t epoch = global / per_epoch_, b = global % per_epoch_;
  auto it = perm_cache_.find(epoch);
  if (it == perm_cache_.end()) {
    if (perm_cache_.size() > 2) perm_cache_.erase(perm_cache_.begin());
    it = perm_cache_.emplace(epoch, epoch_permutation(static_cast<int64_t>(reader_.done().size()), seed_, epoch)).first;
  }
  std::vector<int64_t> idx;
  for (int64_t k = first_; k < first_ + local_; ++k) idx.push_back(reader_.done()[static_cast<size_t>(it->second[static_cast<size_t>(b * batch_size_ + k)])]);
  return idx;
}

void Loader::work() {
  while (true) {
    int64_t g;
    std::vector<int64_t> idx;
    {
      std::unique_lock<std::mutex> lock(m_);
      cv_.wait(lock, [&] { return stop_ || produce_ < next_global_ + prefetch_; });
      if (stop_) return;
      g = produce_++;
      idx = batch_indices(g);
    }
    Batch b;
    try {
      if (max_shift_ > 0) {
        std::vector<std::array<int64_t, 3>> shifts(idx.size());
        for (size_t n = 0; n < idx.size(); ++n)
          for (size_t k = 0; k < 3; ++k) {
            const uint64_t pos = static_cast<uint64_t>(first_) + n;  // the sample's place in the global batch
            const uint64_t h = splitmix64(splitmix64(seed_ ^ 0x5a1f7ull) ^ splitmix64(static_cast<uint64_t>(g) * 1024 + pos * 4 + k));
            shifts[n][k] = static_cast<int64_t>(h % static_cast<uint64_t>(2 * max_shift_ + 1)) - max_shift_;
          }
        b = reader_.read(idx, &shifts);
      } else {
        b = reader_.read(idx);
      }
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(m_);
      error_ = e.what();
      cv_.notify_all();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(m_);
      ready_[g] = std::move(b);
    }
    cv_.notify_all();
  }
}

Batch Loader::next() {
  std::unique_lock<std::mutex> lock(m_);
  const int64_t g = next_global_;
  cv_.wait(lock, [&] { return ready_.count(g) > 0 || !error_.empty(); });
  if (!ready_.count(g)) throw std::runtime_error("data loader: " + error_);
  Batch b = std::move(ready_[g]);
  ready_.erase(g);
  ++next_global_;
  state_ = {next_global_ / per_epoch_, next_global_ % per_epoch_};
  lock.unlock();
  cv_.notify_all();
  return b;
}

}  // namespace tumorforge::train
