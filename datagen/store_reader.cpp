// Dataset stores as tensors (see store_reader.h).
#include "datagen/store_reader.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "datagen/theta.h"

namespace tumorforge::datagen {

StoreReader::StoreReader(const std::string& path) : store_(DatasetStore::open(path)) {
  crop_ = store_.config().crop;
  const auto status = store_.read_status();
  for (size_t i = 0; i < status.size(); ++i)
    if (status[i] == kDone) done_.push_back(static_cast<int64_t>(i));
  if (done_.empty()) throw std::invalid_argument(path + ": no finished samples (run `tumorforge datagen run` first)");
  atlas_dims_ = store_.store_level().grid.dims;
  const auto& d = atlas_dims_;
  for (auto [name, field] : {std::pair<const char*, std::vector<float>*>{"wm", &wm_}, {"gm", &gm_}, {"csf", &csf_}})
    *field = store_.array(std::string("atlas/") + name).read<float>({0, 0, 0, 0}, {1, d[0], d[1], d[2]});
  const auto range = ThetaRange::from_json(store_.attrs().at("theta_range"));
  lo_ = torch::tensor(std::vector<double>(range.lo.begin(), range.lo.end()), torch::kFloat32);
  hi_ = torch::tensor(std::vector<double>(range.hi.begin(), range.hi.end()), torch::kFloat32);
}

torch::Tensor StoreReader::normalize_theta(const torch::Tensor& t) const {
  return 2 * (t - lo_.to(t.device())) / (hi_ - lo_).to(t.device()) - 1;
}

torch::Tensor StoreReader::denormalize_theta(const torch::Tensor& t) const {
  return (t + 1) / 2 * (hi_ - lo_).to(t.device()) + lo_.to(t.device());
}

nlohmann::json StoreReader::description() const {
  nlohmann::json cfg = store_.config();
  return {{"store", store_.path()},
          {"crop", crop_},
          {"store_grid", store_.attrs().at("store_grid")},
          {"sim_grid", store_.attrs().at("sim_grid")},
          {"anatomy", store_.attrs().at("atlases")},
          {"anatomy_inputs", store_.attrs().at("provenance").at("inputs")},
          {"config", cfg},
          {"samples_done", done_.size()}};
}

nlohmann::json StoreReader::theta_stats() const {
  const int64_t n = store_.n_samples();
  constexpr size_t K = kThetaSize;
  const std::vector<float> all = store_.array("theta").read<float>({0, 0}, {n, static_cast<int64_t>(K)});
  std::vector<double> sum(K, 0.0), lo(K, 1e300), hi(K, -1e300);
  const auto range = ThetaRange::from_json(theta_range());
  for (int64_t i : done_) {
    Theta raw{};
    for (size_t k = 0; k < K; ++k) raw[k] = all[static_cast<size_t>(i) * K + k];
    const Theta v = range.normalize(raw);
    for (size_t k = 0; k < K; ++k) {
      sum[k] += v[k];
      lo[k] = std::min(lo[k], v[k]);
      hi[k] = std::max(hi[k], v[k]);
    }
  }
  for (double& v : sum) v /= static_cast<double>(done_.size());
  return {{"mean", sum}, {"min", lo}, {"max", hi}, {"samples", done_.size()}, {"space", "normalized"}};
}

Batch StoreReader::read(const std::vector<int64_t>& indices, const std::vector<std::array<int64_t, 3>>* shifts) const {
  const int64_t S = crop_, B = static_cast<int64_t>(indices.size());
  Batch b;
  b.indices = indices;
  b.tissue = torch::zeros({B, 3, S, S, S});
  b.concentration = torch::empty({B, 1, S, S, S});
  constexpr auto K = static_cast<int64_t>(kThetaSize);
  torch::Tensor raw_theta = torch::empty({B, K});
  const auto& d = atlas_dims_;
  auto conc = store_.array("concentration"), theta = store_.array("theta"), origin = store_.array("crop_origin");
  for (int64_t n = 0; n < B; ++n) {
    const int64_t i = indices[static_cast<size_t>(n)];
    auto c = conc.read<float>({i, 0, 0, 0}, {1, S, S, S});
    auto t = theta.read<float>({i, 0}, {1, K});
    auto o = origin.read<int32_t>({i, 0}, {1, 3});
    const std::array<int64_t, 3> sh = shifts ? (*shifts)[static_cast<size_t>(n)] : std::array<int64_t, 3>{0, 0, 0};
    if (sh == std::array<int64_t, 3>{0, 0, 0}) {
      std::copy(c.begin(), c.end(), b.concentration[n].data_ptr<float>());
    } else {
      float* dst_c = b.concentration[n].data_ptr<float>();
      for (int64_t x = 0; x < S; ++x)
        for (int64_t y = 0; y < S; ++y)
          for (int64_t z = 0; z < S; ++z) {
            const int64_t sx = x + sh[0], sy = y + sh[1], sz = z + sh[2];
            const bool in = sx >= 0 && sy >= 0 && sz >= 0 && sx < S && sy < S && sz < S;
            dst_c[(x * S + y) * S + z] = in ? c[static_cast<size_t>((sx * S + sy) * S + sz)] : 0.0f;
          }
      const auto spacing = store_.store_level().grid.spacing_mm;
      for (size_t k = 0; k < 3; ++k) {
        t[k] -= static_cast<float>(static_cast<double>(sh[k]) * spacing[k]);
        o[k] += static_cast<int32_t>(sh[k]);
      }
    }
    std::copy(t.begin(), t.end(), raw_theta[n].data_ptr<float>());
    float* dst = b.tissue[n].data_ptr<float>();
    for (int ch = 0; ch < 3; ++ch) {
      const std::vector<float>& src = ch == 0 ? wm_ : ch == 1 ? gm_ : csf_;
      float* out = dst + ch * S * S * S;
      for (int64_t x = 0; x < S; ++x) {
        int64_t gx = o[0] + x;
        if (gx < 0 || gx >= d[0]) continue;
        for (int64_t y = 0; y < S; ++y) {
          int64_t gy = o[1] + y;
          if (gy < 0 || gy >= d[1]) continue;
          for (int64_t z = 0; z < S; ++z) {
            int64_t gz = o[2] + z;
            if (gz < 0 || gz >= d[2]) continue;
            out[(x * S + y) * S + z] = src[static_cast<size_t>((gx * d[1] + gy) * d[2] + gz)];
          }
        }
      }
    }
  }
  b.theta = normalize_theta(raw_theta);
  return b;
}

namespace {
constexpr int kStoreShift = 40;
}

TrainingSet::TrainingSet(const std::string& paths) {
  std::stringstream in(paths);
  std::string path;
  while (std::getline(in, path, ','))
    if (!path.empty()) stores_.push_back(std::make_unique<StoreReader>(path));
  if (stores_.empty()) throw std::invalid_argument("--train: no store given");
  const StoreReader& a = first();
  for (size_t k = 0; k < stores_.size(); ++k) {
    const StoreReader& b = *stores_[k];
    if (k > 0) {
      const auto sa = a.store().store_level().grid.spacing_mm, sb = b.store().store_level().grid.spacing_mm;
      if (b.crop() != a.crop() || sa != sb || b.theta_range().at("lo") != a.theta_range().at("lo") ||
          b.theta_range().at("hi") != a.theta_range().at("hi") ||
          b.store().config().th_matter != a.store().config().th_matter)
        throw std::invalid_argument("--train: " + b.store().path() + " differs from " + a.store().path() +
                                    " in crop, stored spacing, theta_range or th_matter; stores trained together must agree");
    }
    for (int64_t i : b.done()) done_.push_back((static_cast<int64_t>(k) << kStoreShift) | i);
  }
}

Batch TrainingSet::read(const std::vector<int64_t>& ids, const std::vector<std::array<int64_t, 3>>* shifts) const {
  if (stores_.size() == 1) return stores_[0]->read(ids, shifts);
  std::vector<Batch> parts;
  for (size_t n = 0; n < ids.size(); ++n) {
    const int64_t id = ids[n];
    const std::vector<std::array<int64_t, 3>> one = shifts ? std::vector<std::array<int64_t, 3>>{(*shifts)[n]}
                                                           : std::vector<std::array<int64_t, 3>>{};
    Batch b = stores_[static_cast<size_t>(id >> kStoreShift)]->read({id & ((int64_t{1} << kStoreShift) - 1)}, shifts ? &one : nullptr);
    b.indices = {id};
    parts.push_back(std::move(b));
  }
  Batch out;
  std::vector<torch::Tensor> t, c, th;
  for (auto& b : parts) {
    t.push_back(b.tissue), c.push_back(b.concentration), th.push_back(b.theta);
    out.indices.push_back(b.indices[0]);
  }
  out.tissue = torch::cat(t), out.concentration = torch::cat(c), out.theta = torch::cat(th);
  return out;
}

nlohmann::json TrainingSet::description() const {
  nlohmann::json d = first().description();
  d["stores"] = nlohmann::json::array();
  for (const auto& s : stores_) d["stores"].push_back(s->description());
  return d;
}

nlohmann::json TrainingSet::theta_stats() const {
  nlohmann::json all;
  double n_total = 0;
  constexpr size_t K = kThetaSize;
  std::vector<double> mean(K, 0.0), lo(K, 1e300), hi(K, -1e300);
  for (const auto& s : stores_) {
    const nlohmann::json st = s->theta_stats();
    const double n = st.at("samples").get<double>();
    for (size_t k = 0; k < K; ++k) {
      mean[k] += n * st.at("mean")[k].get<double>();
      lo[k] = std::min(lo[k], st.at("min")[k].get<double>());
      hi[k] = std::max(hi[k], st.at("max")[k].get<double>());
    }
    n_total += n;
  }
  for (double& v : mean) v /= n_total;
  return {{"mean", mean}, {"min", lo}, {"max", hi}, {"samples", n_total}, {"space", "normalized"}, {"stores", stores_.size()}};
}

}  // namespace tumorforge::datagen
