// Fault injection for the simulated link: damages encoded frames the way real radio and serial
// links do. Pure and seeded: the same seed damages the same frames.
//   ber        probability that any one bit is flipped
//   drop       probability that any one byte is lost
//   truncate   probability that a frame is cut short (its tail, delimiter included, is lost)
//   disconnect-every  seconds of streaming between simulated unplugs (handled by the sim loop)
//   drift-ppm  device clock rate error (handled by the device)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace spasmwatch::sim {

struct FaultSettings {
  double ber = 0;
  double drop = 0;
  double truncate = 0;
  double disconnect_every_s = 0;
  double drift_ppm = 0;
};

// Parses "ber=1e-5,drop=0.001,truncate=0.001,disconnect-every=30,drift-ppm=100" (any subset, any
// order; "" or "none" for no faults). Throws std::invalid_argument naming the bad item.
[[nodiscard]] FaultSettings parse_faults(std::string_view text);

class FaultInjector {
 public:
  FaultInjector(const FaultSettings& settings, std::uint64_t seed);

  // Damages `frame` (one encoded frame including its 0x00 delimiter) in place. Returns true if
  // the frame was altered in any way.
  bool apply(std::vector<std::uint8_t>& frame);

 private:
  double uniform();                        // (0, 1)
  std::uint64_t geometric(double p);       // trials before the next event, p in (0, 1)

  FaultSettings settings_;
  std::uint64_t state_;
  std::uint64_t bits_to_next_flip_;
  std::uint64_t bytes_to_next_drop_;
};

}  // namespace spasmwatch::sim
