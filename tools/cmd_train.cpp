// `tumorforge train` and `tumorforge export`: train the surrogate or the inverse net on dataset stores, and
// turn a run into one HDF5 model bundle. Train flags are generated from TrainConfig's keys.
#include <spdlog/spdlog.h>

#include "core/timing.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "models/bundle.h"
#include "train/evaluation.h"
#include "train/export_run.h"
#include "train/trainer.h"

namespace tumorforge::cli {
namespace {

const std::map<std::string, std::string>& train_help() {
  static const std::map<std::string, std::string> h = {
      {"model", "surrogate (tissue + theta -> c) | inverse (c + tissue -> theta)"},
      {"widths", "channels of each encoder stage, then the neck (paper: 32,64,128,256,512); the crop must be a\n"
                 "multiple of 2^stages"},
      {"arch", "surrogate architecture: seed-channel (the seed drawn as a Gaussian input channel, FiLM, U-Net skips;\n"
               "theta whole at the neck and in FiLM), seed-spatial (the same, but the seed enters only as the channel,\n"
               "so placement is the convolutions' job; neck and FiLM see mu_D, mu_rho), paper (the authors' wiring:\n"
               "stage-input skips, no full-resolution skip, theta only at the neck), film (no seed channel)"},
      {"augment", "flips (random axis mirrors of tissue, concentration and seed offset: exact FK symmetries) | none"},
      {"shift_voxels", "random cube shifts up to this many voxels per axis, so the tumor sits where its seed put it\n"
                       "(tissue recut from the atlas, concentration and seed offset moved with it; 0: off)"},
      {"com_loss_weight", "surrogate: weight of a centre-of-mass term (squared distance between predicted and true tumor\n"
                          "centres, in cube edges) added to the MSE, so the prediction moves with the seed; 0: off"},
      {"fk_prior_steps", "surrogate: also feed a coarse Fisher-Kolmogorov solve at theta on the network grid (this many\n"
                         "explicit steps, the training store's physics; differentiable, so the inversion's gradients\n"
                         "flow through it) as an input channel, so anatomy bends the tumor as the solver's; 0: off.\n"
                         "With --init-from a bundle without it, the new channel starts with zero weights"},
      {"kernel_size", "depthwise kernel of the ConvNeXt blocks"},
      {"layer_scale_init", "initial layer scale of the ConvNeXt blocks"},
      {"train", "training store (tumorforge datagen)"},
      {"val", "validation store"},
      {"init_from", "fine-tune: start from this exported bundle's weights (tumorforge export) instead of random ones;\n"
                    "its network must match --model/--arch/--widths/--kernel-size; Adam and the schedule start afresh"},
      {"lr", "Adam learning rate"},
      {"batch", "samples per step"},
      {"max_steps", "optimizer steps in total"},
      {"schedule", "constant | cosine (after --warmup-steps of linear warm-up)"},
      {"warmup_steps", "linear warm-up steps"},
      {"grad_clip", "max global gradient norm (0: off)"},
      {"loss_region", "surrogate MSE over the brain mask (mask) or the whole cube (volume)"},
      {"device", "cpu | cuda | auto"},
      {"bf16", "bf16 autocast on CUDA"},
      {"threads", "CPU threads for LibTorch (0: all cores)"},
      {"seed", "seed of the initial weights and of the shuffling"},
      {"val_every", "validate every N steps (metrics.jsonl; best checkpoint)"},
      {"val_limit", "validate on at most N samples (0: all)"},
      {"checkpoint_minutes", "checkpoint at least this often (also on SIGINT/SIGTERM and at the end)"},
      {"checkpoint_every", "also checkpoint every N steps (0: off)"},
      {"keep_last", "checkpoints kept besides best/"},
      {"log_every", "progress record every N steps"},
      {"loader_threads", "background reader threads"},
      {"prefetch", "batches read ahead"},
      {"backend", "data-parallel runs: gloo | nccl | auto (nccl on CUDA, else gloo). A run is data-parallel when\n"
                  "started by a launcher (torchrun's RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT, or srun's SLURM_*);\n"
                  "--batch is then the global batch, split over the ranks (tools/launch_local.sh, tools/slurm/)"},
      {"dist_timeout_minutes", "data-parallel runs: a rank waiting longer than this for the others fails"}};
  return h;
}

}  // namespace

void register_train(CLI::App& app) {
  auto out = std::make_shared<std::string>();
  auto resume = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train the surrogate or the inverse network on dataset stores. The run directory gets config.json,\n"
      "metrics.jsonl, checkpoints/ and best/; Ctrl-C or SIGTERM checkpoints and stops; --resume continues.\n"
      "Example: tumorforge train --model surrogate --train data/dev/train.zarr --val data/dev/val.zarr --out runs/sur");
  cmd->add_option("--config", "TOML file with `key = value` lines; keys are these flags' names");
  cmd->add_option("--out", *out, "run directory (must not exist unless --force)");
  cmd->add_option("--resume", *resume, "continue this run from its newest complete checkpoint (--max-steps may extend it)");
  cmd->add_flag("--force", *force, "replace an existing run directory");
  nlohmann::json defaults = train::TrainConfig{};
  auto flags = std::make_shared<JsonFlags>(cmd, defaults, train_help());
  cmd->callback([=] {
    train::RunRequest req;
    nlohmann::json given = flags->collect();
    if (!resume->empty()) {
      for (auto it = given.begin(); it != given.end(); ++it)
        if (it.key() != "max_steps")
          throw std::invalid_argument("--resume uses the run's own config; only --max-steps may be given (got " + flag_of(it.key()) + ")");
      req.resume = true;
      req.run_dir = *resume;
      if (given.contains("max_steps")) req.max_steps_override = given["max_steps"];
    } else {
      if (out->empty()) throw std::invalid_argument("--out RUN_DIR is required (or --resume RUN_DIR)");
      train::merge_json(given, req.config);
      req.run_dir = *out;
      req.force = *force;
    }
    auto t0 = core::Clock::now();
    req.on_log = [](const nlohmann::json& r) {
      if (r.at("kind") == "train")
        spdlog::info("step {} loss {:.5g} lr {:.3g} {:.2f} samples/s ETA {:.0f} s", r.at("step").get<int64_t>(),
                     r.at("loss").get<double>(), r.at("lr").get<double>(), r.at("samples_per_s").get<double>(),
                     r.at("eta_s").get<double>());
      else
        spdlog::info("validation at step {}: {}", r.at("step").get<int64_t>(), r.dump());
    };
    train::RunResult res = train::run_training(req);
    if (res.rank != 0) return;  // rank 0 reports for the group
    double s = core::seconds_since(t0);
    if (res.interrupted)
      spdlog::warn("interrupted at step {} ({:.0f} s); checkpoint written; continue with: tumorforge train --resume {}",
                   res.steps_done, s, req.run_dir);
    else
      spdlog::info("done: {} steps in {:.0f} s, best validation loss {:.5g}; export with: tumorforge export {} --best --out NAME.h5",
                   res.steps_done, s, res.best_val_loss, req.run_dir);
  });
}

void register_test_model(CLI::App& app) {
  auto bundle = std::make_shared<std::string>();
  auto store = std::make_shared<std::string>();
  auto device = std::make_shared<std::string>("auto");
  auto out = std::make_shared<std::string>();
  auto limit = std::make_shared<int64_t>(0);
  auto threads = std::make_shared<int>(0);
  CLI::App* cmd = app.add_subcommand("test-model", "Evaluate an exported network on a held-out store: surrogate MSE, MAE, NCC, Dice\n"
                                                   "(brain mask, mean over samples); inverse per-parameter MSE/MAE.");
  cmd->add_option("bundle", *bundle, "model bundle (.h5) from tumorforge export")->required();
  cmd->add_option("--store", *store, "dataset store to evaluate on")->required();
  cmd->add_option("--limit", *limit, "at most this many samples (0: all)");
  cmd->add_option("--device", *device, "cpu | cuda | auto")->capture_default_str();
  cmd->add_option("--threads", *threads, "CPU threads (0: all cores)");
  cmd->add_option("--out", *out, "also write the metrics as JSON here");
  cmd->callback([=] {
    models::Bundle b = models::read_bundle(*bundle);
    const torch::Device dev = models::parse_device(*device);
    if (*threads > 0) torch::set_num_threads(*threads);
    datagen::StoreReader data(*store);
    if (data.crop() != b.config.input_size)
      throw std::invalid_argument(*store + ": crop " + std::to_string(data.crop()) + " differs from the model's input size " +
                                  std::to_string(b.config.input_size));
    train::Net net(b.config);
    models::load_weights(b, net.module(), *bundle);
    net.module().to(dev);
    nlohmann::json m = train::evaluate(net, data, 4, *limit, dev);
    m["bundle"] = *bundle;
    m["store"] = *store;
    std::printf("%s\n", m.dump(2).c_str());
    if (!out->empty()) write_json(*out, m);
  });
}

void register_export(CLI::App& app) {
  auto run = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto best = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("export", "Write a training run as one HDF5 model bundle (config, theta normalization,\n"
                                               "data description, metrics, provenance, weights), readable by h5py.");
  cmd->add_option("run", *run, "training run directory")->required();
  cmd->add_flag("--best", *best, "export the best checkpoint by validation loss (default: the newest)");
  cmd->add_option("--out", *out, "bundle to write, e.g. checkpoints/surrogate.h5")->required();
  cmd->callback([=] {
    std::string ck = train::export_run(*run, *best, *out);
    spdlog::info("exported {} to {}", ck, *out);
  });
}

}  // namespace tumorforge::cli
