// Label conventions (see labels.h).
#include "invert/labels.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>

namespace tumorforge::invert {
namespace {

std::string join(const std::vector<int>& v) {
  std::string s;
  for (int x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

std::vector<int> parse_list(const std::string& text, const std::string& flag) {
  std::vector<int> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    try {
      size_t used = 0;
      const int v = std::stoi(item, &used);
      if (used != item.size() || v < 1 || v > 255) throw std::invalid_argument("");
      out.push_back(v);
    } catch (const std::exception&) {
      throw std::invalid_argument(flag + " '" + text + "': expected comma-separated labels in 1..255");
    }
  }
  return out;
}

}  // namespace

std::string LabelConvention::describe() const {
  std::string s = name + " (core " + join(core) + "; edema " + join(edema);
  if (!enhancing.empty()) s += "; enhancing " + join(enhancing);
  return s + ")";
}

LabelConvention label_convention(const std::string& name, const std::string& core_labels, const std::string& edema_labels,
                                 const std::string& enhancing_labels) {
  const bool lists = !core_labels.empty() || !edema_labels.empty();
  if (!name.empty() && lists) throw std::invalid_argument("give --labels or --core-labels/--edema-labels, not both");
  if (name == "brats2021") return {"brats2021", {1, 4}, {2}, {4}};
  if (name == "brats2023") return {"brats2023", {1, 3}, {2}, {3}};
  if (name == "gliodil") return {"gliodil", {1, 4}, {3}, {1}};
  if (!name.empty())
    throw std::invalid_argument("--labels '" + name + "': expected brats2021 (1 NCR, 2 ED, 4 ET), brats2023 (1 NCR, 2 ED, "
                                "3 ET) or gliodil (1 ET, 3 ED, 4 NCR)");
  if (!lists)
    throw std::invalid_argument("a segmentation needs its label convention: --labels brats2021|brats2023|gliodil, or "
                                "--core-labels and --edema-labels (3 is enhancing in BraTS 2023 but edema in GliODIL)");
  LabelConvention c{"custom", parse_list(core_labels, "--core-labels"), parse_list(edema_labels, "--edema-labels"),
                    enhancing_labels.empty() ? std::vector<int>{} : parse_list(enhancing_labels, "--enhancing-labels")};
  if (c.core.empty()) throw std::invalid_argument("--core-labels: at least one label");
  for (int l : c.core)
    if (std::find(c.edema.begin(), c.edema.end(), l) != c.edema.end())
      throw std::invalid_argument("label " + std::to_string(l) + " is in both --core-labels and --edema-labels");
  for (int l : c.enhancing)
    if (std::find(c.core.begin(), c.core.end(), l) == c.core.end())
      throw std::invalid_argument("--enhancing-labels: " + std::to_string(l) + " is not a core label");
  return c;
}

TumorMasks tumor_masks(const core::Volume& labels, const std::string& name, const LabelConvention& conv) {
  std::vector<uint8_t> kind(256, 0);  // 0 undefined, 1 core, 2 edema; bit 4: enhancing
  kind[0] = 8;                        // background
  for (int l : conv.core) kind[static_cast<size_t>(l)] = 1;
  for (int l : conv.edema) kind[static_cast<size_t>(l)] = 2;
  for (int l : conv.enhancing) kind[static_cast<size_t>(l)] |= 4;
  TumorMasks m;
  const size_t n = labels.data.size();
  m.core.assign(n, 0.0f), m.whole.assign(n, 0.0f), m.enhancing.assign(n, 0.0f);
  std::set<long> undefined;
  for (size_t i = 0; i < n; ++i) {
    const float v = labels.data[i];
    const long l = std::lround(v);
    if (!std::isfinite(v) || std::abs(v - static_cast<float>(l)) > 1e-3f || l < 0 || l > 255 || kind[static_cast<size_t>(l)] == 0) {
      if (!std::isfinite(v) || std::abs(v - static_cast<float>(l)) > 1e-3f)
        throw std::invalid_argument(name + ": value " + std::to_string(v) + " at " + labels.grid.voxel_name(static_cast<int64_t>(i)) + " is not an integer label");
      undefined.insert(l);
      continue;
    }
    const uint8_t k = kind[static_cast<size_t>(l)];
    m.core[i] = (k & 3) == 1 ? 1.0f : 0.0f;
    m.whole[i] = (k & 3) != 0 ? 1.0f : 0.0f;
    m.enhancing[i] = (k & 4) ? 1.0f : 0.0f;
  }
  if (!undefined.empty()) {
    std::set<long> found;
    for (float v : labels.data) found.insert(std::lround(v));
    std::string f, u;
    for (long l : found) f += (f.empty() ? "" : ",") + std::to_string(l);
    for (long l : undefined) u += (u.empty() ? "" : ",") + std::to_string(l);
    throw std::invalid_argument(name + ": label(s) " + u + " not defined by " + conv.describe() + "; labels found: " + f);
  }
  return m;
}

}  // namespace tumorforge::invert
