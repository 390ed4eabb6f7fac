#include "fault_injector.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace spasmwatch::sim {

namespace {

double parse_number(std::string_view key, std::string_view value, double lo, double hi) {
  double v = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc{} || end != value.data() + value.size() || !(v >= lo && v <= hi)) {
    throw std::invalid_argument("bad fault value '" + std::string(key) + "=" + std::string(value) +
                                "' (expected a number from " + std::to_string(lo) + " to " +
                                std::to_string(hi) + ")");
  }
  return v;
}

}  // namespace

FaultSettings parse_faults(std::string_view text) {
  FaultSettings f;
  if (text.empty() || text == "none") return f;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      throw std::invalid_argument("bad fault '" + std::string(item) + "' (expected NAME=VALUE)");
    }
    const auto key = item.substr(0, eq);
    const auto value = item.substr(eq + 1);
    if (key == "ber") {
      f.ber = parse_number(key, value, 0, 0.5);
    } else if (key == "drop") {
      f.drop = parse_number(key, value, 0, 0.5);
    } else if (key == "truncate") {
      f.truncate = parse_number(key, value, 0, 1);
    } else if (key == "disconnect-every") {
      f.disconnect_every_s = parse_number(key, value, 0, 1e7);
    } else if (key == "drift-ppm") {
      f.drift_ppm = parse_number(key, value, -10000, 10000);
    } else {
      throw std::invalid_argument("unknown fault '" + std::string(key) +
                                  "' (expected ber, drop, truncate, disconnect-every, drift-ppm)");
    }
  }
  return f;
}

FaultInjector::FaultInjector(const FaultSettings& settings, std::uint64_t seed)
    : settings_(settings), state_(seed ^ 0x9E3779B97F4A7C15ull) {
  bits_to_next_flip_ = geometric(settings_.ber);
  bytes_to_next_drop_ = geometric(settings_.drop);
}

double FaultInjector::uniform() {
  // splitmix64: small, fast, and identical on every platform.
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (static_cast<double>(z >> 11) + 0.5) * 0x1.0p-53;
}

std::uint64_t FaultInjector::geometric(double p) {
  if (p <= 0) return std::numeric_limits<std::uint64_t>::max();
  if (p >= 1) return 0;
  const double n = std::floor(std::log(uniform()) / std::log1p(-p));
  return n >= 1.8e19 ? std::numeric_limits<std::uint64_t>::max() : static_cast<std::uint64_t>(n);
}

bool FaultInjector::apply(std::vector<std::uint8_t>& frame) {
  bool damaged = false;
  if (settings_.truncate > 0 && frame.size() > 2 && uniform() < settings_.truncate) {
    // Keep 1 .. size-2 bytes: at least one byte is lost, and always the delimiter.
    const auto keep = 1 + static_cast<std::size_t>(uniform() * static_cast<double>(frame.size() - 2));
    frame.resize(std::min(keep, frame.size() - 2));
    damaged = true;
  }
  if (settings_.ber > 0) {
    const std::uint64_t bits = frame.size() * 8;
    std::uint64_t pos = 0;
    while (bits_to_next_flip_ < bits - pos) {
      pos += bits_to_next_flip_;
      frame[pos / 8] ^= static_cast<std::uint8_t>(1u << (pos % 8));
      damaged = true;
      ++pos;
      bits_to_next_flip_ = geometric(settings_.ber);
    }
    bits_to_next_flip_ -= bits - pos;
  }
  if (settings_.drop > 0) {
    std::size_t out = 0;
    for (std::size_t in = 0; in < frame.size(); ++in) {
      if (bytes_to_next_drop_ == 0) {
        bytes_to_next_drop_ = geometric(settings_.drop);
        damaged = true;
        continue;
      }
      --bytes_to_next_drop_;
      frame[out++] = frame[in];
    }
    frame.resize(out);
  }
  return damaged;
}

}  // namespace spasmwatch::sim
