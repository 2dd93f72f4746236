// Tissue inputs: label conventions, fraction-map checks, the matter mask.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "solver/nifti_io.h"
#include "solver/tissue.h"

using namespace tumorforge::solver;

TEST_CASE("label map 0/1/2/3 becomes background/CSF/GM/WM fractions") {
  Grid g;
  g.dims = {4, 1, 1};
  Volume labels(g);
  labels.data = {0, 1, 2, 3};
  TissueMaps t = tissue_from_labels(labels, "labels.nii");
  CHECK(t.csf == std::vector<float>{0, 1, 0, 0});
  CHECK(t.gm == std::vector<float>{0, 0, 1, 0});
  CHECK(t.wm == std::vector<float>{0, 0, 0, 1});
  CHECK(matter_mask(t, 0.1) == std::vector<uint8_t>{0, 0, 1, 1});
  CHECK(hard_labels(t) == std::vector<uint8_t>{0, 1, 2, 3});
}

TEST_CASE("labels outside 0..3 and out-of-range fractions are rejected with the voxel") {
  Grid g;
  g.dims = {3, 1, 1};
  Volume labels(g);
  labels.data = {0, 2.5f, 3};
  CHECK_THROWS_WITH(tissue_from_labels(labels, "seg.nii.gz"), doctest::Contains("seg.nii.gz: value 2.5 at voxel (1,0,0)"));
  Volume wm(g), gm(g);
  wm.data = {0.2f, 1.2f, 0.0f};
  CHECK_THROWS_WITH(tissue_from_fractions(wm, gm, std::nullopt, "x"), doctest::Contains("WM map: fraction 1.2"));
  Grid other = g;
  other.dims = {3, 2, 1};
  CHECK_THROWS_WITH(tissue_from_fractions(Volume(g), Volume(other), std::nullopt, "x"), doctest::Contains("does not match"));
}

TEST_CASE("the anatomy's provenance label names each input once (it read fractions:fractions:… before)") {
  Grid g;
  g.dims = {2, 1, 1};
  Volume wm(g), gm(g);
  wm.data = {0.5f, 0.0f};
  gm.data = {0.5f, 1.0f};
  const std::string dir = "/tmp/tumorforge_test_tissue_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  write_nifti(dir + "/wm.nii.gz", wm);
  write_nifti(dir + "/gm.nii.gz", gm);
  TissueSource src;
  src.wm_path = dir + "/wm.nii.gz";
  src.gm_path = dir + "/gm.nii.gz";
  CHECK(load_tissue(src).source == "fractions:" + dir + "/wm.nii.gz," + dir + "/gm.nii.gz");
  CHECK(load_tissue(src).source == src.describe());
  std::filesystem::remove_all(dir);
}
