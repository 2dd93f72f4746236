// Temp-and-rename file writing (see atomic_file.h).
#include "core/atomic_file.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "core/host.h"

namespace fs = std::filesystem;

namespace tumorforge::core {

const std::string& host_tag() {
  static const std::string host = [] {
    std::string h = host_name();
    for (char& ch : h)
      if (ch == '-' || ch == '/') ch = '_';
    return h.empty() ? std::string("host") : h;
  }();
  return host;
}

std::string temp_path_for(const std::string& final_path) {
  static std::atomic<unsigned> counter{0};
  const std::string& host = host_tag();
  fs::path p(final_path);
  // Host and pid make the name unique across the nodes writing one store on a shared filesystem.
  std::string name = ".tmp-" + host + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                     p.filename().string();
  return (p.parent_path() / name).string();
}

TempFile::TempFile(std::string final_path) : final_(std::move(final_path)), temp_(temp_path_for(final_)) {}

TempFile::~TempFile() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void TempFile::commit() {
  if (std::rename(temp_.c_str(), final_.c_str()) != 0)
    throw std::runtime_error("cannot rename '" + temp_ + "' to '" + final_ + "': " + std::strerror(errno));
  committed_ = true;
}

StagedDir::StagedDir(std::string final_dir) : final_(std::move(final_dir)) {
  fs::path p = fs::path(final_).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "out/" names the directory "out"
  final_ = p.string();
  staging_ = temp_path_for(final_);
  std::error_code ec;
  fs::create_directories(staging_, ec);
  if (ec) throw std::runtime_error(final_ + ": cannot create the staging directory '" + staging_ + "': " + ec.message());
}

StagedDir::~StagedDir() {
  std::error_code ec;
  fs::remove_all(staging_, ec);  // empty after a commit
}

void StagedDir::commit() {
  std::error_code ec;
  fs::create_directories(final_, ec);
  if (ec) throw std::runtime_error(final_ + ": cannot create directory: " + ec.message());
  for (const auto& e : fs::directory_iterator(staging_)) {
    const fs::path to = fs::path(final_) / e.path().filename();
    if (e.is_directory() && fs::is_directory(to)) fs::remove_all(to);  // a directory replaces the old one whole
    if (std::rename(e.path().c_str(), to.c_str()) != 0)
      throw std::runtime_error("cannot rename '" + e.path().string() + "' to '" + to.string() + "': " + std::strerror(errno));
  }
  committed_ = true;
}

void ensure_parent_dir(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw std::runtime_error("cannot create directory '" + parent.string() + "': " + ec.message());
}

void write_text_atomic(const std::string& path, const std::string& content) {
  ensure_parent_dir(path);
  TempFile tmp(path);
  {
    std::ofstream out(tmp.path(), std::ios::binary);
    if (!out) throw std::runtime_error("cannot open '" + tmp.path() + "' for writing");
    out << content;
    out.flush();
    if (!out) throw std::runtime_error("write failed for '" + tmp.path() + "'");
  }
  tmp.commit();
}

}  // namespace tumorforge::core
