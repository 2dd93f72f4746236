// The host name (see host.h).
#include "core/host.h"

#include <unistd.h>

namespace tumorforge::core {

const std::string& host_name() {
  static const std::string name = [] {
    char buf[256] = {0};
    if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return std::string("unknown-host");
    return std::string(buf);
  }();
  return name;
}

}  // namespace tumorforge::core
