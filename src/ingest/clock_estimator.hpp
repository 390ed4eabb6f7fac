// Device clock -> host clock mapping (offset and drift), estimated online.
// (Interface fixed; implementation being written.)
#pragma once

#include <cstdint>

#include "stats.pb.h"

namespace spasmwatch::ingest {

class ClockEstimator {
 public:
  // A sample block finished at device time `device_time_us` (time of its last sample, when the
  // device could send it) and arrived at host UTC time `host_time_ns`. Transport delay only ever
  // makes the arrival later, never earlier.
  void add_arrival(std::uint64_t device_time_us, std::int64_t host_time_ns);

  // A time-sync round trip: ping sent at host time `host_send_ns`, received by the device at
  // `device_receive_us`, answered at `device_send_us`, the pong arrived at `host_receive_ns`.
  void add_round_trip(std::int64_t host_send_ns, std::uint64_t device_receive_us,
                      std::uint64_t device_send_us, std::int64_t host_receive_ns);

  // Forget everything (a new device session restarts the device clock).
  void reset();

  [[nodiscard]] bool has_estimate() const;
  // Host UTC time (ns) of device time `device_time_us`.
  [[nodiscard]] std::int64_t to_host_ns(std::uint64_t device_time_us) const;
  [[nodiscard]] proto::ClockFit fit() const;
};

}  // namespace spasmwatch::ingest
