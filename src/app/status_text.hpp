// Human-readable one-line summaries of device statistics, for the daemon's live status lines and
// `spasmwatch replay` without --json.
#pragma once

#include <string>

#include "stats.pb.h"

namespace spasmwatch::app {

// e.g. "calf-left [sim-0001 calf] emg 2ch@1000Hz 1200000 samples, 40 lost in 1 gap |
//       acc 3ch@100Hz ... | 2 bad frames, clock drift +99.8 ppm"
[[nodiscard]] std::string status_line(const proto::DeviceStats& stats);

}  // namespace spasmwatch::app
