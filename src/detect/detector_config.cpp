#include "detect/detector_config.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace spasmwatch::detect {

namespace {

struct Option {
  std::string_view name;
  double DetectorConfig::*field;
  double min;
  double max;
};

// Every numeric threshold, with the range a value must fall in to make sense.
constexpr std::array<Option, 60> kOptions{{
    {"split_factor", &DetectorConfig::split_factor, 1.5, 1e9},
    {"split_memory_s", &DetectorConfig::split_memory_s, 0.05, 3600},
    {"trim_lead_fraction", &DetectorConfig::trim_lead_fraction, 0, 1},
    {"trim_lead_s", &DetectorConfig::trim_lead_s, 0.05, 60},
    {"split_min_age_s", &DetectorConfig::split_min_age_s, 0.05, 60},
    {"tick_s", &DetectorConfig::tick_s, 0.001, 0.05},
    {"band_low_hz", &DetectorConfig::band_low_hz, 1, 200},
    {"band_high_hz", &DetectorConfig::band_high_hz, 20, 2000},
    {"trunk_band_low_hz", &DetectorConfig::trunk_band_low_hz, 1, 200},
    {"mains_hz", &DetectorConfig::mains_hz, 0, 60},
    {"notch_quality", &DetectorConfig::notch_quality, 1, 200},
    {"mains_harmonics", &DetectorConfig::mains_harmonics, 1, 20},
    {"envelope_window_s", &DetectorConfig::envelope_window_s, 0.005, 1},
    {"on_excess_uv", &DetectorConfig::on_excess_uv, 0, 1000},
    {"on_ratio", &DetectorConfig::on_ratio, 1, 100},
    {"off_excess_uv", &DetectorConfig::off_excess_uv, 0, 1000},
    {"off_ratio", &DetectorConfig::off_ratio, 1, 100},
    {"off_hold_s", &DetectorConfig::off_hold_s, 0.01, 10},
    {"off_peak_fraction", &DetectorConfig::off_peak_fraction, 0, 1},
    {"off_peak_hold_s", &DetectorConfig::off_peak_hold_s, 0.01, 10},
    {"tail_s", &DetectorConfig::tail_s, 0, 60},
    {"jaw_off_hold_s", &DetectorConfig::jaw_off_hold_s, 0.01, 10},
    {"min_active_s", &DetectorConfig::min_active_s, 0, 10},
    {"gap_settle_s", &DetectorConfig::gap_settle_s, 0, 10},
    {"baseline_down_tau_s", &DetectorConfig::baseline_down_tau_s, 0.01, 3600},
    {"baseline_up_tau_s", &DetectorConfig::baseline_up_tau_s, 0.01, 3600},
    {"baseline_hold_s", &DetectorConfig::baseline_hold_s, 0, 600},
    {"sparse_after_s", &DetectorConfig::sparse_after_s, 0.1, 3600},
    {"sparse_mean_fraction", &DetectorConfig::sparse_mean_fraction, 0, 1},
    {"tone_min_s", &DetectorConfig::tone_min_s, 1, 86400},
    {"tone_max_ratio", &DetectorConfig::tone_max_ratio, 0, 1000},
    {"twitch_max_s", &DetectorConfig::twitch_max_s, 0.05, 10},
    {"cramp_min_s", &DetectorConfig::cramp_min_s, 1, 3600},
    {"jaw_tonic_min_s", &DetectorConfig::jaw_tonic_min_s, 0.1, 60},
    {"clonus_min_hz", &DetectorConfig::clonus_min_hz, 0.5, 20},
    {"clonus_max_hz", &DetectorConfig::clonus_max_hz, 1, 30},
    {"clonus_min_correlation", &DetectorConfig::clonus_min_correlation, 0, 1},
    {"clonus_min_s", &DetectorConfig::clonus_min_s, 0.1, 60},
    {"clonus_min_snr", &DetectorConfig::clonus_min_snr, 1, 1000},
    {"trunk_clonus", &DetectorConfig::trunk_clonus, 0, 1},
    {"min_confidence", &DetectorConfig::min_confidence, 0, 1},
    {"min_fill", &DetectorConfig::min_fill, 0, 1},
    {"sharp_rise_s", &DetectorConfig::sharp_rise_s, 0, 1},
    {"slow_rise_s", &DetectorConfig::slow_rise_s, 0, 2},
    {"active_movement_g", &DetectorConfig::active_movement_g, 0, 10},
    {"asleep_after_s", &DetectorConfig::asleep_after_s, 0, 86400},
    {"gait_min_g", &DetectorConfig::gait_min_g, 0, 10},
    {"gait_min_correlation", &DetectorConfig::gait_min_correlation, 0, 1},
    {"gait_outlast_min_s", &DetectorConfig::gait_outlast_min_s, 0, 3600},
    {"gait_outlast_factor", &DetectorConfig::gait_outlast_factor, 0, 1000},
    {"gait_outlast_fill", &DetectorConfig::gait_outlast_fill, 0, 1},
    {"onset_jolt_g", &DetectorConfig::onset_jolt_g, 0, 10},
    {"task_duty", &DetectorConfig::task_duty, 0, 1.01},
    {"outlast_min_s", &DetectorConfig::outlast_min_s, 0, 3600},
    {"outlast_factor", &DetectorConfig::outlast_factor, 0, 1000},
    {"outlast_fill", &DetectorConfig::outlast_fill, 0, 1},
    {"outlast_min_level", &DetectorConfig::outlast_min_level, 0, 1000},
    {"task_burst_max_s", &DetectorConfig::task_burst_max_s, 0.01, 3600},
    {"task_burst_rate_hz", &DetectorConfig::task_burst_rate_hz, 0, 100},
    {"task_snr_factor", &DetectorConfig::task_snr_factor, 0, 100},
}};

}  // namespace

void set_detector_option(DetectorConfig& config, std::string_view key, double value) {
  if (key == "band_order") {
    if (!(value >= 1 && value <= 8) || value != std::floor(value)) {
      throw std::invalid_argument("detector.band_order: " + std::to_string(value) +
                                  " is invalid; expected 1..8");
    }
    config.band_order = static_cast<int>(value);
    return;
  }
  if (key.starts_with("w_")) {
    for (std::size_t i = 0; i < kEvidenceCount; ++i) {
      if (key.substr(2) != kEvidenceNames[i]) continue;
      if (!std::isfinite(value) || std::abs(value) > 100) {
        throw std::invalid_argument("detector." + std::string(key) + ": " + std::to_string(value) +
                                    " is out of range; expected -100..100");
      }
      config.weights[i] = value;
      return;
    }
  }
  for (const auto& o : kOptions) {
    if (o.name != key) continue;
    if (!std::isfinite(value) || value < o.min || value > o.max) {
      throw std::invalid_argument("detector." + std::string(key) + ": " + std::to_string(value) +
                                  " is out of range; expected " + std::to_string(o.min) + ".." +
                                  std::to_string(o.max));
    }
    config.*(o.field) = value;
    return;
  }
  throw std::invalid_argument("unknown detector option '" + std::string(key) +
                              "' (see src/detect/detector_config.hpp)");
}

void set_detector_option(DetectorConfig& config, std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    throw std::invalid_argument("bad detector option '" + std::string(assignment) +
                                "' (expected NAME=VALUE)");
  }
  const auto value_text = assignment.substr(eq + 1);
  double value = 0;
  const auto [end, ec] = std::from_chars(value_text.data(), value_text.data() + value_text.size(), value);
  if (ec != std::errc{} || end != value_text.data() + value_text.size()) {
    throw std::invalid_argument("bad detector option '" + std::string(assignment) +
                                "': value is not a number");
  }
  set_detector_option(config, assignment.substr(0, eq), value);
}

std::vector<std::string> detector_option_names() {
  std::vector<std::string> names{"band_order"};
  for (const auto& o : kOptions) names.emplace_back(o.name);
  for (const auto name : kEvidenceNames) names.push_back("w_" + std::string(name));
  return names;
}

}  // namespace spasmwatch::detect
