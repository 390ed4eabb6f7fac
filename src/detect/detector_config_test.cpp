#include "detect/detector_config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>

namespace spasmwatch::detect {
namespace {

// Each assignment is refused with an error naming its key.
void expect_refused_naming_the_key(DetectorConfig& c, std::initializer_list<const char*> assignments) {
  for (const char* bad : assignments) {
    try {
      set_detector_option(c, bad);
      ADD_FAILURE() << bad;
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      const std::string key = std::string(bad).substr(0, std::string(bad).find('='));
      EXPECT_NE(what.find(key), std::string::npos) << what;
    }
  }
}

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
  expect_refused_naming_the_key(c, {"on_ratoi=3", "min_confidence=1.5", "on_ratio=abc", "on_ratio", "band_order=2.5"});
  EXPECT_DOUBLE_EQ(c.on_ratio, DetectorConfig{}.on_ratio);
}

TEST(DetectorOptions, EveryEvidenceWeightIsSettableByNameAndBounded) {
  DetectorConfig c;
  EXPECT_EQ(c.weights, kFittedWeights);
  for (std::size_t i = 0; i < kEvidenceCount; ++i) {
    const std::string name = "w_" + std::string(kEvidenceNames[i]);
    set_detector_option(c, name, -7.25 + static_cast<double>(i));
    EXPECT_DOUBLE_EQ(c.weights[i], -7.25 + static_cast<double>(i)) << name;
  }
  const auto names = detector_option_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "w_onset_jolt"), names.end());
  expect_refused_naming_the_key(c, {"w_onset_jolt=1000", "w_no_such_evidence=1", "w_=1"});
}

TEST(Evidence, ConfidenceIsTheLogisticOfTheWeightedSum) {
  EvidenceVector x{};
  EvidenceVector w{};
  x[static_cast<std::size_t>(Evidence::bias)] = 1;
  x[static_cast<std::size_t>(Evidence::log_snr)] = 1.5;
  x[static_cast<std::size_t>(Evidence::onset_jolt)] = 1;
  w[static_cast<std::size_t>(Evidence::bias)] = 0.5;
  w[static_cast<std::size_t>(Evidence::log_snr)] = 2;
  w[static_cast<std::size_t>(Evidence::onset_jolt)] = -4;
  EXPECT_NEAR(evidence_confidence(x, w), 1 / (1 + std::exp(0.5)), 1e-12);  // 0.5 + 3 - 4 = -0.5
  EXPECT_DOUBLE_EQ(evidence_confidence(EvidenceVector{}, w), 0.5);
  // Names and the enum agree (the list is one X-macro), and are unique.
  EXPECT_EQ(kEvidenceNames[static_cast<std::size_t>(Evidence::onset_jolt)], "onset_jolt");
  for (std::size_t i = 0; i < kEvidenceCount; ++i) {
    for (std::size_t j = i + 1; j < kEvidenceCount; ++j) EXPECT_NE(kEvidenceNames[i], kEvidenceNames[j]);
  }
}

}  // namespace
}  // namespace spasmwatch::detect
