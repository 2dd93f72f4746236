// Running the methods over a store and building the evaluation tables (see evaluation.h).
#include "invert/evaluation.h"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <mutex>
#include <sstream>

#include "datagen/dataset_store.h"
#include "invert/model_case.h"
#include "invert/statistics.h"
#include "train/metrics.h"

namespace tumorforge::invert {
namespace {

// Table columns: name, unit note, row field; lower is better except NCC and Dice.
struct Column {
  const char* key;
  const char* label;
  std::function<double(const CaseRow&)> get;
};

const std::vector<Column>& table1_columns() {
  static const std::vector<Column> c = {
      {"mu_rho_mse", "μ_ρ MSE", [](const CaseRow& r) { return r.err_mu_rho * r.err_mu_rho; }},
      {"mu_rho_mae", "μ_ρ MAE", [](const CaseRow& r) { return r.err_mu_rho; }},
      {"mu_d_mse", "μ_D MSE (mm²)", [](const CaseRow& r) { return r.err_mu_d * r.err_mu_d; }},
      {"mu_d_mae", "μ_D MAE (mm)", [](const CaseRow& r) { return r.err_mu_d; }},
      {"origin_mse", "origin MSE (mm²)", [](const CaseRow& r) { return r.err_origin_mm * r.err_origin_mm; }},
      {"origin_mae", "origin MAE (mm)", [](const CaseRow& r) { return r.err_origin_mm; }}};
  return c;
}

const std::vector<Column>& table2_columns() {
  static const std::vector<Column> c = {
      {"mse", "MSE", [](const CaseRow& r) { return r.mse; }},
      {"mae", "MAE", [](const CaseRow& r) { return r.mae; }},
      {"mse_per_volume", "MSE / V (1/cm³)", [](const CaseRow& r) { return r.mse / r.true_volume_cm3; }},
      {"mae_per_volume", "MAE / V (1/cm³)", [](const CaseRow& r) { return r.mae / r.true_volume_cm3; }},
      {"ncc", "NCC", [](const CaseRow& r) { return r.ncc; }},
      {"dice_033", "Dice@0.33", [](const CaseRow& r) { return r.dice; }},
      {"seconds", "runtime (s)", [](const CaseRow& r) { return r.seconds; }}};
  return c;
}

std::vector<double> column_values(const std::vector<CaseRow>& rows, const std::string& method, const Column& col) {
  std::vector<double> v;
  for (const auto& r : rows)
    if (r.method == method) v.push_back(col.get(r));
  return v;
}

nlohmann::json table_json(const std::vector<CaseRow>& rows, const std::vector<std::string>& methods,
                          const std::vector<Column>& cols) {
  nlohmann::json t = {{"rows", nlohmann::json::object()}, {"tests_vs_hybrid", nlohmann::json::object()}};
  const bool has_hybrid = std::find(methods.begin(), methods.end(), "hybrid") != methods.end();
  for (const auto& m : methods) {
    for (const auto& col : cols) {
      const Summary s = summarize(column_values(rows, m, col));
      t["rows"][m][col.key] = {{"mean", s.mean}, {"standard_error", s.standard_error}, {"median", s.median}, {"n", s.n}};
      if (has_hybrid && m != "hybrid") {
        // Pairs line up because rows are sorted by (case, method) and every method ran on every case.
        const auto h = column_values(rows, "hybrid", col), o = column_values(rows, m, col);
        t["tests_vs_hybrid"][m][col.key] = {{"paired_t_p", paired_t_test(h, o)}, {"wilcoxon_p", wilcoxon_signed_rank(h, o)}};
      }
    }
  }
  t["columns"] = nlohmann::json::array();
  for (const auto& col : cols) t["columns"].push_back({{"key", col.key}, {"label", col.label}});
  return t;
}

std::string fmt_num(double v) {
  if (std::isnan(v)) return "–";
  std::ostringstream o;
  o.precision(3);
  if (v != 0 && (std::abs(v) < 1e-2 || std::abs(v) >= 1e4)) o << std::scientific;
  else o << std::fixed;
  o << v;
  return o.str();
}

// " a | b |\n|---|---|---|\n": the rest of a header row that starts with the row-label cell.
std::string header_cells(const nlohmann::json& columns) {
  std::string h;
  for (const auto& c : columns) h += " " + c["label"].get<std::string>() + " |";
  h += "\n|---|";
  for (size_t i = 0; i < columns.size(); ++i) h += "---|";
  return h + "\n";
}

std::string markdown_table(const nlohmann::json& t, const std::string& title) {
  std::ostringstream md;
  md << "### " << title << "\n\nmean ± standard error (median)\n\n| method |";
  md << header_cells(t["columns"]);
  for (const auto& [m, row] : t["rows"].items()) {
    md << "| " << m << " |";
    for (const auto& c : t["columns"]) {
      const auto& s = row[c["key"].get<std::string>()];
      md << " " << fmt_num(s["mean"].get<double>()) << " ± " << fmt_num(s["standard_error"].is_number() ? s["standard_error"].get<double>() : NAN)
         << " (" << fmt_num(s["median"].get<double>()) << ") |";
    }
    md << "\n";
  }
  if (!t["tests_vs_hybrid"].empty()) {
    md << "\nHybrid against each method, paired over cases: p-values of the t-test / Wilcoxon signed-rank test\n\n| vs |";
    md << header_cells(t["columns"]);
    for (const auto& [m, row] : t["tests_vs_hybrid"].items()) {
      md << "| " << m << " |";
      for (const auto& c : t["columns"]) {
        const auto& p = row[c["key"].get<std::string>()];
        auto get = [](const nlohmann::json& x) { return x.is_number() ? x.get<double>() : NAN; };
        md << " " << fmt_num(get(p["paired_t_p"])) << " / " << fmt_num(get(p["wilcoxon_p"])) << " |";
      }
      md << "\n";
    }
  }
  return md.str();
}

}  // namespace

std::vector<CaseRow> evaluate_store(const Networks& n, const std::string& store_path, const EvaluateOptions& o) {
  train::StoreReader reader(store_path);
  const auto& store = reader.store();
  if (reader.crop() != n.spec.crop)
    throw std::invalid_argument(store_path + ": crop " + std::to_string(reader.crop()) + " differs from the checkpoints' " +
                                std::to_string(n.spec.crop));
  for (size_t k = 0; k < 3; ++k)
    if (std::abs(store.store_level().grid.spacing_mm[k] - n.spec.spacing_mm[k]) > 1e-4)
      throw std::invalid_argument(store_path + ": stored spacing " + std::to_string(store.store_level().grid.spacing_mm[k]) +
                                  " mm differs from the checkpoints' " + std::to_string(n.spec.spacing_mm[k]) + " mm");
  std::vector<int64_t> cases = reader.done();
  if (o.limit > 0 && static_cast<int64_t>(cases.size()) > o.limit) cases.resize(static_cast<size_t>(o.limit));
  auto sim_tissue = std::make_shared<const solver::TissueMaps>(store.sim_tissue(0));
  const auto params = store.array("params"), stats = store.array("stats");

  std::vector<std::vector<CaseRow>> per_case(cases.size());
  std::mutex m;
  int64_t done = 0;
  tbb::task_arena arena(o.jobs > 0 ? o.jobs : tbb::task_arena::automatic);
  arena.execute([&] {
    tbb::parallel_for(size_t{0}, cases.size(), [&](size_t ci) {
      const int64_t i = cases[ci];
      const ModelCase c = case_from_store(reader, i, sim_tissue);
      const auto truth_theta = store.array("theta").read<float>({i, 0}, {1, 5});
      const auto p = params.read<double>({i, 0}, {1, 6});
      const auto st = stats.read<double>({i, 0}, {1, static_cast<int64_t>(datagen::kNumStats)});
      const torch::Tensor mask = brain_mask(c, n.spec);
      for (const auto& method : o.methods) {
        InvertConfig cfg = o.invert;
        cfg.method = method;
        cfg.threads = 1;
        Inversion inv = invert_case(n, c, cfg);
        CaseRow r;
        r.index = i;
        r.method = method;
        r.chosen = inv.chosen;
        for (size_t k = 0; k < 5; ++k) r.truth[k] = truth_theta[k];
        r.estimate = n.spec.denormalize(inv.theta);
        r.err_mu_d = std::abs(r.estimate[3] - r.truth[3]);
        r.err_mu_rho = std::abs(r.estimate[4] - r.truth[4]);
        // Seed positions in atlas mm: the estimate is the cube centre plus its offset, the truth is stored.
        const auto centre = c.solver.crop_centre_mm();
        double d2 = 0;
        for (size_t k = 0; k < 3; ++k) d2 += std::pow(centre[k] + r.estimate[k] - p[k], 2);
        r.err_origin_mm = std::sqrt(d2);
        r.final_cube = c.solver.to_cube(inv.final_run.concentration.data);
        const train::FieldMetrics fm = train::field_metrics(r.final_cube.view(-1), c.target.view(-1), mask.view(-1));
        r.mse = fm.mse;
        r.mae = fm.mae;
        r.ncc = fm.ncc;
        r.dice = fm.dice;
        r.true_volume_cm3 = st[datagen::kFinalVolume] / 1000.0;
        r.seconds = inv.seconds;
        r.stages = inv.stages;
        per_case[ci].push_back(std::move(r));
      }
      std::lock_guard<std::mutex> lock(m);
      ++done;
      if (o.on_progress) o.on_progress(done, static_cast<int64_t>(cases.size()));
    });
  });
  std::vector<CaseRow> rows;
  for (auto& v : per_case)
    for (auto& r : v) rows.push_back(std::move(r));
  return rows;
}

std::string cases_csv(const std::vector<CaseRow>& rows) {
  std::ostringstream o;
  o.precision(9);
  o << "case,method,chosen_stage,true_x_mm,true_y_mm,true_z_mm,true_mu_d_mm,true_mu_rho,est_x_mm,est_y_mm,est_z_mm,"
       "est_mu_d_mm,est_mu_rho,err_mu_rho,err_mu_d_mm,err_origin_mm,mse,mae,ncc,dice_033,true_volume_cm3,seconds\n";
  for (const auto& r : rows) {
    o << r.index << "," << r.method << "," << r.chosen;
    for (double v : r.truth) o << "," << v;
    for (double v : r.estimate) o << "," << v;
    o << "," << r.err_mu_rho << "," << r.err_mu_d << "," << r.err_origin_mm << "," << r.mse << "," << r.mae << "," << r.ncc
      << "," << r.dice << "," << r.true_volume_cm3 << "," << r.seconds << "\n";
  }
  return o.str();
}

nlohmann::json evaluation_tables(const std::vector<CaseRow>& rows, const std::vector<std::string>& methods) {
  nlohmann::json j = {{"table1", table_json(rows, methods, table1_columns())}, {"table2", table_json(rows, methods, table2_columns())}};
  for (const auto& m : methods) {
    int64_t failures = 0;
    for (const auto& r : rows)
      if (r.method == m && !(r.ncc >= 0.5)) ++failures;
    j["failures_ncc_below_0_5"][m] = failures;
  }
  return j;
}

std::string tables_markdown(const nlohmann::json& t) {
  std::ostringstream md;
  md << markdown_table(t["table1"], "Table 1 — parameter errors against the ground truth") << "\n"
     << markdown_table(t["table2"], "Table 2 — final solver run against the true concentration (model cube, brain mask)")
     << "\nFailure cases (final-run NCC < 0.5):";
  for (const auto& [m, f] : t["failures_ncc_below_0_5"].items()) md << " " << m << " " << f.get<int64_t>() << ";";
  md << "\n";
  return md.str();
}

}  // namespace tumorforge::invert
