// Crash-safe output: every file is written under a temporary name in its final directory and renamed into
// place, so readers (and resumed jobs) never see a half-written file. TempFile removes the temp on failure.
#pragma once
#include <string>

namespace tumorforge::core {

// "dir/.tmp-<host>-<pid>-<n>-name.ext": same directory (rename stays atomic), same extension (format detection).
std::string temp_path_for(const std::string& final_path);

// This machine's hostname with '-' and '/' replaced, as used in temp names (so a name splits on '-').
const std::string& host_tag();

class TempFile {
 public:
  explicit TempFile(std::string final_path);
  ~TempFile();  // removes the temp file unless commit() succeeded
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return temp_; }
  void commit();  // rename temp -> final; throws with both names on failure

 private:
  std::string final_, temp_;
  bool committed_ = false;
};

// An output directory written as a whole: files go into a staging directory beside it (temp_path_for's name),
// and commit() moves them into `final_dir` (created if needed; files of the same name are replaced, others
// kept). Destroyed without commit() — an exception on the way — the staging directory and all in it vanish,
// so a failed command leaves no half-written output.
class StagedDir {
 public:
  explicit StagedDir(std::string final_dir);
  ~StagedDir();
  StagedDir(const StagedDir&) = delete;
  StagedDir& operator=(const StagedDir&) = delete;

  const std::string& path() const { return staging_; }
  std::string file(const std::string& name) const { return staging_ + "/" + name; }
  void commit();

 private:
  std::string final_, staging_;
  bool committed_ = false;
};

void write_text_atomic(const std::string& path, const std::string& content);
void ensure_parent_dir(const std::string& path);  // mkdir -p of the file's directory

}  // namespace tumorforge::core
