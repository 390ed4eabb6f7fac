// Text forms people and the API use for times and enum names. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace spasmwatch {

// "now", "-30s" / "-30m" / "-2h" / "-1d" (before now), "2026-11-24T08:00:00Z" (also with
// fractional seconds, or a date alone "2026-11-24" = midnight UTC); nothing when unreadable.
[[nodiscard]] std::optional<std::int64_t> parse_time_text(std::string_view text, std::int64_t now_utc_ns);

// "2026-11-24T08:00:00.123Z" (milliseconds).
[[nodiscard]] std::string format_utc(std::int64_t utc_ns);

// An enum name typed by a person: "poor_sleep", "poor-sleep", "Poor Sleep" -> "POOR_SLEEP".
[[nodiscard]] std::string enum_key(std::string_view text);
// Lower-case name for display: "POOR_SLEEP" -> "poor_sleep".
[[nodiscard]] std::string display_name(std::string_view enum_name);

}  // namespace spasmwatch
