// `tumorforge datagen init|run|verify|info`: create a dataset store from a config, fill it (sharded,
// resumable), check every chunk, summarise it. The init flags are generated from DatagenConfig's keys, so
// flags, config-file keys (--config run.toml) and the JSON stored in the dataset all use the same names.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "datagen/datagen_run.h"
#include "datagen/verify.h"
#include "core/host.h"
#include "core/provenance.h"
#include "core/timing.h"
#include "tools/cli_util.h"
#include "tools/commands.h"

namespace tumorforge::cli {
namespace {

const std::map<std::string, std::string>& init_help() {
  static const std::map<std::string, std::string> h = {
      {"n_samples", "number of samples in the store"},
      {"rng_seed", "sample i's parameters depend only on (rng-seed, i)"},
      {"tissue_labels", "atlas label map: 0 bg, 1 CSF, 2 GM, 3 WM (NIfTI)"},
      {"wm", "white-matter fraction map (NIfTI, with --gm)"},
      {"gm", "gray-matter fraction map (NIfTI, with --wm)"},
      {"csf", "CSF fraction map (NIfTI, optional)"},
      {"phantom", "built-in phantom edge in voxels when no atlas is given (0: none)"},
      {"phantom_spacing", "phantom voxel size, mm"},
      {"sim_spacing", "simulation grid spacing, mm (integer multiple of the atlas's; 0: the atlas's)"},
      {"spacing", "stored grid spacing, mm (integer multiple of sim-spacing, block-averaged; 0: same)"},
      {"crop", "edge of the stored cube around the tumor's centre of mass, voxels"},
      {"chunk", "spatial chunk edge of `concentration` (0: the whole crop, one chunk per sample)"},
      {"dtype", "concentration dtype: float16 | float32"},
      {"compressor", "blosc-lz4 | blosc-zstd | zlib | none"},
      {"clevel", "compression level 0-9"},
      {"seed_min_matter", "seeds are drawn uniformly from voxels with WM+GM >= this"},
      {"ratio_dw_dg", "D_w / D_g"},
      {"th_matter", "voxels with WM+GM below this carry no tumor"},
      {"monotone_dt", "shorten dt where the reference rule would let c overshoot 1"},
      {"rerun_at_stop_time", "run a volume-stopped sample again to its stop time (dt planned for that time), so that\n"
                             "the stored field is what `simulate` and invert's final run compute at its theta"},
  };
  return h;
}

void register_init(CLI::App& datagen) {
  auto preset = std::make_shared<std::string>("paper");
  auto out = std::make_shared<std::string>();
  CLI::App* cmd = datagen.add_subcommand("init", "Create a dataset store: all metadata, the anatomy and empty per-sample arrays.\n"
                                                 "Example: tumorforge datagen init --preset dev --n-samples 64 --out data/dev/train.zarr");
  cmd->add_option("--config", "TOML file with `key = value` lines; keys are these flags' names");
  cmd->add_option("--preset", *preset, "defaults: paper (1 mm, crop 128, the paper's ranges), lmi (learn-morph-infer\n"
                                       "ranges, stop by time), dev (2 mm phantom/atlas, crop 64, for 2-core machines)")
      ->check(CLI::IsMember({"paper", "lmi", "dev"}))->capture_default_str();
  cmd->add_option("--out", *out, "the store to create (a directory, e.g. train.zarr); must not exist")->required();
  std::map<std::string, std::string> help = init_help();
  nlohmann::json keys = datagen::preset_config("paper");
  for (auto it = keys.begin(); it != keys.end(); ++it) {
    const std::string& key = it.key();
    if (help.count(key)) continue;
    if (key.size() > 5 && key.compare(key.size() - 5, 5, "_dist") == 0)
      help[key] = "uniform | loguniform | fixed" + std::string(key.rfind("stop_volume", 0) == 0 ? " | none" : "");
    else if (key.size() > 4 && key.compare(key.size() - 4, 4, "_min") == 0)
      help[key] = "lower bound (dw mm^2/day, rho 1/day, volume mm^3, time days)";
    else if (key.size() > 4 && key.compare(key.size() - 4, 4, "_max") == 0)
      help[key] = "upper bound";
  }
  auto flags = std::make_shared<JsonFlags>(cmd, keys, help, std::vector<std::string>{"preset"});
  cmd->callback([flags, preset, out] {
    datagen::DatagenConfig cfg = datagen::preset_config(*preset);
    nlohmann::json given = flags->collect();
    if ((given.contains("tissue_labels") || given.contains("wm")) && !given.contains("phantom")) given["phantom"] = 0;
    datagen::merge_json(given, cfg);
    datagen::DatasetStore::init(*out, cfg);
    auto store = datagen::DatasetStore::open(*out);
    spdlog::info("created {}: {} samples, {} ({} on the simulation grid {}), crop {}^3 {}", *out, cfg.n_samples,
                 store.attrs().at("atlases")[0].at("source").get<std::string>(), store.store_level().grid.describe(),
                 store.sim_level().grid.describe(), cfg.crop, cfg.dtype);
    spdlog::info("next: tumorforge datagen run {}   (or one job per shard: --shard K/N)", *out);
  });
}

void register_run(CLI::App& datagen) {
  auto store_path = std::make_shared<std::string>();
  auto shard = std::make_shared<std::string>();
  auto opt = std::make_shared<datagen::RunOptions>();
  CLI::App* cmd = datagen.add_subcommand("run", "Simulate the pending samples of a store (all, or one shard). Finished samples are\n"
                                                "skipped, so re-running after a crash resumes. Several shard processes may\n"
                                                "run on one store at once (shared filesystems included).");
  cmd->add_option("store", *store_path, "the store (made by datagen init)")->required();
  cmd->add_option("--shard", *shard, "K/N: this process takes samples i with i % N == K (default: SLURM_ARRAY_TASK_ID/\n"
                                     "SLURM_ARRAY_TASK_COUNT when set, else 0/1)");
  cmd->add_option("--threads", opt->threads, "samples simulated side by side (0 = all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--retry-failed", opt->retry_failed, "also redo samples marked failed");
  cmd->add_option("--limit", opt->limit, "stop after this many samples (smoke tests, benchmarks)")->check(CLI::NonNegativeNumber);
  cmd->callback([store_path, shard, opt] {
    auto store = datagen::DatasetStore::open(*store_path);
    opt->shard = shard->empty() ? datagen::shard_from_environment() : datagen::parse_shard(*shard);
    int64_t stale = datagen::remove_stale_temp_files(*store_path);
    if (stale) spdlog::info("removed {} temp files left by killed writers", stale);
    ProgressBar bar("datagen");
    auto t0 = core::Clock::now();
    opt->on_progress = [&](int64_t done, int64_t total) {
      double s = core::seconds_since(t0);
      bar.update(static_cast<double>(done) / std::max<int64_t>(total, 1),
                 fmt::format("{}/{} samples, {:.2f} samples/s", done, total, done / std::max(s, 1e-9)));
    };
    spdlog::info("{}: shard {}/{}, {} samples in total", *store_path, opt->shard.index, opt->shard.count, store.n_samples());
    datagen::RunSummary sum = datagen::run_shard(store, *opt);
    bar.finish();
    nlohmann::json record = {{"shard", {opt->shard.index, opt->shard.count}},
                             {"threads", opt->threads},
                             {"summary", sum.to_json()},
                             {"provenance", core::provenance({})}};
    std::string name = core::utc_now_iso8601() + "-shard" + std::to_string(opt->shard.index) + "of" +
                       std::to_string(opt->shard.count) + "-" + core::host_name() + "-" + std::to_string(::getpid()) + ".json";
    write_json(*store_path + "/runs/" + name, record);
    spdlog::info("{} samples done, {} failed, {} already done; {:.1f} s ({:.2f} samples/s); solve {:.1f} s, crop {:.1f} s, "
                 "write {:.1f} s (summed over workers)",
                 sum.done, sum.failed, sum.skipped, sum.wall_seconds, (sum.done + sum.failed) / std::max(sum.wall_seconds, 1e-9),
                 sum.solve_seconds, sum.crop_seconds, sum.write_seconds);
  });
}

void register_verify(CLI::App& datagen) {
  auto store_path = std::make_shared<std::string>();
  auto threads = std::make_shared<int>(0);
  CLI::App* cmd = datagen.add_subcommand("verify", "Decode every chunk of a store; report pending, failed and corrupt samples.\n"
                                                   "Exit code 1 when anything is corrupt (each bad chunk is named).");
  cmd->add_option("store", *store_path, "the store")->required();
  cmd->add_option("--threads", *threads, "worker threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  cmd->callback([store_path, threads] {
    auto store = datagen::DatasetStore::open(*store_path);
    datagen::VerifyReport r = datagen::verify_store(store, *threads);
    for (const auto& c : r.corrupt) std::fprintf(stdout, "corrupt: %s\n", c.c_str());
    std::fprintf(stdout, "%s: %lld done, %lld failed, %lld pending, %zu corrupt, %lld temp files\n", store_path->c_str(),
                 static_cast<long long>(r.done), static_cast<long long>(r.failed), static_cast<long long>(r.pending),
                 r.corrupt.size(), static_cast<long long>(r.temp_files));
    if (!r.corrupt.empty()) throw ExitWith{1};
  });
}

void register_info(CLI::App& datagen) {
  auto store_path = std::make_shared<std::string>();
  CLI::App* cmd = datagen.add_subcommand("info", "Summarise a store: counts, stop reasons, parameter histograms, size on disk.");
  cmd->add_option("store", *store_path, "the store")->required();
  cmd->callback([store_path] { std::fputs(datagen::describe_store(datagen::DatasetStore::open(*store_path)).c_str(), stdout); });
}

}  // namespace

void register_datagen(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("datagen", "Generate training data: (parameters -> concentration) pairs in Zarr stores.\n"
                                                "Subcommands: init, run, verify, info (see datagen/README.md).");
  cmd->require_subcommand(1);
  register_init(*cmd);
  register_run(*cmd);
  register_verify(*cmd);
  register_info(*cmd);
}

}  // namespace tumorforge::cli
