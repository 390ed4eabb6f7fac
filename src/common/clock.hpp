// Injectable clocks. Everything that timestamps, waits or paces takes a Clock, so tests use a
// FakeClock and never sleep. Times are nanoseconds; wall-clock times are UTC since the Unix epoch.
// Thread rules: SystemClock is stateless; FakeClock is not thread-safe (tests drive it from one
// thread).
#pragma once

#include <cstdint>

namespace spasmwatch {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (UTC, ns since the epoch): what host receive times are stamped with.
  virtual std::int64_t utc_ns() const = 0;
  // Monotonic time (ns, arbitrary origin): for intervals, timeouts and pacing.
  virtual std::int64_t steady_ns() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t utc_ns() const override;
  std::int64_t steady_ns() const override;
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t utc_ns = 1'700'000'000'000'000'000) : utc_ns_(utc_ns) {}
  std::int64_t utc_ns() const override { return utc_ns_; }
  std::int64_t steady_ns() const override { return steady_ns_; }
  void advance_ns(std::int64_t delta_ns) {
    utc_ns_ += delta_ns;
    steady_ns_ += delta_ns;
  }

 private:
  std::int64_t utc_ns_;
  std::int64_t steady_ns_ = 0;
};

// Formats a UTC time as ISO 8601 with milliseconds, e.g. "2026-11-24T08:05:52.123Z".
[[nodiscard]] const char* format_utc_ms(std::int64_t utc_ns, char (&buffer)[48]);

}  // namespace spasmwatch
