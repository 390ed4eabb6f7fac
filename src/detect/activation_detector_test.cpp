#include "detect/activation_detector.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace spasmwatch::detect {
namespace {

// Drives the detector with synthetic per-tick mean squares: a noise floor of ~3 µV RMS and
// bursts given as (start_s, end_s, rms_uv) with a chosen rise time.
struct Burst {
  double start_s, end_s, rms_uv;
  double rise_s = 0.015;
};

struct Run {
  std::vector<proto::Event> finals, provisionals, retracted;
};

Run run(const std::vector<Burst>& bursts, double total_s, proto::BodySite site = proto::CALF,
        float movement_g = 0.005f, proto::Posture posture = proto::SITTING, double rhythm_hz = 0,
        double duty = 1.0) {
  DetectorConfig config;
  Run r;
  ActivationDetector d(config, site, 2, [&](const proto::Event& e) {
    if (e.state() == proto::FINAL) r.finals.push_back(e);
    if (e.state() == proto::PROVISIONAL) r.provisionals.push_back(e);
    if (e.state() == proto::RETRACTED) r.retracted.push_back(e);
  });
  std::mt19937 rng(5);
  std::gamma_distribution<float> noise(20.0f, 9.0f / 20.0f);  // mean 9 µV², mild spread
  AccState acc;
  acc.valid = true;
  acc.movement_g = movement_g;
  acc.posture = posture;
  const auto ticks = static_cast<std::uint64_t>(total_s / config.tick_s);
  for (std::uint64_t k = 0; k < ticks; ++k) {
    const double t = static_cast<double>(k) * config.tick_s;
    float ms[2] = {noise(rng), noise(rng)};
    for (const auto& b : bursts) {
      if (t < b.start_s || t >= b.end_s) continue;
      double level = b.rms_uv * std::min(1.0, (t - b.start_s) / b.rise_s + 0.05);
      if (rhythm_hz > 0 && std::fmod((t - b.start_s) * rhythm_hz, 1.0) > duty) level = 0;
      ms[0] += static_cast<float>(level * level);
      ms[1] += static_cast<float>(0.5 * level * level);
    }
    d.on_tick(k, ms, acc);
  }
  d.finish();
  return r;
}

TEST(ActivationDetector, SpasmIsFoundWithAccurateOnsetAndDuration) {
  const auto r = run({{10.0, 12.5, 120}}, 20);
  ASSERT_EQ(r.finals.size(), 1u);
  const auto& e = r.finals[0];
  EXPECT_EQ(e.type(), proto::SPASM);
  EXPECT_NEAR(e.device_start_s(), 10.0, 0.02);
  EXPECT_NEAR(e.duration_s(), 2.5, 0.1);
  EXPECT_GT(e.snr(), 10);
  EXPECT_NEAR(e.peak_uv(), 120, 25);
  EXPECT_GT(e.confidence(), 0.5);
  EXPECT_EQ(e.channel_mask() & 1u, 1u);
  EXPECT_EQ(r.provisionals.size(), 1u);
  EXPECT_LT(r.provisionals[0].device_start_s(), 10.05);
}

TEST(ActivationDetector, DurationDecidesTwitchSpasmCramp) {
  auto r = run({{5.0, 5.2, 80}}, 10);
  ASSERT_EQ(r.finals.size(), 1u);
  EXPECT_EQ(r.finals[0].type(), proto::TWITCH);
  r = run({{5.0, 20.0, 200}}, 30);
  ASSERT_EQ(r.finals.size(), 1u);
  EXPECT_EQ(r.finals[0].type(), proto::CRAMP);
}

TEST(ActivationDetector, RhythmicBurstsAreClonusWithTheirRate) {
  const auto r = run({{5.0, 10.0, 150}}, 15, proto::CALF, 0.005f, proto::SITTING, 5.0, 0.4);
  ASSERT_EQ(r.finals.size(), 1u);
  EXPECT_EQ(r.finals[0].type(), proto::CLONUS);
  EXPECT_NEAR(r.finals[0].rhythm_hz(), 5.0, 0.5);
}

TEST(ActivationDetector, JawTrainIsOnePhasicEpisodeAndLongBurstIsTonic) {
  auto r = run({{5.0, 5.8, 100}, {6.4, 7.0, 100}, {7.6, 8.5, 100}}, 15, proto::JAW);
  ASSERT_EQ(r.finals.size(), 1u);
  EXPECT_EQ(r.finals[0].type(), proto::JAW_PHASIC);
  EXPECT_NEAR(r.finals[0].duration_s(), 3.5, 0.15);
  r = run({{5.0, 9.0, 100}}, 15, proto::JAW);
  ASSERT_EQ(r.finals.size(), 1u);
  EXPECT_EQ(r.finals[0].type(), proto::JAW_TONIC);
}

TEST(ActivationDetector, SlowRisingBurstsWhileMovingAreNotReported) {
  std::vector<Burst> steps;
  for (double t = 5; t < 30; t += 1.0) steps.push_back({t, t + 0.3, 100, 0.1});
  const auto r = run(steps, 32, proto::CALF, 0.25f);
  EXPECT_TRUE(r.finals.empty()) << r.finals.size() << " false alarms from walking";
}

TEST(ActivationDetector, NoiseAloneGivesNothing) {
  const auto r = run({}, 600);
  EXPECT_TRUE(r.finals.empty());
  EXPECT_TRUE(r.provisionals.empty());
}

TEST(ActivationDetector, GapEndsAnOpenActivation) {
  DetectorConfig config;
  std::vector<proto::Event> finals;
  ActivationDetector d(config, proto::CALF, 1, [&](const proto::Event& e) {
    if (e.state() == proto::FINAL) finals.push_back(e);
  });
  AccState acc;
  for (std::uint64_t k = 0; k < 2000; ++k) {
    const float ms[1] = {k > 1000 ? 10000.0f : 9.0f};
    d.on_tick(k, ms, acc);
  }
  d.on_gap();
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_NEAR(finals[0].device_end_s(), 2000 * config.tick_s, 0.01);
}

TEST(ActivationDetector, RejectsBadChannelCount) {
  EXPECT_THROW(ActivationDetector(DetectorConfig{}, proto::CALF, 9, [](const proto::Event&) {}), std::invalid_argument);
}

}  // namespace
}  // namespace spasmwatch::detect
