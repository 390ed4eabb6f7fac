#include "dsp/baseline_tracker.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace spasmwatch::dsp {
namespace {

constexpr double kTickHz = 100;

BaselineConfig config() {
  BaselineConfig c;
  c.tick_rate_hz = kTickHz;
  c.window_s = 20;
  c.quantile = 0.2;
  return c;
}

// Seconds of updates until the baseline is within 10% of `target`, or -1 if never within `limit_s`.
double seconds_until_near(BaselineTracker& tracker, double value, double target, double limit_s) {
  for (int i = 1; i <= static_cast<int>(limit_s * kTickHz); ++i) {
    tracker.update(value, false);
    if (std::abs(tracker.value() - target) <= 0.1 * target) return i / kTickHz;
  }
  return -1;
}

TEST(BaselineTracker, StartsFromTheFirstValues) {
  BaselineTracker tracker(config());
  EXPECT_EQ(tracker.value(), 0.0);
  EXPECT_FALSE(tracker.ready());
  tracker.update(4.0, false);
  EXPECT_NEAR(tracker.value(), 4.0, 1e-9);
  for (int i = 0; i < 199; ++i) tracker.update(4.0, false);
  EXPECT_TRUE(tracker.ready());  // 2 s of unfrozen updates
}

TEST(BaselineTracker, IgnoresBurstsAboveTheFloor) {
  // A floor of 5 with bursts of 60 a quarter of the time (not frozen): the 20th percentile is
  // the floor.
  BaselineTracker tracker(config());
  std::mt19937 rng(3);
  std::lognormal_distribution<double> floor_noise(std::log(5.0), 0.1);
  for (int i = 0; i < 60 * 100; ++i) tracker.update((i / 50) % 4 == 0 ? 60.0 : floor_noise(rng), false);
  EXPECT_GT(tracker.value(), 5.0 * 0.8);
  EXPECT_LT(tracker.value(), 5.0 * 1.05);
}

TEST(BaselineTracker, FollowsAStepDownQuicklyAndUpSlowly) {
  BaselineTracker down(config());
  for (int i = 0; i < 6000; ++i) down.update(10.0, false);
  const double t_down = seconds_until_near(down, 1.0, 1.0, 100);
  EXPECT_GT(t_down, 0.0);
  EXPECT_LT(t_down, 0.3 * 20);  // q of the weight: 20 s x ln(1/0.8) = 4.5 s

  BaselineTracker up(config());
  for (int i = 0; i < 6000; ++i) up.update(1.0, false);
  const double t_up = seconds_until_near(up, 10.0, 10.0, 200);
  EXPECT_GT(t_up, 1.2 * 20);  // 1-q of the weight: 20 s x ln(1/0.2) = 32 s
  EXPECT_LT(t_up, 2.0 * 20);
  EXPECT_GT(t_up, 4 * t_down);
}

TEST(BaselineTracker, StaysFrozenWhileActive) {
  BaselineTracker tracker(config());
  for (int i = 0; i < 3000; ++i) tracker.update(2.0, false);
  const double before = tracker.value();
  for (int i = 0; i < 100000; ++i) tracker.update(500.0, true);  // 1000 s of activity
  EXPECT_EQ(tracker.value(), before);
  // After the activity, one more rest value changes little: the window did not age meanwhile.
  tracker.update(2.0, false);
  EXPECT_NEAR(tracker.value(), 2.0, 1e-9);
}

TEST(BaselineTracker, LongRunsStayFinite) {
  BaselineTracker tracker(config());
  for (int i = 0; i < 2'000'000; ++i) tracker.update(3.0 + (i % 7), false);  // weights rescale
  EXPECT_TRUE(std::isfinite(tracker.value()));
  EXPECT_NEAR(tracker.value(), 4.0, 0.5);
}

TEST(BaselineTracker, RejectsBadSettings) {
  BaselineConfig c = config();
  c.quantile = 1.5;
  EXPECT_THROW(BaselineTracker{c}, std::invalid_argument);
  c = config();
  c.window_s = 0;
  EXPECT_THROW(BaselineTracker{c}, std::invalid_argument);
}

}  // namespace
}  // namespace spasmwatch::dsp
