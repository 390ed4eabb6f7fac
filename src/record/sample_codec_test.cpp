#include "record/sample_codec.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

namespace spasmwatch::record {
namespace {

constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();

std::vector<std::uint8_t> encode(const std::vector<std::int32_t>& samples, std::uint32_t time_points) {
  std::vector<std::uint8_t> out;
  encode_samples(samples, time_points, out);
  EXPECT_LE(out.size(), max_encoded_sample_bytes(samples.size(), time_points));
  return out;
}

std::vector<std::int32_t> decode(const std::vector<std::uint8_t>& bytes, std::size_t count,
                                 std::uint32_t time_points) {
  std::vector<std::int32_t> out(count, 0x5A5A5A5A);
  EXPECT_EQ(decode_samples(bytes, time_points, out), SampleDecodeError::none);
  return out;
}

void expect_round_trip(const std::vector<std::int32_t>& samples, std::uint32_t time_points) {
  const auto bytes = encode(samples, time_points);
  EXPECT_EQ(decode(bytes, samples.size(), time_points), samples)
      << samples.size() << " values, " << time_points << " time points";
}

// Zero-mean Gaussian noise of `sigma` counts with occasional bursts, rounded to int16 range, like
// surface EMG at 0.25 uV/count.
std::vector<std::int32_t> emg_like(std::mt19937& rng, std::size_t time_points, std::size_t channels,
                                   double sigma, double burst_sigma = 0) {
  std::normal_distribution<double> noise(0.0, sigma);
  std::normal_distribution<double> burst(0.0, burst_sigma);
  std::vector<std::int32_t> v(time_points * channels);
  for (auto& x : v) {
    double value = noise(rng);
    if (burst_sigma > 0) value += burst(rng);
    x = static_cast<std::int32_t>(std::clamp(std::lround(value), -32768L, 32767L));
  }
  return v;
}

TEST(SampleCodec, RoundTripsRandomFullRangeValues) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<std::int32_t> any(kMin, kMax);
  for (std::uint32_t channels = 1; channels <= 8; ++channels) {
    for (std::uint32_t time_points : {1u, 2u, 3u, 40u, 64u, 65u, 200u}) {
      std::vector<std::int32_t> v(time_points * channels);
      for (auto& x : v) x = any(rng);
      expect_round_trip(v, time_points);
    }
  }
}

TEST(SampleCodec, RoundTripsRandomSmallValuesForOneToEightChannels) {
  std::mt19937 rng(2);
  for (std::uint32_t channels = 1; channels <= 8; ++channels) {
    for (int bits = 0; bits <= 31; ++bits) {
      const std::int64_t limit = (std::int64_t{1} << bits) - 1;
      std::uniform_int_distribution<std::int64_t> small(-limit, limit);
      std::vector<std::int32_t> v(40 * channels);
      for (auto& x : v) x = static_cast<std::int32_t>(small(rng));
      expect_round_trip(v, 40);
    }
  }
}

TEST(SampleCodec, RoundTripsConstants) {
  for (std::int32_t c : {0, 1, -1, 12345, kMin, kMax}) {
    for (std::uint32_t channels : {1u, 3u, 8u}) {
      expect_round_trip(std::vector<std::int32_t>(40 * channels, c), 40);
    }
  }
}

TEST(SampleCodec, ConstantBlockTakesTwoBytesPerChannel) {
  // Anchor (one byte for 0) and one header byte of width 0 per channel.
  const auto bytes = encode(std::vector<std::int32_t>(8 * 40, 0), 40);
  EXPECT_EQ(bytes.size(), 16u);
}

TEST(SampleCodec, RoundTripsRampsAndCodesThemWithTheSecondOrderPredictor) {
  for (std::int64_t slope : {1LL, -7LL, 1000LL, 1LL << 20, -(1LL << 24)}) {
    std::vector<std::int32_t> v(1000);
    for (std::size_t i = 0; i < v.size(); ++i) {
      v[i] = static_cast<std::int32_t>(-1'000'000 + slope * static_cast<std::int64_t>(i) % (1LL << 30));
    }
    expect_round_trip(v, 1000);
  }
  std::vector<std::int32_t> ramp(1000);
  for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<std::int32_t>(3 * i) - 1500;
  const auto bytes = encode(ramp, 1000);
  // Anchor, then 16 sub-blocks: the first holds the slope (3) once, the rest are all zero residuals.
  EXPECT_LE(bytes.size(), 2u + 1u + 64u * 3u / 8u + 15u);
}

TEST(SampleCodec, RoundTripsInt32ExtremesWhereResidualsOverflow32Bits) {
  // Alternating extremes: first- and second-order residuals need 33-34 bits, so only the raw form
  // (order 0) fits.
  std::vector<std::int32_t> v;
  for (int i = 0; i < 300; ++i) v.push_back(i % 2 ? kMin : kMax);
  expect_round_trip(v, 300);
  expect_round_trip(v, 100);  // 3 channels
  std::vector<std::int32_t> w = {kMin, kMax, kMin, kMin, kMax, kMax, 0, kMin, -1, kMax, 1};
  for (std::uint32_t tp : {0u, 1u, 2u, 3u, 11u}) expect_round_trip(w, tp);
}

TEST(SampleCodec, RoundTripsPartialBlocksAsOneChannel) {
  std::mt19937 rng(3);
  const auto v = emg_like(rng, 321, 1, 20);  // not a whole number of 40-point time points
  EXPECT_EQ(sample_layout(v.size(), 40).channels, 1u);
  expect_round_trip(v, 40);
  expect_round_trip(v, 0);     // time_points unknown
  expect_round_trip(v, 1000);  // more time points than values
}

TEST(SampleCodec, RoundTripsOddSizes) {
  std::mt19937 rng(4);
  for (std::uint32_t tp : {1u, 2u, 63u, 64u, 65u, 66u, 127u, 128u, 129u, 130u, 1023u}) {
    for (std::size_t channels : {1u, 2u, 5u, 7u}) {
      expect_round_trip(emg_like(rng, tp, channels, 300), tp);
    }
  }
  expect_round_trip({}, 0);
  expect_round_trip({}, 40);
  expect_round_trip({7}, 1);
  expect_round_trip({-7}, 0);
}

TEST(SampleCodec, GaussianNoiseOfSigma20TakesUnderOneAndAHalfBytesPerSample) {
  std::mt19937 rng(5);
  std::size_t bytes = 0;
  std::size_t samples = 0;
  for (int block = 0; block < 2000; ++block) {
    const auto v = emg_like(rng, 40, 8, 20);
    const auto encoded = encode(v, 40);
    ASSERT_EQ(decode(encoded, v.size(), 40), v);
    bytes += encoded.size();
    samples += v.size();
  }
  const double per_sample = static_cast<double>(bytes) / static_cast<double>(samples);
  std::printf("[ figure   ] sigma=20 Gaussian, 8ch x 40tp: %.3f bytes/sample\n", per_sample);
  EXPECT_LE(per_sample, 1.5);
}

TEST(SampleCodec, EmgWithBurstsStaysCompact) {
  std::mt19937 rng(6);
  std::size_t bytes = 0;
  std::size_t samples = 0;
  for (int block = 0; block < 2000; ++block) {
    // 1 block in 10 carries a burst of ~300 uV (1200 counts) on top of 12-count noise.
    const bool burst = block % 10 == 0;
    const auto v = emg_like(rng, 40, 8, 12, burst ? 1200 : 0);
    const auto encoded = encode(v, 40);
    ASSERT_EQ(decode(encoded, v.size(), 40), v);
    bytes += encoded.size();
    samples += v.size();
  }
  const double per_sample = static_cast<double>(bytes) / static_cast<double>(samples);
  std::printf("[ figure   ] sigma=12 noise + 10%% bursts: %.3f bytes/sample\n", per_sample);
  EXPECT_LE(per_sample, 1.5);
}

TEST(SampleCodec, DecoderRejectsEveryTruncationAndTrailingBytes) {
  std::mt19937 rng(7);
  const auto v = emg_like(rng, 130, 3, 500);
  const auto bytes = encode(v, 130);
  std::vector<std::int32_t> out(v.size());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const std::vector<std::uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<long>(n));
    EXPECT_EQ(decode_samples(prefix, 130, out), SampleDecodeError::truncated) << n;
  }
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_EQ(decode_samples(longer, 130, out), SampleDecodeError::trailing_bytes);
}

TEST(SampleCodec, DecoderRejectsBadSubBlockHeaders) {
  std::vector<std::int32_t> out(2);
  const std::vector<std::uint8_t> order3 = {0x00, 0xC0};                // anchor 0, order 3 width 0
  const std::vector<std::uint8_t> width33 = {0x00, 33, 0, 0, 0, 0, 0};  // width above 32
  EXPECT_EQ(decode_samples(order3, 2, out), SampleDecodeError::bad_header);
  EXPECT_EQ(decode_samples(width33, 2, out), SampleDecodeError::bad_header);
  const std::vector<std::uint8_t> big_anchor = {0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00};
  EXPECT_EQ(decode_samples(big_anchor, 2, out), SampleDecodeError::bad_anchor);
  std::vector<std::int32_t> huge(kMaxBlockSamples + 1);
  EXPECT_EQ(decode_samples({}, 1, huge), SampleDecodeError::too_many_samples);
}

TEST(SampleCodec, DecoderSurvivesRandomlyDamagedInput) {
  std::mt19937 rng(8);
  const auto v = emg_like(rng, 64, 8, 1000);
  const auto bytes = encode(v, 64);
  std::vector<std::int32_t> out(v.size());
  std::uniform_int_distribution<std::size_t> position(0, bytes.size() - 1);
  std::uniform_int_distribution<int> value(0, 255);
  int failures = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    auto damaged = bytes;
    for (int k = 0; k < 1 + trial % 4; ++k) damaged[position(rng)] = static_cast<std::uint8_t>(value(rng));
    if (decode_samples(damaged, 64, out) != SampleDecodeError::none) ++failures;
  }
  EXPECT_GT(failures, 0);  // and, above all, no crash (the sanitizer build checks memory)
}

}  // namespace
}  // namespace spasmwatch::record
