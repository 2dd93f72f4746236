// Store verification and summary (see verify.h).
#include "datagen/verify.h"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <mutex>
#include <sstream>

namespace fs = std::filesystem;

namespace tumorforge::datagen {

nlohmann::json VerifyReport::to_json() const {
  return {{"pending", pending}, {"done", done}, {"failed", failed}, {"corrupt", corrupt}, {"temp_files", temp_files}};
}

VerifyReport verify_store(const DatasetStore& store, int threads) {
  VerifyReport rep;
  const int64_t n = store.n_samples();
  ZarrArray status = store.array("status"), conc = store.array("concentration");
  std::vector<ZarrArray> rows = {store.array("crop_origin"), store.array("params"), store.array("theta"), store.array("stats")};
  const Shape grid = conc.chunk_grid();
  std::mutex m;
  auto bad = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(m);
    rep.corrupt.push_back(what);
  };
  tbb::task_arena arena(threads > 0 ? threads : tbb::task_arena::automatic);
  arena.execute([&] {
    tbb::parallel_for(int64_t{0}, n, [&](int64_t i) {
      uint8_t s = kPending;
      try {
        s = status.read_chunk({i})[0];
      } catch (const std::exception& e) {
        bad(e.what());
        return;
      }
      {
        std::lock_guard<std::mutex> lock(m);
        (s == kDone ? rep.done : s == kFailed ? rep.failed : rep.pending) += 1;
      }
      if (s == kPending) return;
      if (s != kDone && s != kFailed) return bad(status.chunk_path({i}) + ": invalid status " + std::to_string(s));
      for (const ZarrArray& a : rows) {
        Shape idx(a.meta().shape.size(), 0);
        idx[0] = i;
        if (!a.chunk_exists(idx)) return bad(a.chunk_path(idx) + ": missing for a finished sample");
        try {
          std::vector<uint8_t> raw = a.read_chunk(idx);
        } catch (const std::exception& e) {
          bad(e.what());
        }
      }
      if (s == kFailed) {
        if (!fs::exists(store.path() + "/failures/" + std::to_string(i) + ".json"))
          bad(store.path() + "/failures/" + std::to_string(i) + ".json: missing for a failed sample");
        return;
      }
      for (int64_t cx = 0; cx < grid[1]; ++cx)
        for (int64_t cy = 0; cy < grid[2]; ++cy)
          for (int64_t cz = 0; cz < grid[3]; ++cz) {
            Shape idx{i, cx, cy, cz};
            if (!conc.chunk_exists(idx)) {
              bad(conc.chunk_path(idx) + ": missing for a finished sample");
              continue;
            }
            try {
              std::vector<uint8_t> raw = conc.read_chunk(idx);
              std::vector<float> v(static_cast<size_t>(conc.chunk_elements()));
              decode_values(conc.meta().dtype, raw.data(), v.size(), v.data());
              for (float x : v)
                if (!std::isfinite(x) || x < 0.0f || x > 1.0f) {
                  bad(conc.chunk_path(idx) + ": value " + std::to_string(x) + " outside [0, 1]");
                  break;
                }
            } catch (const std::exception& e) {
              bad(e.what());
            }
          }
    });
  });
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(store.path(), ec); it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->path().filename().string().rfind(".tmp-", 0) == 0) ++rep.temp_files;
  std::sort(rep.corrupt.begin(), rep.corrupt.end());
  return rep;
}

namespace {

uint64_t bytes_under(const std::string& path) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(path, ec); it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  return total;
}

std::string histogram(const std::string& name, const std::vector<double>& v, int bins = 10) {
  std::ostringstream s;
  if (v.empty()) return name + ": no finished samples\n";
  double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  std::vector<int64_t> count(static_cast<size_t>(bins), 0);
  for (double x : v) {
    int b = hi > lo ? static_cast<int>((x - lo) / (hi - lo) * bins) : 0;
    ++count[static_cast<size_t>(std::min(b, bins - 1))];
  }
  int64_t peak = *std::max_element(count.begin(), count.end());
  s << name << " (n = " << v.size() << ")\n";
  for (int b = 0; b < bins; ++b) {
    double a = lo + (hi - lo) * b / bins, z = lo + (hi - lo) * (b + 1) / bins;
    s << "  " << std::setw(11) << std::setprecision(4) << a << " .. " << std::setw(11) << z << " |"
      << std::string(static_cast<size_t>(peak ? 40 * count[static_cast<size_t>(b)] / peak : 0), '#') << " "
      << count[static_cast<size_t>(b)] << "\n";
  }
  return s.str();
}

}  // namespace

std::string describe_store(const DatasetStore& store) {
  const auto status = store.read_status();
  int64_t done = 0, failed = 0, pending = 0, by_time = 0, by_volume = 0;
  std::vector<double> dw, rho, T, vol, steps;
  ZarrArray params = store.array("params"), stats = store.array("stats");
  for (int64_t i = 0; i < store.n_samples(); ++i) {
    uint8_t s = status[static_cast<size_t>(i)];
    if (s == kPending) { ++pending; continue; }
    if (s == kFailed) { ++failed; continue; }
    ++done;
    auto p = params.read<double>({i, 0}, {1, 6});
    auto st = stats.read<double>({i, 0}, {1, kNumStats});
    dw.push_back(p[3]);
    rho.push_back(p[4]);
    T.push_back(p[5]);
    vol.push_back(st[kFinalVolume]);
    steps.push_back(st[kSteps]);
    (st[kStopReason] == 1 ? by_time : by_volume) += 1;
  }
  const auto& c = store.config();
  const uint64_t total = bytes_under(store.path()), conc = bytes_under(store.path() + "/concentration");
  std::ostringstream s;
  s << store.path() << ": tumorforge dataset, preset " << c.preset << ", " << store.n_samples() << " samples\n"
    << "  done " << done << ", failed " << failed << ", pending " << pending << "; stopped by volume " << by_volume
    << ", by time " << by_time << "\n"
    << "  simulated on " << store.sim_level().grid.describe() << ", stored on " << store.store_level().grid.describe()
    << ", crop " << c.crop << "^3 " << c.dtype << ", " << c.compressor << "\n"
    << "  on disk " << std::fixed << std::setprecision(1) << total / 1e6 << " MB (concentration " << conc / 1e6
    << " MB, " << (done ? conc / 1e3 / static_cast<double>(done) : 0.0) << " kB per finished sample)\n"
    << std::defaultfloat;
  s << histogram("D_w (mm^2/day)", dw) << histogram("rho (1/day)", rho) << histogram("T stopped at (days)", T)
    << histogram("final volume (mm^3)", vol) << histogram("solver steps", steps);
  return s.str();
}

}  // namespace tumorforge::datagen
