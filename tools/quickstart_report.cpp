// Figures and report.md of the quickstart (see quickstart_report.h). Every number comes from the stage records.
#include "tools/quickstart_report.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/grid_ops.h"
#include "invert/evaluation.h"
#include "invert/figures.h"
#include "core/atomic_file.h"

namespace tumorforge::cli {
namespace {

std::vector<float> x_fastest(const torch::Tensor& cube) {
  const torch::Tensor c = cube.detach().to(torch::kCPU, torch::kFloat32).contiguous().view(-1);
  const int64_t S = static_cast<int64_t>(std::llround(std::cbrt(static_cast<double>(c.numel()))));
  return core::from_c_order(std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel()), {S, S, S});
}

std::string f3(double v) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(3);
  o << v;
  return o.str();
}

}  // namespace

void write_case_figure(const std::string& path, const invert::ModelCase& c,
                       const std::vector<std::pair<std::string, torch::Tensor>>& results) {
  const int64_t S = c.tissue.size(2);
  solver::TissueMaps t;
  t.grid.dims = {S, S, S};
  t.wm = x_fastest(c.tissue.select(1, 0));
  t.gm = x_fastest(c.tissue.select(1, 1));
  t.csf = x_fastest(c.tissue.select(1, 2));
  std::vector<std::vector<float>> fields{x_fastest(c.target)};
  std::vector<std::string> labels{"TARGET"};
  for (const auto& [label, r] : results) fields.push_back(x_fastest(r)), labels.push_back(label);
  std::vector<invert::SliceRow> rows{{nullptr, "TISSUE"}};
  for (size_t k = 0; k < fields.size(); ++k) rows.push_back({&fields[k], labels[k]});
  core::write_png(path, invert::slice_figure(t, rows, {S / 2, S / 2, S / 2}, 160));
}

void write_training_curve(const std::string& metrics_jsonl, const std::string& png_path) {
  core::Series train, val;
  val.colour = {214, 39, 40};
  std::ifstream in(metrics_jsonl);
  std::string line;
  while (std::getline(in, line)) {
    auto r = nlohmann::json::parse(line, nullptr, false);
    if (r.is_discarded()) continue;
    if (r.value("kind", "") == "train") {
      train.x.push_back(r.at("step").get<double>());
      train.y.push_back(r.at("loss").get<double>());
    } else if (r.value("kind", "") == "val") {
      val.x.push_back(r.at("step").get<double>());
      val.y.push_back(r.at("val_loss").get<double>());
    }
  }
  core::write_png(png_path, core::line_plot({train, val}, true));
}

void write_quickstart_report(const std::string& out, const nlohmann::json& stages, double wall_seconds) {
  std::ostringstream md;
  const auto& inv = stages.at("invert");
  md << "# tumorforge quickstart report\n\n"
     << "Held-out FK simulations (`test.zarr`, made with the checkpoints' data settings and a new seed) inverted with\n"
     << "the shipped checkpoints: **direct** (inverse network) and **hybrid** (L-BFGS through the surrogate from the\n"
     << "direct guess; the better of the two by a solver run, as in the paper's evaluation). Each estimate is finished\n"
     << "by a run of the numerical solver, which is what is compared with the truth below (model cube, brain mask).\n\n"
     << "Checkpoints: `" << inv.at("checkpoints").at("surrogate").at("path").get<std::string>() << "` and `"
     << inv.at("checkpoints").at("inverse").at("path").get<std::string>() << "`.\n\n";

  md << "## Wall time per stage\n\n| stage | seconds |\n|---|---|\n";
  for (const auto& [name, rec] : stages.items()) md << "| " << name << " | " << f3(rec.value("seconds", NAN)) << " |\n";
  md << "| whole quickstart (this invocation) | " << f3(wall_seconds) << " |\n\n";

  md << "## Cases\n\nFigure rows: tissue, true concentration, direct, hybrid; columns: axial, coronal, sagittal slices\n"
     << "through the cube centre (the tumor's centre of mass), 4 mm voxels. θ: seed offset from the cube centre\n"
     << "(x, y, z, mm), μ_D = √(D_w T) (mm), μ_ρ = √(ρ T).\n\n";
  double ncc_d = 0, ncc_h = 0, best_gain = 0;
  int n = 0, kept_gb = 0;
  int64_t best_case = -1;
  for (const auto& c : inv.at("cases")) {
    const auto& truth = c.at("truth");
    md << "### Case " << c.at("index").get<int64_t>() << "\n\n![case](" << c.at("figure").get<std::string>() << ")\n\n"
       << "| | x | y | z | μ_D | μ_ρ | NCC | MSE | Dice@0.33 | seconds |\n|---|---|---|---|---|---|---|---|---|---|\n| truth |";
    for (size_t k = 0; k < 5; ++k) md << " " << f3(truth[k].get<double>()) << " |";
    md << " | | | |\n";
    for (const char* m : {"direct", "hybrid"}) {
      const auto& r = c.at(m);
      md << "| " << m << (std::string(m) == "hybrid" ? " (kept " + r.at("chosen_stage").get<std::string>() + ")" : "") << " |";
      for (size_t k = 0; k < 5; ++k) md << " " << f3(r.at("estimate")[k].get<double>()) << " |";
      md << " " << f3(r.at("ncc").get<double>()) << " | " << f3(r.at("mse").get<double>()) << " | "
         << f3(r.at("dice_033").get<double>()) << " | " << f3(r.at("seconds").get<double>()) << " |\n";
    }
    ncc_d += c.at("direct").at("ncc").get<double>();
    ncc_h += c.at("hybrid").at("ncc").get<double>();
    if (c.at("hybrid").at("chosen_stage").get<std::string>().rfind("gb", 0) == 0) {  // "gb" or "gb+com"
      ++kept_gb;
      const double gain = c.at("hybrid").at("ncc").get<double>() - c.at("direct").at("ncc").get<double>();
      if (gain > best_gain) best_gain = gain, best_case = c.at("index").get<int64_t>();
    }
    ++n;
    md << "\n";
  }
  md << "**Mean NCC of the final solver run over " << n << " cases: direct " << f3(ncc_d / n) << ", hybrid " << f3(ncc_h / n)
     << ".** Hybrid kept the gradient-based fit (gb) in " << kept_gb << " of " << n << " cases";
  if (best_case >= 0)
    md << "; the largest gain is case " << best_case << ", where L-BFGS through the surrogate raised the final-run NCC by "
       << f3(best_gain) << " over the direct estimate";
  md << ".\n\n## Tables (paper layout)\n\n" << invert::tables_markdown(inv.at("tables")) << "\n";

  if (stages.contains("train")) {
    const auto& tr = stages.at("train");
    md << "## Short surrogate training\n\n![training curve](" << tr.at("figure").get<std::string>() << ")\n\n"
       << "Training loss (blue) and validation loss (red) on a log scale over " << tr.at("steps").get<int64_t>()
       << " steps (a demonstration of the trainer, not a usable model). Last validation: ";
    if (tr.at("last_val").is_object())
      md << "MSE " << f3(tr.at("last_val").value("val_mse", NAN)) << ", NCC " << f3(tr.at("last_val").value("val_ncc", NAN));
    md << ". Run directory: `train_run/` (checkpoints, metrics.jsonl, config.json).\n";
  }
  core::write_text_atomic(out + "/report.md", md.str());
}

}  // namespace tumorforge::cli
