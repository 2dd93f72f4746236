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

void write_text_atomic(const std::string& path, const std::string& content);
void ensure_parent_dir(const std::string& path);  // mkdir -p of the file's directory

}  // namespace tumorforge::core
