#include "dsp/sos_filter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numbers>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "dsp/emg_envelope.hpp"
#include "dsp/filter_design.hpp"
#include "dsp/test_isa.hpp"

namespace spasmwatch::dsp {
namespace {

// Acceptance criterion against scipy.signal.sosfilt (double precision throughout), for the float
// SosFilter fed the same (integer, hence float-exact) input:
//     max_n |y(n) - y_scipy(n)|  <=  1e-5 * RMS(y_scipy)
// i.e. the worst single-sample error, measured against the signal's RMS (a per-sample relative
// error is meaningless at zero crossings). The reference is stored with 5e-8 RMS resolution.
constexpr double kScipyTolerance = 1e-5;

struct Reference {
  struct Filter {
    std::string kind;
    double rate_hz, f1, f2, quality, scale;
    int order;
    std::vector<double> y;
  };
  std::vector<float> x;
  std::vector<Filter> filters;
};

Reference read_reference(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  Reference ref;
  std::string line, word;
  std::size_t samples = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream is(line);
    is >> word;
    if (word == "samples") {
      is >> samples;
    } else if (word == "filter") {
      Reference::Filter f;
      is >> f.kind >> f.rate_hz >> f.order >> f.f1 >> f.f2 >> f.quality >> f.scale;
      ref.filters.push_back(f);
    } else {
      is.str(line);
      is.clear();
      double v;
      is >> v;
      ref.x.push_back(static_cast<float>(v));
      for (auto& f : ref.filters) {
        long long n;
        is >> n;
        f.y.push_back(static_cast<double>(n) * f.scale);
      }
      if (!is) throw std::runtime_error("bad row in " + path + ": " + line);
    }
  }
  if (ref.x.size() != samples || ref.filters.empty()) throw std::runtime_error("incomplete " + path);
  return ref;
}

std::vector<Sos> design(const Reference::Filter& f) {
  if (f.kind == "lowpass") return butter_lowpass(f.order, f.f1, f.rate_hz);
  if (f.kind == "highpass") return butter_highpass(f.order, f.f1, f.rate_hz);
  if (f.kind == "bandpass") return butter_bandpass(f.order, f.f1, f.f2, f.rate_hz);
  if (f.kind == "notch") return {iir_notch(f.f1, f.quality, f.rate_hz)};
  if (f.kind == "mains") return mains_notches(f.f1, f.rate_hz, f.f2, f.quality);
  throw std::runtime_error("unknown filter kind " + f.kind);
}

// The worst max|y - y_scipy| / RMS over all reference files, filters and channel layouts.
double worst_scipy_deviation(std::string& worst_name) {
  double worst = 0;
  for (const int rate : {200, 500, 1000, 2000}) {
    const auto ref =
        read_reference(std::string(SW_DSP_TESTDATA) + "/sosfilt_" + std::to_string(rate) + ".txt");
    for (const auto& f : ref.filters) {
      const std::string name = f.kind + "/" + std::to_string(f.order) + " @" + std::to_string(rate) + " Hz";
      SCOPED_TRACE(name);
      double rms = 0;
      for (const double v : f.y) rms += v * v;
      rms = std::sqrt(rms / static_cast<double>(f.y.size()));
      // 1 channel (scalar path), 3 and 8 (vector lanes, padded and full), 11 (generic path).
      for (const int channels : {1, 3, 8, 11}) {
        const auto n = static_cast<std::size_t>(channels);
        std::vector<float> data(ref.x.size() * n);
        for (std::size_t i = 0; i < ref.x.size(); ++i) {
          std::fill_n(data.begin() + static_cast<std::ptrdiff_t>(i * n), n, ref.x[i]);
        }
        SosFilter filter(design(f), channels);
        const std::size_t half = data.size() / 2 / n * n;
        filter.process(std::span<float>(data).first(half));  // two blocks
        filter.process(std::span<float>(data).subspan(half));
        double max_err = 0;
        for (std::size_t i = 0; i < ref.x.size(); ++i) {
          for (std::size_t c = 0; c < n; ++c) max_err = std::max(max_err, std::abs(data[i * n + c] - f.y[i]));
        }
        EXPECT_LE(max_err / rms, kScipyTolerance) << channels << " channels";
        if (max_err / rms > worst) {
          worst = max_err / rms;
          worst_name = name;
        }
      }
    }
  }
  return worst;
}

using test::IsaScope;
using test::supported_isas;

TEST(SosFilter, FilterMatchesScipySosfiltAtAllRatesOnEveryIsaLevel) {
  for (const detail::Isa isa : supported_isas()) {
    SCOPED_TRACE(detail::isa_name(isa));
    const IsaScope scope(isa);
    std::string worst_name;
    const double worst = worst_scipy_deviation(worst_name);
    std::printf("[ SciPy    ] sosfilt on %s: worst max|y - y_scipy| / RMS = %.2e (%s)\n",
                detail::isa_name(isa), worst, worst_name.c_str());
  }
}

std::vector<float> noise(std::size_t n, std::uint32_t seed, float sigma) {
  std::mt19937 rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = sigma * (static_cast<float>(rng() >> 8) * 0x1.0p-24f - 0.5f) + 30.0f;
  return v;
}

TEST(SosFilter, ResultsDoNotDependOnBlockCutting) {
  EmgFilterSpec spec;
  spec.mains_harmonics = true;
  const auto sections = design_emg_filter(spec);
  for (const detail::Isa isa : supported_isas()) {
    const IsaScope scope(isa);
    for (const int channels : {1, 3, 8, 11}) {
      const auto n = static_cast<std::size_t>(channels);
      const auto input = noise(5000 * n, 7, 1000);
      std::vector<float> whole = input;
      SosFilter(sections, channels).process(whole);
      for (const std::size_t block : {1u, 7u, 64u, 4096u}) {
        std::vector<float> cut = input;
        SosFilter filter(sections, channels);
        for (std::size_t start = 0; start < cut.size(); start += block * n) {
          const std::size_t len = std::min(block * n, cut.size() - start);
          filter.process(std::span<float>(cut).subspan(start, len));
        }
        EXPECT_EQ(cut, whole) << detail::isa_name(isa) << ", " << channels << " channels, blocks of "
                              << block;
      }
    }
  }
}

// Steady-state gain of `sections` for a sine at freq_hz (RMS ratio over the last second of 4 s).
double gain_at(const std::vector<Sos>& sections, double freq_hz, double rate_hz) {
  const auto n = static_cast<std::size_t>(4 * rate_hz);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(std::sin(2 * std::numbers::pi * freq_hz * static_cast<double>(i) / rate_hz));
  }
  SosFilter filter(sections, 1);
  filter.process(x);
  double sum = 0;
  const std::size_t from = n - static_cast<std::size_t>(rate_hz);
  for (std::size_t i = from; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  return std::sqrt(sum / static_cast<double>(n - from)) * std::numbers::sqrt2;
}

double db(double gain) {
  return 20 * std::log10(gain);
}

TEST(SosFilter, BandPassPassesTheBandAndStopsOutside) {
  const auto bp = butter_bandpass(4, 20, 450, 2000);
  for (const double f : {60.0, 100.0, 200.0, 300.0}) EXPECT_NEAR(gain_at(bp, f, 2000), 1.0, 0.01) << f;
  EXPECT_NEAR(db(gain_at(bp, 20, 2000)), -3.01, 0.05);  // -3 dB at the edges
  EXPECT_NEAR(db(gain_at(bp, 450, 2000)), -3.01, 0.05);
  EXPECT_LT(db(gain_at(bp, 5, 2000)), -45.0);  // 2 octaves below: 4th order, -48 dB
  EXPECT_LT(db(gain_at(bp, 900, 2000)), -40.0);
}

TEST(SosFilter, LowAndHighPassHaveTheirCutoffs) {
  EXPECT_NEAR(db(gain_at(butter_lowpass(2, 5, 100), 5, 100)), -3.01, 0.05);
  EXPECT_NEAR(gain_at(butter_lowpass(2, 5, 100), 0.5, 100), 1.0, 0.001);
  EXPECT_LT(db(gain_at(butter_lowpass(4, 5, 100), 20, 100)), -45.0);
  EXPECT_NEAR(db(gain_at(butter_highpass(4, 20, 1000), 20, 1000)), -3.01, 0.05);
  EXPECT_NEAR(gain_at(butter_highpass(4, 20, 1000), 200, 1000), 1.0, 0.001);
}

TEST(SosFilter, NotchRemovesMainsAndKeepsNeighbours) {
  for (const double rate : {500.0, 1000.0, 2000.0}) {
    const auto notches = mains_notches(50, rate, 0.45 * rate, 30);
    EXPECT_LT(db(gain_at(notches, 50, rate)), -40.0) << rate;
    EXPECT_LT(db(gain_at(notches, 150, rate)), -40.0) << rate;
    EXPECT_GT(db(gain_at(notches, 45, rate)), -1.0) << rate;  // bandwidth 50/30 = 1.7 Hz
    EXPECT_GT(db(gain_at(notches, 75, rate)), -0.5) << rate;
  }
  EXPECT_NEAR(db(gain_at({iir_notch(60, 30, 1000)}, 60 + 1.0, 1000)), -3.01, 0.1);  // -3 dB at f +- f/2Q
}

TEST(SosFilter, SettleStartsWithoutTransient) {
  SosFilter filter(butter_lowpass(2, 0.4, 100), 3);
  const std::vector<float> first{0.1f, -0.2f, 0.97f};
  filter.settle(first);
  std::vector<float> x;
  for (int i = 0; i < 300; ++i) x.insert(x.end(), first.begin(), first.end());
  filter.process(x);
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], first[i % 3], 1e-6);
}

TEST(SosFilter, RejectsPartialTimePointsAndBadChannels) {
  SosFilter filter(butter_lowpass(2, 10, 100), 3);
  std::vector<float> x(7);
  EXPECT_THROW(filter.process(x), std::invalid_argument);
  EXPECT_THROW(SosFilter(butter_lowpass(2, 10, 100), 0), std::invalid_argument);
  SosFilter pass({}, 2);  // empty cascade passes through
  std::vector<float> y{1, 2, 3, 4};
  pass.process(y);
  EXPECT_EQ(y, (std::vector<float>{1, 2, 3, 4}));
}

}  // namespace
}  // namespace spasmwatch::dsp
