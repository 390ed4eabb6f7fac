#include "detect/evaluation.hpp"

#include <gtest/gtest.h>

namespace spasmwatch::detect {
namespace {

TEST(Evaluation, MatchesOverlapsOneToOneClosestOnsetFirst) {
  const std::vector<LabelledEvent> truth{{10, 12, proto::SPASM, ""}, {20, 20.3, proto::TWITCH, ""}, {40, 55, proto::CRAMP, ""}};
  const std::vector<LabelledEvent> found{{10.05, 12.2, proto::SPASM, ""},
                                         {11.0, 11.5, proto::TWITCH, ""},  // second hit on the same truth
                                         {20.02, 20.25, proto::SPASM, ""},
                                         {70, 71, proto::SPASM, ""}};
  const auto m = score(truth, found, 2.0);
  EXPECT_EQ(m.matched, 2u);
  EXPECT_DOUBLE_EQ(m.precision, 0.5);
  EXPECT_NEAR(m.recall, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(m.f1, 2 * 0.5 * (2.0 / 3) / (0.5 + 2.0 / 3), 1e-12);
  EXPECT_DOUBLE_EQ(m.false_alarms_per_hour, 1.0);
  EXPECT_DOUBLE_EQ(m.type_accuracy, 0.5);
  EXPECT_EQ(m.confusion[proto::TWITCH][proto::SPASM], 1u);
  EXPECT_NEAR(m.onset_median_ms, 35, 1e-9);
}

TEST(Evaluation, EmptyInputsAreWellDefined) {
  const auto m = score({}, {}, 1.0);
  EXPECT_DOUBLE_EQ(m.recall, 1.0);
  EXPECT_DOUBLE_EQ(m.precision, 1.0);
  EXPECT_DOUBLE_EQ(m.false_alarms_per_hour, 0.0);
}

TEST(Evaluation, AccumulatePoolsErrorsAndHours) {
  Metrics total;
  accumulate(total, score({{1, 2, proto::SPASM, ""}}, {{1.1, 2, proto::SPASM, ""}}, 1));
  accumulate(total, score({{1, 2, proto::SPASM, ""}}, {{1.3, 2, proto::SPASM, ""}, {5, 6, proto::SPASM, ""}}, 1));
  EXPECT_EQ(total.matched, 2u);
  EXPECT_DOUBLE_EQ(total.hours, 2.0);
  EXPECT_DOUBLE_EQ(total.false_alarms_per_hour, 0.5);
  EXPECT_NEAR(total.onset_median_ms, 200, 1e-9);
}

}  // namespace
}  // namespace spasmwatch::detect
