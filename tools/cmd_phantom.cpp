// `tumorforge phantom`: writes the built-in phantom brain (WM/GM/CSF fractions and a label map) to a folder.
#include <spdlog/spdlog.h>

#include <filesystem>

#include "solver/nifti_io.h"
#include "solver/phantom.h"
#include "core/provenance.h"
#include "tools/cli_util.h"
#include "tools/commands.h"

namespace tumorforge::cli {

void register_phantom(CLI::App& app) {
  auto config = std::make_shared<solver::PhantomConfig>();
  auto out_dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "phantom",
      "Write the built-in procedural phantom brain: wm/gm/csf fraction maps and labels.nii.gz (0 background,\n"
      "1 CSF, 2 GM, 3 WM) plus phantom.json. Deterministic: the same size and spacing give the same files.\n"
      "Example: tumorforge phantom --size 96 --spacing 2 --out data/phantom96");
  cmd->add_option("--size", config->size, "voxels per edge of the cubic grid")->check(CLI::Range(8, 1024))->capture_default_str();
  cmd->add_option("--spacing", config->spacing_mm, "isotropic voxel size in mm")->check(positive_finite())->capture_default_str();
  cmd->add_option("--out", *out_dir, "output folder (created if missing)")->required();
  cmd->callback([config, out_dir] {
    solver::TissueMaps t = solver::make_phantom(*config);
    namespace fs = std::filesystem;
    const fs::path dir(*out_dir);
    auto as_volume = [&](const std::vector<float>& data) {
      core::Volume v(t.grid);
      v.data = data;
      return v;
    };
    solver::write_nifti((dir / "wm.nii.gz").string(), as_volume(t.wm), "tumorforge phantom WM fraction");
    solver::write_nifti((dir / "gm.nii.gz").string(), as_volume(t.gm), "tumorforge phantom GM fraction");
    solver::write_nifti((dir / "csf.nii.gz").string(), as_volume(t.csf), "tumorforge phantom CSF fraction");
    solver::write_nifti_labels((dir / "labels.nii.gz").string(), t.grid, solver::hard_labels(t),
                               "tumorforge phantom labels 0bg 1csf 2gm 3wm");
    double wm = 0, gm = 0, csf = 0;
    for (size_t n = 0; n < t.wm.size(); ++n) wm += t.wm[n], gm += t.gm[n], csf += t.csf[n];
    const double v = t.grid.voxel_volume_mm3();
    nlohmann::json info = {{"config", {{"size", config->size}, {"spacing", config->spacing_mm}}},
                           {"volumes_mm3", {{"wm", wm * v}, {"gm", gm * v}, {"csf", csf * v}}},
                           {"files", {"wm.nii.gz", "gm.nii.gz", "csf.nii.gz", "labels.nii.gz"}},
                           {"provenance", core::provenance({})}};
    write_json((dir / "phantom.json").string(), info);
    spdlog::info("phantom {} written to {} (WM {:.0f} mm3, GM {:.0f} mm3, CSF {:.0f} mm3)", t.grid.describe(),
                 dir.string(), wm * v, gm * v, csf * v);
  });
}

}  // namespace tumorforge::cli
