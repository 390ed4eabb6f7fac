#include "common/text.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace spasmwatch {

namespace {

constexpr std::int64_t kSecondNs = 1'000'000'000;

bool read_int(std::string_view text, std::size_t at, std::size_t digits, int& out) {
  if (at + digits > text.size()) return false;
  for (std::size_t i = at; i < at + digits; ++i) {
    if (std::isdigit(static_cast<unsigned char>(text[i])) == 0) return false;
  }
  return std::from_chars(text.data() + at, text.data() + at + digits, out).ec == std::errc{};
}

std::optional<std::int64_t> parse_iso_utc(std::string_view text) {
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_int(text, 0, 4, year) || text.size() < 10 || text[4] != '-' || !read_int(text, 5, 2, month) ||
      text[7] != '-' || !read_int(text, 8, 2, day)) {
    return std::nullopt;
  }
  std::int64_t fraction_ns = 0;
  if (text.size() > 10) {
    if ((text[10] != 'T' && text[10] != ' ') || text.back() != 'Z') return std::nullopt;
    const std::string_view clock = text.substr(11, text.size() - 12);
    if (!read_int(clock, 0, 2, hour) || clock.size() < 5 || clock[2] != ':' || !read_int(clock, 3, 2, minute)) {
      return std::nullopt;
    }
    if (clock.size() > 5) {
      if (clock[5] != ':' || !read_int(clock, 6, 2, second)) return std::nullopt;
      if (clock.size() > 8) {
        if (clock[8] != '.' || clock.size() == 9 || clock.size() > 18) return std::nullopt;
        std::int64_t scale = 100'000'000;
        for (std::size_t i = 9; i < clock.size(); ++i, scale /= 10) {
          if (std::isdigit(static_cast<unsigned char>(clock[i])) == 0) return std::nullopt;
          fraction_ns += (clock[i] - '0') * scale;
        }
      }
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t t = timegm(&tm);
  if (tm.tm_mday != day) return std::nullopt;  // 2026-02-30 normalises to March
  return static_cast<std::int64_t>(t) * kSecondNs + fraction_ns;
}

}  // namespace

std::optional<std::int64_t> parse_time_text(std::string_view text, std::int64_t now_utc_ns) {
  if (text == "now") return now_utc_ns;
  if (text.size() >= 3 && text[0] == '-') {
    std::int64_t amount = 0;
    const auto [end, ec] = std::from_chars(text.data() + 1, text.data() + text.size() - 1, amount);
    const char unit = text.back();
    const std::int64_t unit_ns = unit == 's'   ? kSecondNs
                                 : unit == 'm' ? 60 * kSecondNs
                                 : unit == 'h' ? 3600 * kSecondNs
                                 : unit == 'd' ? 86400 * kSecondNs
                                               : 0;
    if (ec == std::errc{} && end == text.data() + text.size() - 1 && unit_ns != 0 && amount >= 0 &&
        amount < std::int64_t{100} * 365 * 86400 * kSecondNs / unit_ns) {
      return now_utc_ns - amount * unit_ns;
    }
    return std::nullopt;
  }
  return parse_iso_utc(text);
}

std::string format_utc(std::int64_t utc_ns) {
  std::int64_t seconds = utc_ns / kSecondNs;
  std::int64_t rest_ns = utc_ns % kSecondNs;
  if (rest_ns < 0) {
    rest_ns += kSecondNs;
    --seconds;
  }
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[40];
  const auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(rest_ns / 1'000'000));
  return std::string(text, n) + millis;
}

std::string enum_key(std::string_view text) {
  std::string key;
  for (const char c : text) {
    key += (c == '-' || c == ' ') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return key;
}

std::string display_name(std::string_view enum_name) {
  std::string name;
  for (const char c : enum_name) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace spasmwatch
