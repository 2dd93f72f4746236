// Data-parallel training over a c10d process group (what torchrun/DDP use: Gloo on CPUs, NCCL on GPUs).
// Every rank runs the same loop on its own slice of each global batch; after backward the gradients are
// summed over ranks (bucketed all-reduce), so every rank takes the same optimizer step and the parameters stay
// identical without being sent again. The launch conventions are torchrun's (RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT) or SLURM's (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, the first host of
// SLURM_JOB_NODELIST). Without them the process is world size 1 and nothing here communicates.
#pragma once
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace tumorforge::train {

struct DistEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string source = "none";  // "torchrun", "slurm" or "none" (one process)
  bool distributed() const { return world_size > 1; }
};

// Reads the launcher's variables; throws a one-line error naming the variable when they are inconsistent.
// `get` stands in for std::getenv in tests.
DistEnv dist_env_from_environment(const std::function<const char*(const char*)>& get = nullptr);

// The first host of a SLURM node list: "gpu[07-09,12],cpu3" -> "gpu07".
std::string first_slurm_host(const std::string& nodelist);

// True when this build can form a Gloo group (libgloo-dev was found at configure time).
bool gloo_available();

class ProcessGroup {
 public:
  // World size 1: no group; every collective is a no-op. Otherwise connects to the rendezvous (rank 0 serves a
  // TCPStore at master_addr:master_port) and forms the group; `timeout` bounds every collective, so a rank that
  // hangs makes the others fail instead of waiting for ever (a rank that dies closes its sockets: the others
  // fail at once). backend: gloo | nccl | auto (nccl on CUDA devices, else gloo).
  ProcessGroup(const DistEnv& env, const std::string& backend, const torch::Device& device, std::chrono::seconds timeout);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return env_.rank; }
  int size() const { return env_.world_size; }
  const std::string& backend() const { return backend_; }

  void all_reduce_sum(torch::Tensor& t);               // in place
  void broadcast(torch::Tensor& t, int root);           // in place
  // Sums every parameter's gradient over the ranks, in flat buckets of at most `bucket_bytes` (fewer, larger
  // messages than one per tensor; the order is the parameters' order, identical on every rank).
  void all_reduce_gradients(torch::nn::Module& m, int64_t bucket_bytes = 25 << 20);
  void broadcast_parameters(torch::nn::Module& m, int root = 0);  // parameters and buffers
  void barrier();

 private:
  struct Impl;
  [[noreturn]] void lost(const std::exception& e) const;
  DistEnv env_;
  std::string backend_ = "none";
  std::unique_ptr<Impl> impl_;
};

}  // namespace tumorforge::train
