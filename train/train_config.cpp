// TrainConfig validation and JSON.
#include "train/train_config.h"

#include <cmath>
#include <stdexcept>

namespace tumorforge::train {

void TrainConfig::validate() const {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(what);
  };
  need(model == "surrogate" || model == "inverse", "--model must be surrogate or inverse, got '" + model + "'");
  need(!train.empty(), "--train STORE is required");
  need(!val.empty(), "--val STORE is required");
  need(arch == "seed-channel" || arch == "seed-spatial" || arch == "paper" || arch == "film",
       "--arch must be seed-channel, seed-spatial, paper or film, got '" + arch + "'");
  need(augment == "flips" || augment == "none", "--augment must be flips or none, got '" + augment + "'");
  need(shift_voxels >= 0, "--shift-voxels must be >= 0");
  need(com_loss_weight >= 0 && std::isfinite(com_loss_weight), "--com-loss-weight must be finite and >= 0");
  need(fk_prior_steps >= 0 && fk_prior_steps <= 10000, "--fk-prior-steps must be within 0..10000");
  need(fk_prior_steps == 0 || (model == "surrogate" && arch != "film"),
       "--fk-prior-steps: the prior channel is a surrogate input beside the seed channel (--model surrogate, --arch not film)");
  need(lr > 0, "--lr must be positive");
  need(batch >= 1, "--batch must be >= 1");
  need(max_steps >= 1, "--max-steps must be >= 1");
  need(schedule == "constant" || schedule == "cosine", "--schedule must be constant or cosine");
  need(warmup_steps >= 0 && grad_clip >= 0, "--warmup-steps and --grad-clip must be >= 0");
  need(loss_region == "mask" || loss_region == "volume", "--loss-region must be mask or volume");
  need(device == "cpu" || device == "cuda" || device == "auto", "--device '" + device + "': expected cpu, cuda or auto");
  need(val_every >= 1 && log_every >= 1 && keep_last >= 1, "--val-every, --log-every and --keep-last must be >= 1");
  need(loader_threads >= 1 && prefetch >= 1, "--loader-threads and --prefetch must be >= 1");
  need(checkpoint_minutes > 0, "--checkpoint-minutes must be positive");
  need(backend == "gloo" || backend == "nccl" || backend == "auto", "--backend '" + backend + "': expected gloo, nccl or auto");
  need(dist_timeout_minutes > 0, "--dist-timeout-minutes must be positive");
}

void to_json(nlohmann::json& j, const TrainConfig& c) {
  j = {{"model", c.model}, {"widths", c.widths}, {"arch", c.arch}, {"augment", c.augment}, {"shift_voxels", c.shift_voxels}, {"com_loss_weight", c.com_loss_weight}, {"fk_prior_steps", c.fk_prior_steps}, {"kernel_size", c.kernel_size}, {"layer_scale_init", c.layer_scale_init},
       {"train", c.train}, {"val", c.val}, {"init_from", c.init_from}, {"lr", c.lr}, {"batch", c.batch}, {"max_steps", c.max_steps},
       {"schedule", c.schedule}, {"warmup_steps", c.warmup_steps}, {"grad_clip", c.grad_clip},
       {"loss_region", c.loss_region}, {"device", c.device}, {"bf16", c.bf16}, {"threads", c.threads}, {"seed", c.seed},
       {"val_every", c.val_every}, {"val_limit", c.val_limit}, {"checkpoint_minutes", c.checkpoint_minutes},
       {"checkpoint_every", c.checkpoint_every}, {"keep_last", c.keep_last}, {"log_every", c.log_every},
       {"loader_threads", c.loader_threads}, {"prefetch", c.prefetch},
       {"backend", c.backend}, {"dist_timeout_minutes", c.dist_timeout_minutes}};
}

void merge_json(const nlohmann::json& j, TrainConfig& c) {
  nlohmann::json cur = c;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!cur.contains(it.key())) throw std::invalid_argument("unknown training config key '" + it.key() + "'");
    cur[it.key()] = it.value();
  }
  try {
    c.model = cur.at("model");
    c.widths = cur.at("widths").get<std::vector<int64_t>>();
    c.arch = cur.at("arch");
    c.augment = cur.at("augment");
    c.shift_voxels = cur.at("shift_voxels");
    c.com_loss_weight = cur.at("com_loss_weight");
    c.fk_prior_steps = cur.at("fk_prior_steps");
    c.kernel_size = cur.at("kernel_size");
    c.layer_scale_init = cur.at("layer_scale_init");
    c.train = cur.at("train");
    c.val = cur.at("val");
    c.init_from = cur.at("init_from");
    c.lr = cur.at("lr");
    c.batch = cur.at("batch");
    c.max_steps = cur.at("max_steps");
    c.schedule = cur.at("schedule");
    c.warmup_steps = cur.at("warmup_steps");
    c.grad_clip = cur.at("grad_clip");
    c.loss_region = cur.at("loss_region");
    c.device = cur.at("device");
    c.bf16 = cur.at("bf16");
    c.threads = cur.at("threads");
    c.seed = cur.at("seed");
    c.val_every = cur.at("val_every");
    c.val_limit = cur.at("val_limit");
    c.checkpoint_minutes = cur.at("checkpoint_minutes");
    c.checkpoint_every = cur.at("checkpoint_every");
    c.keep_last = cur.at("keep_last");
    c.log_every = cur.at("log_every");
    c.loader_threads = cur.at("loader_threads");
    c.prefetch = cur.at("prefetch");
    c.backend = cur.at("backend");
    c.dist_timeout_minutes = cur.at("dist_timeout_minutes");
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("training config: wrong value type (") + e.what() + ")");
  }
}

}  // namespace tumorforge::train
