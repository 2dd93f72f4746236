// Process group and launcher conventions (see distributed.h). The c10d headers need gloo's; without
// libgloo-dev at configure time the build has no Gloo backend and a multi-rank launch is refused by name.
#include "train/distributed.h"

#include <torch/version.h>

#include <cctype>
#include <cstdlib>
#include <stdexcept>

#ifdef TUMORFORGE_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace tumorforge::train {
namespace {

int int_var(const char* name, const char* v) {
  try {
    size_t used = 0;
    const int x = std::stoi(v, &used);
    if (used != std::string(v).size()) throw std::invalid_argument("trailing characters");
    return x;
  } catch (const std::exception&) {
    throw std::invalid_argument(std::string("environment variable ") + name + "='" + v + "' is not an integer");
  }
}

}  // namespace

std::string first_slurm_host(const std::string& nodelist) {
  // The first entry ends at the first comma outside brackets; a bracket holds ranges: take the first number,
  // keeping its zero padding.
  const size_t open = nodelist.find('[');
  const size_t comma = nodelist.find(',');
  if (open == std::string::npos || (comma != std::string::npos && comma < open))
    return nodelist.substr(0, comma);
  const std::string prefix = nodelist.substr(0, open);
  size_t end = open + 1;
  while (end < nodelist.size() && std::isdigit(static_cast<unsigned char>(nodelist[end]))) ++end;
  if (end == open + 1) throw std::invalid_argument("SLURM_JOB_NODELIST='" + nodelist + "': cannot read its first host");
  return prefix + nodelist.substr(open + 1, end - open - 1);
}

DistEnv dist_env_from_environment(const std::function<const char*(const char*)>& get_fn) {
  auto get = [&](const char* name) -> const char* {
    const char* v = get_fn ? get_fn(name) : std::getenv(name);
    return v && *v ? v : nullptr;
  };
  DistEnv e;
  if (get("WORLD_SIZE") || get("RANK")) {  // torchrun, or any launcher that sets its variables
    if (!get("WORLD_SIZE") || !get("RANK")) throw std::invalid_argument("RANK and WORLD_SIZE must be set together");
    e.source = "torchrun";
    e.rank = int_var("RANK", get("RANK"));
    e.world_size = int_var("WORLD_SIZE", get("WORLD_SIZE"));
    e.local_rank = get("LOCAL_RANK") ? int_var("LOCAL_RANK", get("LOCAL_RANK")) : e.rank;
    if (e.world_size > 1 && !get("MASTER_ADDR"))
      throw std::invalid_argument("WORLD_SIZE=" + std::to_string(e.world_size) + " needs MASTER_ADDR (the host of rank 0)");
  } else if (get("SLURM_NTASKS") && get("SLURM_PROCID")) {  // srun
    e.source = "slurm";
    e.rank = int_var("SLURM_PROCID", get("SLURM_PROCID"));
    e.world_size = int_var("SLURM_NTASKS", get("SLURM_NTASKS"));
    e.local_rank = get("SLURM_LOCALID") ? int_var("SLURM_LOCALID", get("SLURM_LOCALID")) : 0;
    if (!get("MASTER_ADDR")) {
      const char* nodes = get("SLURM_JOB_NODELIST") ? get("SLURM_JOB_NODELIST") : get("SLURM_NODELIST");
      if (e.world_size > 1 && !nodes) throw std::invalid_argument("SLURM_NTASKS > 1 but neither MASTER_ADDR nor SLURM_JOB_NODELIST is set");
      if (nodes) e.master_addr = first_slurm_host(nodes);
    }
    // A port per job, so that two jobs sharing a node do not meet at one rendezvous.
    if (!get("MASTER_PORT") && get("SLURM_JOB_ID")) e.master_port = 20000 + int_var("SLURM_JOB_ID", get("SLURM_JOB_ID")) % 20000;
  }
  if (get("MASTER_ADDR")) e.master_addr = get("MASTER_ADDR");
  if (get("MASTER_PORT")) e.master_port = int_var("MASTER_PORT", get("MASTER_PORT"));
  if (e.world_size < 1) throw std::invalid_argument("world size " + std::to_string(e.world_size) + " (WORLD_SIZE/SLURM_NTASKS) must be >= 1");
  if (e.rank < 0 || e.rank >= e.world_size)
    throw std::invalid_argument("rank " + std::to_string(e.rank) + " (RANK/SLURM_PROCID) is outside [0, " + std::to_string(e.world_size) + ")");
  if (e.master_port < 1 || e.master_port > 65535) throw std::invalid_argument("MASTER_PORT=" + std::to_string(e.master_port) + " is not a TCP port");
  return e;
}

bool gloo_available() {
#ifdef TUMORFORGE_HAVE_GLOO
  return true;
#else
  return false;
#endif
}

struct ProcessGroup::Impl {
#ifdef TUMORFORGE_HAVE_GLOO
  c10::intrusive_ptr<c10d::Store> store;
#if TORCH_VERSION_MAJOR >= 2
  c10::intrusive_ptr<c10d::Backend> pg;
#else
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
#endif
#endif
};

ProcessGroup::ProcessGroup(const DistEnv& env, const std::string& backend, const torch::Device& device,
                           std::chrono::seconds timeout)
    : env_(env), impl_(std::make_unique<Impl>()) {
  if (backend != "gloo" && backend != "nccl" && backend != "auto")
    throw std::invalid_argument("--backend '" + backend + "': expected gloo, nccl or auto");
  if (!env.distributed()) return;
  backend_ = backend == "auto" ? (device.is_cuda() ? "nccl" : "gloo") : backend;
#ifdef TUMORFORGE_HAVE_GLOO
  c10d::TCPStoreOptions o;
  o.port = static_cast<uint16_t>(env.master_port);
  o.isServer = env.rank == 0;
  o.numWorkers = env.world_size;
  o.waitWorkers = true;
  o.timeout = timeout;
  try {
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(env.rank) + ": cannot meet the other ranks at " + env.master_addr + ":" +
                             std::to_string(env.master_port) + " within " + std::to_string(timeout.count()) + " s (" +
                             std::string(e.what()).substr(0, 200) + ")");
  }
  if (backend_ == "gloo") {
    auto opts = c10d::ProcessGroupGloo::Options::create();
    opts->timeout = timeout;
    // The interface that reaches rank 0 (loopback when everything runs here).
    opts->devices.push_back(env.master_addr == "127.0.0.1" || env.master_addr == "localhost"
                                ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                : c10d::ProcessGroupGloo::createDefaultDevice());
    impl_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env.rank, env.world_size, opts);
  } else {
#ifdef USE_C10D_NCCL
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = timeout;
    impl_->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, env.rank, env.world_size, opts);
#else
    throw std::invalid_argument("--backend nccl: this LibTorch has no NCCL (build against a CUDA LibTorch with USE_C10D_NCCL)");
#endif
  }
#else
  (void)device;
  (void)timeout;
  throw std::invalid_argument("WORLD_SIZE=" + std::to_string(env.world_size) +
                              ": this build has no c10d Gloo backend (install libgloo-dev, then re-run cmake and rebuild)");
#endif
}

ProcessGroup::~ProcessGroup() = default;

// A collective that fails means another rank died or hung: say so first, then the backend's own words.
[[noreturn]] void ProcessGroup::lost(const std::exception& e) const {
  std::string what = e.what();
  what = what.substr(0, what.find('\n'));
  throw std::runtime_error("rank " + std::to_string(env_.rank) + " of " + std::to_string(env_.world_size) +
                           ": lost the other ranks (one died, or did not answer within --dist-timeout-minutes): " + what);
}

void ProcessGroup::all_reduce_sum(torch::Tensor& t) {
  if (!env_.distributed()) return;
#ifdef TUMORFORGE_HAVE_GLOO
  std::vector<at::Tensor> ts{t};
  try {
    impl_->pg->allreduce(ts)->wait();
  } catch (const std::exception& e) {
    lost(e);
  }
#endif
}

void ProcessGroup::broadcast(torch::Tensor& t, int root) {
  if (!env_.distributed()) return;
#ifdef TUMORFORGE_HAVE_GLOO
  std::vector<at::Tensor> ts{t};
  c10d::BroadcastOptions o;
  o.rootRank = root;
  try {
    impl_->pg->broadcast(ts, o)->wait();
  } catch (const std::exception& e) {
    lost(e);
  }
#endif
}

void ProcessGroup::barrier() {
  if (!env_.distributed()) return;
  torch::Tensor t = torch::zeros({1});
  all_reduce_sum(t);  // a barrier that every backend has, and that honours the timeout
}

void ProcessGroup::all_reduce_gradients(torch::nn::Module& m, int64_t bucket_bytes) {
  if (!env_.distributed()) return;
  std::vector<torch::Tensor> grads;
  for (auto& p : m.parameters())
    if (p.grad().defined()) grads.push_back(p.grad());
  size_t first = 0;
  while (first < grads.size()) {
    // One bucket: consecutive gradients of one dtype and device up to bucket_bytes (at least one tensor).
    size_t last = first + 1;
    int64_t bytes = grads[first].numel() * grads[first].element_size();
    while (last < grads.size() && grads[last].scalar_type() == grads[first].scalar_type() &&
           grads[last].device() == grads[first].device() &&
           bytes + grads[last].numel() * grads[last].element_size() <= bucket_bytes) {
      bytes += grads[last].numel() * grads[last].element_size();
      ++last;
    }
    std::vector<torch::Tensor> flat;
    for (size_t k = first; k < last; ++k) flat.push_back(grads[k].reshape({-1}));
    torch::Tensor bucket = torch::cat(flat);
    all_reduce_sum(bucket);
    int64_t off = 0;
    for (size_t k = first; k < last; ++k) {
      const int64_t n = grads[k].numel();
      grads[k].copy_(bucket.narrow(0, off, n).view_as(grads[k]));
      off += n;
    }
    first = last;
  }
}

void ProcessGroup::broadcast_parameters(torch::nn::Module& m, int root) {
  if (!env_.distributed()) return;
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters()) {
    torch::Tensor t = p.detach();
    broadcast(t, root);
  }
  for (auto& b : m.buffers()) broadcast(b, root);
}

}  // namespace tumorforge::train
