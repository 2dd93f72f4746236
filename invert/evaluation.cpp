// Running the methods over a store and building the evaluation tables (see evaluation.h).
#include "invert/evaluation.h"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "datagen/datagen_run.h"
#include "datagen/dataset_store.h"
#include "solver/fk_solver.h"
#include "invert/model_case.h"
#include "invert/statistics.h"
#include "models/field_metrics.h"

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

const std::vector<Column>& paper_table1_columns() {
  static const std::vector<Column> c = {
      {"growth_mse", "growth MSE (×1e-3 %)", [](const CaseRow& r) { return 1e3 * std::pow(r.paper.rel_err_mu_rho, 2); }},
      {"growth_mae", "growth MAE (×1e-3 %)", [](const CaseRow& r) { return 1e3 * r.paper.rel_err_mu_rho; }},
      {"diffusion_mse", "diffusion MSE (×1e-3 %)", [](const CaseRow& r) { return 1e3 * std::pow(r.paper.rel_err_mu_d, 2); }},
      {"diffusion_mae", "diffusion MAE (×1e-3 %)", [](const CaseRow& r) { return 1e3 * r.paper.rel_err_mu_d; }},
      {"origin_mse", "origin MSE (×1e-3)", [](const CaseRow& r) { return 1e3 * std::pow(r.paper.origin_err, 2); }},
      {"origin_mae", "origin MAE (×1e-3)", [](const CaseRow& r) { return 1e3 * r.paper.origin_err; }}};
  return c;
}

const std::vector<Column>& paper_table2_columns() {
  static const std::vector<Column> c = {
      {"mse", "MSE ×1e-3", [](const CaseRow& r) { return 1e3 * r.paper.mse; }},
      {"mae", "MAE ×1e-3", [](const CaseRow& r) { return 1e3 * r.paper.mae; }},
      {"mse_norm", "MSE norm ×1e-8", [](const CaseRow& r) { return 1e8 * r.paper.mse_norm; }},
      {"mae_norm", "MAE norm ×1e-8", [](const CaseRow& r) { return 1e8 * r.paper.mae_norm; }},
      {"ncc", "NCC ×1e-1", [](const CaseRow& r) { return 10 * r.paper.ncc; }}};
  return c;
}

// The paper's published means (Weidner et al., MIDL 2026, Tables 1–2; synthetic 1 mm atlas test set), in the
// units of the columns above, for printing beside ours. Their setting differs (1 mm, 128³, 28,000 samples, GPU).
const std::map<std::string, std::vector<double>>& paper_published(const std::string& table) {
  static const std::map<std::string, std::vector<double>> t1 = {
      {"cmaes-solver", {68.3, 177.7, 122.8, 272.2, 17.7, 111.8}},
      {"cmaes-surrogate", {16.5, 62.8, 53.6, 112.3, 9.6, 72.2}},
      {"direct", {32.8, 124.1, 295.4, 93.9, 6.8, 72.6}},
      {"gb", {11.7, 52.1, 279.4, 70.8, 8.1, 66.9}}};
  static const std::map<std::string, std::vector<double>> t2 = {
      {"cmaes-solver", {0.34, 1.55, 0.77, 4.00, 8.95}},
      {"cmaes-surrogate", {5.42, 8.10, 4.59, 8.07, 7.81}},
      {"direct", {4.81, 8.87, 5.02, 10.08, 8.47}},
      {"gb", {5.91, 8.53, 4.88, 7.99, 8.19}},
      {"hybrid", {1.35, 3.29, 1.36, 4.05, 9.15}}};
  return table == "paper_table1" ? t1 : t2;
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

std::string markdown_table(const nlohmann::json& t, const std::string& title, const std::string& published = "") {
  std::ostringstream md;
  md << "### " << title << "\n\nmean ± standard error (median)\n\n| method |";
  md << header_cells(t["columns"]);
  if (!published.empty())
    for (const auto& [m, values] : paper_published(published)) {
      md << "| *paper: " << m << "* |";
      for (double v : values) md << " *" << fmt_num(v) << "* |";
      md << "\n";
    }
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

// Whole-volume agreement with the paper's masking (see CaseRow::Paper); double sums.
CaseRow::Paper paper_metrics(const std::vector<float>& pred, const std::vector<float>& truth, const std::vector<uint8_t>& matter) {
  const double n = static_cast<double>(pred.size());
  double se = 0, ae = 0, sp = 0, st = 0, spp = 0, stt = 0, spt = 0;
  for (size_t i = 0; i < pred.size(); ++i) {
    const double p = matter[i] ? pred[i] : 0.0, t = matter[i] ? truth[i] : 0.0;
    se += (p - t) * (p - t);
    ae += std::abs(p - t);
    sp += p, st += t, spp += p * p, stt += t * t, spt += p * t;
  }
  CaseRow::Paper m;
  m.mse = se / n;
  m.mae = ae / n;
  m.mse_norm = st > 0 ? m.mse / st : NAN;
  m.mae_norm = st > 0 ? m.mae / st : NAN;
  const double cov = spt - sp * st / n, vp = spp - sp * sp / n, vt = stt - st * st / n;
  m.ncc = vp > 0 && vt > 0 ? cov / std::sqrt(vp * vt) : 0.0;
  return m;
}

}  // namespace

void to_json(nlohmann::json& j, const FailedCase& f) { j = {{"case", f.index}, {"error", f.error}}; }

Evaluation evaluate_store(const Networks& n, const std::string& store_path, const EvaluateOptions& o) {
  datagen::StoreReader reader(store_path);
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
  // The paper zeroes both fields outside brain matter (atlas label GM or WM).
  std::vector<uint8_t> matter = solver::hard_labels(*sim_tissue);
  for (auto& v : matter) v = v >= 2;
  const auto params = store.array("params"), stats = store.array("stats");

  std::vector<std::vector<CaseRow>> per_case(cases.size());
  std::vector<std::optional<std::string>> errors(cases.size());
  std::mutex m;
  int64_t done = 0;
  tbb::task_arena arena(o.jobs > 0 ? o.jobs : tbb::task_arena::automatic);
  arena.execute([&] {
    tbb::parallel_for(size_t{0}, cases.size(), [&](size_t ci) {
      const int64_t i = cases[ci];
      try {
        const ModelCase c = case_from_store(reader, i, sim_tissue);
        const auto truth_theta = store.array("theta").read<float>({i, 0}, {1, static_cast<int64_t>(datagen::kThetaSize)});
        const auto p = params.read<double>({i, 0}, {1, 6});
        const auto st = stats.read<double>({i, 0}, {1, static_cast<int64_t>(datagen::kNumStats)});
        const torch::Tensor mask = brain_mask(c, n.spec);
        // The store keeps the truth only as a coarse crop: rerun the sample on the simulation grid (deterministic).
        solver::SolverOptions one_thread;
        one_thread.threads = 1;
        const std::vector<float> truth_full = datagen::simulate_sample(store.config(), *sim_tissue, datagen::sample_fk_params(store, i), one_thread).concentration.data;
        for (const auto& method : o.methods) {
          InvertConfig cfg = o.invert;
          cfg.method = method;
          cfg.threads = 1;
          Inversion inv = invert_case(n, c, cfg);
          CaseRow r;
          r.index = i;
          r.method = method;
          r.chosen = inv.chosen;
          for (size_t k = 0; k < datagen::kThetaSize; ++k) r.truth[k] = truth_theta[k];
          r.estimate = n.spec.denormalize(inv.theta);
          r.err_mu_d = std::abs(r.estimate[3] - r.truth[3]);
          r.err_mu_rho = std::abs(r.estimate[4] - r.truth[4]);
          // Seed positions in atlas mm: the estimate is the cube centre plus its offset, the truth is stored.
          const auto centre = c.solver.crop_centre_mm();
          double d2 = 0;
          for (size_t k = 0; k < 3; ++k) d2 += std::pow(centre[k] + r.estimate[k] - p[k], 2);
          r.err_origin_mm = std::sqrt(d2);
          r.final_cube = c.solver.to_cube(inv.final_run.concentration.data);
          const models::FieldMetrics fm = models::field_metrics(r.final_cube.view(-1), c.target.view(-1), mask.view(-1));
          r.mse = fm.mse;
          r.mae = fm.mae;
          r.ncc = fm.ncc;
          r.dice = fm.dice;
          r.true_volume_cm3 = st[datagen::kFinalVolume] / 1000.0;
          r.paper = paper_metrics(inv.final_run.concentration.data, truth_full, matter);
          r.paper.rel_err_mu_d = r.err_mu_d / std::abs(r.truth[3]);
          r.paper.rel_err_mu_rho = r.err_mu_rho / std::abs(r.truth[4]);
          double o2 = 0;
          const auto& g = sim_tissue->grid;
          for (size_t k = 0; k < 3; ++k)
            o2 += std::pow((centre[k] + r.estimate[k] - p[k]) / (static_cast<double>(g.dims[k]) * g.spacing_mm[k]), 2);
          r.paper.origin_err = std::sqrt(o2);
          r.seconds = inv.seconds;
          r.stages = inv.stages;
          per_case[ci].push_back(std::move(r));
        }
      } catch (const std::exception& e) {  // one bad case must not discard the others' hours
        per_case[ci].clear();
        const std::string what = e.what();
        errors[ci] = what.substr(0, what.find('\n'));
      }
      std::lock_guard<std::mutex> lock(m);
      ++done;
      if (o.on_progress) o.on_progress(done, static_cast<int64_t>(cases.size()));
    });
  });
  Evaluation out;
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    if (errors[ci]) out.failed.push_back({cases[ci], *errors[ci]});
    for (auto& r : per_case[ci]) out.rows.push_back(std::move(r));
  }
  return out;
}

std::string cases_csv(const std::vector<CaseRow>& rows) {
  std::ostringstream o;
  o.precision(9);
  o << "case,method,chosen_stage,true_x_mm,true_y_mm,true_z_mm,true_mu_d_mm,true_mu_rho,est_x_mm,est_y_mm,est_z_mm,"
       "est_mu_d_mm,est_mu_rho,err_mu_rho,err_mu_d_mm,err_origin_mm,mse,mae,ncc,dice_033,true_volume_cm3,seconds,"
       "paper_mse,paper_mae,paper_mse_norm,paper_mae_norm,paper_ncc,paper_rel_err_mu_rho,paper_rel_err_mu_d,paper_origin_err\n";
  for (const auto& r : rows) {
    o << r.index << "," << r.method << "," << r.chosen;
    for (double v : r.truth) o << "," << v;
    for (double v : r.estimate) o << "," << v;
    o << "," << r.err_mu_rho << "," << r.err_mu_d << "," << r.err_origin_mm << "," << r.mse << "," << r.mae << "," << r.ncc
      << "," << r.dice << "," << r.true_volume_cm3 << "," << r.seconds << "," << r.paper.mse << "," << r.paper.mae << ","
      << r.paper.mse_norm << "," << r.paper.mae_norm << "," << r.paper.ncc << "," << r.paper.rel_err_mu_rho << ","
      << r.paper.rel_err_mu_d << "," << r.paper.origin_err << "\n";
  }
  return o.str();
}

nlohmann::json evaluation_tables(const std::vector<CaseRow>& rows, const std::vector<std::string>& methods) {
  nlohmann::json j = {{"table1", table_json(rows, methods, table1_columns())},
                      {"table2", table_json(rows, methods, table2_columns())},
                      {"paper_table1", table_json(rows, methods, paper_table1_columns())},
                      {"paper_table2", table_json(rows, methods, paper_table2_columns())}};
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
     << "\n"
     << markdown_table(t["paper_table1"], "Table 1, the paper's definitions — relative μ errors, origin error / image extent "
                                          "(italic rows: the paper's published means)", "paper_table1")
     << "\n"
     << markdown_table(t["paper_table2"], "Table 2, the paper's definitions — whole simulation grid, fields zeroed outside "
                                          "brain matter, MSE norm. = MSE / Σ true c (italic rows: the paper's published means)",
                       "paper_table2")
     << "\nFailure cases (final-run NCC < 0.5):";
  for (const auto& [m, f] : t["failures_ncc_below_0_5"].items()) md << " " << m << " " << f.get<int64_t>() << ";";
  md << "\n";
  return md.str();
}

}  // namespace tumorforge::invert
