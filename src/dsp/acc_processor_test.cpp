#include "dsp/acc_processor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numbers>
#include <vector>

namespace spasmwatch::dsp {
namespace {

constexpr double kPi = std::numbers::pi;

// seconds of x, y, z from f(t) -> {x, y, z}.
std::vector<float> acc(double rate_hz, double seconds,
                       const std::function<std::array<double, 3>(double)>& f) {
  const auto n = static_cast<std::size_t>(seconds * rate_hz);
  std::vector<float> out(3 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto v = f(static_cast<double>(i) / rate_hz);
    for (std::size_t a = 0; a < 3; ++a) out[3 * i + a] = static_cast<float>(v[a]);
  }
  return out;
}

std::vector<AccTick> run(double rate_hz, const std::vector<float>& xyz, std::size_t block_points = 25) {
  AccProcessor p(rate_hz, std::max(1, static_cast<int>(std::lround(0.1 * rate_hz))));
  std::vector<AccTick> ticks;
  for (std::size_t s = 0; s < xyz.size(); s += 3 * block_points) {
    p.process(std::span(xyz).subspan(s, std::min(3 * block_points, xyz.size() - s)), ticks);
  }
  return ticks;
}

TEST(AccProcessor, PostureFromGravity) {
  EXPECT_EQ(AccProcessor::posture_of({0, 0, 1}), Posture::upright);
  EXPECT_EQ(AccProcessor::posture_of({0.3f, 0.2f, -0.93f}), Posture::upright);  // upside down: still upright
  EXPECT_EQ(AccProcessor::posture_of({1, 0, 0}), Posture::lying);
  EXPECT_EQ(AccProcessor::posture_of({0, 0.8f, 0.6f}), Posture::lying);
  EXPECT_EQ(AccProcessor::posture_of({0, 0, 0.1f}), Posture::unknown);

  // Upright for 10 s, then lying down (gravity moves from z to x).
  const auto xyz = acc(50, 30, [](double t) -> std::array<double, 3> {
    return t < 10 ? std::array<double, 3>{0.05, 0.02, 0.99} : std::array<double, 3>{0.98, 0.1, 0.1};
  });
  const auto ticks = run(50, xyz);
  ASSERT_EQ(ticks.size(), 300u);
  EXPECT_EQ(ticks[0].posture, Posture::upright);  // gravity is settled on the first sample
  EXPECT_EQ(ticks[95].posture, Posture::upright);
  EXPECT_EQ(ticks.back().posture, Posture::lying);
  EXPECT_NEAR(ticks.back().gravity_g[0], 0.98, 0.01);
}

TEST(AccProcessor, StillDeviceHasNoMovement) {
  for (const double rate : {25.0, 100.0, 400.0}) {
    const auto ticks = run(rate, acc(rate, 10, [](double) {
                             return std::array<double, 3>{0.1, -0.2, 0.97};
                           }));
    for (const AccTick& t : ticks) {
      EXPECT_LT(t.movement_g, 1e-5) << rate;
      EXPECT_LT(t.jerk_g_per_s, 1e-3) << rate;
      EXPECT_LT(t.tremor_g2, 1e-10) << rate;
      EXPECT_LT(t.sway_g2, 1e-10) << rate;
    }
  }
}

TEST(AccProcessor, MovementAndJerkOfAnOscillation) {
  // 0.1 g at 2 Hz along x: |dynamic| RMS ~ 0.1/sqrt2 (the 0.4 Hz gravity low-pass keeps ~4% of
  // it), jerk RMS ~ 0.1 * 2 pi * 2 / sqrt2.
  const double rate = 100;
  const auto ticks = run(rate, acc(rate, 20, [](double t) {
                           return std::array<double, 3>{0.1 * std::sin(2 * kPi * 2 * t), 0, 1};
                         }));
  double move = 0, jerk = 0;
  for (std::size_t i = 100; i < ticks.size(); ++i) {
    move += static_cast<double>(ticks[i].movement_g) * ticks[i].movement_g;
    jerk += static_cast<double>(ticks[i].jerk_g_per_s) * ticks[i].jerk_g_per_s;
  }
  move = std::sqrt(move / static_cast<double>(ticks.size() - 100));
  jerk = std::sqrt(jerk / static_cast<double>(ticks.size() - 100));
  EXPECT_NEAR(move, 0.1 / std::numbers::sqrt2, 0.1 * 0.1 / std::numbers::sqrt2);
  EXPECT_NEAR(jerk, 0.1 * 2 * kPi * 2 / std::numbers::sqrt2, 0.1 * 0.89);
}

TEST(AccProcessor, TremorBandPowerRisesWithAFiveHertzOscillation) {
  for (const double rate : {25.0, 50.0, 100.0, 400.0}) {
    SCOPED_TRACE(rate);
    const auto oscillation = [](double hz) {
      return [hz](double t) { return std::array<double, 3>{0.02, 0.05 * std::sin(2 * kPi * hz * t), 0.99}; };
    };
    const auto mean_tremor = [&](double hz) {
      const auto ticks = run(rate, acc(rate, 20, oscillation(hz)));
      double sum = 0;
      for (std::size_t i = 50; i < ticks.size(); ++i) sum += ticks[i].tremor_g2;
      return sum / static_cast<double>(ticks.size() - 50);
    };
    const double at_5hz = mean_tremor(5);
    EXPECT_NEAR(at_5hz, 0.05 * 0.05 / 2, 0.3 * 0.05 * 0.05 / 2);  // in band: ~ full power
    EXPECT_LT(mean_tremor(0.8), 0.05 * at_5hz);                   // slow sway is not tremor
    const auto still = run(rate, acc(rate, 20, [](double) { return std::array<double, 3>{0.02, 0, 0.99}; }));
    EXPECT_LT(still.back().tremor_g2, 1e-6 * at_5hz);
  }
}

TEST(AccProcessor, SwayBandPowerRisesWithASlowOscillationNotWithTremor) {
  for (const double rate : {25.0, 50.0, 100.0, 400.0}) {
    SCOPED_TRACE(rate);
    const auto mean_bands = [&](double hz) {
      const auto ticks = run(rate, acc(rate, 20, [hz](double t) {
                               return std::array<double, 3>{0.02, 0.05 * std::sin(2 * kPi * hz * t), 0.99};
                             }));
      double sway = 0, tremor = 0;
      for (std::size_t i = 50; i < ticks.size(); ++i) {
        sway += ticks[i].sway_g2;
        tremor += ticks[i].tremor_g2;
      }
      const auto n = static_cast<double>(ticks.size() - 50);
      return std::pair{sway / n, tremor / n};
    };
    const auto [sway_slow, tremor_slow] = mean_bands(1.5);           // shifting in the seat
    EXPECT_NEAR(sway_slow, 0.05 * 0.05 / 2, 0.3 * 0.05 * 0.05 / 2);  // in band: ~ full power
    EXPECT_LT(tremor_slow, 0.2 * sway_slow);
    const auto [sway_fast, tremor_fast] = mean_bands(8);  // a spasm's jolt rings at ~8 Hz
    EXPECT_LT(sway_fast, 0.1 * tremor_fast);
    EXPECT_LT(sway_fast, 0.05 * sway_slow);
  }
}

TEST(AccProcessor, TicksDoNotDependOnBlockCutting) {
  const auto xyz = acc(100, 12, [](double t) {
    return std::array<double, 3>{0.3 * std::sin(7 * t), 0.2 * std::cos(31 * t), 0.9 + 0.05 * std::sin(3 * t)};
  });
  const auto whole = run(100, xyz, 100000);
  for (const std::size_t block : {1u, 7u, 64u, 4096u}) {
    const auto cut = run(100, xyz, block);
    ASSERT_EQ(cut.size(), whole.size());
    for (std::size_t i = 0; i < cut.size(); ++i) {
      EXPECT_EQ(cut[i].movement_g, whole[i].movement_g);
      EXPECT_EQ(cut[i].jerk_g_per_s, whole[i].jerk_g_per_s);
      EXPECT_EQ(cut[i].tremor_g2, whole[i].tremor_g2);
      EXPECT_EQ(cut[i].sway_g2, whole[i].sway_g2);
      EXPECT_EQ(cut[i].gravity_g, whole[i].gravity_g);
    }
  }
}

TEST(AccProcessor, RejectsBadArguments) {
  EXPECT_THROW(AccProcessor(5, 10), std::invalid_argument);
  EXPECT_THROW(AccProcessor(50, 0), std::invalid_argument);
  AccProcessor p(50, 5);
  std::vector<AccTick> out;
  std::vector<float> partial(4);
  EXPECT_THROW(p.process(partial, out), std::invalid_argument);
  EXPECT_EQ(p.tremor_band().high_hz, 8.0);
}

}  // namespace
}  // namespace spasmwatch::dsp
