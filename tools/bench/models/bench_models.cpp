// Surrogate benchmark: forward, forward+backward and inference (no grad) time and peak memory at 32³, 64³ and
// 128³ for the default and the paper widths, with the custom depthwise kernel and with LibTorch's conv3d, on
// CPU, batch 1; plus the data loader's throughput with a no-op model. Prints a table, writes JSON.
//   tumorforge_bench_models [--sizes 32,64,128] [--threads N] [--reps 3] [--store STORE] [--out FILE]
#include <sys/resource.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/networks.h"
#include "train/loader.h"

using namespace tumorforge::models;
using Clock = std::chrono::steady_clock;

namespace {

double peak_rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

template <typename F>
double median_seconds(int reps, F&& f) {
  f();  // warm-up
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes{32, 64, 128};
  int threads = 2, reps = 3;
  std::string out = "build/bench/models.json", store;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--sizes") {
      sizes.clear();
      std::stringstream s(v);
      std::string p;
      while (std::getline(s, p, ',')) sizes.push_back(std::stoll(p));
    } else if (a == "--threads") threads = std::stoi(v);
    else if (a == "--reps") reps = std::stoi(v);
    else if (a == "--out") out = v;
    else if (a == "--store") store = v;
  }
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  nlohmann::json rows = nlohmann::json::array();
  std::printf("%-8s %-5s %-8s %10s %10s %10s %9s\n", "widths", "size", "depthwise", "fwd s", "fwd+bwd s", "infer s", "peak MB");
  for (auto [label, widths] : {std::pair<std::string, std::vector<int64_t>>{"default", {16, 32, 64, 128, 256}},
                               {"paper", {32, 64, 128, 256, 512}}})
    for (int64_t S : sizes) {
      if (label == "paper" && S == 128) continue;  // ≈11 GB and minutes per step on CPU: out of scope here
      for (bool custom : {true, false}) {
        NetConfig c;
        c.widths = widths;
        c.input_size = S;
        SurrogateNet net(c);
        use_custom_depthwise(*net, custom);
        auto tissue = torch::rand({1, 3, S, S, S});
        auto theta = torch::rand({1, 5});
        auto target = torch::rand({1, 1, S, S, S});
        int r = S >= 128 ? 1 : reps;
        reset_peak_rss();
        double fwd = median_seconds(r, [&] { net->forward(tissue, theta); });
        double fb = median_seconds(r, [&] {
          net->zero_grad();
          (net->forward(tissue, theta) - target).pow(2).mean().backward();
        });
        double peak = peak_rss_mb();
        double inf = median_seconds(r, [&] {
          torch::NoGradGuard ng;
          net->forward(tissue, theta);
        });
        std::printf("%-8s %-5lld %-8s %10.3f %10.3f %10.3f %9.0f\n", label.c_str(), static_cast<long long>(S),
                    custom ? "custom" : "libtorch", fwd, fb, inf, peak);
        std::fflush(stdout);
        rows.push_back({{"widths", widths}, {"size", S}, {"depthwise", custom ? "custom" : "libtorch"}, {"forward_s", fwd},
                        {"forward_backward_s", fb}, {"inference_s", inf}, {"peak_rss_mb", peak}, {"threads", threads}});
      }
    }
  // Data loading alone (a no-op model): can the loader feed a training step? Compared with one training step
  // of the default-width surrogate at the store's crop size, measured in the same run.
  nlohmann::json loader_row;
  if (!store.empty()) {
    tumorforge::datagen::StoreReader reader(store);
    const int64_t S = reader.crop(), batch = 3, n = 40;
    double load_s = 0;
    {
      tumorforge::train::Loader loader(reader, batch, 0, 2, 8, {});
      loader.next();
      auto t0 = Clock::now();
      for (int64_t i = 0; i < n; ++i) loader.next();
      load_s = std::chrono::duration<double>(Clock::now() - t0).count();
    }
    NetConfig c;
    c.input_size = S;
    SurrogateNet net(c);
    auto b = reader.read(std::vector<int64_t>(reader.done().begin(), reader.done().begin() + batch));
    double step_s = median_seconds(3, [&] {
      net->zero_grad();
      (net->forward(b.tissue, b.theta) - b.concentration).pow(2).mean().backward();
    });
    loader_row = {{"crop", S}, {"batch", batch}, {"loader_samples_per_s", static_cast<double>(n * batch) / load_s},
                  {"train_step_samples_per_s", static_cast<double>(batch) / step_s}, {"loader_threads", 2}};
    std::printf("loader (no-op model, crop %lld, 2 reader threads): %.0f samples/s; a training step consumes %.1f samples/s\n",
                static_cast<long long>(S), loader_row["loader_samples_per_s"].get<double>(),
                loader_row["train_step_samples_per_s"].get<double>());
  }
  std::ofstream(out + ".tmp") << nlohmann::json{{"rows", rows}, {"loader", loader_row}}.dump(2) << "\n";
  std::rename((out + ".tmp").c_str(), out.c_str());
  std::printf("wrote %s\n", out.c_str());
}
