// The training loop (see trainer.h).
#include "train/trainer.h"

#include <torch/torch.h>
#include <torch/version.h>
#include <ATen/autocast_mode.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "datagen/theta.h"
#include "models/bundle.h"
#include "models/networks.h"
#include "core/atomic_file.h"
#include "core/provenance.h"
#include "train/augment.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/loader.h"
#include "train/evaluation.h"
#include "core/timing.h"

namespace fs = std::filesystem;
using tumorforge::core::Clock;

namespace tumorforge::train {
namespace {

std::atomic<bool> g_stop_requested{false};  // set by SIGINT/SIGTERM: checkpoint, then leave the loop
extern "C" void on_stop_signal(int) { g_stop_requested = true; }

// Installs the stop handlers for the training loop and restores the previous ones however the loop ends
// (an exception included), so a caller's own SIGINT/SIGTERM handling comes back.
class StopSignals {
 public:
  StopSignals() : int_(std::signal(SIGINT, on_stop_signal)), term_(std::signal(SIGTERM, on_stop_signal)) {}
  ~StopSignals() {
    std::signal(SIGINT, int_);
    std::signal(SIGTERM, term_);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  void (*int_)(int);
  void (*term_)(int);
};

double learning_rate(const TrainConfig& c, int64_t step) {
  if (step < c.warmup_steps) return c.lr * static_cast<double>(step + 1) / static_cast<double>(c.warmup_steps);
  if (c.schedule == "constant") return c.lr;
  double progress = static_cast<double>(step - c.warmup_steps) / std::max<double>(1.0, static_cast<double>(c.max_steps - c.warmup_steps));
  return c.lr * 0.5 * (1 + std::cos(M_PI * std::min(1.0, progress)));
}

// bf16 autocast on CUDA; the entry points were renamed in LibTorch 2.4.
void set_autocast(bool enabled) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_enabled(at::kCUDA, enabled);
  if (enabled) at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
#else
  at::autocast::set_enabled(enabled);
  if (enabled) at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
#endif
}

// After a crash the log may hold records past the checkpoint we resume from: drop them.
void truncate_metrics(const std::string& path, int64_t step) {
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    try {
      if (nlohmann::json::parse(line).value("step", int64_t{0}) <= step) kept += line + "\n";
    } catch (const std::exception&) {  // a half-written last line
    }
  }
  in.close();
  core::write_text_atomic(path, kept);
}

// The prior's physics from the training store (the first; TrainingSet checks that all share grid and θ range).
models::FkPrior fk_prior_of(const datagen::TrainingSet& data, int64_t steps) {
  const nlohmann::json d = data.first().description();
  const auto spacing = d.at("store_grid").at("spacing_mm").get<std::array<double, 3>>();
  const auto& cfg = d.at("config");
  const datagen::ThetaRange r = datagen::ThetaRange::from_json(data.first().theta_range());
  const double S = static_cast<double>(data.first().crop());
  if (spacing[0] != spacing[1] || spacing[0] != spacing[2])
    throw std::invalid_argument("--fk-prior-steps: the store grid must be isotropic, " + data.first().store().path() + " is not");
  for (size_t k = 0; k < 3; ++k)  // SurrogateNet's seed channel and the prior read θ[0:3] = ±1 as ±S/2 voxels
    if (std::abs((r.hi[k] - r.lo[k]) - S * spacing[k]) > 1e-6)
      throw std::invalid_argument("--fk-prior-steps: " + data.first().store().path() + ": its seed range is not the cube (±S/2 voxels)");
  if (cfg.at("stop_time_min").get<double>() != cfg.at("stop_time_max").get<double>())
    throw std::invalid_argument("--fk-prior-steps: " + data.first().store().path() + ": its stop time varies; the prior needs one T");
  models::FkPrior p;
  p.steps = steps;
  p.spacing_mm = spacing[0];
  p.stop_time_days = cfg.at("stop_time_max").get<double>();
  p.ratio_dw_dg = cfg.at("ratio_dw_dg").get<double>();
  p.mu_d_range = {r.lo[3], r.hi[3]};
  p.mu_rho_range = {r.lo[4], r.hi[4]};
  return p;
}

}  // namespace

RunResult run_training(const RunRequest& req) {
  const std::string& dir = req.run_dir;
  TrainConfig c = req.config;
  nlohmann::json saved;
  // Data-parallel when a launcher says so; rank 0 alone writes the run directory (shared by all ranks).
  const DistEnv env = dist_env_from_environment();
  const bool lead = env.rank == 0;
  if (req.resume) {
    if (!fs::exists(dir + "/config.json")) throw std::invalid_argument(dir + ": not a run directory (no config.json) to resume");
    std::ifstream in(dir + "/config.json");
    saved = nlohmann::json::parse(in);
    c = TrainConfig{};
    // Runs saved before these keys existed had neither feature.
    if (!saved.at("train").contains("arch")) c.arch = "film";
    if (!saved.at("train").contains("augment")) c.augment = "none";
    if (!saved.at("train").contains("shift_voxels")) c.shift_voxels = 0;
    merge_json(saved.at("train"), c);
    if (req.max_steps_override > 0) c.max_steps = req.max_steps_override;
  }
  c.validate();
  torch::Device dev = models::parse_device(c.device);
  if (dev.is_cuda() && env.distributed()) dev = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank));
  // The group forms before anything can fail on one rank alone: a rank that throws later closes its sockets and
  // the others fail at their next collective instead of waiting at the rendezvous.
  ProcessGroup pg(env, c.backend, dev, std::chrono::seconds(static_cast<int64_t>(c.dist_timeout_minutes * 60)));
  if (env.distributed())
    spdlog::info("rank {} of {} ({} launch, {} backend, rank 0 at {}:{}); global batch {}, {} per rank", env.rank,
                 env.world_size, env.source, pg.backend(), env.master_addr, env.master_port, c.batch, c.batch / env.world_size);
  if (c.batch % env.world_size != 0)
    throw std::invalid_argument("--batch " + std::to_string(c.batch) + " (the global batch) must be a multiple of the " +
                                std::to_string(env.world_size) + " ranks");
  if (!req.resume && lead && fs::exists(dir) && !fs::is_empty(dir)) {
    if (!req.force) throw std::invalid_argument(dir + ": exists already; use --resume to continue it or --force to replace it");
    fs::remove_all(dir);
  }
  if (c.threads > 0) torch::set_num_threads(static_cast<int>(c.threads));
  else torch::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  torch::manual_seed(c.seed);

  datagen::TrainingSet train_data(c.train);
  datagen::StoreReader val_data(c.val);
  models::NetConfig nc;
  nc.kind = c.model;
  nc.widths = c.widths;
  nc.kernel_size = c.kernel_size;
  nc.seed_channel = c.arch == "seed-channel" || c.arch == "seed-spatial";
  nc.seed_global = c.arch != "seed-spatial";
  nc.theta_film = c.arch != "paper";
  nc.wiring = c.arch == "paper" ? "paper" : "unet";
  nc.layer_scale_init = c.layer_scale_init;
  nc.input_size = train_data.first().crop();
  nc.mask_threshold = train_data.first().store().config().th_matter;
  if (c.fk_prior_steps > 0) nc.fk_prior = fk_prior_of(train_data, c.fk_prior_steps);
  nc.validate();
  if (val_data.crop() != train_data.first().crop()) throw std::invalid_argument(c.val + ": crop differs from the training store's");
  Net net(nc);
  // Fine-tuning starts from an exported bundle's weights. On resume the checkpoint holds the weights already.
  std::string init_sha256;
  if (!req.resume && !c.init_from.empty()) {
    const models::Bundle b = models::read_bundle(c.init_from);
    const nlohmann::json want = nc, have = b.config;
    // A bundle without the prior channel can start a run with one: the stem gets a zero-weight input for it,
    // so the first forward pass is the bundle's.
    const bool add_prior = nc.fk_prior.enabled() && !have.contains("fk_prior");
    if (!nc.fk_prior.enabled() && have.contains("fk_prior"))
      throw std::invalid_argument("--init-from " + c.init_from + ": its network has the FK prior channel (fk_prior.steps = " +
                                  have.at("fk_prior").value("steps", nlohmann::json(0)).dump() + "); pass --fk-prior-steps");
    for (auto it = want.begin(); it != want.end(); ++it)
      // seed_global changes what the global layers are fed, not their shapes: a seed-channel bundle can start a
      // seed-spatial run (its seed weights then go unused).
      if (it.key() != "seed_global" && !(add_prior && it.key() == "fk_prior") &&
          (!have.contains(it.key()) || have.at(it.key()) != it.value()))
        throw std::invalid_argument("--init-from " + c.init_from + ": its network has " + it.key() + " = " +
                                    (have.contains(it.key()) ? have.at(it.key()).dump() : std::string("(none)")) +
                                    ", this run's is " + it.value().dump());
    if (add_prior) {
      models::Bundle widened = b;
      widened.weights = models::with_zero_input_channel(b.weights, "encoder.stem.weight");
      models::load_weights(widened, net.module(), c.init_from);
    } else {
      models::load_weights(b, net.module(), c.init_from);
    }
    init_sha256 = core::sha256_file(c.init_from);
    if (lead) spdlog::info("initial weights from {} (sha256 {})", c.init_from, init_sha256.substr(0, 12));
  }
  net.module().to(dev);
  torch::optim::Adam opt(net.module().parameters(), torch::optim::AdamOptions(c.lr));

  int64_t step = 0;
  double best = INFINITY;
  LoaderState loader_state;
  if (req.resume) {
    auto ck = newest_checkpoint(dir);
    if (!ck) throw std::invalid_argument(dir + ": no complete checkpoint to resume from");
    nlohmann::json st = load_checkpoint(*ck, net.module(), &opt);
    step = st.at("step");
    const int saved_world = st.value("world_size", 1);
    if (saved_world != env.world_size && lead)
      spdlog::info("resuming a run saved by {} rank(s) on {}: the global batch, its samples and augmentation are the "
                   "same; only the order of floating-point sums differs", saved_world, env.world_size);
    loader_state = {st.at("loader").at("epoch"), st.at("loader").at("batch")};
    best = st.contains("best_val_loss") && st.at("best_val_loss").is_number() ? st.at("best_val_loss").get<double>() : INFINITY;
    if (lead) truncate_metrics(dir + "/metrics.jsonl", step);
  } else {
    nlohmann::json cfg = c, net_json = nc;
    saved = {{"train", cfg}, {"net", net_json}, {"data", train_data.description()}, {"theta_range", train_data.first().theta_range()},
             {"provenance", core::provenance({})}, {"world_size", env.world_size}};
    if (!init_sha256.empty()) saved["init_from_sha256"] = init_sha256;
    if (lead) {
      fs::create_directories(dir + "/checkpoints");
      core::write_text_atomic(dir + "/config.json", saved.dump(2) + "\n");
    }
  }
  // Every rank starts from rank 0's weights (identical by seed already; after a resume they came from one file).
  pg.broadcast_parameters(net.module());
  pg.barrier();  // the run directory exists before any rank goes on

  g_stop_requested = false;
  StopSignals stop_signals;
  if (c.shift_voxels * 2 >= train_data.first().crop())
    throw std::invalid_argument("--shift-voxels " + std::to_string(c.shift_voxels) + " must be below half the crop (" +
                                std::to_string(train_data.first().crop()) + ")");
  Loader loader(train_data, c.batch, c.seed, c.loader_threads, c.prefetch, loader_state, c.shift_voxels, env.rank,
                env.world_size);
  std::ofstream log;
  if (lead) log.open(dir + "/metrics.jsonl", std::ios::app);
  auto state_json = [&](const nlohmann::json& extra) {
    nlohmann::json s = {{"step", step}, {"loader", {{"epoch", loader.state().epoch}, {"batch", loader.state().batch}}},
                        {"best_val_loss", std::isfinite(best) ? nlohmann::json(best) : nlohmann::json()},
                        {"param_sha256", parameters_sha256(net.module())}, {"config", saved},
                        {"world_size", env.world_size}};
    if (extra.is_object()) s.update(extra);
    return s;
  };
  auto checkpoint = [&] {
    save_checkpoint(dir + "/checkpoints/" + checkpoint_name(step), net.module(), opt, state_json({}));
    prune_checkpoints(dir, c.keep_last);
  };

  RunResult result;
  const bool autocast = dev.is_cuda() && c.bf16;
  net.module().train();
  auto t_start = Clock::now(), t_ckpt = Clock::now(), t_log = Clock::now();
  const int64_t first_step = step;
  double loss_sum = 0, comm_s = 0;  // comm_s: seconds in collectives since the last log record
  int64_t loss_n = 0;
  while (step < c.max_steps) {
    Batch b = loader.next();
    if (c.augment == "flips") b = random_flips(std::move(b), c.seed, step, loader.first_in_batch());
    b = to_device(std::move(b), dev);
    const double lr = learning_rate(c, step);
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
    if (autocast) set_autocast(true);
    Net::Terms terms = net.loss_terms(b, c.loss_region == "mask", c.com_loss_weight);
    if (autocast) set_autocast(false);
    // The loss over the global batch: every rank divides its sum by the count over all ranks, and the gradients
    // are summed below, so N ranks take the one-process step (clipping then sees the same global norm).
    double count = terms.count;
    auto tc = Clock::now();
    if (env.distributed()) {
      torch::Tensor n = torch::tensor({count}, torch::TensorOptions().dtype(torch::kFloat64).device(dev));
      pg.all_reduce_sum(n);
      count = n.item<double>();
    }
    torch::Tensor loss = terms.sum / std::max(count, 1.0);
    comm_s += std::chrono::duration<double>(Clock::now() - tc).count();
    opt.zero_grad();
    loss.backward();
    tc = Clock::now();
    pg.all_reduce_gradients(net.module());
    comm_s += std::chrono::duration<double>(Clock::now() - tc).count();
    if (c.grad_clip > 0) torch::nn::utils::clip_grad_norm_(net.module().parameters(), c.grad_clip);
    opt.step();
    ++step;
    double l = loss.item<double>();
    bool stop = g_stop_requested;
    tc = Clock::now();
    if (env.distributed()) {
      // One message: the global loss, and whether any rank was asked to stop (all stop at the same step).
      torch::Tensor v = torch::tensor({l, stop ? 1.0 : 0.0}, torch::TensorOptions().dtype(torch::kFloat64).device(dev));
      pg.all_reduce_sum(v);
      v = v.cpu();
      l = v[0].item<double>();
      stop = v[1].item<double>() > 0;
    }
    comm_s += std::chrono::duration<double>(Clock::now() - tc).count();
    if (!std::isfinite(l)) throw std::runtime_error("training diverged: loss is " + std::to_string(l) + " at step " + std::to_string(step));
    loss_sum += l;
    ++loss_n;

    if (step % c.log_every == 0 || step == c.max_steps) {
      const double since = std::chrono::duration<double>(Clock::now() - t_log).count();
      const double total = std::chrono::duration<double>(Clock::now() - t_start).count();
      nlohmann::json rec = {{"kind", "train"}, {"step", step}, {"loss", loss_sum / loss_n}, {"lr", lr},
                            {"samples_per_s", static_cast<double>(loss_n * c.batch) / std::max(since, 1e-9)},
                            {"elapsed_s", total}, {"ranks", env.world_size},
                            {"comm_s_per_step", comm_s / static_cast<double>(loss_n)},
                            {"eta_s", total / static_cast<double>(step - first_step) * static_cast<double>(c.max_steps - step)}};
      if (lead) log << rec.dump() << "\n" << std::flush;
      if (lead && req.on_log) req.on_log(rec);
      loss_sum = 0;
      comm_s = 0;
      loss_n = 0;
      t_log = Clock::now();
    }
    if (lead && (step % c.val_every == 0 || step == c.max_steps)) {
      nlohmann::json v = evaluate(net, val_data, c.batch, c.val_limit, dev);
      v["kind"] = "val";
      v["step"] = step;
      log << v.dump() << "\n" << std::flush;
      if (req.on_log) req.on_log(v);
      result.last_val = v;
      if (v.at("val_loss").get<double>() < best) {
        best = v.at("val_loss").get<double>();
        save_checkpoint(dir + "/best", net.module(), opt, state_json({{"val", v}}));
      }
    }
    const bool due = std::chrono::duration<double>(Clock::now() - t_ckpt).count() >= c.checkpoint_minutes * 60 ||
                     (c.checkpoint_every > 0 && step % c.checkpoint_every == 0) || step == c.max_steps;
    if (lead && (due || stop)) {
      checkpoint();
      t_ckpt = Clock::now();
    }
    if (stop) {
      result.interrupted = true;
      break;
    }
  }
  result.steps_done = step;
  result.rank = env.rank;
  result.best_val_loss = best;
  return result;
}

}  // namespace tumorforge::train
