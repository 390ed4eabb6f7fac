#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <vector>

#include "dsp/emg_envelope.hpp"
#include "dsp/envelopes.hpp"
#include "dsp/sos_filter.hpp"
#include "dsp/test_isa.hpp"

namespace spasmwatch::dsp {
namespace {

constexpr double kPi = std::numbers::pi;

// Interleaved int32 counts: channel c carries a sine of amplitude amplitude[c] at freq_hz plus
// uniform noise, with a DC offset.
std::vector<std::int32_t> counts(std::size_t points, int channels, double rate_hz, double freq_hz,
                                 const std::vector<double>& amplitude, double noise, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::int32_t> out(points * static_cast<std::size_t>(channels));
  for (std::size_t i = 0; i < points; ++i) {
    for (int c = 0; c < channels; ++c) {
      const double v = 1000 +
                       amplitude[static_cast<std::size_t>(c)] *
                           std::sin(2 * kPi * freq_hz * static_cast<double>(i) / rate_hz + c) +
                       noise * (static_cast<double>(rng()) / 4294967296.0 - 0.5);
      out[i * static_cast<std::size_t>(channels) + static_cast<std::size_t>(c)] =
          static_cast<std::int32_t>(std::lround(v));
    }
  }
  return out;
}

TEST(EmgEnvelopeKernel, TicksDoNotDependOnBlockCutting) {
  EmgFilterSpec spec;
  spec.mains_harmonics = true;
  for (const auto isa : test::supported_isas()) {
    const test::IsaScope scope(isa);
    for (const int channels : {1, 3, 8, 10}) {
      const auto n = static_cast<std::size_t>(channels);
      const auto input = counts(6000, channels, 2000, 87, std::vector<double>(n, 3000), 4000, 3);
      std::vector<float> whole;
      EmgEnvelopeKernel(design_emg_filter(spec), channels, 0.05, 20).process(input, whole);
      ASSERT_EQ(whole.size(), 300 * n);
      for (const std::size_t block : {1u, 7u, 64u, 4096u}) {
        EmgEnvelopeKernel kernel(design_emg_filter(spec), channels, 0.05, 20);
        std::vector<float> cut;
        std::size_t ticks = 0;
        for (std::size_t start = 0; start < input.size(); start += block * n) {
          const std::size_t len = std::min(block * n, input.size() - start);
          ticks += kernel.process(std::span(input).subspan(start, len), cut);
        }
        EXPECT_EQ(ticks, 300u);
        EXPECT_EQ(cut, whole) << detail::isa_name(isa) << ", " << channels << " channels, blocks of "
                              << block;
      }
    }
  }
}

TEST(EmgEnvelopeKernel, IsaLevelsAgreeToRounding) {
  EmgFilterSpec spec;
  spec.mains_harmonics = true;
  for (const int channels : {2, 5, 8}) {
    const auto n = static_cast<std::size_t>(channels);
    const auto input = counts(4000, channels, 2000, 63, std::vector<double>(n, 2500), 5000, 11);
    std::vector<float> best;
    EmgEnvelopeKernel(design_emg_filter(spec), channels, 0.1, 20).process(input, best);
    for (const auto isa : test::supported_isas()) {
      const test::IsaScope scope(isa);
      std::vector<float> ticks;
      EmgEnvelopeKernel(design_emg_filter(spec), channels, 0.1, 20).process(input, ticks);
      ASSERT_EQ(ticks.size(), best.size());
      for (std::size_t i = 0; i < ticks.size(); ++i) {
        EXPECT_NEAR(ticks[i], best[i], 1e-6 * best[i]) << detail::isa_name(isa) << " tick value " << i;
      }
    }
  }
}

TEST(EmgEnvelopeKernel, MatchesFilterThenMeanSquare) {
  const int channels = 8;
  const auto sections = design_emg_filter({});
  const auto input = counts(4000, channels, 2000, 120, std::vector<double>(8, 2000), 3000, 5);
  std::vector<float> ticks;
  EmgEnvelopeKernel(sections, channels, 0.1, 40).process(input, ticks);

  std::vector<float> uv(input.size());
  for (std::size_t i = 0; i < input.size(); ++i) uv[i] = static_cast<float>(input[i] * 0.1);
  SosFilter(sections, channels).process(uv);
  ASSERT_EQ(ticks.size(), 100u * channels);
  for (std::size_t t = 0; t < 100; ++t) {
    for (std::size_t c = 0; c < channels; ++c) {
      double sum = 0;
      for (std::size_t i = t * 40; i < (t + 1) * 40; ++i)
        sum += static_cast<double>(uv[i * channels + c]) * uv[i * channels + c];
      EXPECT_NEAR(ticks[t * channels + c], sum / 40, 1e-5 * sum / 40 + 1e-6) << t << " " << c;
    }
  }
}

TEST(EmgEnvelopeKernel, MeanSquareOfASineIsHalfItsSquaredAmplitude) {
  // 100 Hz at 2000 Hz, tick 20 samples = 2 periods: every settled tick is exactly A^2 / 2.
  const std::vector<double> amplitude{1000, 250, 4000};
  const auto input = counts(8000, 3, 2000, 100, amplitude, 0, 1);
  std::vector<float> ticks;
  EmgEnvelopeKernel kernel(design_emg_filter({}), 3, 0.5, 20);
  kernel.process(input, ticks);
  for (std::size_t t = 200; t < 400; ++t) {
    for (std::size_t c = 0; c < 3; ++c) {
      const double a_uv = amplitude[c] * 0.5;
      EXPECT_NEAR(std::sqrt(ticks[t * 3 + c]), a_uv / std::numbers::sqrt2, 0.005 * a_uv) << t << " " << c;
    }
  }
}

TEST(EmgEnvelopeKernel, AlignTickRestartsTheTickPhase) {
  EmgEnvelopeKernel kernel(design_emg_filter({}), 2, 1.0, 10);
  std::vector<std::int32_t> block(2 * 25, 5);
  std::vector<float> out;
  EXPECT_EQ(kernel.process(block, out), 2u);
  EXPECT_EQ(kernel.samples_into_tick(), 5);
  kernel.align_tick(8);  // a gap: the next tick ends after 2 more points
  out.clear();
  EXPECT_EQ(kernel.process(std::span(block).first(2 * 2), out), 1u);
  EXPECT_THROW(kernel.align_tick(10), std::invalid_argument);
  EXPECT_THROW(EmgEnvelopeKernel(design_emg_filter({}), 2, 1.0, 0), std::invalid_argument);
}

std::vector<float> sine(std::size_t n, double amplitude, double freq_hz, double rate_hz) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = static_cast<float>(amplitude * std::sin(2 * kPi * freq_hz * static_cast<double>(i) / rate_hz));
  }
  return v;
}

TEST(RmsEnvelope, RmsOfASineIsAmplitudeOverRootTwo) {
  auto x = sine(4000, 80.0, 50, 2000);  // window 200 = 5 periods
  RmsEnvelope env(1, 200);
  env.process(x);
  for (std::size_t i = 200; i < x.size(); ++i) EXPECT_NEAR(x[i], 80.0 / std::numbers::sqrt2, 1e-3) << i;
  // Before the window has filled, the mean is over the samples seen: a constant stays constant.
  std::vector<float> c(10, -3.0f);
  RmsEnvelope fresh(1, 200);
  fresh.process(c);
  for (const float v : c) EXPECT_FLOAT_EQ(v, 3.0f);
}

TEST(RmsEnvelope, NoDriftAfterLargeSignals) {
  RmsEnvelope env(2, 100);
  std::mt19937 rng(9);
  std::vector<float> big(2 * 200000);
  for (auto& v : big) v = static_cast<float>(rng() % 2000000) - 1e6f;  // +-1e6
  for (std::size_t start = 0; start < big.size(); start += 2 * 333) {
    env.process(std::span(big).subspan(start, std::min<std::size_t>(2 * 333, big.size() - start)));
  }
  std::vector<float> small(2 * 1000, 0.01f);
  env.process(small);
  for (std::size_t i = 2 * 100; i < small.size(); ++i) EXPECT_FLOAT_EQ(small[i], 0.01f) << i;
}

TEST(RmsEnvelope, BlockCuttingDoesNotMatter) {
  const auto input = sine(3000 * 3, 10.0, 37, 1000);
  for (const auto isa : test::supported_isas()) {
    const test::IsaScope scope(isa);
    std::vector<float> whole = input;
    RmsEnvelope(3, 77).process(whole);
    for (const std::size_t block : {1u, 7u, 64u, 4096u}) {
      std::vector<float> cut = input;
      RmsEnvelope env(3, 77);
      for (std::size_t s = 0; s < cut.size(); s += 3 * block) {
        env.process(std::span(cut).subspan(s, std::min(3 * block, cut.size() - s)));
      }
      EXPECT_EQ(cut, whole) << block;
    }
  }
}

TEST(LowpassEnvelope, RectifiedSineSettlesAtTwoOverPiOfTheAmplitude) {
  auto x = sine(20000, 50.0, 100, 2000);
  LowpassEnvelope env(1, 5, 2000);
  env.process(x);
  for (std::size_t i = 10000; i < x.size(); ++i) EXPECT_NEAR(x[i], 2 * 50.0 / kPi, 0.01 * 50.0) << i;
}

TEST(TeagerKaiserEnergy, SineGivesConstantEnergy) {
  // Psi[A sin(w n)] = A^2 sin^2(w), ~ A^2 w^2 for small w.
  const double a = 20, f = 30, rate = 1000;
  const double w = 2 * kPi * f / rate;
  const auto x = sine(2000, a, f, rate);
  std::vector<float> psi(x.size());
  TeagerKaiserEnergy tkeo(1);
  tkeo.process(x, psi);
  EXPECT_EQ(psi[0], 0.0f);
  for (std::size_t i = 2; i < psi.size(); ++i)
    EXPECT_NEAR(psi[i], a * a * std::sin(w) * std::sin(w), 2e-3) << i;
  EXPECT_NEAR(a * a * std::sin(w) * std::sin(w), a * a * w * w, 0.02 * a * a * w * w);
}

TEST(TeagerKaiserEnergy, StreamsAcrossBlocksInPlace) {
  const auto x = sine(2 * 500, 3.0, 11, 250);
  std::vector<float> whole(x.size());
  TeagerKaiserEnergy(2).process(x, whole);
  for (const std::size_t block : {1u, 7u, 64u}) {
    std::vector<float> cut = x;  // in place
    TeagerKaiserEnergy tkeo(2);
    for (std::size_t s = 0; s < cut.size(); s += 2 * block) {
      const auto part = std::span(cut).subspan(s, std::min(2 * block, cut.size() - s));
      tkeo.process(part, part);
    }
    EXPECT_EQ(cut, whole) << block;
  }
}

}  // namespace
}  // namespace spasmwatch::dsp
