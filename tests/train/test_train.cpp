// Training: a tiny model overfits 8 samples, the loader's order depends only on (seed, epoch) and resumes
// from its state, export -> load reproduces outputs exactly, and bad bundles fail with clear messages.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

#include <filesystem>
#include <fstream>
#include <cmath>
#include <set>

#include "datagen/datagen_run.h"
#include "models/bundle.h"
#include "models/networks.h"
#include "solver/fk_solver.h"
#include "solver/phantom.h"
#include "train/augment.h"
#include "datagen/store_reader.h"
#include "models/field_metrics.h"
#include "train/checkpoint.h"
#include "train/evaluation.h"
#include "train/distributed.h"
#include "train/export_run.h"
#include "train/loader.h"
#include "train/trainer.h"

namespace fs = std::filesystem;
using namespace tumorforge;

namespace {

std::string scratch() {
  fs::path d = fs::temp_directory_path() / ("tumorforge_test_train_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d.string();
}

// A small store of done samples (3 mm phantom, 16³ crops), made once per test process.
std::string tiny_store(int64_t n) {
  static std::map<int64_t, std::string> made;
  if (made.count(n)) return made[n];
  std::string path = scratch() + "/store" + std::to_string(n) + ".zarr";
  fs::remove_all(path);
  datagen::DatagenConfig c = datagen::preset_config("dev");
  c.n_samples = n;
  c.tissue.phantom_size = 40;
  c.tissue.phantom_spacing_mm = 3.0;
  c.sim_spacing_mm = 3.0;
  c.crop = 16;
  c.ranges.stop_volume = {"uniform", 2000, 20000};
  c.ranges.dw = {"uniform", 0.1, 2};
  datagen::DatasetStore::init(path, c);
  datagen::run_shard(datagen::DatasetStore::open(path), {});
  return made[n] = path;
}

train::TrainConfig tiny_config(const std::string& store) {
  train::TrainConfig c;
  c.widths = {8, 8, 16, 16, 32};
  c.kernel_size = 3;
  c.train = store;
  c.val = store;
  c.threads = 2;
  c.device = "cpu";
  c.loader_threads = 1;
  return c;
}

}  // namespace

TEST_CASE("a tiny surrogate overfits 8 samples: training loss falls 10x") {
  train::TrainConfig c = tiny_config(tiny_store(8));
  c.shift_voxels = 0;  // overfitting 8 fixed samples is the point; shifted cubes would be new samples each step
  c.batch = 4;
  c.lr = 3e-3;
  // 200 steps reached 8.7x once datagen reran volume-stopped samples (larger, different tumors; session 8).
  c.max_steps = 300;
  c.log_every = 2;  // = one pass over the 8 samples
  c.val_every = 1000;
  train::RunRequest req;
  req.config = c;
  req.run_dir = scratch() + "/overfit";
  req.force = true;
  std::vector<double> losses;
  req.on_log = [&](const nlohmann::json& r) {
    if (r.at("kind") == "train") losses.push_back(r.at("loss").get<double>());
  };
  train::run_training(req);
  REQUIRE(losses.size() >= 10);
  MESSAGE("training loss " << losses.front() << " -> " << losses.back());
  CHECK(losses.back() < losses.front() / 10);
}

TEST_CASE("loader order depends only on (seed, epoch) and continues exactly from a saved state") {
  datagen::StoreReader reader(tiny_store(8));
  auto p = train::epoch_permutation(100, 7, 3);
  CHECK(std::set<int64_t>(p.begin(), p.end()).size() == 100);
  CHECK(p == train::epoch_permutation(100, 7, 3));
  CHECK(p != train::epoch_permutation(100, 7, 4));
  std::vector<std::vector<int64_t>> straight;
  {
    train::Loader l(reader, 3, 11, 2, 4, {});
    for (int i = 0; i < 7; ++i) straight.push_back(l.next().indices);
  }
  train::LoaderState mid;
  {
    train::Loader l(reader, 3, 11, 2, 4, {});
    for (int i = 0; i < 4; ++i) l.next();
    mid = l.state();
  }
  train::Loader resumed(reader, 3, 11, 1, 2, mid);
  for (int i = 4; i < 7; ++i) CHECK(resumed.next().indices == straight[static_cast<size_t>(i)]);
  auto b = reader.read({reader.done()[0]});
  CHECK(b.tissue.sizes() == torch::IntArrayRef({1, 3, 16, 16, 16}));
  CHECK(b.theta.abs().max().item<float>() <= 1.0f);
}

TEST_CASE("export then load reproduces the checkpoint outputs exactly, and bad bundles are refused by name") {
  train::TrainConfig c = tiny_config(tiny_store(8));
  c.max_steps = 4;
  c.val_every = 2;
  train::RunRequest req;
  req.config = c;
  req.run_dir = scratch() + "/export";
  req.force = true;
  train::run_training(req);
  const std::string h5 = scratch() + "/s.h5";
  train::export_run(req.run_dir, false, h5);

  models::Bundle b = models::read_bundle(h5);
  CHECK(b.config.widths == c.widths);
  CHECK(b.meta.contains("theta_range"));
  CHECK(b.meta.at("metrics").at("step") == 4);
  models::SurrogateNet from_bundle(b.config), from_ckpt(b.config);
  models::load_weights(b, *from_bundle, h5);
  train::load_checkpoint(*train::newest_checkpoint(req.run_dir), *from_ckpt, nullptr);
  auto tissue = torch::rand({2, 3, 16, 16, 16}), theta = torch::rand({2, 5}) * 2 - 1;
  CHECK(torch::equal(from_bundle->forward(tissue, theta), from_ckpt->forward(tissue, theta)));

  models::Bundle missing = b;
  missing.weights.erase("head.weight");
  CHECK_THROWS_WITH(models::load_weights(missing, *from_bundle, "x.h5"), doctest::Contains("'head.weight' is missing"));
  models::Bundle wrong = b;
  wrong.weights["head.weight"] = torch::zeros({2, 2});
  CHECK_THROWS_WITH(models::load_weights(wrong, *from_bundle, "x.h5"), doctest::Contains("'head.weight' has shape"));
  models::NetConfig other = b.config;
  other.widths = {8, 8, 16, 16, 64};
  models::SurrogateNet bigger(other);
  CHECK_THROWS_WITH(models::load_weights(b, *bigger, "x.h5"), doctest::Contains("has shape"));
  models::Bundle extra = b;
  extra.weights["stray"] = torch::zeros({1});
  CHECK_THROWS_WITH(models::load_weights(extra, *from_bundle, "x.h5"), doctest::Contains("do not belong"));
  std::ofstream(scratch() + "/junk.h5") << "junk";
  CHECK_THROWS_WITH(models::read_bundle(scratch() + "/junk.h5"), doctest::Contains("not a tumorforge model bundle"));
}

TEST_CASE("the centre-of-mass term adds weight x the mean squared centre distance (cube edges) to the MSE") {
  train::TrainConfig c = tiny_config(tiny_store(8));
  models::NetConfig nc;
  nc.kind = "surrogate";
  nc.widths = c.widths;
  nc.kernel_size = c.kernel_size;
  nc.input_size = 16;
  train::Net net(nc);
  datagen::StoreReader store(c.train);
  const auto b = store.read({0, 1, 2, 3});
  const auto plain = net.loss_terms(b, true), with = net.loss_terms(b, true, 10.0);
  CHECK(with.count == plain.count);
  const torch::Tensor pred = net.surrogate->forward(b.tissue, b.theta);
  const auto p = models::centres_of_mass(pred), q = models::centres_of_mass(b.concentration);
  double d2 = 0, n = 0;
  for (int64_t k = 0; k < 4; ++k)
    if (q.mass[k].item<double>() >= 1.0) d2 += (p.com[k] - q.com[k]).div(16.0).pow(2).sum().item<double>(), n += 1;
  REQUIRE(n > 0);
  REQUIRE(d2 > 0);  // an untrained net does not put the tumor where it is
  const double expected = plain.sum.item<double>() / plain.count + 10.0 * d2 / n;
  CHECK(with.sum.item<double>() / with.count == doctest::Approx(expected).epsilon(1e-4));
}

TEST_CASE("a training config saved before a key existed loads with that key's default, unknown keys are refused") {
  train::TrainConfig c;
  nlohmann::json old = c;
  old.erase("com_loss_weight");  // session 6's configs have no such key
  old["shift_voxels"] = 3;
  train::TrainConfig loaded;
  loaded.com_loss_weight = 5;  // overwritten by nothing: merge keeps what the JSON does not name
  train::merge_json(old, loaded);
  CHECK(loaded.shift_voxels == 3);
  CHECK(loaded.com_loss_weight == 5);
  train::TrainConfig fresh;
  train::merge_json(old, fresh);
  CHECK(fresh.com_loss_weight == 0);
  CHECK_THROWS_WITH(train::merge_json({{"com_weight", 1}}, fresh), doctest::Contains("unknown training config key 'com_weight'"));
  fresh.train = fresh.val = "x";
  fresh.com_loss_weight = -1;
  CHECK_THROWS_WITH(fresh.validate(), doctest::Contains("--com-loss-weight"));
}

TEST_CASE("axis flips are an exact FK symmetry: the solver on mirrored anatomy gives the mirrored tumor") {
  // The premise of the flip augmentation, checked on the numerical solver itself.
  solver::TissueMaps t = solver::make_phantom({24, 4.0});
  const auto d = t.grid.dims;
  solver::TissueMaps m = t;  // mirrored along x
  for (int64_t k = 0; k < d[2]; ++k)
    for (int64_t j = 0; j < d[1]; ++j)
      for (int64_t i = 0; i < d[0]; ++i) {
        const auto a = static_cast<size_t>(t.grid.index(i, j, k)), b = static_cast<size_t>(t.grid.index(d[0] - 1 - i, j, k));
        m.wm[b] = t.wm[a], m.gm[b] = t.gm[a], m.csf[b] = t.csf[a];
      }
  solver::FkParams p;
  p.dw_mm2_per_day = 1.0;
  p.rho_per_day = 0.3;
  p.stop_time_days = 30;
  p.seed_mm = {9 * 4.0, 12 * 4.0, 11 * 4.0};
  solver::FkParams pm = p;
  pm.seed_mm[0] = (d[0] - 1 - 9) * 4.0;
  const auto a = solver::simulate(t, p), b = solver::simulate(m, pm);
  double worst = 0, peak = 0;
  for (int64_t k = 0; k < d[2]; ++k)
    for (int64_t j = 0; j < d[1]; ++j)
      for (int64_t i = 0; i < d[0]; ++i) {
        const float x = a.concentration.data[static_cast<size_t>(t.grid.index(i, j, k))];
        const float y = b.concentration.data[static_cast<size_t>(t.grid.index(d[0] - 1 - i, j, k))];
        worst = std::max(worst, static_cast<double>(std::abs(x - y)));
        peak = std::max(peak, static_cast<double>(x));
      }
  CHECK(peak > 0.5);
  // float32 sums in another order (the stencil meets the mirrored neighbours left-right swapped): ~1e-6.
  CHECK(worst < 1e-5);
}

TEST_CASE("random flips mirror tissue, concentration and the seed offset together, the same way on a rerun") {
  datagen::StoreReader reader(tiny_store(8));
  const auto& done = reader.done();
  datagen::Batch b = reader.read({done[0], done[1], done[2], done[3]});
  const datagen::Batch orig = reader.read({done[0], done[1], done[2], done[3]});
  const int64_t step = 17;
  datagen::Batch f = train::random_flips(std::move(b), 5, step);
  int flipped = 0;
  for (int64_t n = 0; n < 4; ++n) {
    const unsigned mask = train::flip_mask(5, step, n);
    std::vector<int64_t> dims;
    for (int64_t k = 0; k < 3; ++k) {
      const float sign = (mask & (1u << k)) ? -1.0f : 1.0f;
      CHECK(f.theta[n][k].item<float>() == sign * orig.theta[n][k].item<float>());
      if (mask & (1u << k)) dims.push_back(k + 1);
    }
    CHECK(f.theta[n][3].item<float>() == orig.theta[n][3].item<float>());
    const auto want_c = dims.empty() ? orig.concentration[n] : orig.concentration[n].flip(dims);
    const auto want_t = dims.empty() ? orig.tissue[n] : orig.tissue[n].flip(dims);
    CHECK(torch::equal(f.concentration[n], want_c));
    CHECK(torch::equal(f.tissue[n], want_t));
    flipped += mask != 0;
  }
  // Over many (step, sample) pairs every one of the 8 flip patterns occurs, about equally often.
  std::vector<int> count(8, 0);
  for (int64_t s = 0; s < 800; ++s) ++count[train::flip_mask(5, s, s % 3)];
  for (int c : count) CHECK(c > 60);
  CHECK(train::flip_mask(5, step, 2) == train::flip_mask(5, step, 2));
}

TEST_CASE("a shifted read moves the cube: tissue recut from the atlas, concentration moved, seed offset by -shift") {
  datagen::StoreReader reader(tiny_store(8));
  const int64_t i = reader.done()[1];
  const std::array<int64_t, 3> sh{2, -3, 1};
  const std::vector<std::array<int64_t, 3>> shifts{sh};
  const datagen::Batch a = reader.read({i}), b = reader.read({i}, &shifts);
  const int64_t S = reader.crop();
  const double h = reader.store().store_level().grid.spacing_mm[0];
  // θ: the seed offset from the new cube centre is the old one minus the shift in mm (normalized by ±S/2·h).
  const torch::Tensor raw_a = reader.denormalize_theta(a.theta), raw_b = reader.denormalize_theta(b.theta);
  for (int64_t k = 0; k < 3; ++k)
    CHECK(raw_b[0][k].item<double>() == doctest::Approx(raw_a[0][k].item<double>() - static_cast<double>(sh[static_cast<size_t>(k)]) * h).epsilon(1e-5));
  CHECK(raw_b[0][3].item<float>() == raw_a[0][3].item<float>());
  // Where both cubes have data, the new cube at x holds the old cube at x + shift, tissue and concentration.
  int compared = 0;
  for (int64_t x = 3; x < S - 3; x += 2)
    for (int64_t y = 3; y < S - 3; y += 2)
      for (int64_t z = 3; z < S - 3; z += 2) {
        CHECK(b.concentration[0][0][x][y][z].item<float>() == a.concentration[0][0][x + sh[0]][y + sh[1]][z + sh[2]].item<float>());
        CHECK(b.tissue[0][0][x][y][z].item<float>() == a.tissue[0][0][x + sh[0]][y + sh[1]][z + sh[2]].item<float>());
        ++compared;
      }
  CHECK(compared > 50);
  // Mass can only leave the cube (what moves past its border), and most of a centred tumor stays.
  const double ma = a.concentration.sum().item<double>(), mb = b.concentration.sum().item<double>();
  CHECK(mb <= ma * (1 + 1e-6));
  CHECK(mb > 0.5 * ma);
}

TEST_CASE("a checkpoint whose files cannot be written whole fails and is never marked complete") {
  // A full disk, imitated by a file-size limit: the model and optimizer fit, state.json (padded to 256 kB) does
  // not. Before the writes were checked, COMPLETE followed a cut state.json and resume would read it.
  torch::nn::Linear lin(1, 1);
  torch::optim::SGD opt(lin->parameters(), torch::optim::SGDOptions(0.1));
  const std::string dir = scratch() + "/ckpt_full_disk";
  fs::remove_all(dir);
  nlohmann::json state = {{"step", 1}, {"padding", std::string(256 * 1024, 'x')}};
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // the write fails with EFBIG instead of killing the test
  rlimit old{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
  rlimit lim = old;
  lim.rlim_cur = 64 * 1024;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
  std::string error;
  try {
    train::save_checkpoint(dir, *lin, opt, state);
  } catch (const std::exception& e) {
    error = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  CHECK(error.find("checkpoint not written") != std::string::npos);
  CHECK_FALSE(fs::exists(dir));
  for (const auto& e : fs::directory_iterator(fs::path(dir).parent_path()))
    CHECK(e.path().filename().string().find("ckpt_full_disk") == std::string::npos);  // no temp left either
  // With room, the same checkpoint is written and loads back.
  train::save_checkpoint(dir, *lin, opt, state);
  CHECK(fs::exists(dir + "/COMPLETE"));
  CHECK(train::load_checkpoint(dir, *lin, &opt).at("padding").get<std::string>().size() == 256 * 1024);
}

namespace {
extern "C" void test_own_handler(int) {}
}  // namespace

TEST_CASE("a training run that throws gives SIGINT/SIGTERM back to the caller's handlers") {
  train::TrainConfig c = tiny_config(tiny_store(8));
  c.shift_voxels = 8;  // half the 16³ crop: refused after the stop handlers went in
  train::RunRequest req;
  req.config = c;
  req.run_dir = scratch() + "/bad_shift";
  req.force = true;
  auto before_int = std::signal(SIGINT, test_own_handler), before_term = std::signal(SIGTERM, test_own_handler);
  CHECK_THROWS_WITH_AS(train::run_training(req), doctest::Contains("--shift-voxels 8"), std::invalid_argument);
  const bool int_back = std::signal(SIGINT, before_int) == &test_own_handler;
  const bool term_back = std::signal(SIGTERM, before_term) == &test_own_handler;
  CHECK(int_back);
  CHECK(term_back);
}

TEST_CASE("data-parallel ranks read disjoint slices of the one-process batch, shifted and flipped alike") {
  datagen::StoreReader reader(tiny_store(8));
  // Global batch 4, 2 ranks: rank r reads samples [2r, 2r + 2) of each global batch, with the shifts and flips the
  // one-process run gives those samples (both are drawn from the sample's place in the global batch).
  train::Loader one(reader, 4, 11, 1, 2, {}, 2);
  train::Loader r0(reader, 4, 11, 1, 2, {}, 2, 0, 2), r1(reader, 4, 11, 1, 2, {}, 2, 1, 2);
  CHECK(r1.first_in_batch() == 2);
  for (int64_t step = 0; step < 3; ++step) {
    datagen::Batch all = train::random_flips(one.next(), 5, step);
    datagen::Batch a = train::random_flips(r0.next(), 5, step, r0.first_in_batch());
    datagen::Batch b = train::random_flips(r1.next(), 5, step, r1.first_in_batch());
    std::vector<int64_t> joined = a.indices;
    joined.insert(joined.end(), b.indices.begin(), b.indices.end());
    CHECK(joined == all.indices);
    CHECK(torch::equal(torch::cat({a.tissue, b.tissue}), all.tissue));
    CHECK(torch::equal(torch::cat({a.concentration, b.concentration}), all.concentration));
    CHECK(torch::equal(torch::cat({a.theta, b.theta}), all.theta));
  }
  CHECK_THROWS_WITH_AS(train::Loader(reader, 3, 11, 1, 2, {}, 0, 0, 2), doctest::Contains("multiple of the 2 ranks"),
                       std::invalid_argument);
}

TEST_CASE("launcher variables: torchrun's, SLURM's, none, inconsistent ones are refused by name") {
  auto env_of = [](std::map<std::string, std::string> vars) {
    return train::dist_env_from_environment([vars](const char* k) -> const char* {
      auto it = vars.find(k);
      return it == vars.end() ? nullptr : it->second.c_str();
    });
  };
  train::DistEnv none = env_of({});
  CHECK(none.world_size == 1);
  CHECK_FALSE(none.distributed());
  train::DistEnv t = env_of({{"RANK", "1"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node3"}, {"MASTER_PORT", "29511"}});
  CHECK(t.source == "torchrun");
  CHECK(t.rank == 1);
  CHECK(t.world_size == 4);
  CHECK(t.master_addr == "node3");
  CHECK(t.master_port == 29511);
  train::DistEnv s = env_of({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "1"},
                             {"SLURM_JOB_NODELIST", "gpu[07-09,12],cpu3"}, {"SLURM_JOB_ID", "123456"}});
  CHECK(s.source == "slurm");
  CHECK(s.rank == 3);
  CHECK(s.local_rank == 1);
  CHECK(s.master_addr == "gpu07");
  CHECK(s.master_port == 20000 + 123456 % 20000);
  CHECK(train::first_slurm_host("n1,n2") == "n1");
  CHECK(train::first_slurm_host("single") == "single");
  CHECK(train::first_slurm_host("a,b[1-2]") == "a");
  CHECK_THROWS_WITH_AS(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}}), doctest::Contains("MASTER_ADDR"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(env_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "x"}}), doctest::Contains("outside [0, 2)"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(env_of({{"RANK", "one"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "x"}}), doctest::Contains("RANK='one'"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(env_of({{"RANK", "0"}}), doctest::Contains("together"), std::invalid_argument);
}
