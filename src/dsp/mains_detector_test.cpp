#include "dsp/mains_detector.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

namespace spasmwatch::dsp {
namespace {

// Raw EMG-like channel (µV): DC offset, slow drift, broadband noise, optional mains at mains_hz
// with a third harmonic.
std::vector<float> raw_emg(double rate_hz, double seconds, double mains_hz, double mains_uv,
                           std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> gauss(0.0, 20.0);
  const auto n = static_cast<std::size_t>(seconds * rate_hz);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / rate_hz;
    double v = 800 + 300 * std::sin(2 * std::numbers::pi * 0.7 * t) + gauss(rng);
    if (mains_hz > 0) {
      v += mains_uv * std::sin(2 * std::numbers::pi * mains_hz * t + 0.4) +
           0.3 * mains_uv * std::sin(2 * std::numbers::pi * 3 * mains_hz * t);
    }
    x[i] = static_cast<float>(v);
  }
  return x;
}

int detect(double rate_hz, const std::vector<float>& x) {
  MainsDetector detector(rate_hz);
  for (std::size_t s = 0; s < x.size(); s += 40) {
    detector.process(std::span(x).subspan(s, std::min<std::size_t>(40, x.size() - s)));
  }
  EXPECT_TRUE(detector.decided());
  return detector.result();
}

TEST(MainsDetector, PicksFiftySixtyOrNone) {
  for (const double rate : {500.0, 1000.0, 2000.0}) {
    SCOPED_TRACE(rate);
    EXPECT_EQ(detect(rate, raw_emg(rate, 3, 50, 10, 1)), 50);
    EXPECT_EQ(detect(rate, raw_emg(rate, 3, 60, 10, 2)), 60);
    EXPECT_EQ(detect(rate, raw_emg(rate, 3, 0, 0, 3)), 0);
    EXPECT_EQ(detect(rate, raw_emg(rate, 3, 50.3, 10, 4)), 50);  // grid frequency off nominal
    EXPECT_EQ(detect(rate, raw_emg(rate, 3, 59.8, 10, 5)), 60);
  }
}

TEST(MainsDetector, NoFalseMainsInNoiseAcrossSeeds) {
  for (std::uint32_t seed = 10; seed < 40; ++seed) {
    EXPECT_EQ(detect(2000, raw_emg(2000, 2.5, 0, 0, seed)), 0) << seed;
  }
}

TEST(MainsDetector, WorksAtLowRatesWithTheFundamentalOnly) {
  // 400 samples in 2 s: the same white noise per sample is 10x denser per Hz than at 2000 Hz, so
  // the mains must be stronger to stand out by 13 dB.
  EXPECT_EQ(detect(200, raw_emg(200, 3, 50, 20, 6)), 50);
  EXPECT_EQ(detect(200, raw_emg(200, 3, 60, 20, 7)), 60);
  EXPECT_EQ(detect(200, raw_emg(200, 3, 0, 0, 8)), 0);
  MainsDetector too_slow(100);  // 50 Hz is Nyquist: nothing can be probed
  const auto x = raw_emg(100, 3, 50, 20, 8);
  too_slow.process(x);
  EXPECT_TRUE(too_slow.decided());
  EXPECT_EQ(too_slow.result(), 0);
}

TEST(MainsDetector, UndecidedUntilEnoughSamplesAndResettable) {
  MainsDetector detector(1000, 2.0);
  const auto x = raw_emg(1000, 3, 60, 10, 9);
  detector.process(std::span(x).first(1999));
  EXPECT_FALSE(detector.decided());
  EXPECT_EQ(detector.result(), 0);
  detector.process(std::span(x).subspan(1999, 1));
  EXPECT_TRUE(detector.decided());
  EXPECT_EQ(detector.result(), 60);
  EXPECT_GT(detector.score(60), 40.0);  // 10 µV in 20 µV RMS of 500 Hz-wide noise: ~80
  EXPECT_LT(detector.score(50), 10.0);
  detector.reset();
  EXPECT_FALSE(detector.decided());
  EXPECT_THROW(MainsDetector(0), std::invalid_argument);
}

}  // namespace
}  // namespace spasmwatch::dsp
