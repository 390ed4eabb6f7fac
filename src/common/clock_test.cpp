#include "common/clock.hpp"

#include <gtest/gtest.h>

namespace spasmwatch {
namespace {

TEST(FakeClock, AdvancesBothTimesTogether) {
  FakeClock clock(1'000);
  clock.advance_ns(250);
  EXPECT_EQ(clock.utc_ns(), 1'250);
  EXPECT_EQ(clock.steady_ns(), 250);
}

TEST(SystemClock, SteadyTimeNeverGoesBackwards) {
  SystemClock clock;
  const auto a = clock.steady_ns();
  const auto b = clock.steady_ns();
  EXPECT_LE(a, b);
}

TEST(FormatUtc, FormatsMillisecondsAndNegativeTimes) {
  char buf[48];
  EXPECT_STREQ(format_utc_ms(1'700'000'000'123'456'789, buf), "2023-11-14T22:13:20.123Z");
  EXPECT_STREQ(format_utc_ms(-1'000'000, buf), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace spasmwatch
