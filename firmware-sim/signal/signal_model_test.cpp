#include "signal_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>
#include <sstream>
#include <stdexcept>

namespace spasmwatch::sim {
namespace {

SignalConfig make_config(std::string scenario, proto::BodySite site, double duration_s,
                         std::uint64_t seed = 7) {
  SignalConfig c;
  c.scenario = std::move(scenario);
  c.site = site;
  c.side = proto::LEFT;
  c.seed = seed;
  c.duration_s = duration_s;
  return c;
}

std::vector<std::int32_t> emg(SignalModel& model, std::size_t points) {
  std::vector<std::int32_t> out(points * static_cast<std::size_t>(model.config().emg_channels));
  model.generate_emg(out);
  return out;
}

std::vector<std::int32_t> acc(SignalModel& model, std::size_t points) {
  std::vector<std::int32_t> out(points * 3);
  model.generate_acc(out);
  return out;
}

// One channel in physical units (µV or g).
std::vector<double> channel(const std::vector<std::int32_t>& interleaved, int channels, int ch,
                            double scale) {
  std::vector<double> x;
  for (std::size_t i = static_cast<std::size_t>(ch); i < interleaved.size();
       i += static_cast<std::size_t>(channels)) {
    x.push_back(interleaved[i] * scale);
  }
  return x;
}

std::vector<double> emg_uv(const std::vector<std::int32_t>& samples, int channels, int ch) {
  return channel(samples, channels, ch, SignalModel::kEmgScaleUv);
}

std::vector<double> acc_magnitude_g(const std::vector<std::int32_t>& samples) {
  std::vector<double> m;
  for (std::size_t i = 0; i + 2 < samples.size(); i += 3) {
    const double x = samples[i], y = samples[i + 1], z = samples[i + 2];
    m.push_back(std::sqrt(x * x + y * y + z * z) * SignalModel::kAccScaleG);
  }
  return m;
}

double rms(const std::vector<double>& x, std::size_t from, std::size_t to) {
  double sum = 0, sq = 0;
  for (std::size_t i = from; i < to; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(to - from);
  for (std::size_t i = from; i < to; ++i) sq += (x[i] - mean) * (x[i] - mean);
  return std::sqrt(sq / static_cast<double>(to - from));
}

double mean(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v;
  return s / static_cast<double>(x.size());
}

// Normalised power of one frequency (Goertzel): a sine of amplitude A gives about A^2 / 4.
double tone_power(const std::vector<double>& x, double f_hz, double rate_hz) {
  const double coeff = 2 * std::cos(2 * std::numbers::pi * f_hz / rate_hz);
  double s1 = 0, s2 = 0;
  for (double v : x) {
    const double s = v + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const double n = static_cast<double>(x.size());
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n);
}

double band_power(const std::vector<double>& x, double lo_hz, double hi_hz, double rate_hz) {
  double sum = 0;
  int count = 0;
  for (double f = lo_hz; f <= hi_hz; f += 1, ++count) sum += tone_power(x, f, rate_hz);
  return sum / count;
}

// The rhythm of a signal's amplitude: rectify, average to 100 Hz, remove the mean, and find the
// strongest frequency in [lo, hi].
double dominant_rhythm_hz(const std::vector<double>& x, double rate_hz, double lo_hz, double hi_hz) {
  const auto decimate = static_cast<std::size_t>(rate_hz / 100);
  const double centre = mean(x);
  std::vector<double> env;
  for (std::size_t i = 0; i + decimate <= x.size(); i += decimate) {
    double s = 0;
    for (std::size_t k = 0; k < decimate; ++k) s += std::abs(x[i + k] - centre);
    env.push_back(s / static_cast<double>(decimate));
  }
  const double m = mean(env);
  for (auto& v : env) v -= m;
  double best_f = 0, best_p = -1;
  for (double f = lo_hz; f <= hi_hz; f += 0.02) {
    const double p = tone_power(env, f, rate_hz / static_cast<double>(decimate));
    if (p > best_p) {
      best_p = p;
      best_f = f;
    }
  }
  return best_f;
}

double robust_sigma(std::vector<double> x) {
  auto median = [](std::vector<double>& v) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  const double m = median(x);
  for (auto& v : x) v = std::abs(v - m);
  return median(x) / 0.6745;
}

int count_peaks(const std::vector<double>& x, double rate_hz, double threshold) {
  int peaks = 0;
  double last_s = -1;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double t = static_cast<double>(i) / rate_hz;
    if (x[i] > threshold && (last_s < 0 || t - last_s > 0.3)) {
      ++peaks;
      last_s = t;
    }
  }
  return peaks;
}

// The first seed whose truth has an event of `type` that ends before `within_s`.
std::pair<std::uint64_t, TruthEvent> find_event(SignalConfig config, EventType type, double within_s) {
  for (std::uint64_t seed = 1; seed < 200; ++seed) {
    config.seed = seed;
    SignalModel model(config);
    for (const auto& e : model.truth()) {
      if (e.type == type && e.end_s < within_s) return {seed, e};
    }
  }
  ADD_FAILURE() << "no " << to_string(type) << " in scenario " << config.scenario;
  return {0, {}};
}

TEST(SignalModel, SameSeedGivesIdenticalSamplesAndTruth) {
  const auto config = make_config("day-neck", proto::NECK, 120, 11);
  SignalModel a(config), b(config);
  EXPECT_EQ(emg(a, 30000), emg(b, 30000));
  EXPECT_EQ(acc(a, 3000), acc(b, 3000));
  ASSERT_EQ(a.truth().size(), b.truth().size());
  for (std::size_t i = 0; i < a.truth().size(); ++i) {
    EXPECT_EQ(a.truth()[i].start_s, b.truth()[i].start_s);
    EXPECT_EQ(a.truth()[i].end_s, b.truth()[i].end_s);
    EXPECT_EQ(a.truth()[i].type, b.truth()[i].type);
    EXPECT_EQ(a.truth()[i].peak_uv, b.truth()[i].peak_uv);
  }
  ASSERT_EQ(a.activities().size(), b.activities().size());
}

TEST(SignalModel, DifferentSeedGivesDifferentSamplesAndTruth) {
  SignalModel a(make_config("day-neck", proto::NECK, 600, 11));
  SignalModel b(make_config("day-neck", proto::NECK, 600, 12));
  EXPECT_NE(emg(a, 5000), emg(b, 5000));
  EXPECT_NE(acc(a, 500), acc(b, 500));
  ASSERT_FALSE(a.truth().empty());
  ASSERT_FALSE(b.truth().empty());
  EXPECT_NE(a.truth().front().start_s, b.truth().front().start_s);
}

TEST(SignalModel, AnySplitOfGenerateCallsGivesIdenticalSamples) {
  auto rest = make_config("rest", proto::UPPER_BACK, 40);
  rest.seed = find_event(rest, EventType::spasm, 40).first;  // an event, ECG and mains inside
  auto walking = make_config("walking", proto::CALF, 20);
  walking.emg_channels = 5;
  walking.emg_rate_hz = 2000;
  walking.acc_rate_hz = 50;
  for (const auto& config : {rest, walking}) {
    const auto points = static_cast<std::size_t>(config.duration_s * config.emg_rate_hz);
    const auto acc_points = static_cast<std::size_t>(config.duration_s * config.acc_rate_hz);
    const auto channels = static_cast<std::size_t>(config.emg_channels);
    SignalModel whole(config);
    const auto reference = emg(whole, points);
    const auto acc_reference = acc(whole, acc_points);
    for (const std::size_t chunk : {1, 7, 64, 4096}) {
      SignalModel split(config);
      std::vector<std::int32_t> samples(points * channels), acc_samples(acc_points * 3);
      for (std::size_t done = 0; done < points; done += chunk) {
        const std::size_t n = std::min(chunk, points - done);
        split.generate_emg(std::span(samples).subspan(done * channels, n * channels));
      }
      for (std::size_t done = 0; done < acc_points; done += chunk) {
        const std::size_t n = std::min(chunk, acc_points - done);
        split.generate_acc(std::span(acc_samples).subspan(done * 3, n * 3));
      }
      EXPECT_EQ(samples, reference) << config.scenario << " in chunks of " << chunk;
      EXPECT_EQ(acc_samples, acc_reference) << config.scenario << " in chunks of " << chunk;
      EXPECT_EQ(split.emg_time_points(), points);
    }
  }
}

TEST(SignalModel, RestNoiseFloorIsAFewMicrovoltsRms) {
  for (const double rate : {500.0, 1000.0, 2000.0}) {
    for (const auto site : {proto::CALF, proto::FOREARM, proto::JAW}) {
      auto config = make_config("quiet-rest", site, 30);
      config.emg_channels = 4;
      config.emg_rate_hz = rate;
      SignalModel model(config);
      const auto samples = emg(model, static_cast<std::size_t>(20 * rate));
      for (int ch = 0; ch < 4; ++ch) {
        const auto x = emg_uv(samples, 4, ch);
        const double floor_uv = rms(x, x.size() / 10, x.size());
        EXPECT_GT(floor_uv, 1.0) << "rate " << rate << " site " << site << " channel " << ch;
        EXPECT_LT(floor_uv, 8.0) << "rate " << rate << " site " << site << " channel " << ch;
      }
    }
  }
}

TEST(SignalModel, SpasmRmsIsWellAboveTheFloorAndMatchesItsPeak) {
  auto config = make_config("rest", proto::FOREARM, 600);
  const auto [seed, event] = find_event(config, EventType::spasm, 300);
  config.seed = seed;
  SignalModel model(config);
  const auto samples = emg(model, static_cast<std::size_t>((event.end_s + 1) * 1000));
  const auto x = emg_uv(samples, 2, 0);
  const auto at = [](double t) { return static_cast<std::size_t>(t * 1000); };
  const double floor_uv = rms(x, at(event.start_s - 2.5), at(event.start_s - 0.5));
  const double quarter = (event.end_s - event.start_s) / 4;
  const double event_uv = rms(x, at(event.start_s + quarter), at(event.end_s - quarter));
  EXPECT_LT(floor_uv, 8);
  EXPECT_GT(event_uv, 5 * floor_uv);
  EXPECT_GT(event_uv, 0.5 * event.peak_uv);
  EXPECT_LT(event_uv, 1.3 * event.peak_uv);
}

TEST(SignalModel, EventEnergyLiesInTheSurfaceEmgBand) {
  auto config = make_config("night-cramps", proto::CALF, 1200);
  const auto [seed, event] = find_event(config, EventType::cramp, 1200);
  config.seed = seed;
  SignalModel model(config);
  const auto samples = emg(model, static_cast<std::size_t>(event.end_s * 1000));
  const auto all = emg_uv(samples, 2, 0);
  const double middle = (event.start_s + event.end_s) / 2;
  const std::vector<double> x(all.begin() + static_cast<std::ptrdiff_t>((middle - 2) * 1000),
                              all.begin() + static_cast<std::ptrdiff_t>((middle + 2) * 1000));
  const double in_band = band_power(x, 60, 120, 1000);
  EXPECT_GT(in_band, 10 * band_power(x, 2, 12, 1000));
  EXPECT_GT(in_band, 10 * band_power(x, 470, 490, 1000));
  EXPECT_GT(in_band, band_power(x, 250, 350, 1000));
}

TEST(SignalModel, TruthIsSortedSeparatedAndTypedPerScenario) {
  auto natural_site = [](std::string_view name) {
    if (name == "night-jaw") return proto::JAW;
    if (name == "night-cramps" || name == "clonus" || name == "walking") return proto::CALF;
    if (name == "typing") return proto::FOREARM;
    return proto::NECK;
  };
  const double duration = 1800;
  for (const auto name : scenario_names()) {
    const auto site = natural_site(name);
    const SignalModel model(make_config(std::string(name), site, duration, 3));
    const auto allowed = scenario_event_types(name, site);
    const auto& truth = model.truth();
    if (name == "quiet-rest") {
      EXPECT_TRUE(truth.empty());
      EXPECT_TRUE(allowed.empty());
      continue;
    }
    EXPECT_GE(truth.size(), 6u) << name << ": want several events per 10 minutes";
    for (std::size_t i = 0; i < truth.size(); ++i) {
      const auto& e = truth[i];
      const double length = e.end_s - e.start_s;
      SCOPED_TRACE(std::string(name) + " event " + std::to_string(i) + " " + std::string(to_string(e.type)));
      EXPECT_GE(e.start_s, 0);
      EXPECT_LT(e.end_s, duration);
      EXPECT_NE(std::find(allowed.begin(), allowed.end(), e.type), allowed.end());
      EXPECT_EQ(e.site, site);
      EXPECT_EQ(e.side, proto::LEFT);
      EXPECT_GT(e.peak_uv, 0);
      if (i > 0) {
        EXPECT_GE(e.start_s - truth[i - 1].end_s, 2.0);
      }
      switch (e.type) {
        case EventType::twitch:
          EXPECT_LT(length, 0.5);
          break;
        case EventType::spasm:
          EXPECT_GE(length, 0.5);
          EXPECT_LE(length, 10);
          break;
        case EventType::cramp:
          EXPECT_GE(length, 10);
          break;
        case EventType::clonus:
          EXPECT_GE(length, 2);
          EXPECT_LE(length, 10);
          break;
        case EventType::jaw_phasic:
          EXPECT_GE(length, 0.75);
          break;
        case EventType::jaw_tonic:
          EXPECT_GT(length, 2);
          break;
      }
    }
    if (name == "low-snr") {
      for (const auto& e : truth) EXPECT_LT(e.peak_uv, 50);
    }
  }
  EXPECT_TRUE(scenario_event_types("night-jaw", proto::NECK).empty());
}

TEST(SignalModel, ActivitiesCoverTheSessionAndSleepIncludesTurningOver) {
  const std::set<std::string> known{"rest",    "sleep",        "standing", "walking", "typing",
                                    "chewing", "turning_over", "moving",   "shifting"};
  for (const auto name : scenario_names()) {
    const SignalModel model(make_config(std::string(name), proto::NECK, 3600, 5));
    const auto& a = model.activities();
    ASSERT_FALSE(a.empty()) << name;
    EXPECT_EQ(a.front().start_s, 0) << name;
    EXPECT_EQ(a.back().end_s, 3600) << name;
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_TRUE(known.count(a[i].kind)) << name << ": " << a[i].kind;
      EXPECT_LT(a[i].start_s, a[i].end_s) << name;
      if (i > 0) {
        EXPECT_EQ(a[i].start_s, a[i - 1].end_s) << name;
      }
    }
    const auto has = [&](const char* kind) {
      return std::any_of(a.begin(), a.end(), [&](const auto& s) { return s.kind == kind; });
    };
    if (name == "sleep" || name == "night-cramps" || name == "night-jaw") {
      EXPECT_TRUE(has("turning_over")) << name;
      EXPECT_FALSE(has("chewing")) << name;
    }
    if (name == "walking") {
      EXPECT_TRUE(has("walking"));
    }
    if (name == "typing") {
      EXPECT_TRUE(has("typing"));
    }
  }
}

TEST(SignalModel, TrunkSitesShowEcgAtAHeartRateAndLimbSitesDoNot) {
  for (const auto site : {proto::NECK, proto::SHOULDER, proto::UPPER_BACK, proto::LOWER_BACK, proto::CALF,
                          proto::THIGH, proto::FOREARM, proto::JAW}) {
    const auto config = make_config("quiet-rest", site, 60, 21);
    SignalModel model(config);
    const auto x = emg_uv(emg(model, 60000), 2, 0);
    const int peaks = count_peaks(x, 1000, 6 * robust_sigma(x));
    if (site == proto::NECK || site == proto::SHOULDER || site == proto::UPPER_BACK ||
        site == proto::LOWER_BACK) {
      EXPECT_GE(peaks, 50) << "site " << site;  // 55-80 bpm with variability
      EXPECT_LE(peaks, 90) << "site " << site;
    } else {
      EXPECT_LE(peaks, 2) << "site " << site;
    }
  }
}

TEST(SignalModel, AccelerometerReadsOneGAtRestWithPostureFromTheScenario) {
  SignalModel sitting(make_config("quiet-rest", proto::UPPER_BACK, 60));
  const auto a = acc(sitting, 6000);
  const auto magnitude = acc_magnitude_g(a);
  EXPECT_NEAR(mean(magnitude), 1.0, 0.02);
  EXPECT_LT(rms(magnitude, 0, magnitude.size()), 0.01);
  EXPECT_GT(mean(channel(a, 3, 1, SignalModel::kAccScaleG)), 0.85);  // y (to the head) is up

  SignalModel lying(make_config("sleep", proto::UPPER_BACK, 600));
  ASSERT_EQ(lying.activities().front().kind, "sleep");
  const auto b = acc(lying, 6000);
  EXPECT_NEAR(mean(acc_magnitude_g(b)), 1.0, 0.02);
  EXPECT_LT(std::abs(mean(channel(b, 3, 1, SignalModel::kAccScaleG))), 0.3);  // lying down
}

TEST(SignalModel, WalkingShowsStepsInTheAccelerometerAndStrideBurstsInLegEmg) {
  auto config = make_config("walking", proto::CALF, 600);
  SignalModel model(config);
  ASSERT_EQ(model.activities().front().kind, "walking");
  ASSERT_GE(model.activities().front().end_s, 60);
  const auto magnitude = acc_magnitude_g(acc(model, 6000));
  EXPECT_GT(rms(magnitude, 0, magnitude.size()), 0.1);
  const double cadence = dominant_rhythm_hz(magnitude, 100, 1.2, 3);
  EXPECT_GT(cadence, 1.7);
  EXPECT_LT(cadence, 2.1);
  const auto x = emg_uv(emg(model, 60000), 2, 0);
  const double stride = dominant_rhythm_hz(x, 1000, 0.5, 3);
  EXPECT_NEAR(stride, cadence / 2, 0.1);
}

TEST(SignalModel, ClonusIsRhythmicBurstingAt3To8HzWithTremor) {
  auto config = make_config("clonus", proto::CALF, 900);
  const auto [seed, event] = find_event(config, EventType::clonus, 900);
  config.seed = seed;
  SignalModel model(config);
  const auto x = emg_uv(emg(model, static_cast<std::size_t>(event.end_s * 1000)), 2, 0);
  const std::vector<double> episode(x.begin() + static_cast<std::ptrdiff_t>(event.start_s * 1000), x.end());
  const double rhythm = dominant_rhythm_hz(episode, 1000, 1, 12);
  EXPECT_GE(rhythm, 3);
  EXPECT_LE(rhythm, 8);
  const auto magnitude = acc_magnitude_g(acc(model, static_cast<std::size_t>(event.end_s * 100)));
  const std::vector<double> moving(magnitude.begin() + static_cast<std::ptrdiff_t>(event.start_s * 100),
                                   magnitude.end());
  const std::vector<double> still(magnitude.begin() + static_cast<std::ptrdiff_t>(event.start_s * 100) - 300,
                                  magnitude.begin() + static_cast<std::ptrdiff_t>(event.start_s * 100) - 100);
  EXPECT_GT(rms(moving, 0, moving.size()), 3 * rms(still, 0, still.size()));
}

TEST(SignalModel, MainsHumAppearsAtTheConfiguredFrequency) {
  for (const double mains : {50.0, 60.0, 0.0}) {
    auto config = make_config("quiet-rest", proto::CALF, 20);
    config.mains_hz = mains;
    SignalModel model(config);
    const auto x = emg_uv(emg(model, 10000), 2, 0);
    const double p50 = tone_power(x, 50, 1000), p60 = tone_power(x, 60, 1000);
    if (mains == 50) {
      EXPECT_GT(p50, 100 * p60);
    }
    if (mains == 60) {
      EXPECT_GT(p60, 100 * p50);
    }
    if (mains == 0) {
      EXPECT_LT(std::max(p50, p60), 0.05);  // noise only: < (0.45 µV)^2
    }
    if (mains != 0) {
      EXPECT_GT(std::max(p50, p60), 0.5);  // a sine of > 1.4 µV
    }
  }
}

TEST(SignalModel, InvalidConfigThrowsNamingTheField) {
  auto expect_rejected = [](SignalConfig c, const std::string& field) {
    try {
      SignalModel model(c);
      ADD_FAILURE() << "accepted a bad " << field;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  SignalConfig c;
  c.emg_channels = 9;
  expect_rejected(c, "emg_channels: 9");
  c = {};
  c.emg_channels = 0;
  expect_rejected(c, "emg_channels: 0");
  c = {};
  c.emg_rate_hz = 300;
  expect_rejected(c, "emg_rate_hz: 300");
  c = {};
  c.scenario = "marathon";
  expect_rejected(c, "scenario: 'marathon'");
  c = {};
  c.acc_rate_hz = 1000;
  expect_rejected(c, "acc_rate_hz: 1000");
  c = {};
  c.mains_hz = 55;
  expect_rejected(c, "mains_hz: 55");
  c = {};
  c.duration_s = 0;
  expect_rejected(c, "duration_s: 0");
  c = {};
  c.site = proto::SITE_UNSPECIFIED;
  expect_rejected(c, "site");
}

TEST(SignalModel, GenerateRejectsBuffersThatAreNotWholeTimePoints) {
  auto config = make_config("rest", proto::NECK, 10);
  config.emg_channels = 3;
  SignalModel model(config);
  std::vector<std::int32_t> out(10);
  EXPECT_THROW(model.generate_emg(out), std::invalid_argument);
  EXPECT_THROW(model.generate_acc(out), std::invalid_argument);
  EXPECT_EQ(model.emg_time_points(), 0u);
}

TEST(SignalModel, TruthCsvHasAHeaderAndOneRowPerEvent) {
  auto config = make_config("night-cramps", proto::CALF, 1200);
  config.side = proto::RIGHT;
  const SignalModel model(config);
  std::ostringstream out;
  write_truth_csv(out, model);
  std::istringstream in(out.str());
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "start_s,end_s,type,site,side,peak_uv");
  std::size_t rows = 0;
  while (std::getline(in, line)) {
    const auto& e = model.truth().at(rows++);
    char expected[64];
    std::snprintf(expected, sizeof expected, "%.3f,%.3f,", e.start_s, e.end_s);
    EXPECT_EQ(line.rfind(expected, 0), 0u) << line;
    std::string fields(to_string(e.type));
    fields += ",calf,right,";
    EXPECT_NE(line.find(fields), std::string::npos) << line;
  }
  EXPECT_EQ(rows, model.truth().size());
  EXPECT_GT(rows, 0u);
}

TEST(SignalModel, ScenariosAreListedWithDescriptions) {
  const std::set<std::string_view> names(scenario_names().begin(), scenario_names().end());
  for (const char* required : {"rest", "sleep", "walking", "typing", "night-cramps", "day-neck", "night-jaw",
                               "clonus", "low-snr", "motion-artifacts", "quiet-rest"}) {
    EXPECT_TRUE(names.count(required)) << required;
    EXPECT_FALSE(scenario_description(required).empty()) << required;
  }
  EXPECT_TRUE(scenario_description("marathon").empty());
}

TEST(SignalModel, SamplesStayInsideInt16EvenInHeavyMovement) {
  auto config = make_config("motion-artifacts", proto::THIGH, 120);
  config.emg_channels = 8;
  SignalModel model(config);
  const auto x = emg(model, 120000);
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  EXPECT_GE(*lo, -32768);
  EXPECT_LE(*hi, 32767);
  const auto a = acc(model, 12000);
  const auto [alo, ahi] = std::minmax_element(a.begin(), a.end());
  EXPECT_GE(*alo, -32768);
  EXPECT_LE(*ahi, 32767);
}

}  // namespace
}  // namespace spasmwatch::sim
