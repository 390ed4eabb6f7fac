#include "dsp/filter_design.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace spasmwatch::dsp {
namespace {

// Coefficients must agree with SciPy to this (relative to the largest numerator coefficient of
// the section for b, absolute for a, which lie in [-2, 2]): the designs follow SciPy's steps, so
// only rounding differs.
constexpr double kCoefficientTolerance = 1e-9;

struct Design {
  std::string kind;
  double rate_hz = 0;
  int order = 0;
  double f1 = 0, f2 = 0, quality = 0;
  std::vector<Sos> scipy;
};

std::vector<Design> read_designs(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<Design> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream is(line);
    Design d;
    std::size_t sections = 0;
    is >> d.kind >> d.rate_hz >> d.order >> d.f1 >> d.f2 >> d.quality >> sections;
    if (!is) throw std::runtime_error("bad design line in " + path + ": " + line);
    for (std::size_t i = 0; i < sections; ++i) {
      Sos s;
      if (!(in >> s.b0 >> s.b1 >> s.b2 >> s.a1 >> s.a2)) throw std::runtime_error("bad section in " + path);
      d.scipy.push_back(s);
    }
    in >> std::ws;
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Sos> design_like_scipy(const Design& d) {
  if (d.kind == "lowpass") return butter_lowpass(d.order, d.f1, d.rate_hz);
  if (d.kind == "highpass") return butter_highpass(d.order, d.f1, d.rate_hz);
  if (d.kind == "bandpass") return butter_bandpass(d.order, d.f1, d.f2, d.rate_hz);
  if (d.kind == "notch") return {iir_notch(d.f1, d.quality, d.rate_hz)};
  if (d.kind == "mains") return mains_notches(d.f1, d.rate_hz, d.f2, d.quality);
  throw std::runtime_error("unknown design kind " + d.kind);
}

TEST(FilterDesign, MatchesScipyCoefficients) {
  const auto designs = read_designs(std::string(SW_DSP_TESTDATA) + "/butter_sos.txt");
  ASSERT_GT(designs.size(), 100u);
  double worst_b = 0, worst_a = 0;
  for (const Design& d : designs) {
    SCOPED_TRACE(d.kind + " rate " + std::to_string(d.rate_hz) + " order " + std::to_string(d.order) +
                 " f1 " + std::to_string(d.f1) + " f2 " + std::to_string(d.f2));
    const auto mine = design_like_scipy(d);
    ASSERT_EQ(mine.size(), d.scipy.size());
    for (std::size_t i = 0; i < mine.size(); ++i) {
      const Sos& m = mine[i];
      const Sos& r = d.scipy[i];
      const double b_scale = std::max({std::abs(r.b0), std::abs(r.b1), std::abs(r.b2)});
      const double db =
          std::max({std::abs(m.b0 - r.b0), std::abs(m.b1 - r.b1), std::abs(m.b2 - r.b2)}) / b_scale;
      const double da = std::max(std::abs(m.a1 - r.a1), std::abs(m.a2 - r.a2));
      EXPECT_LE(db, kCoefficientTolerance) << "section " << i;
      EXPECT_LE(da, kCoefficientTolerance) << "section " << i;
      worst_b = std::max(worst_b, db);
      worst_a = std::max(worst_a, da);
    }
  }
  std::printf("[ SciPy    ] %zu designs: max |db|/max|b| = %.2e, max |da| = %.2e\n", designs.size(), worst_b,
              worst_a);
}

std::string error_of(auto&& call) {
  try {
    call();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(FilterDesign, InvalidArgumentsNameTheValue) {
  EXPECT_NE(error_of([] { (void)butter_lowpass(4, 1000, 2000); }).find("cutoff_hz = 1000"),
            std::string::npos);
  EXPECT_NE(error_of([] { (void)butter_highpass(0, 10, 2000); }).find("order = 0"), std::string::npos);
  EXPECT_NE(error_of([] { (void)butter_bandpass(4, 450, 20, 2000); }).find("low_hz = 450"),
            std::string::npos);
  EXPECT_NE(error_of([] { (void)butter_bandpass(4, 20, 450, 200); }).find("high_hz = 450"),
            std::string::npos);
  EXPECT_NE(error_of([] { (void)butter_lowpass(2, 10, -5); }).find("rate_hz = -5"), std::string::npos);
  EXPECT_NE(error_of([] { (void)iir_notch(50, 0, 2000); }).find("quality = 0"), std::string::npos);
  EXPECT_NE(error_of([] { (void)iir_notch(1000, 30, 2000); }).find("freq_hz = 1000"), std::string::npos);
  EXPECT_NE(error_of([] { (void)mains_notches(-50, 2000, 450, 30); }).find("mains_hz = -50"),
            std::string::npos);
  EXPECT_NE(error_of([] { (void)adapt_band(20, 10, 2000); }).find("high_hz = 10"), std::string::npos);
}

TEST(FilterDesign, SectionCountsFollowScipyOrder) {
  EXPECT_EQ(butter_lowpass(1, 10, 1000).size(), 1u);
  EXPECT_EQ(butter_lowpass(3, 10, 1000).size(), 2u);
  EXPECT_EQ(butter_highpass(4, 10, 1000).size(), 2u);
  EXPECT_EQ(butter_bandpass(4, 20, 450, 2000).size(), 4u);  // order N band-pass: N sections
  EXPECT_EQ(butter_bandpass(1, 20, 450, 2000).size(), 1u);
}

TEST(FilterDesign, AdaptBandClampsBelowNyquistAndKeepsAnOctave) {
  const Band full = adapt_band(20, 450, 2000);
  EXPECT_DOUBLE_EQ(full.low_hz, 20);
  EXPECT_DOUBLE_EQ(full.high_hz, 450);
  const Band low_rate = adapt_band(20, 450, 200);  // a 200 Hz stream cannot carry 20-450 Hz
  EXPECT_DOUBLE_EQ(low_rate.high_hz, 90);
  EXPECT_DOUBLE_EQ(low_rate.low_hz, 20);
  const Band very_low = adapt_band(20, 450, 50);
  EXPECT_DOUBLE_EQ(very_low.high_hz, 22.5);
  EXPECT_DOUBLE_EQ(very_low.low_hz, 11.25);
  const Band tremor = adapt_band(3, 8, 25);
  EXPECT_DOUBLE_EQ(tremor.low_hz, 3);
  EXPECT_DOUBLE_EQ(tremor.high_hz, 8);
  // Whatever the rate, the result is designable.
  for (const double rate : {25.0, 50.0, 100.0, 200.0, 500.0, 1000.0}) {
    const Band b = adapt_band(20, 450, rate);
    EXPECT_NO_THROW((void)butter_bandpass(4, b.low_hz, b.high_hz, rate)) << rate;
  }
}

TEST(FilterDesign, MainsNotchesCoverHarmonicsBelowTheLimit) {
  EXPECT_EQ(mains_notches(50, 2000, 450, 30).size(), 9u);  // 50 .. 450 Hz
  EXPECT_EQ(mains_notches(60, 2000, 450, 30).size(), 7u);  // 60 .. 420 Hz
  EXPECT_EQ(mains_notches(50, 2000, 50, 30).size(), 1u);   // fundamental only
  EXPECT_EQ(mains_notches(50, 200, 90, 30).size(), 1u);
  EXPECT_EQ(mains_notches(60, 120, 450, 30).size(), 0u);    // 60 Hz is Nyquist: nothing to notch
  EXPECT_EQ(mains_notches(50, 1000, 1000, 30).size(), 9u);  // up to 0.95 x Nyquist = 475 Hz
  const Sos n = iir_notch(50, 30, 2000);
  const Sos first = mains_notches(50, 2000, 450, 30).front();
  EXPECT_DOUBLE_EQ(first.b1, n.b1);
  EXPECT_DOUBLE_EQ(first.a2, n.a2);
}

}  // namespace
}  // namespace spasmwatch::dsp
