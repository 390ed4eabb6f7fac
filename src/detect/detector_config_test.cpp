#include "detect/detector_config.hpp"

#include <gtest/gtest.h>

namespace spasmwatch::detect {
namespace {

TEST(DetectorOptions, SetsFieldsByName) {
  DetectorConfig c;
  set_detector_option(c, "on_ratio", 3.5);
  set_detector_option(c, "min_confidence=0.7");
  set_detector_option(c, "band_order=2");
  EXPECT_DOUBLE_EQ(c.on_ratio, 3.5);
  EXPECT_DOUBLE_EQ(c.min_confidence, 0.7);
  EXPECT_EQ(c.band_order, 2);
  EXPECT_GE(detector_option_names().size(), 38u);
}

TEST(DetectorOptions, EveryVoluntaryActivityRuleIsConfigurableByName) {
  DetectorConfig c;
  struct Rule {
    const char* name;
    double DetectorConfig::*field;
    double value;
  };
  const Rule rules[] = {
      {"onset_jolt_g", &DetectorConfig::onset_jolt_g, 0.02},
      {"task_burst_rate_hz", &DetectorConfig::task_burst_rate_hz, 0.8},
      {"task_duty", &DetectorConfig::task_duty, 0.5},
      {"task_snr_factor", &DetectorConfig::task_snr_factor, 3},
      {"tail_s", &DetectorConfig::tail_s, 2},
      {"tone_min_s", &DetectorConfig::tone_min_s, 30},
      {"tone_max_ratio", &DetectorConfig::tone_max_ratio, 4},
      {"split_memory_s", &DetectorConfig::split_memory_s, 1},
      {"trim_lead_fraction", &DetectorConfig::trim_lead_fraction, 0.3},
      {"trim_lead_s", &DetectorConfig::trim_lead_s, 0.5},
      {"gait_min_g", &DetectorConfig::gait_min_g, 0.1},
      {"gait_min_correlation", &DetectorConfig::gait_min_correlation, 0.6},
      {"outlast_min_level", &DetectorConfig::outlast_min_level, 1.5},
  };
  for (const auto& r : rules) {
    set_detector_option(c, r.name, r.value);
    EXPECT_DOUBLE_EQ(c.*(r.field), r.value) << r.name;
  }
}

TEST(DetectorOptions, RejectsUnknownNamesAndOutOfRangeValuesNamingThem) {
  DetectorConfig c;
  for (const char* bad : {"on_ratoi=3", "min_confidence=1.5", "on_ratio=abc", "on_ratio", "band_order=2.5"}) {
    try {
      set_detector_option(c, bad);
      ADD_FAILURE() << bad;
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      const std::string key = std::string(bad).substr(0, std::string(bad).find('='));
      EXPECT_NE(what.find(key), std::string::npos) << what;
    }
  }
  EXPECT_DOUBLE_EQ(c.on_ratio, DetectorConfig{}.on_ratio);
}

}  // namespace
}  // namespace spasmwatch::detect
