// This machine's name, as recorded in provenance, temp-file names and datagen run records.
#pragma once
#include <string>

namespace tumorforge::core {

const std::string& host_name();  // gethostname(), or "unknown-host" when it fails; read once

}  // namespace tumorforge::core
