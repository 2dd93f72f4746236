// Building inversion cases from patient files and from store samples (see model_case.h).
#include "invert/model_case.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace tumorforge::invert {
namespace {

std::string spacing_text(const std::array<double, 3>& s) {
  std::ostringstream o;
  o << s[0] << "x" << s[1] << "x" << s[2] << " mm";
  return o.str();
}

torch::Tensor cube_tensor(const std::vector<float>& c_order, int64_t S) {
  return torch::from_blob(const_cast<float*>(c_order.data()), {1, 1, S, S, S}, torch::kFloat32).clone();
}

bool same_affine(const core::Affine& a, const core::Affine& b) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      if (std::abs(a[static_cast<size_t>(i)][static_cast<size_t>(j)] - b[static_cast<size_t>(i)][static_cast<size_t>(j)]) > 1e-3) return false;
  return true;
}

}  // namespace

std::array<double, 3> SolverContext::crop_centre_mm() const {
  const double half = 0.5 * static_cast<double>(crop - 1);
  return coarse.voxel_mm({crop_origin[0] + half, crop_origin[1] + half, crop_origin[2] + half});
}

torch::Tensor SolverContext::to_cube(const std::vector<float>& fine_field) const {
  const bool coarsen = factor != std::array<int64_t, 3>{1, 1, 1};
  std::vector<float> c;
  if (coarsen) c = core::block_average(fine_field, fine.grid, factor, coarse.grid);
  return cube_tensor(core::crop_cube(coarsen ? c : fine_field, coarse.grid, crop_origin, crop), crop);
}

torch::Tensor flat_tensor(const std::vector<float>& field) {
  return torch::from_blob(const_cast<float*>(field.data()), {1, 1, static_cast<int64_t>(field.size())}, torch::kFloat32).clone();
}

torch::Tensor flat_brain_mask(const solver::TissueMaps& tissue, double threshold) {
  const std::vector<uint8_t> m = solver::matter_mask(tissue, threshold);
  return torch::from_blob(const_cast<uint8_t*>(m.data()), {1, 1, static_cast<int64_t>(m.size())}, torch::kUInt8).to(torch::kFloat32);
}

std::vector<float> SolverContext::from_cube(const torch::Tensor& cube) const {
  const torch::Tensor c = cube.detach().to(torch::kCPU, torch::kFloat32).contiguous().view({crop, crop, crop});
  const float* src = c.data_ptr<float>();
  std::vector<float> out(static_cast<size_t>(fine.grid.num_voxels()), 0.0f);
  const auto& d = fine.grid.dims;
  for (int64_t k = 0; k < d[2]; ++k)
    for (int64_t j = 0; j < d[1]; ++j)
      for (int64_t i = 0; i < d[0]; ++i) {
        const int64_t x = i / factor[0] - crop_origin[0], y = j / factor[1] - crop_origin[1], z = k / factor[2] - crop_origin[2];
        if (x < 0 || y < 0 || z < 0 || x >= crop || y >= crop || z >= crop) continue;
        out[static_cast<size_t>(fine.grid.index(i, j, k))] = src[(x * crop + y) * crop + z];
      }
  return out;
}

ModelCase prepare_patient(std::shared_ptr<const solver::TissueMaps> tissue, const core::Volume& target, TargetKind kind,
                          const ModelSpec& spec, bool resample, const std::string& name, double tau_core, double tau_edema,
                          const LabelConvention* labels) {
  const core::Grid& g = tissue->grid;
  if (!target.grid.same_shape(g) || !same_affine(target.grid.affine, g.affine))
    throw std::invalid_argument(name + ": grid " + target.grid.describe() + " differs from the tissue's " + g.describe() +
                                " (shape, spacing and affine must match)");
  ModelCase c;
  c.kind = kind;
  std::vector<float> core, whole;
  std::vector<float> conc;  // the field whose centre of mass places the cube; the direct net's input
  if (kind == TargetKind::kConcentration) {
    for (size_t i = 0; i < target.data.size(); ++i) {
      const float v = target.data[i];
      if (!std::isfinite(v) || v < -1e-4f || v > 1.0f + 1e-4f)
        throw std::invalid_argument(name + ": value " + std::to_string(v) + " at " + target.grid.voxel_name(static_cast<int64_t>(i)) +
                                    " is outside [0, 1] (a tumor-cell concentration is expected)");
    }
    conc = target.data;
    for (float& v : conc) v = std::clamp(v, 0.0f, 1.0f);
  } else {
    if (!labels) throw std::invalid_argument(name + ": a segmentation needs its label convention (--labels)");
    TumorMasks m = tumor_masks(target, name, *labels);
    core = std::move(m.core);
    whole = std::move(m.whole);
    // Proxy concentration for the direct net and the centre of mass: the middle of each label's band,
    // (1 + τ_core)/2 in the core and (τ_core + τ_edema)/2 in the edema.
    conc.resize(core.size());
    for (size_t i = 0; i < conc.size(); ++i)
      conc[i] = core[i] > 0 ? static_cast<float>(0.5 * (1 + tau_core)) : whole[i] > 0 ? static_cast<float>(0.5 * (tau_core + tau_edema)) : 0.0f;
  }
  double mass = 0;
  for (float v : conc) mass += v;
  if (!(mass > 0)) throw std::invalid_argument(name + ": the target is empty (no tumor voxel)");

  SolverContext& s = c.solver;
  s.tissue = tissue;
  s.fine.grid = g;
  s.crop = spec.crop;
  bool same = true;
  for (size_t k = 0; k < 3; ++k) same = same && std::abs(g.spacing_mm[k] - spec.spacing_mm[k]) < 1e-4;
  if (!same) {
    if (!resample)
      throw std::invalid_argument(name + ": spacing " + spacing_text(g.spacing_mm) + " but the checkpoints expect " +
                                  spacing_text(spec.spacing_mm) + "; pass --resample to block-average to it");
    for (size_t k = 0; k < 3; ++k) {
      const double f = spec.spacing_mm[k] / g.spacing_mm[k];
      if (f < 1 - 1e-6 || std::abs(f - std::round(f)) > 1e-4)
        throw std::invalid_argument(name + ": --resample needs the checkpoint spacing " + spacing_text(spec.spacing_mm) +
                                    " to be a whole multiple of the input's " + spacing_text(g.spacing_mm));
      s.factor[k] = std::lround(f);
    }
  }
  s.coarse = core::coarsen(s.fine, s.factor);
  const bool coarsen = s.factor != std::array<int64_t, 3>{1, 1, 1};
  auto coarse_of = [&](const std::vector<float>& f) {
    return coarsen ? core::block_average(f, g, s.factor, s.coarse.grid) : f;
  };
  const std::vector<float> conc_coarse = coarse_of(conc);
  const auto com = core::centre_of_mass(conc_coarse, s.coarse.grid);
  s.crop_origin = core::crop_origin_for(com, spec.crop);
  const auto centre = s.crop_centre_mm(), com_mm = s.coarse.voxel_mm(com);
  for (size_t k = 0; k < 3; ++k) c.com_offset_mm[k] = com_mm[k] - centre[k];

  const int64_t S = spec.crop;
  c.tissue = torch::cat({s.to_cube(tissue->wm), s.to_cube(tissue->gm), s.to_cube(tissue->csf)}, 1);
  c.target = cube_tensor(core::crop_cube(conc_coarse, s.coarse.grid, s.crop_origin, S), S);
  WholeGrid full;
  full.target = flat_tensor(conc);
  full.brain = flat_brain_mask(*tissue, spec.mask_threshold);
  if (kind == TargetKind::kSegmentation) {
    c.core = s.to_cube(core);
    c.whole = s.to_cube(whole);
    full.core = flat_tensor(core);
    full.whole = flat_tensor(whole);
  }
  c.full = std::move(full);
  return c;
}

ModelCase case_from_store(const datagen::StoreReader& reader, int64_t index, std::shared_ptr<const solver::TissueMaps> sim_tissue) {
  const auto& store = reader.store();
  datagen::Batch b = reader.read({index});
  ModelCase c;
  c.tissue = b.tissue;
  c.target = b.concentration;
  SolverContext& s = c.solver;
  s.tissue = std::move(sim_tissue);
  s.fine = store.sim_level();
  s.coarse = store.store_level();
  s.factor = store.store_factor();
  s.crop = reader.crop();
  auto o = store.array("crop_origin").read<int32_t>({index, 0}, {1, 3});
  s.crop_origin = {o[0], o[1], o[2]};
  // The stored crop is centred on the concentration's centre of mass, so the offset is that of the cube.
  std::vector<float> cube(b.concentration.data_ptr<float>(), b.concentration.data_ptr<float>() + b.concentration.numel());
  core::Grid cube_grid;
  cube_grid.dims = {s.crop, s.crop, s.crop};
  const auto com_c = core::centre_of_mass(core::from_c_order(cube, cube_grid.dims), cube_grid);
  const double half = 0.5 * static_cast<double>(s.crop - 1);
  for (size_t k = 0; k < 3; ++k) c.com_offset_mm[k] = (com_c[k] - half) * s.coarse.grid.spacing_mm[k];
  return c;
}

}  // namespace tumorforge::invert
