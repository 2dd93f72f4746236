// Building TissueMaps from label maps, fraction maps or the phantom, with input validation.
#include "solver/tissue.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "core/grid_ops.h"
#include "solver/nifti_io.h"
#include "solver/phantom.h"

namespace tumorforge::solver {
namespace {

std::string voxel_str(const Grid& g, size_t n) {
  int64_t i = static_cast<int64_t>(n) % g.dims[0];
  int64_t j = (static_cast<int64_t>(n) / g.dims[0]) % g.dims[1];
  int64_t k = static_cast<int64_t>(n) / (g.dims[0] * g.dims[1]);
  return "(" + std::to_string(i) + "," + std::to_string(j) + "," + std::to_string(k) + ")";
}

std::vector<float> checked_fractions(const Volume& v, const std::string& what) {
  std::vector<float> out(v.data.size());
  constexpr float kTol = 1e-3f;  // resampling and float rounding leave values slightly outside [0,1]
  for (size_t n = 0; n < v.data.size(); ++n) {
    float x = v.data[n];
    if (!std::isfinite(x) || x < -kTol || x > 1.0f + kTol) {
      std::ostringstream s;
      s << what << ": fraction " << x << " at voxel " << voxel_str(v.grid, n) << " is outside [0, 1]";
      throw std::runtime_error(s.str());
    }
    out[n] = std::min(1.0f, std::max(0.0f, x));
  }
  return out;
}

}  // namespace

TissueMaps tissue_from_labels(const Volume& labels, const std::string& source) {
  TissueMaps t;
  t.grid = labels.grid;
  t.source = "labels:" + source;
  size_t n_vox = labels.data.size();
  t.wm.assign(n_vox, 0.0f);
  t.gm.assign(n_vox, 0.0f);
  t.csf.assign(n_vox, 0.0f);
  for (size_t n = 0; n < n_vox; ++n) {
    float x = labels.data[n];
    long label = std::lround(x);
    if (!std::isfinite(x) || std::abs(x - static_cast<float>(label)) > 0.01f || label < 0 || label > 3) {
      std::ostringstream s;
      s << source << ": value " << x << " at voxel " << voxel_str(labels.grid, n)
        << " is not a tissue label (0 background, 1 CSF, 2 GM, 3 WM)";
      throw std::runtime_error(s.str());
    }
    if (label == 1) t.csf[n] = 1.0f;
    if (label == 2) t.gm[n] = 1.0f;
    if (label == 3) t.wm[n] = 1.0f;
  }
  return t;
}

TissueMaps tissue_from_fractions(const Volume& wm, const Volume& gm, const std::optional<Volume>& csf,
                                 const std::string& source) {
  if (!wm.grid.same_shape(gm.grid))
    throw std::runtime_error("GM map (" + gm.grid.describe() + ") does not match the WM map (" +
                             wm.grid.describe() + ")");
  if (csf && !wm.grid.same_shape(csf->grid))
    throw std::runtime_error("CSF map (" + csf->grid.describe() + ") does not match the WM map (" +
                             wm.grid.describe() + ")");
  TissueMaps t;
  t.grid = wm.grid;
  t.source = "fractions:" + source;
  t.wm = checked_fractions(wm, "WM map");
  t.gm = checked_fractions(gm, "GM map");
  t.csf = csf ? checked_fractions(*csf, "CSF map") : std::vector<float>(wm.data.size(), 0.0f);
  return t;
}

std::vector<uint8_t> matter_mask(const TissueMaps& tissue, double th_matter) {
  std::vector<uint8_t> m(tissue.wm.size());
  for (size_t n = 0; n < m.size(); ++n) m[n] = (tissue.wm[n] + tissue.gm[n] >= th_matter) ? 1 : 0;
  return m;
}

double matter_volume_mm3(const TissueMaps& tissue, double th_matter) {
  double count = 0;
  for (uint8_t m : matter_mask(tissue, th_matter)) count += m;
  return count * tissue.grid.voxel_volume_mm3();
}

std::vector<uint8_t> hard_labels(const TissueMaps& tissue) {
  std::vector<uint8_t> l(tissue.wm.size(), 0);
  for (size_t n = 0; n < l.size(); ++n) {
    float c = tissue.csf[n], g = tissue.gm[n], w = tissue.wm[n];
    if (c + g + w < 0.5f) continue;
    l[n] = (w >= g && w >= c) ? 3 : (g >= c ? 2 : 1);
  }
  return l;
}

std::string TissueSource::describe() const {
  if (!labels_path.empty()) return "labels:" + labels_path;
  if (!wm_path.empty()) return "fractions:" + wm_path + "," + gm_path + (csf_path.empty() ? "" : "," + csf_path);
  std::ostringstream s;
  s << "phantom:" << phantom_size << "@" << phantom_spacing_mm << "mm";
  return s.str();
}

std::vector<std::string> TissueSource::input_files() const {
  std::vector<std::string> f;
  for (const auto* p : {&labels_path, &wm_path, &gm_path, &csf_path})
    if (!p->empty()) f.push_back(*p);
  return f;
}

TissueMaps load_tissue(const TissueSource& src) {
  int kinds = (!src.labels_path.empty()) + (!src.wm_path.empty() || !src.gm_path.empty()) + (src.phantom_size > 0);
  if (kinds > 1) throw std::runtime_error("give only one tissue input: --tissue-labels, --wm/--gm or --phantom");
  if (!src.labels_path.empty()) return tissue_from_labels(read_nifti(src.labels_path), src.labels_path);
  if (!src.wm_path.empty() || !src.gm_path.empty()) {
    if (src.wm_path.empty() || src.gm_path.empty()) throw std::runtime_error("--wm and --gm must be given together");
    Volume wm = read_nifti(src.wm_path), gm = read_nifti(src.gm_path);
    auto check_shape = [&](const Volume& v, const std::string& path) {
      if (!v.grid.same_shape(wm.grid))
        throw std::runtime_error(path + ": grid " + v.grid.describe() + " does not match " + src.wm_path + " (" +
                                 wm.grid.describe() + ")");
    };
    check_shape(gm, src.gm_path);
    std::optional<Volume> csf;
    if (!src.csf_path.empty()) {
      csf = read_nifti(src.csf_path);
      check_shape(*csf, src.csf_path);
    }
    // tissue_from_fractions adds the "fractions:" prefix itself; src.describe() would add it a second time.
    return tissue_from_fractions(wm, gm, csf, src.wm_path + "," + src.gm_path + (src.csf_path.empty() ? "" : "," + src.csf_path));
  }
  PhantomConfig pc;
  pc.size = src.phantom_size > 0 ? src.phantom_size : pc.size;
  pc.spacing_mm = src.phantom_spacing_mm;
  return make_phantom(pc);
}

TissueMaps block_average(const TissueMaps& fine, const std::array<int64_t, 3>& k, const Grid& cg) {
  TissueMaps t;
  t.grid = cg;
  t.source = fine.source;
  t.wm = core::block_average(fine.wm, fine.grid, k, cg);
  t.gm = core::block_average(fine.gm, fine.grid, k, cg);
  t.csf = core::block_average(fine.csf, fine.grid, k, cg);
  return t;
}

}  // namespace tumorforge::solver
