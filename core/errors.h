// The one error shape of every reader and writer: "<file or flag>: <problem>", thrown as std::runtime_error
// and printed as one line by the CLI.
#pragma once
#include <stdexcept>
#include <string>

namespace tumorforge::core {

[[noreturn]] inline void fail(const std::string& where, const std::string& what) {
  throw std::runtime_error(where + ": " + what);
}

}  // namespace tumorforge::core
