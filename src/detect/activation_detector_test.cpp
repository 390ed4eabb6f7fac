#include "detect/activation_detector.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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

// Shares of a still accelerometer's movement power (white noise, 100 Hz) at 0.5-3 Hz and 3-8 Hz.
constexpr float kStillSway = 0.05f;
constexpr float kStillTremor = 0.1f;

Run run(const std::vector<Burst>& bursts, double total_s, proto::BodySite site = proto::CALF,
        float movement_g = 0.005f, proto::Posture posture = proto::SITTING, double rhythm_hz = 0,
        double duty = 1.0, bool limb_shakes = true) {
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
    acc.movement_g = movement_g;
    // A still accelerometer's noise is white: ~5% of its power at 0.5-3 Hz, ~10% at 3-8 Hz.
    acc.sway = kStillSway * movement_g * movement_g;
    acc.tremor = kStillTremor * movement_g * movement_g;
    for (const auto& b : bursts) {
      if (t < b.start_s || t >= b.end_s) continue;
      double level = b.rms_uv * std::min(1.0, (t - b.start_s) / b.rise_s + 0.05);
      if (rhythm_hz > 0 && std::fmod((t - b.start_s) * rhythm_hz, 1.0) > duty) level = 0;
      ms[0] += static_cast<float>(level * level);
      ms[1] += static_cast<float>(0.5 * level * level);
      if (rhythm_hz > 0 && limb_shakes) {
        // Rhythmic contractions shake the limb at their rate: 0.05 g, 90% of it in 3-8 Hz.
        acc.movement_g = std::max(movement_g, 0.05f);
        acc.tremor = 0.9f * acc.movement_g * acc.movement_g;
      }
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
  // The same bursts with the limb not shaking (fingers tapping on a still forearm: the
  // accelerometer sees only its noise, ~10% of it at 3-8 Hz) are not reported as clonus.
  const auto tapping = run({{5.0, 10.0, 150}}, 15, proto::CALF, 0.005f, proto::SITTING, 5.0, 0.4, false);
  for (const auto& e : tapping.finals) EXPECT_NE(e.type(), proto::CLONUS);
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

// Ticks with a chosen EMG level (RMS µV added to the ~3 µV floor on both channels) and
// movement, for rules that need the accelerometer to change over time.
struct Drive {
  DetectorConfig config;
  std::vector<proto::Event> finals;
  std::vector<proto::Event> judged;             // finals and, with report_rejected, the rejected ones
  std::vector<EvidenceVector> judged_evidence;  // the evidence of each of them
  ActivationDetector detector;
  std::mt19937 rng{7};
  std::gamma_distribution<float> noise{20.0f, 9.0f / 20.0f};
  std::uint64_t tick = 0;
  proto::Posture posture = proto::SITTING;
  // Shares of the movement power at 0.5-3 Hz (sway) and 3-8 Hz (tremor).
  double sway_share = kStillSway;
  double tremor_share = kStillTremor;
  explicit Drive(proto::BodySite site = proto::CALF, const DetectorConfig& settings = {})
      : config(settings), detector(config, site, 2, [this](const proto::Event& e) {
          if (e.state() == proto::FINAL) finals.push_back(e);
          if (e.state() == proto::FINAL || e.state() == proto::RETRACTED) {
            judged.push_back(e);
            judged_evidence.push_back(detector.evidence());
          }
        }) {}
  // `level(t)` in µV RMS, `movement(t)` in g, for `seconds` from the current time.
  template <class Level, class Movement>
  void run(double seconds, Level level, Movement movement) {
    const auto ticks = static_cast<std::uint64_t>(seconds / config.tick_s);
    for (std::uint64_t k = 0; k < ticks; ++k, ++tick) {
      const double t = static_cast<double>(tick) * config.tick_s;
      const double uv = level(t);
      const float ms[2] = {noise(rng) + static_cast<float>(uv * uv),
                           noise(rng) + static_cast<float>(0.5 * uv * uv)};
      AccState acc;
      acc.valid = true;
      acc.movement_g = static_cast<float>(movement(t));
      acc.sway = static_cast<float>(sway_share) * acc.movement_g * acc.movement_g;
      acc.tremor = static_cast<float>(tremor_share) * acc.movement_g * acc.movement_g;
      acc.posture = posture;
      detector.on_tick(tick, ms, acc);
    }
  }
};

double ramp(double t, double start, double end, double rms_uv, double rise_s = 0.015) {
  if (t < start || t >= end) return 0;
  return rms_uv * std::min(1.0, (t - start) / rise_s + 0.05);
}

TEST(ActivationDetector, OnsetJoltLargerThanTheContractionCanCauseIsABodyMovement) {
  // The same weak burst (~10x the floor), once on a still limb, once with the body moving at
  // its onset (0.06 g for 0.1 s: shifting in the seat): only the first is a spasm. A strong
  // spasm (~130x) jolts the limb as much and is still reported.
  auto jolt = [](double at) { return [at](double t) { return t >= at && t < at + 0.1 ? 0.06 : 0.004; }; };
  Drive still;
  still.run(
      20, [](double t) { return ramp(t, 10, 10.8, 30); }, [](double) { return 0.004; });
  EXPECT_EQ(still.finals.size(), 1u);
  Drive moved;
  moved.run(
      20, [](double t) { return ramp(t, 10, 10.8, 30); }, jolt(10.03));
  EXPECT_TRUE(moved.finals.empty());
  Drive strong;
  strong.run(
      20, [](double t) { return ramp(t, 10, 10.8, 400); }, jolt(10.03));
  EXPECT_EQ(strong.finals.size(), 1u);
}

TEST(ActivationDetector, SpasmInsideKeystrokeBurstsStartsAtItsOwnOnset) {
  // Keystroke-like bursts (40 µV, 80 ms, at irregular 0.15-0.35 s intervals) for 20 s; a 2 s
  // spasm at 15 s. The run of keystrokes is not an event; the spasm is, with its own onset and
  // end (not the run's).
  std::vector<double> keys;
  std::mt19937 key_rng(3);
  std::uniform_real_distribution<double> interval(0.15, 0.35);
  for (double t = 5; t < 25; t += interval(key_rng)) keys.push_back(t);
  Drive d(proto::FOREARM);
  auto level = [&keys](double t) {
    const auto next = std::upper_bound(keys.begin(), keys.end(), t);
    const bool key = next != keys.begin() && t - *(next - 1) < 0.08;
    return std::max(key ? 40.0 : 0.0, ramp(t, 15, 17, 400));
  };
  d.run(30, level, [](double) { return 0.005; });
  ASSERT_EQ(d.finals.size(), 1u);
  EXPECT_NEAR(d.finals[0].device_start_s(), 15.0, 0.05);
  EXPECT_NEAR(d.finals[0].duration_s(), 2.0, 0.2);  // the keystrokes after it are not part of it
  EXPECT_EQ(d.finals[0].type(), proto::SPASM);
}

TEST(ActivationDetector, HeldLevelWeakerThanTheTaskBurstsIsNotASpasm) {
  // Keystrokes (60 µV, 80 ms, every 0.15-0.35 s) from 5 to 14 s; at 15 s the muscle holds
  // 25 µV for 3 s (keys held down, a wrist held up): sustained and long against the keystrokes,
  // but weaker than one. Not a spasm; with outlast_min_level 0 (the old rule) it was one.
  std::vector<double> keys;
  std::mt19937 key_rng(3);
  std::uniform_real_distribution<double> interval(0.15, 0.35);
  for (double t = 5; t < 14; t += interval(key_rng)) keys.push_back(t);
  auto level = [&keys](double t) {
    const auto next = std::upper_bound(keys.begin(), keys.end(), t);
    const bool key = next != keys.begin() && t - *(next - 1) < 0.08;
    return std::max(key ? 60.0 : 0.0, ramp(t, 15, 18, 25));
  };
  auto still = [](double) { return 0.005; };
  // (The keystroke run itself, 5-14 s, is judged on its own evidence; with no accelerometer
  // movement at all it looks like an irregular burst train. This test is about the held level.)
  auto held_level_reported = [](const std::vector<proto::Event>& finals) {
    return std::count_if(finals.begin(), finals.end(), [](const proto::Event& e) {
      return e.device_start_s() > 14.5 && e.device_start_s() < 18;
    });
  };
  Drive d(proto::FOREARM);
  d.run(25, level, still);
  EXPECT_EQ(held_level_reported(d.finals), 0) << d.finals.size();
  // The rule itself, under the hand-set weights (where it carries the decision): with it the held
  // level is rejected, without it (outlast_min_level 0, the old rule) it was reported.
  DetectorConfig hand;
  hand.weights = kHandWeights;
  Drive with_rule(proto::FOREARM, hand);
  with_rule.run(25, level, still);
  EXPECT_EQ(held_level_reported(with_rule.finals), 0);
  DetectorConfig old_rule = hand;
  old_rule.outlast_min_level = 0;
  Drive before(proto::FOREARM, old_rule);
  before.run(25, level, still);
  EXPECT_EQ(held_level_reported(before.finals), 1);
}

TEST(ActivationDetector, BurstWhileAlreadyRollingOverInBedIsPartOfIt) {
  // Lying: the body turns over (0.25 g from 9.7 s to 12 s) and the muscle fires 1.2 s from 10 s
  // (rising slowly, as in a movement). Part of the roll, not a spasm; the same burst with the body
  // still is one.
  auto burst = [](double t) { return ramp(t, 10, 11.2, 60); };
  Drive rolling;
  rolling.posture = proto::LYING;
  rolling.run(20, burst, [](double t) { return t >= 9.7 && t < 12 ? 0.25 : 0.004; });
  EXPECT_TRUE(rolling.finals.empty()) << rolling.finals.size();
  Drive still;
  still.posture = proto::LYING;
  still.run(20, burst, [](double) { return 0.004; });
  EXPECT_EQ(still.finals.size(), 1u);
}

TEST(ActivationDetector, SlowSwayDuringABurstAtRestIsTheBodyMovingItself) {
  // Sitting at rest, the lower back fires for 0.8 s at 35 µV (~12x its floor) while the trunk moves by
  // 0.02 g. When that movement is slow and smooth (80% of its power at 0.5-3 Hz: shifting in
  // the seat) the burst is part of it; when it has the make-up of a spasm's jerk (12% at
  // 0.5-3 Hz, 30% at 3-8 Hz, the rest above) the same burst is a spasm.
  auto burst = [](double t) { return ramp(t, 10, 10.8, 35); };
  auto moving = [](double t) { return t >= 10 && t < 11 ? 0.02 : 0.004; };
  auto reported = [&](double sway, double tremor, const DetectorConfig& config) {
    Drive d(proto::LOWER_BACK, config);
    d.run(
        10, [](double) { return 0.0; }, [](double) { return 0.004; });  // still before it
    d.sway_share = sway;
    d.tremor_share = tremor;
    d.run(10, burst, moving);
    return d.finals.size();
  };
  EXPECT_EQ(reported(0.8, 0.1, {}), 0u);
  EXPECT_EQ(reported(0.12, 0.3, {}), 1u);
  // The sway evidence is what tells them apart: without it the swaying one is reported.
  DetectorConfig no_sway;
  for (const auto e : {Evidence::sway_share, Evidence::sway_g, Evidence::sway_at_rest}) {
    no_sway.weights[static_cast<std::size_t>(e)] = 0;
  }
  EXPECT_EQ(reported(0.8, 0.1, no_sway), 1u);
}

TEST(ActivationDetector, EvidenceMeasuresFidgetingBeforeAndATonicLevelAfter) {
  DetectorConfig all;
  all.report_rejected = true;
  const auto judged = [&](auto level, auto movement) {
    Drive d(proto::LOWER_BACK, all);
    d.run(25, level, movement);
    EXPECT_EQ(d.judged_evidence.size(), 1u);
    return d.judged_evidence.empty() ? EvidenceVector{} : d.judged_evidence.front();
  };
  const auto at = [](const EvidenceVector& ev, Evidence e) { return ev[static_cast<std::size_t>(e)]; };
  auto still = [](double) { return 0.004; };
  // restless: log(movement before / 5 mg) at rest; 2 s of 0.05 g before the burst ~ log(10).
  auto burst = [](double t) { return ramp(t, 10, 11.2, 20); };
  EXPECT_NEAR(at(judged(burst, [](double t) { return t >= 8 && t < 10 ? 0.05 : 0.004; }), Evidence::restless),
              std::log(10.0), 0.3);
  EXPECT_EQ(at(judged(burst, still), Evidence::restless), 0.0);
  // level_after: a 100 µV contraction that falls back to the ~3 µV floor, and one after which the
  // muscle holds 12 µV (a tone step): log(level at the end / floor) ~ 0 and ~ log(4).
  auto back = [](double t) { return ramp(t, 10, 11, 100); };
  auto holds = [](double t) { return t >= 10 && t < 11 ? ramp(t, 10, 11, 100) : t >= 11 ? 12.0 : 0.0; };
  EXPECT_LT(at(judged(back, still), Evidence::level_after), 0.4);
  EXPECT_NEAR(at(judged(holds, still), Evidence::level_after), std::log(4.0), 0.4);
}

TEST(ActivationDetector, ClonusIsClassedAtLimbsNotAtTheTrunk) {
  // 5 s of 5 Hz beats (duty 0.4, ~50x the floor): clonus at the calf; at the lower back
  // (no stretch reflex beats there) classed by length like any burst, unless trunk_clonus is 1.
  auto beats = [](double t) { return t >= 5 && t < 10 && std::fmod((t - 5) * 5, 1.0) < 0.4 ? 150.0 : 0.0; };
  auto still = [](double) { return 0.004; };
  DetectorConfig all;
  all.report_rejected = true;
  auto classes = [&](proto::BodySite site, const DetectorConfig& config) {
    Drive d(site, config);
    d.run(15, beats, still);
    std::vector<proto::EventType> types;
    for (const auto& e : d.judged) types.push_back(e.type());
    return types;
  };
  EXPECT_EQ(classes(proto::CALF, all), std::vector<proto::EventType>{proto::CLONUS});
  const auto back = classes(proto::LOWER_BACK, all);
  ASSERT_FALSE(back.empty());
  for (const auto type : back) EXPECT_NE(type, proto::CLONUS);
  DetectorConfig trunk = all;
  trunk.trunk_clonus = 1;
  EXPECT_EQ(classes(proto::LOWER_BACK, trunk), std::vector<proto::EventType>{proto::CLONUS});
}

TEST(ActivationDetector, FadingTailOfACrampIsNotASecondEvent) {
  // A 15 s cramp whose last 1.5 s fade at 15% of its level: one event.
  Drive d;
  auto level = [](double t) { return t >= 10 && t < 25 ? 200.0 : t >= 25 && t < 26.5 ? 30.0 : 0.0; };
  d.run(40, level, [](double) { return 0.004; });
  ASSERT_EQ(d.finals.size(), 1u);
  EXPECT_EQ(d.finals[0].type(), proto::CRAMP);
}

TEST(ActivationDetector, RaisedRestingToneIsNotACrampAndASpasmOnTopIsFound) {
  // From 10 s the resting level rises to ~3x (sitting up to type, with no bursts) for 90 s; a
  // spasm at 60 s. Only the spasm is reported.
  Drive d;
  auto level = [](double t) { return std::max(t >= 10 && t < 100 ? 8.0 : 0.0, ramp(t, 60, 62, 300)); };
  d.run(110, level, [](double) { return 0.004; });
  ASSERT_EQ(d.finals.size(), 1u);
  EXPECT_NEAR(d.finals[0].device_start_s(), 60.0, 0.05);
}

TEST(ActivationDetector, WalkingIsTheMovementRepeatingAtAStepPeriod) {
  // Heel strikes every 0.5 s (0.4 g for 50 ms over 0.1 g of sway) are gait (upright); the same
  // mean movement without a period (steady) is not, nor is a still limb.
  Drive steps;
  steps.run(
      8, [](double) { return 0.0; }, [](double t) { return std::fmod(t, 0.5) < 0.05 ? 0.4 : 0.1; });
  EXPECT_TRUE(steps.detector.walking());
  Drive steady;
  steady.run(
      8, [](double) { return 0.0; }, [](double) { return 0.13; });
  EXPECT_FALSE(steady.detector.walking());
  Drive still;
  still.run(
      8, [](double) { return 0.0; }, [](double) { return 0.004; });
  EXPECT_FALSE(still.detector.walking());
  // Nobody walks lying down: the same rhythm in bed (rolling over, rocking) is not gait.
  Drive lying;
  lying.posture = proto::LYING;
  lying.run(
      8, [](double) { return 0.0; }, [](double t) { return std::fmod(t, 0.5) < 0.05 ? 0.4 : 0.1; });
  EXPECT_FALSE(lying.detector.walking());
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
  EXPECT_THROW(ActivationDetector(DetectorConfig{}, proto::CALF, 9, [](const proto::Event&) {}),
               std::invalid_argument);
}

}  // namespace
}  // namespace spasmwatch::detect
