// Human-readable one-line summaries of device statistics, for the daemon's live status lines and
// `spasmwatch replay` without --json.
#pragma once

#include <string>

#include "events.pb.h"
#include "stats.pb.h"

namespace spasmwatch::app {

// e.g. "calf-left [sim-0001 calf] emg 2ch@1000Hz 1200000 samples, 40 lost in 1 gap |
//       acc 3ch@100Hz ... | 2 bad frames, clock drift +99.8 ppm"
[[nodiscard]] std::string status_line(const proto::DeviceStats& stats);

// e.g. "EVENT spasm neck/left 2.35 s at 2026-11-24T08:05:52.123Z, peak 120 uV (snr 31), conf 0.87, at rest"
[[nodiscard]] std::string event_line(const proto::Event& event);

}  // namespace spasmwatch::app
