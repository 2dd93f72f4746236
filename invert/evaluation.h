// `tumorforge evaluate`: every method on every case of a held-out store (cases in parallel), the per-case
// table, and the paper's two tables — Table 1, parameter errors against the ground truth (μ_ρ, μ_D, origin:
// MSE and MAE as mean ± standard error and median); Table 2, the final solver run against the true
// concentration (MSE, MAE, both per true tumor volume, NCC, Dice at 0.33, runtime) — with paired t-tests and
// Wilcoxon signed-rank tests of hybrid against each other method.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "invert/inversion.h"

namespace tumorforge::invert {

// One (case, method) row. Errors are physical: μ_D in mm, μ_ρ unitless, origin as Euclidean distance in mm.
struct CaseRow {
  int64_t index = 0;
  std::string method, chosen;
  Theta truth{}, estimate{};  // raw θ
  double err_mu_rho = 0, err_mu_d = 0, err_origin_mm = 0;
  double mse = 0, mae = 0, ncc = 0, dice = 0;  // final run vs truth on the model cube, brain mask
  double true_volume_cm3 = 0;
  // The paper's definitions (../shared/reference/paper, authors' evaluation code): fields on the whole
  // simulation grid, both zeroed outside brain matter (hard label GM or WM); MSE norm. = MSE / Σ true c;
  // relative μ errors |p − t| / |t|; origin error = ‖seed error / image extent‖ (per axis, in mm / mm).
  struct Paper {
    double mse = 0, mae = 0, mse_norm = 0, mae_norm = 0, ncc = 0;
    double rel_err_mu_rho = 0, rel_err_mu_d = 0, origin_err = 0;
  } paper;
  double seconds = 0;
  nlohmann::json stages;
  torch::Tensor final_cube;  // (1, 1, S, S, S) final solver run on the model cube, for figures
};

struct EvaluateOptions {
  std::vector<std::string> methods{"direct", "gb", "hybrid", "cmaes-surrogate"};
  int64_t limit = 0;  // > 0: first N finished samples
  int jobs = 0;       // cases in parallel (0: all cores); each case single-threaded
  InvertConfig invert;
  std::function<void(int64_t done, int64_t total)> on_progress;
};

// A case that could not be evaluated (unreadable sample, solver error, ...): left out of every method's rows so
// the tables stay paired, and reported instead of ending the whole run.
struct FailedCase {
  int64_t index = 0;
  std::string error;
};
void to_json(nlohmann::json& j, const FailedCase& f);  // {"case", "error"}: evaluation.json's failed_cases
struct Evaluation {
  std::vector<CaseRow> rows;
  std::vector<FailedCase> failed;
};

Evaluation evaluate_store(const Networks& n, const std::string& store_path, const EvaluateOptions& o);

std::string cases_csv(const std::vector<CaseRow>& rows);
// {"table1", "table2" (ours: model cube), "paper_table1", "paper_table2" (the paper's definitions), "failures"}
// and the same as Markdown, the paper's published rows printed beside the paper-defined tables.
nlohmann::json evaluation_tables(const std::vector<CaseRow>& rows, const std::vector<std::string>& methods);
std::string tables_markdown(const nlohmann::json& tables);

}  // namespace tumorforge::invert
