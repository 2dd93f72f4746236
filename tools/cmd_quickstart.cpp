// `tumorforge quickstart`: the whole pipeline on the built-in phantom (or --atlas) in minutes, ending in
// OUT/report.md with figures. Stages — testset (datagen with the checkpoints' data settings, a new seed),
// invert (direct and hybrid with the shipped checkpoints, evaluated against the truth), train (a short
// surrogate training on a fresh small store), report — are cached as OUT/stages/<name>.json and skipped on
// re-runs unless their settings changed or --force is given.
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "datagen/datagen_run.h"
#include "datagen/dataset_store.h"
#include "invert/evaluation.h"
#include "invert/figures.h"
#include "models/bundle.h"
#include "core/atomic_file.h"
#include "core/provenance.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/invert_options.h"
#include "tools/quickstart_report.h"
#include "train/trainer.h"
#include "core/timing.h"

namespace fs = std::filesystem;
using tumorforge::core::Clock;

namespace tumorforge::cli {
namespace {

struct QuickstartArgs {
  std::string out = "runs/quickstart", atlas, surrogate, inverse;
  int64_t test_samples = 16, cases = 4, train_samples = 300, train_steps = 150;
  int64_t max_evaluations = invert::FitConfig{}.max_evaluations;
  int phantom_size = 96;
  bool no_train = false, force = false;
  int threads = 0;
};

// Runs `work` unless OUT/stages/<name>.json exists with the same settings; returns the stage record.
nlohmann::json stage(const QuickstartArgs& a, const std::string& name, int number, int total, const nlohmann::json& settings,
                     const std::function<nlohmann::json()>& work) {
  const std::string path = a.out + "/stages/" + name + ".json";
  if (!a.force && fs::exists(path)) {
    std::ifstream in(path);
    nlohmann::json rec = nlohmann::json::parse(in, nullptr, false);
    if (!rec.is_discarded() && rec.value("settings", nlohmann::json()) == settings) {
      spdlog::info("[{}/{}] {}: cached ({}), {:.1f} s when it ran", number, total, name, path, rec.value("seconds", 0.0));
      return rec;
    }
  }
  spdlog::info("[{}/{}] {} ...", number, total, name);
  const auto t0 = Clock::now();
  nlohmann::json rec = work();
  rec["settings"] = settings;
  rec["seconds"] = core::seconds_since(t0);
  rec["provenance"] = core::provenance({});
  write_json(path, rec);
  spdlog::info("[{}/{}] {} done in {:.1f} s", number, total, name, rec["seconds"].get<double>());
  return rec;
}

// A store with the checkpoints' data settings (grid, crop, ranges, solver), `n` samples from `seed`.
datagen::DatagenConfig store_config(const QuickstartArgs& a, const models::Bundle& sur, int64_t n, uint64_t seed) {
  datagen::DatagenConfig cfg = datagen::preset_config("dev");
  nlohmann::json data_cfg = sur.meta.at("data").at("config");
  datagen::merge_json(data_cfg, cfg);
  cfg.n_samples = n;
  cfg.rng_seed = seed;
  cfg.tissue = {};
  if (!a.atlas.empty()) cfg.tissue.labels_path = a.atlas;
  else {
    cfg.tissue.phantom_size = a.phantom_size;
    cfg.tissue.phantom_spacing_mm = data_cfg.value("phantom_spacing", 2.0);
  }
  // A smaller anatomy (tiny test runs, another atlas) may not hold the largest stopping volume.
  const double capacity = solver::matter_volume_mm3(solver::load_tissue(cfg.tissue), cfg.th_matter);
  if (cfg.ranges.stop_volume.dist != "none" && cfg.ranges.stop_volume.max > 0.5 * capacity) {
    spdlog::warn("stop volume capped at {:.0f} mm3 (half of this anatomy's {:.0f} mm3 of tissue)", 0.5 * capacity, capacity);
    cfg.ranges.stop_volume.max = 0.5 * capacity;
    cfg.ranges.stop_volume.min = std::min(cfg.ranges.stop_volume.min, 0.25 * cfg.ranges.stop_volume.max);
  }
  return cfg;
}

void make_store(const std::string& path, const datagen::DatagenConfig& cfg, int threads) {
  fs::remove_all(path);
  datagen::DatasetStore::init(path, cfg);
  auto store = datagen::DatasetStore::open(path);
  datagen::RunOptions opt;
  opt.threads = threads;
  datagen::RunSummary s = datagen::run_shard(store, opt);
  if (s.done == 0) throw std::runtime_error(path + ": no sample finished");
  spdlog::info("  {}: {} samples in {:.1f} s ({} failed)", path, s.done, s.wall_seconds, s.failed);
}

nlohmann::json run_invert_stage(const QuickstartArgs& a) {
  invert::Networks nets = invert::load_networks(a.surrogate, a.inverse, torch::kCPU);
  invert::EvaluateOptions opt;
  opt.methods = {"direct", "hybrid"};
  opt.limit = a.cases;
  opt.jobs = a.threads;
  opt.invert.select_by = "solver";
  opt.invert.fit.max_evaluations = a.max_evaluations;
  opt.on_progress = [](int64_t done, int64_t total) { spdlog::info("  inverted {}/{} cases", done, total); };
  torch::set_num_threads(1);
  const std::string test = a.out + "/test.zarr";
  const invert::Evaluation ev = invert::evaluate_store(nets, test, opt);
  const std::vector<invert::CaseRow>& rows = ev.rows;
  for (const auto& f : ev.failed) spdlog::warn("case {} left out: {}", f.index, f.error);
  // Pair each case's rows by index and method, whatever order they come in.
  std::map<int64_t, std::map<std::string, const invert::CaseRow*>> by_case;
  for (const auto& r : rows) by_case[r.index][r.method] = &r;
  nlohmann::json cases = nlohmann::json::array();
  datagen::StoreReader reader(test);
  auto sim = std::make_shared<const solver::TissueMaps>(reader.store().sim_tissue(0));
  fs::create_directories(a.out + "/figures");
  for (const auto& [index, methods] : by_case) {
    if (!methods.count("direct") || !methods.count("hybrid")) continue;
    const invert::CaseRow &d = *methods.at("direct"), &h = *methods.at("hybrid");
    const invert::ModelCase c = invert::case_from_store(reader, d.index, sim);
    const std::string fig = "figures/case" + std::to_string(d.index) + ".png";
    write_case_figure(a.out + "/" + fig, c, {{"DIRECT", d.final_cube}, {"HYBRID", h.final_cube}});
    auto row_json = [](const invert::CaseRow& r) {
      return nlohmann::json{{"estimate", r.estimate}, {"chosen_stage", r.chosen}, {"ncc", r.ncc}, {"mse", r.mse},
                            {"dice_033", r.dice}, {"err_origin_mm", r.err_origin_mm}, {"err_mu_d", r.err_mu_d},
                            {"err_mu_rho", r.err_mu_rho}, {"seconds", r.seconds}, {"stages", r.stages}};
    };
    cases.push_back({{"index", d.index}, {"truth", d.truth}, {"figure", fig}, {"direct", row_json(d)}, {"hybrid", row_json(h)}});
  }
  core::write_text_atomic(a.out + "/cases.csv", invert::cases_csv(rows));
  return {{"cases", cases}, {"failed_cases", ev.failed}, {"tables", invert::evaluation_tables(rows, opt.methods)}, {"checkpoints", nets.files},
          {"model_spec", nets.spec.to_json()}};
}

nlohmann::json run_train_stage(const QuickstartArgs& a, const models::Bundle& sur) {
  make_store(a.out + "/train.zarr", store_config(a, sur, a.train_samples, 5), a.threads);
  train::RunRequest req;
  train::TrainConfig& t = req.config;
  t.model = "surrogate";
  t.widths = {8, 16, 32, 64, 128};
  t.train = a.out + "/train.zarr";
  t.val = a.out + "/test.zarr";
  t.lr = 1e-3;
  t.batch = 4;
  t.max_steps = a.train_steps;
  t.schedule = "cosine";
  t.warmup_steps = std::min<int64_t>(20, a.train_steps / 5);
  t.val_every = std::max<int64_t>(1, a.train_steps / 3);
  t.val_limit = 8;
  t.log_every = std::max<int64_t>(1, a.train_steps / 15);
  t.device = "cpu";
  t.threads = a.threads;
  t.loader_threads = 1;
  req.run_dir = a.out + "/train_run";
  req.force = true;
  req.on_log = [](const nlohmann::json& r) {
    if (r.at("kind") == "train")
      spdlog::info("  step {} loss {:.4g} ({:.1f} samples/s, ETA {:.0f} s)", r.at("step").get<int64_t>(), r.at("loss").get<double>(),
                   r.at("samples_per_s").get<double>(), r.at("eta_s").get<double>());
  };
  train::RunResult res = train::run_training(req);
  write_training_curve(req.run_dir + "/metrics.jsonl", a.out + "/figures/training_curve.png");
  return {{"steps", res.steps_done}, {"last_val", res.last_val}, {"run_dir", req.run_dir},
          {"figure", "figures/training_curve.png"}, {"config", t}};
}

void run_quickstart(QuickstartArgs& a) {
  const auto t0 = Clock::now();
  if (a.cases < 1 || a.test_samples < a.cases) throw std::invalid_argument("--cases must be in [1, --test-samples]");
  if (a.threads > 0) torch::set_num_threads(a.threads);
  const models::Bundle sur = models::read_bundle(a.surrogate);  // checked first: nothing runs without it
  fs::create_directories(a.out + "/stages");
  const int total = a.no_train ? 3 : 4;
  const nlohmann::json data_settings = {{"atlas", a.atlas}, {"phantom_size", a.phantom_size}, {"samples", a.test_samples},
                                        {"data", sur.meta.at("data").at("config")}};
  nlohmann::json testset = stage(a, "testset", 1, total, data_settings, [&] {
    make_store(a.out + "/test.zarr", store_config(a, sur, a.test_samples, 4), a.threads);
    return nlohmann::json{{"store", "test.zarr"}};
  });
  nlohmann::json inv = stage(a, "invert", 2, total,
                             {{"data", data_settings}, {"cases", a.cases}, {"max_evaluations", a.max_evaluations},
                              {"surrogate", core::sha256_file(a.surrogate)}, {"inverse", core::sha256_file(a.inverse)}},
                             [&] { return run_invert_stage(a); });
  nlohmann::json tr;
  if (!a.no_train)
    tr = stage(a, "train", 3, total, {{"data", data_settings}, {"samples", a.train_samples}, {"steps", a.train_steps}},
               [&] { return run_train_stage(a, sur); });
  nlohmann::json stages = {{"testset", testset}, {"invert", inv}};
  if (!a.no_train) stages["train"] = tr;
  // The report quotes this invocation's wall time, so its settings change on every run and it is always rewritten.
  stage(a, "report", total, total, nlohmann::json{{"invocation", Clock::now().time_since_epoch().count()}}, [&] {
    write_quickstart_report(a.out, stages, core::seconds_since(t0));
    return nlohmann::json{{"report", "report.md"}};
  });
  spdlog::info("report: {}/report.md (figures in {}/figures)", a.out, a.out);
}

}  // namespace

void register_quickstart(CLI::App& app) {
  auto a = std::make_shared<QuickstartArgs>();
  CLI::App* cmd = app.add_subcommand(
      "quickstart",
      "The whole pipeline in a few minutes on the built-in phantom: a held-out test set (datagen), inversion of\n"
      "a few cases with the shipped checkpoints (direct and hybrid, each finished by a solver run), a short\n"
      "surrogate training, and OUT/report.md with figures. Finished stages are cached; --force redoes them.");
  cmd->add_option("--out", a->out, "output directory")->capture_default_str();
  cmd->add_option("--atlas", a->atlas, "tissue label map (0 bg, 1 CSF, 2 GM, 3 WM) instead of the phantom");
  cmd->add_option("--phantom-size", a->phantom_size, "phantom voxels per edge (the checkpoints were trained on 96)")
      ->check(CLI::Range(16, 512))->capture_default_str();
  cmd->add_option("--test-samples", a->test_samples, "held-out samples to simulate")->capture_default_str();
  cmd->add_option("--cases", a->cases, "how many of them to invert")->capture_default_str();
  cmd->add_option("--max-evaluations", a->max_evaluations, "surrogate evaluations of hybrid's L-BFGS at most")->capture_default_str();
  cmd->add_option("--train-samples", a->train_samples, "samples of the short training's store")->capture_default_str();
  cmd->add_option("--train-steps", a->train_steps, "steps of the short surrogate training")->capture_default_str();
  cmd->add_flag("--no-train", a->no_train, "skip the training stage");
  cmd->add_flag("--force", a->force, "redo cached stages");
  add_checkpoint_options(cmd, a->surrogate, a->inverse);
  cmd->add_option("--threads", a->threads, "CPU threads (0: all cores)")->capture_default_str();
  cmd->callback([a] { run_quickstart(*a); });
}

}  // namespace tumorforge::cli
