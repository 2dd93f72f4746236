// Provenance written next to every output: tool version, git commit, the command line, host, time, and the
// SHA-256 of every input file, so any result can be traced back and re-run.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tumorforge::core {

// Hex digest of the file from byte `offset` to its end; throws naming the file if unreadable.
std::string sha256_file(const std::string& path, uint64_t offset = 0);
std::string sha256_bytes(const void* data, size_t size);

// {"tool": "tumorforge", "version", "git_commit", "command_line", "host", "created_utc", "inputs": {path: sha}}
nlohmann::json provenance(const std::vector<std::string>& input_files);
void set_command_line(int argc, char** argv);  // recorded once by main()
std::string utc_now_iso8601();

}  // namespace tumorforge::core
