// Inversion benchmark: wall time per stage — direct prediction, each surrogate evaluation of L-BFGS, the final
// solver run — and the whole hybrid inversion: the default `invert` (shipped checkpoints, default settings) on the
// independent solver's 2 mm atlas reference case, the dev preset on a held-out store case, and 64³ and 128³ with
// default-width networks (random weights: timing only) on the phantom; CMA-ES with the surrogate and with the
// solver per generation for comparison. Prints a table, writes JSON.
//   tumorforge_bench_invert [--atlas-case ../shared/reference/fk/v1_2mm_dw0.5_rho0.2_T100] [--store test.zarr]
//                           [--threads 2] [--evaluations 20] [--generations 3] [--sizes 64,128] [--out bench_invert.json]
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "invert/inversion.h"
#include "invert/model_case.h"
#include "invert/solver_run.h"
#include "solver/fk_solver.h"
#include "solver/nifti_io.h"
#include "solver/phantom.h"

using namespace tumorforge;

namespace {

struct Row {
  std::string setting;
  double direct_s = 0, lbfgs_iter_s = 0, final_run_s = 0, polish_s = 0, hybrid_total_s = 0;
  int64_t lbfgs_iters = 0, evaluations = 0;
  std::string stop_reason, chosen;
  double cmaes_sur_gen_s = 0, cmaes_solver_gen_s = 0;
  int64_t population = 0;
};

// converge: the default settings (stop on convergence or the default budget); else exactly `evaluations`.
Row measure(const std::string& setting, const invert::Networks& n, const invert::ModelCase& c, int threads,
            int64_t evaluations, int64_t generations, bool converge) {
  Row r;
  r.setting = setting;
  invert::InvertConfig cfg;
  cfg.method = "hybrid";
  cfg.threads = threads;
  if (!converge) {
    cfg.fit.max_evaluations = std::max<int64_t>(2, evaluations);
    cfg.fit.tolerance = 0;  // random weights: spend the whole evaluation budget
  }
  invert::surrogate_losses(n, c, {invert::Theta{}}, cfg.fit.objective);  // warm-up (allocations, first calls)
  invert::direct_theta(n, c);
  invert::Inversion inv = invert::invert_case(n, c, cfg);
  r.direct_s = inv.stages["direct"]["seconds"].get<double>();
  const auto& gb = inv.stages["gb"];
  r.lbfgs_iters = gb["iterations"].get<int64_t>();
  r.stop_reason = gb["stop_reason"].get<std::string>();
  r.chosen = inv.chosen;
  r.evaluations = gb["evaluations"].get<int64_t>();
  r.lbfgs_iter_s = gb["seconds"].get<double>() / std::max<int64_t>(1, r.evaluations);
  // Solver time: the selection runs (the kept one is the result) plus the final run when one is made; the
  // polish is its own column.
  r.final_run_s = inv.stages["final_solver_run"]["seconds"].get<double>() +
                  inv.stages.value("selection", nlohmann::json::object()).value("seconds", 0.0);
  r.polish_s = inv.stages.value("polish", nlohmann::json::object()).value("seconds", 0.0);
  r.hybrid_total_s = inv.seconds;
  for (const std::string m : {"cmaes-surrogate", "cmaes-solver"}) {
    invert::InvertConfig cc = cfg;
    cc.method = m;
    cc.fit.cmaes_tolerance = 0;
    cc.fit.cmaes_max_evaluations = generations * 8;  // λ = 8 for n = 5
    invert::Inversion ci = invert::invert_case(n, c, cc);
    const auto& st = ci.stages[m];
    const double per_gen = st["seconds"].get<double>() / std::max<int64_t>(1, st["iterations"].get<int64_t>());
    (m == "cmaes-surrogate" ? r.cmaes_sur_gen_s : r.cmaes_solver_gen_s) = per_gen;
    r.population = st["evaluations"].get<int64_t>() / std::max<int64_t>(1, st["iterations"].get<int64_t>());
  }
  return r;
}

invert::Networks random_networks(int64_t S, double spacing_mm) {
  torch::manual_seed(0);
  models::NetConfig sc, ic;
  sc.input_size = ic.input_size = S;
  ic.kind = "inverse";
  invert::Networks n;
  n.surrogate = models::SurrogateNet(sc);
  n.inverse = models::InverseNet(ic);
  for (torch::nn::Module* m : {static_cast<torch::nn::Module*>(n.surrogate.get()), static_cast<torch::nn::Module*>(n.inverse.get())}) {
    m->eval();
    for (auto& p : m->parameters()) p.set_requires_grad(false);
  }
  n.spec.crop = S;
  n.spec.spacing_mm = {spacing_mm, spacing_mm, spacing_mm};
  n.spec.range.lo = {-64, -64, -64, 0, 0};
  n.spec.range.hi = {64, 64, 64, 31.6227766, 31.6227766};
  return n;
}

// A phantom case with a real FK target (D_w 0.5, ρ 0.2, T 100) whose cube is S³ at `spacing_mm`.
invert::ModelCase phantom_case(int size, double spacing_mm, const invert::ModelSpec& spec, int threads) {
  auto tissue = std::make_shared<const solver::TissueMaps>(solver::make_phantom({size, spacing_mm}));
  solver::FkParams p;
  p.dw_mm2_per_day = 0.5;
  p.rho_per_day = 0.2;
  p.seed_mm = {0.6 * size * spacing_mm, 0.45 * size * spacing_mm, 0.5 * size * spacing_mm};
  solver::SolverOptions o;
  o.threads = threads;
  core::Volume target = solver::simulate(*tissue, p, o).concentration;
  return invert::prepare_patient(tissue, target, invert::TargetKind::kConcentration, spec, false, "bench");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string src = TUMORFORGE_SOURCE_DIR;
  std::string store = "data/atlas/test.zarr", out = "bench_invert.json", sizes = "64,128";
  std::string atlas_case = src + "/../shared/reference/fk/v1_2mm_dw0.5_rho0.2_T100";
  int threads = 2;
  int64_t iterations = 20, generations = 3;
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--help" || k == "-h") {
      std::printf("Times the inversion stages (one run; a table and JSON).\n"
                  "Usage: tumorforge_bench_invert [--atlas-case DIR] [--store test.zarr] [--threads 2] [--evaluations 20]\n"
                  "                               [--generations 3] [--sizes 64,128 (\"\" for none)] [--out bench_invert.json]\n");
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s: missing value\n", k.c_str());
      return 2;
    }
    const std::string v = argv[i + 1];
    auto count = [&]() -> int64_t {  // a positive integer, or one line naming the flag
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1) {
        std::fprintf(stderr, "%s '%s': expected a positive integer\n", k.c_str(), v.c_str());
        std::exit(2);
      }
      return n;
    };
    if (k == "--store") store = v;
    else if (k == "--threads") threads = static_cast<int>(count());
    else if (k == "--evaluations") iterations = count();
    else if (k == "--atlas-case") atlas_case = v;
    else if (k == "--generations") generations = count();
    else if (k == "--sizes") sizes = v;
    else if (k == "--out") out = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  torch::set_num_threads(threads);
  std::vector<Row> rows;
  const std::string sur = src + "/checkpoints/surrogate_dev.h5", inv = src + "/checkpoints/inverse_dev.h5";
  if (std::filesystem::exists(atlas_case + "/concentration.nii.gz")) {
    // What `tumorforge invert --target C --wm --gm --csf --resample` does at its defaults, minus file output.
    invert::Networks n = invert::load_networks(sur, inv, torch::kCPU);
    const std::string t2 = atlas_case + "/../tissue_2mm/";
    auto tissue = std::make_shared<const solver::TissueMaps>(solver::tissue_from_fractions(
        solver::read_nifti(t2 + "wm.nii.gz"), solver::read_nifti(t2 + "gm.nii.gz"), solver::read_nifti(t2 + "csf.nii.gz"), "atlas"));
    const invert::ModelCase c = invert::prepare_patient(tissue, solver::read_nifti(atlas_case + "/concentration.nii.gz"),
                                                        invert::TargetKind::kConcentration, n.spec, true, "atlas case");
    rows.push_back(measure("default invert, 2 mm atlas reference case (32³ at 4 mm; solver 120x120x78 at 2 mm)", n, c,
                           threads, 0, generations, true));
  } else {
    std::fprintf(stderr, "no atlas case at %s: skipping the default-invert row\n", atlas_case.c_str());
  }
  if (std::filesystem::exists(store)) {
    invert::Networks n = invert::load_networks(sur, inv, torch::kCPU);
    datagen::StoreReader reader(store);
    auto sim = std::make_shared<const solver::TissueMaps>(reader.store().sim_tissue(0));
    rows.push_back(measure("dev preset, held-out store case (shipped checkpoints, 32³ at 4 mm), defaults", n,
                           invert::case_from_store(reader, reader.done()[0], sim), threads, 0, generations, true));
  } else {
    std::fprintf(stderr, "no store at %s: skipping the dev-preset row (make it with the commands in checkpoints/README.md)\n",
                 store.c_str());
  }
  std::stringstream ss(sizes);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const int64_t S = std::stoll(item);
    // 64³ cubes at 2 mm on a 96³ phantom; 128³ cubes at 1 mm on a 160³ phantom (the paper's setting).
    const double h = S <= 64 ? 2.0 : 1.0;
    const int size = S <= 64 ? 96 : 160;
    // At 128³ one surrogate evaluation takes ~15 s on 2 cores: time 4 evaluations and 1 generation there.
    const int64_t its = S >= 128 ? std::min<int64_t>(iterations, 4) : iterations;
    const int64_t gens = S >= 128 ? 1 : generations;
    invert::Networks n = random_networks(S, h);
    rows.push_back(measure(std::to_string(S) + "³ default widths (random weights), solver " + std::to_string(size) + "³ at " +
                               std::to_string(static_cast<int>(h)) + " mm, " + std::to_string(its) + " evaluations",
                           n, phantom_case(size, h, n.spec, threads), threads, its, gens, false));
  }
  std::printf("\n%-100s %9s %10s %6s %24s %10s %9s %12s %14s %16s\n", ("setting (threads " + std::to_string(threads) + ")").c_str(), "direct s",
              "eval s", "evals", "stop / kept", "solver s", "polish s", "hybrid tot s", "CMA-ES-sur/gen", "CMA-ES-solv/gen");
  nlohmann::json j = {{"threads", threads}, {"rows", nlohmann::json::array()}};
  for (const Row& r : rows) {
    std::printf("%-100s %9.2f %10.3f %6lld %24s %10.2f %9.2f %12.2f %14.2f %16.2f\n", r.setting.c_str(), r.direct_s, r.lbfgs_iter_s,
                static_cast<long long>(r.evaluations), (r.stop_reason + "/" + r.chosen).c_str(), r.final_run_s, r.polish_s,
                r.hybrid_total_s, r.cmaes_sur_gen_s, r.cmaes_solver_gen_s);
    j["rows"].push_back({{"setting", r.setting}, {"direct_s", r.direct_s}, {"seconds_per_surrogate_evaluation", r.lbfgs_iter_s},
                         {"lbfgs_iterations", r.lbfgs_iters}, {"surrogate_evaluations", r.evaluations},
                         {"gb_stop_reason", r.stop_reason}, {"hybrid_kept", r.chosen},
                         {"final_solver_run_s", r.final_run_s}, {"polish_s", r.polish_s}, {"hybrid_total_s", r.hybrid_total_s},
                         {"cmaes_population", r.population}, {"cmaes_surrogate_s_per_generation", r.cmaes_sur_gen_s},
                         {"cmaes_solver_s_per_generation", r.cmaes_solver_gen_s}});
  }
  std::printf("CMA-ES columns: seconds per generation of %lld candidates (a CMA-ES run takes 50-150 generations);\n"
              "hybrid total = direct + L-BFGS (all evaluations) + the solver runs that select, polish and finish.\n", static_cast<long long>(rows.empty() ? 8 : rows[0].population));
  std::ofstream(out) << j.dump(2) << "\n";
  std::printf("wrote %s\n", out.c_str());
  return 0;
}
