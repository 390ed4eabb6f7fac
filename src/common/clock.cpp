#include "common/clock.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace spasmwatch {

std::int64_t SystemClock::utc_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t SystemClock::steady_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const char* format_utc_ms(std::int64_t utc_ns, char (&buffer)[48]) {
  std::int64_t seconds = utc_ns / 1'000'000'000;
  std::int64_t rem_ns = utc_ns % 1'000'000'000;
  if (rem_ns < 0) {
    rem_ns += 1'000'000'000;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(rem_ns / 1'000'000));
  return buffer;
}

}  // namespace spasmwatch
