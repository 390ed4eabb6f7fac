// Replay: runs recordings through the same ingest code as live (FrameEvents into a
// DeviceAssembler per device), as fast as possible or paced by the recorded host times.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "detect/detector_config.hpp"
#include "events.pb.h"
#include "stats.pb.h"

namespace spasmwatch::app {

struct ReplayOptions {
  std::vector<std::string> files;
  double speed = 0;  // 0: as fast as possible; 1: real time; 10: ten times real time
  // Called now and then with (bytes read, total bytes, samples so far) for a progress display.
  std::function<void(std::uint64_t, std::uint64_t, std::uint64_t)> progress;
  // Receives every detected event (provisional, final, retracted), in order.
  std::function<void(const proto::Event&)> on_event;
  detect::DetectorConfig detector;
};

struct ReplayResult {
  proto::IngestStats stats;
  std::vector<std::string> problems;  // unreadable files, corrupt or truncated records
  bool any_unreadable = false;        // a file could not be opened as a recording
  bool any_corrupt = false;           // a file had a corrupt record (read up to it)
  std::uint64_t samples = 0;          // values decoded
  std::uint64_t events = 0;
};

[[nodiscard]] ReplayResult replay(const ReplayOptions& options, const Clock& clock);

}  // namespace spasmwatch::app
