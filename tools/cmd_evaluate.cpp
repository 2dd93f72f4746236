// `tumorforge evaluate`: the inversion methods over a held-out store, writing cases.csv, tables.md and
// tables.json (the paper's Table 1 and 2 with paired tests) and evaluation.json (configuration, provenance).
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <filesystem>
#include <sstream>

#include "invert/evaluation.h"
#include "core/atomic_file.h"
#include "core/provenance.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/invert_options.h"
#include "core/timing.h"

namespace tumorforge::cli {

void register_evaluate(CLI::App& app) {
  struct Args {
    std::string test, surrogate, inverse, methods = "direct,gb,hybrid,cmaes-surrogate", out, device = "cpu", theta0;
    invert::EvaluateOptions opt;
  };
  auto a = std::make_shared<Args>();
  a->opt.invert.select_by = "solver";  // the paper's evaluation compared θ_DI and θ_GB by solver runs
  CLI::App* cmd = app.add_subcommand(
      "evaluate",
      "Run inversion methods on every case of a held-out dataset store and write the paper's tables:\n"
      "Table 1 (parameter errors vs ground truth) and Table 2 (final solver run vs true concentration),\n"
      "with paired t-tests and Wilcoxon tests of hybrid against each method. Example:\n"
      "  tumorforge evaluate --test runs/dev/test.zarr --methods direct,gb,hybrid --limit 50 --out runs/eval");
  cmd->add_option("--config", "read options from this TOML/INI file: `key = value` lines, keys = flag names");
  cmd->add_option("--test", a->test, "held-out dataset store (tumorforge datagen)")->required();
  add_checkpoint_options(cmd, a->surrogate, a->inverse);
  cmd->add_option("--methods", a->methods, "comma-separated: direct, gb, hybrid, cmaes-surrogate, cmaes-solver")->capture_default_str();
  cmd->add_option("--limit", a->opt.limit, "only the first N finished samples (0: all)")->capture_default_str();
  cmd->add_option("--jobs", a->opt.jobs, "cases run in parallel, one thread each (0: all cores)")->capture_default_str();
  add_fit_options(cmd, a->opt.invert, a->theta0);
  cmd->get_option_group("method")->get_option("--select-by")->default_str("solver");
  cmd->add_option("--device", a->device, "cpu | cuda | auto")->capture_default_str();
  cmd->add_option("--out", a->out, "output directory")->required();
  cmd->callback([a] {
    finish_fit_options(a->opt.invert, a->theta0);
    a->opt.methods.clear();
    std::stringstream in(a->methods);
    std::string m;
    while (std::getline(in, m, ',')) {
      invert::InvertConfig probe = a->opt.invert;
      probe.method = m;
      probe.validate();  // names the bad method
      a->opt.methods.push_back(m);
    }
    if (a->opt.methods.empty()) throw std::invalid_argument("--methods: give at least one method");
    torch::set_num_threads(1);  // parallelism comes from running cases side by side
    invert::Networks nets = invert::load_networks(a->surrogate, a->inverse, models::parse_device(a->device));
    ProgressBar bar("evaluate");
    a->opt.on_progress = [&](int64_t done, int64_t total) {
      bar.update(static_cast<double>(done) / static_cast<double>(total), fmt::format("{}/{} cases", done, total));
      if (!isatty(2)) spdlog::info("evaluate: {}/{} cases", done, total);
    };
    const auto t0 = core::Clock::now();
    invert::Evaluation ev = invert::evaluate_store(nets, a->test, a->opt);
    bar.finish();
    const std::vector<invert::CaseRow>& rows = ev.rows;
    for (const auto& f : ev.failed) spdlog::warn("case {} left out: {}", f.index, f.error);
    if (rows.empty())
      throw std::runtime_error("--test " + a->test + ": no case could be evaluated (first error, case " +
                               std::to_string(ev.failed.front().index) + ": " + ev.failed.front().error + ")");
    nlohmann::json tables = invert::evaluation_tables(rows, a->opt.methods);
    std::string md = invert::tables_markdown(tables);
    if (!ev.failed.empty())
      md += "\nCases left out because they could not be evaluated: " + std::to_string(ev.failed.size()) +
            " (listed with their errors in evaluation.json, `failed_cases`).\n";
    nlohmann::json cfg = a->opt.invert;
    nlohmann::json summary = {
        {"test_store", a->test},
        {"methods", a->opt.methods},
        {"cases", rows.size() / a->opt.methods.size()},
        {"failed_cases", ev.failed},
        {"wall_seconds", core::seconds_since(t0)},
        {"jobs", a->opt.jobs},
        {"config", cfg},
        {"model_spec", nets.spec.to_json()},
        {"checkpoints", nets.files},
        {"provenance", core::provenance({})}};
    core::StagedDir out_dir(a->out);
    const std::string staging = out_dir.path();
    {
      core::write_text_atomic(staging + "/cases.csv", invert::cases_csv(rows));
      core::write_text_atomic(staging + "/tables.md", md);
      write_json(staging + "/tables.json", tables);
      write_json(staging + "/evaluation.json", summary);
      out_dir.commit();
    }
    std::printf("%s\n", md.c_str());
    spdlog::info("wrote {}/cases.csv, tables.md, tables.json, evaluation.json", a->out);
  });
}

}  // namespace tumorforge::cli
