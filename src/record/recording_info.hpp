// Types shared by the recording writer and reader: what a recording says about itself, and the
// one exception both throw for file-level problems.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace spasmwatch::record {

// A file-level problem: cannot create/open/read/write, not a recording, unsupported version,
// damaged file header. The message names the file and says what was wrong.
class RecordingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Stored once in the file header.
struct RecordingInfo {
  std::string device_name;
  std::int64_t created_utc_ns = 0;  // wall clock at creation (UTC, ns since the epoch)
  std::string software;             // e.g. "spasmwatchd 0.1.0"
};

}  // namespace spasmwatch::record
