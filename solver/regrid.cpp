// Resampling through affines (see regrid.h).
#include "solver/regrid.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace tumorforge::solver {
namespace {

using Mat3 = std::array<std::array<double, 3>, 3>;

// The inverse of A's linear part; throws when it is singular.
Mat3 inverse3(const Affine& a, const std::string& what) {
  const double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                     a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
  if (!(std::abs(det) > 1e-12)) throw std::invalid_argument(what + ": singular affine " + describe_affine(a));
  Mat3 m;
  m[0][0] = (a[1][1] * a[2][2] - a[1][2] * a[2][1]) / det;
  m[0][1] = (a[0][2] * a[2][1] - a[0][1] * a[2][2]) / det;
  m[0][2] = (a[0][1] * a[1][2] - a[0][2] * a[1][1]) / det;
  m[1][0] = (a[1][2] * a[2][0] - a[1][0] * a[2][2]) / det;
  m[1][1] = (a[0][0] * a[2][2] - a[0][2] * a[2][0]) / det;
  m[1][2] = (a[0][2] * a[1][0] - a[0][0] * a[1][2]) / det;
  m[2][0] = (a[1][0] * a[2][1] - a[1][1] * a[2][0]) / det;
  m[2][1] = (a[0][1] * a[2][0] - a[0][0] * a[2][1]) / det;
  m[2][2] = (a[0][0] * a[1][1] - a[0][1] * a[1][0]) / det;
  return m;
}

float sample(const Volume& v, double x, double y, double z, Interpolation how) {
  const auto& d = v.grid.dims;
  if (how == Interpolation::kNearest) {
    const int64_t i = std::llround(x), j = std::llround(y), k = std::llround(z);
    return v.grid.contains(i, j, k) ? v.at(i, j, k) : 0.0f;
  }
  const double fx = std::floor(x), fy = std::floor(y), fz = std::floor(z);
  const auto i0 = static_cast<int64_t>(fx), j0 = static_cast<int64_t>(fy), k0 = static_cast<int64_t>(fz);
  const double tx = x - fx, ty = y - fy, tz = z - fz;
  double s = 0;
  for (int c = 0; c < 8; ++c) {
    const int64_t i = i0 + (c & 1), j = j0 + ((c >> 1) & 1), k = k0 + ((c >> 2) & 1);
    if (i < 0 || j < 0 || k < 0 || i >= d[0] || j >= d[1] || k >= d[2]) continue;
    const double w = ((c & 1) ? tx : 1 - tx) * (((c >> 1) & 1) ? ty : 1 - ty) * (((c >> 2) & 1) ? tz : 1 - tz);
    s += w * v.at(i, j, k);
  }
  return static_cast<float>(s);
}

}  // namespace

bool same_grid(const Grid& a, const Grid& b) {
  if (a.dims != b.dims) return false;
  for (size_t r = 0; r < 3; ++r)
    for (size_t c = 0; c < 4; ++c)
      if (std::abs(a.affine[r][c] - b.affine[r][c]) > 1e-3) return false;
  return true;
}

std::string describe_affine(const Affine& a) {
  std::ostringstream o;
  o << "[";
  for (size_t r = 0; r < 3; ++r) {
    o << (r ? ",[" : "[");
    for (size_t c = 0; c < 4; ++c) o << (c ? "," : "") << a[r][c];
    o << "]";
  }
  o << "]";
  return o.str();
}

Volume regrid(const Volume& src, const Grid& target, Interpolation how, const std::string& what) {
  const Mat3 inv = inverse3(src.grid.affine, what);
  const auto& A = target.affine;
  const auto& B = src.grid.affine;
  Volume out(target);
  int64_t inside = 0;
  const auto& d = target.dims;
  const auto& s = src.grid.dims;
  for (int64_t k = 0; k < d[2]; ++k)
    for (int64_t j = 0; j < d[1]; ++j)
      for (int64_t i = 0; i < d[0]; ++i) {
        double w[3], v[3];
        for (size_t r = 0; r < 3; ++r) w[r] = A[r][0] * i + A[r][1] * j + A[r][2] * k + A[r][3] - B[r][3];
        for (size_t r = 0; r < 3; ++r) v[r] = inv[r][0] * w[0] + inv[r][1] * w[1] + inv[r][2] * w[2];
        if (v[0] > -0.5 && v[1] > -0.5 && v[2] > -0.5 && v[0] < s[0] - 0.5 && v[1] < s[1] - 0.5 && v[2] < s[2] - 0.5) ++inside;
        out.at(i, j, k) = sample(src, v[0], v[1], v[2], how);
      }
  if (inside == 0)
    throw std::invalid_argument(what + " (" + src.grid.describe() + ", affine " + describe_affine(src.grid.affine) +
                                ") does not overlap the target image (" + target.describe() + ", affine " +
                                describe_affine(target.affine) + ") in world space");
  return out;
}

TissueMaps regrid_tissue(const TissueMaps& t, const Grid& target, Interpolation how, const std::string& what) {
  auto one = [&](const std::vector<float>& f) {
    Volume v(t.grid);
    v.data = f;
    return regrid(v, target, how, what).data;
  };
  TissueMaps out;
  out.grid = target;
  out.wm = one(t.wm);
  out.gm = one(t.gm);
  out.csf = one(t.csf);
  for (size_t n = 0; n < out.wm.size(); ++n) {
    const float sum = out.wm[n] + out.gm[n] + out.csf[n];
    if (sum > 1.0f) out.wm[n] /= sum, out.gm[n] /= sum, out.csf[n] /= sum;
  }
  out.source = t.source + " regridded (" + (how == Interpolation::kNearest ? "nearest" : "trilinear") + ") onto " + target.describe();
  return out;
}

}  // namespace tumorforge::solver
