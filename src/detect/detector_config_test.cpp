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
