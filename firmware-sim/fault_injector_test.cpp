#include "fault_injector.hpp"

#include <gtest/gtest.h>

namespace spasmwatch::sim {
namespace {

std::vector<std::uint8_t> frame(std::size_t n) {
  std::vector<std::uint8_t> f(n, 0x5A);
  f.back() = 0;
  return f;
}

TEST(ParseFaults, ReadsEveryFault) {
  const auto f = parse_faults("ber=1e-5,drop=0.001,truncate=0.002,disconnect-every=30,drift-ppm=-100");
  EXPECT_DOUBLE_EQ(f.ber, 1e-5);
  EXPECT_DOUBLE_EQ(f.drop, 0.001);
  EXPECT_DOUBLE_EQ(f.truncate, 0.002);
  EXPECT_DOUBLE_EQ(f.disconnect_every_s, 30);
  EXPECT_DOUBLE_EQ(f.drift_ppm, -100);
  EXPECT_DOUBLE_EQ(parse_faults("none").ber, 0);
}

TEST(ParseFaults, RejectsBadItemsNamingThem) {
  for (const char* bad : {"ber", "ber=x", "ber=0.9", "jitter=1", "drop=-1", "ber=1e-5,,"}) {
    try {
      (void)parse_faults(bad);
      ADD_FAILURE() << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_FALSE(std::string(e.what()).empty());
    }
  }
}

TEST(FaultInjector, NoFaultsLeaveFramesIntact) {
  FaultInjector injector({}, 1);
  auto f = frame(100);
  EXPECT_FALSE(injector.apply(f));
  EXPECT_EQ(f, frame(100));
}

TEST(FaultInjector, BitErrorRateMatchesTheSetting) {
  FaultInjector injector(parse_faults("ber=1e-3"), 7);
  std::size_t flipped_bits = 0;
  const std::size_t frames = 2000;
  for (std::size_t i = 0; i < frames; ++i) {
    auto f = frame(125);  // 1000 bits
    injector.apply(f);
    for (std::size_t b = 0; b < f.size(); ++b) {
      flipped_bits += static_cast<std::size_t>(__builtin_popcount(f[b] ^ frame(125)[b]));
    }
  }
  // Expected 2000 flips; 5 sigma of a Poisson count is about 225.
  EXPECT_NEAR(static_cast<double>(flipped_bits), 2000.0, 225.0);
}

TEST(FaultInjector, TruncationLosesTheDelimiterAndSameSeedSameDamage) {
  FaultInjector a(parse_faults("truncate=1"), 3);
  FaultInjector b(parse_faults("truncate=1"), 3);
  for (int i = 0; i < 100; ++i) {
    auto fa = frame(50);
    auto fb = frame(50);
    EXPECT_TRUE(a.apply(fa));
    b.apply(fb);
    EXPECT_EQ(fa, fb);
    EXPECT_LT(fa.size(), 49u);
    EXPECT_GE(fa.size(), 1u);
    EXPECT_NE(fa.back(), 0);
  }
}

TEST(FaultInjector, DropRemovesBytes) {
  FaultInjector injector(parse_faults("drop=0.01"), 11);
  std::size_t lost = 0;
  for (int i = 0; i < 1000; ++i) {
    auto f = frame(100);
    injector.apply(f);
    lost += 100 - f.size();
  }
  EXPECT_NEAR(static_cast<double>(lost), 1000.0, 160.0);
}

}  // namespace
}  // namespace spasmwatch::sim
