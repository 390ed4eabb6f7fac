#include "ingest/clock_estimator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace spasmwatch::ingest {
namespace {

constexpr std::int64_t kHostStartNs = 1'712'345'678'901'234'567;  // UTC, April 2024
constexpr std::int64_t kNsPerS = 1'000'000'000;

// Deterministic random numbers (std:: distributions differ between standard libraries).
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double between(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double exponential(double mean) { return -mean * std::log1p(-uniform()); }

 private:
  std::mt19937_64 engine_;
};

// One-way transport delay: a fixed minimum latency, exponential jitter, plus rare spikes (OS
// scheduling, serial buffering).
struct LinkDelay {
  double floor_s = 0.0;
  double mean_s = 2e-3;
  double spike_fraction = 0.01;
  double spike_min_s = 0.05;
  double spike_max_s = 0.5;

  double sample_s(Random& random) const {
    double delay_s = floor_s + random.exponential(mean_s);
    if (random.uniform() < spike_fraction) delay_s += random.between(spike_min_s, spike_max_s);
    return delay_s;
  }
};

// The truth: a device clock running (1 + drift) times as fast as true UTC.
struct TrueClock {
  std::uint64_t device_start_us = 0;
  std::int64_t host_start_ns = kHostStartNs;
  double drift_ppm = 0.0;

  [[nodiscard]] std::int64_t host_of(std::uint64_t device_us) const {
    const auto since_us = static_cast<double>(device_us - device_start_us);
    return host_start_ns + std::llround(since_us * 1000.0 / (1.0 + drift_ppm * 1e-6));
  }
  [[nodiscard]] std::uint64_t device_of(std::int64_t host_ns) const {
    const auto since_ns = static_cast<double>(host_ns - host_start_ns);
    return device_start_us +
           static_cast<std::uint64_t>(std::floor(since_ns * (1.0 + drift_ppm * 1e-6) / 1000.0));
  }
};

struct Scenario {
  double drift_ppm = 100.0;
  double duration_s = 8 * 3600.0;
  bool arrivals = true;     // two streams, a block every 20 ms each
  bool round_trips = true;  // a ping every 2 s
  LinkDelay link;           // sample blocks
  LinkDelay ping_link;      // each direction of a round trip
  std::uint64_t seed = 1;
  std::uint64_t device_start_us = 1'234'567;
  double warmup_s = 60.0;
  double host_step_at_s = -1.0;  // UTC stepped by host_step_s at this time (< 0: never)
  double host_step_s = 0.0;
  double stall_at_s = -1.0;  // the data link delivers nothing for stall_s from here
  double stall_s = 0.0;
  double latency_change_at_s = -1.0;  // from here, sample blocks take latency_change_s longer
  double latency_change_s = 0.0;
};

struct Outcome {
  double max_error_early_ms = 0.0;  // queries from 1 s to the end of warm-up
  double max_error_ms = 0.0;        // queries after warm-up (after a step: once recovered)
  double step_recovery_s = 0.0;     // last query worse than 1 ms, after the step
  std::uint64_t queries = 0;
  proto::ClockFit fit;
  double true_offset_s = 0.0;  // host - device at the latest device time
  std::uint64_t reanchors = 0;
};

// Feeds the estimator in host arrival order (as a real link would) and checks to_host_ns() of
// the device time "now" after every delivery: the freshest, hardest (extrapolated) query.
Outcome simulate(const Scenario& s, ClockEstimator& estimator) {
  Random random(s.seed);
  const TrueClock truth{s.device_start_us, kHostStartNs, s.drift_ppm};
  const auto at_ns = [&](double t_s) { return kHostStartNs + std::llround(t_s * 1e9); };
  const std::int64_t end_ns = at_ns(s.duration_s);
  const std::int64_t step_at_ns = s.host_step_at_s >= 0 ? at_ns(s.host_step_at_s) : INT64_MAX;
  const std::int64_t step_ns = std::llround(s.host_step_s * 1e9);
  const auto utc_stamp = [&](std::int64_t true_ns) {
    return true_ns >= step_at_ns ? true_ns + step_ns : true_ns;
  };

  struct Event {
    std::int64_t report_true_ns = 0;  // when the host sees it (true time)
    std::uint64_t sequence = 0;       // tie-break: deterministic order
    bool round_trip = false;
    std::uint64_t device_us = 0;  // arrival: block end; round trip: device receive
    std::uint64_t device_send_us = 0;
    std::int64_t send_true_ns = 0;
    bool operator<(const Event& o) const {
      return report_true_ns != o.report_true_ns ? report_true_ns < o.report_true_ns
                                                : sequence < o.sequence;
    }
  };
  // In flight per source: stream 0, stream 1, round trips. Each is in report order (the data
  // links are FIFO; pings are 2 s apart), so delivery merges three queues.
  std::deque<Event> in_flight[3];
  std::uint64_t sequence = 0;
  Outcome out;
  bool failed = false;

  const auto deliver = [&](const Event& e) {
    if (e.round_trip) {
      estimator.add_round_trip(utc_stamp(e.send_true_ns), e.device_us, e.device_send_us,
                               utc_stamp(e.report_true_ns));
    } else {
      estimator.add_arrival(e.device_us, utc_stamp(e.report_true_ns));
    }
    const double t_s = static_cast<double>(e.report_true_ns - kHostStartNs) * 1e-9;
    if (t_s < 1.0) return;
    if (!estimator.has_estimate()) {
      ADD_FAILURE() << "no estimate at t = " << t_s << " s";
      failed = true;
      return;
    }
    const std::uint64_t device_now_us = truth.device_of(e.report_true_ns);
    const std::int64_t expected_ns = utc_stamp(truth.host_of(device_now_us));
    const double error_ms =
        std::fabs(static_cast<double>(estimator.to_host_ns(device_now_us) - expected_ns)) * 1e-6;
    ++out.queries;
    if (t_s < s.warmup_s) {
      out.max_error_early_ms = std::max(out.max_error_early_ms, error_ms);
    } else if (e.report_true_ns >= step_at_ns && error_ms > 1.0) {
      out.step_recovery_s = t_s - s.host_step_at_s;
    } else {
      out.max_error_ms = std::max(out.max_error_ms, error_ms);
    }
  };
  const auto deliver_until = [&](std::int64_t true_ns) {
    for (;;) {
      std::deque<Event>* first = nullptr;
      for (auto& queue : in_flight) {
        if (!queue.empty() && (first == nullptr || queue.front() < first->front())) first = &queue;
      }
      if (first == nullptr || first->front().report_true_ns > true_ns) return;
      const Event e = first->front();
      first->pop_front();
      deliver(e);
    }
  };

  constexpr std::uint64_t kBlockUs = 20'000;
  std::uint64_t next_block_us[2] = {s.device_start_us + kBlockUs, s.device_start_us + 7'300};
  std::int64_t last_arrival_ns[2] = {0, 0};  // a link is FIFO: a spike delays what follows
  std::int64_t next_ping_ns = at_ns(0.5);
  const std::int64_t stall_from_ns = s.stall_at_s >= 0 ? at_ns(s.stall_at_s) : INT64_MAX;
  const std::int64_t stall_to_ns = s.stall_at_s >= 0 ? at_ns(s.stall_at_s + s.stall_s) : 0;
  const std::int64_t latency_change_at_ns =
      s.latency_change_at_s >= 0 ? at_ns(s.latency_change_at_s) : INT64_MAX;

  for (;;) {
    const int stream = next_block_us[0] <= next_block_us[1] ? 0 : 1;
    const std::int64_t block_ns = s.arrivals ? truth.host_of(next_block_us[stream]) : INT64_MAX;
    const std::int64_t ping_ns = s.round_trips ? next_ping_ns : INT64_MAX;
    const std::int64_t now_ns = std::min(block_ns, ping_ns);
    if (now_ns > end_ns) break;
    deliver_until(now_ns);  // everything generated from now on is reported at or after now
    if (failed) return out;

    Event e;
    e.sequence = sequence++;
    int source = 2;
    if (block_ns <= ping_ns) {
      source = stream;
      e.device_us = next_block_us[stream];
      std::int64_t arrival_ns = block_ns + std::llround(s.link.sample_s(random) * 1e9);
      if (block_ns >= latency_change_at_ns) arrival_ns += std::llround(s.latency_change_s * 1e9);
      if (arrival_ns >= stall_from_ns && arrival_ns < stall_to_ns) arrival_ns = stall_to_ns;
      arrival_ns = std::max(arrival_ns, last_arrival_ns[stream]);
      last_arrival_ns[stream] = arrival_ns;
      e.report_true_ns = arrival_ns;
      next_block_us[stream] += kBlockUs;
    } else {
      e.round_trip = true;
      e.send_true_ns = ping_ns;
      e.device_us = truth.device_of(ping_ns + std::llround(s.ping_link.sample_s(random) * 1e9));
      e.device_send_us = e.device_us + static_cast<std::uint64_t>(random.between(100, 600));
      e.report_true_ns =
          truth.host_of(e.device_send_us) + std::llround(s.ping_link.sample_s(random) * 1e9);
      next_ping_ns += 2 * kNsPerS;
    }
    in_flight[source].push_back(e);
  }
  deliver_until(INT64_MAX);

  out.fit = estimator.fit();
  const std::uint64_t device_end_us = truth.device_of(end_ns);
  out.true_offset_s = static_cast<double>(utc_stamp(truth.host_of(device_end_us)) -
                                          static_cast<std::int64_t>(device_end_us) * 1000) *
                      1e-9;
  out.reanchors = estimator.reanchor_count();
  return out;
}

void print(const char* name, const Scenario& s, const Outcome& o) {
  std::printf(
      "[ %s ] drift %+.0f ppm, %.1f h: max |error| %.3f ms after %.0f s (%.3f ms from 1 s), "
      "drift estimate %+.3f ppm, %llu queries\n",
      name, s.drift_ppm, s.duration_s / 3600.0, o.max_error_ms, s.warmup_s, o.max_error_early_ms,
      o.fit.drift_ppm(), static_cast<unsigned long long>(o.queries));
}

class ClockEstimatorOverANight : public ::testing::TestWithParam<double> {};

TEST_P(ClockEstimatorOverANight, ArrivalsAndRoundTripsStayWithin1msAndMeasureDrift) {
  Scenario s;
  s.drift_ppm = GetParam();
  s.seed = GetParam() > 0 ? 11 : 12;
  ClockEstimator estimator;
  const Outcome o = simulate(s, estimator);
  print("arrivals+round trips", s, o);
  EXPECT_LT(o.max_error_ms, 1.0);
  EXPECT_LT(o.max_error_early_ms, 20.0);
  EXPECT_NEAR(o.fit.drift_ppm(), s.drift_ppm, 2.0);
  EXPECT_EQ(o.reanchors, 0U);
}

INSTANTIATE_TEST_SUITE_P(Clock, ClockEstimatorOverANight, ::testing::Values(100.0, -100.0),
                         [](const ::testing::TestParamInfo<double>& param_info) {
                           return param_info.param > 0 ? std::string("DeviceFast100ppm")
                                                       : std::string("DeviceSlow100ppm");
                         });

TEST(ClockEstimator, ArrivalsOnlyStayWithin1msOverANight) {
  Scenario s;
  s.drift_ppm = 100.0;
  s.round_trips = false;
  s.seed = 21;
  s.device_start_us = 3ULL * 24 * 3600 * 1'000'000;  // device already up for three days
  ClockEstimator estimator;
  const Outcome o = simulate(s, estimator);
  print("arrivals only", s, o);
  EXPECT_LT(o.max_error_ms, 1.0);
  EXPECT_LT(o.max_error_early_ms, 20.0);
  EXPECT_NEAR(o.fit.drift_ppm(), s.drift_ppm, 2.0);
}

TEST(ClockEstimator, RoundTripsOnlyStayWithin1msOverANight) {
  Scenario s;
  s.drift_ppm = -100.0;
  s.arrivals = false;
  s.seed = 31;
  ClockEstimator estimator;
  const Outcome o = simulate(s, estimator);
  print("round trips only", s, o);
  EXPECT_LT(o.max_error_ms, 1.0);
  EXPECT_LT(o.max_error_early_ms, 20.0);
  EXPECT_NEAR(o.fit.drift_ppm(), s.drift_ppm, 2.0);
}

TEST(ClockEstimator, RoundTripsRemoveTheLinksMinimumLatency) {
  // A link that is never faster than 3 ms (e.g. USB polling plus driver latency), both ways.
  Scenario s;
  s.duration_s = 3600.0;
  s.link.floor_s = 3e-3;
  s.ping_link.floor_s = 3e-3;
  s.seed = 35;
  ClockEstimator with_round_trips;
  const Outcome o = simulate(s, with_round_trips);
  print("3 ms link latency, both", s, o);
  EXPECT_LT(o.max_error_ms, 1.0);

  // Arrivals alone cannot see a constant latency: the mapping is late by it (why pings exist).
  s.round_trips = false;
  ClockEstimator arrivals_only;
  const Outcome late = simulate(s, arrivals_only);
  print("3 ms link latency, arrivals only", s, late);
  EXPECT_NEAR(late.max_error_ms, 3.0, 0.1);
  EXPECT_NEAR(late.fit.drift_ppm(), s.drift_ppm, 2.0);  // the drift is still right
}

TEST(ClockEstimator, WithinTwentyMsAfterFirstSecondAtExtremeDrift) {
  for (const double drift_ppm : {500.0, -500.0}) {
    for (const bool round_trips : {true, false}) {
      Scenario s;
      s.drift_ppm = drift_ppm;
      s.round_trips = round_trips;
      s.duration_s = 600.0;
      s.seed = round_trips ? 41 : 42;
      ClockEstimator estimator;
      const Outcome o = simulate(s, estimator);
      print(round_trips ? "extreme drift, both" : "extreme drift, arrivals", s, o);
      EXPECT_LT(o.max_error_early_ms, 20.0) << drift_ppm << " ppm";
      EXPECT_LT(o.max_error_ms, 1.0) << drift_ppm << " ppm";
      EXPECT_NEAR(o.fit.drift_ppm(), drift_ppm, 2.0);
    }
  }
}

TEST(ClockEstimator, RecoversFromHostClockStepWithinBoundedTime) {
  for (const double step_s : {30.0, -30.0}) {
    Scenario s;
    s.drift_ppm = 100.0;
    s.duration_s = 1800.0;
    s.host_step_at_s = 900.0;
    s.host_step_s = step_s;
    s.seed = step_s > 0 ? 51 : 52;
    ClockEstimator estimator;
    const Outcome o = simulate(s, estimator);
    std::printf("[ host step %+.0f s ] recovered after %.3f s, then max |error| %.3f ms\n", step_s,
                o.step_recovery_s, o.max_error_ms);
    EXPECT_EQ(o.reanchors, 1U);
    // Bound: step_confirm_s (8 s) of consistent far points, plus delivery jitter.
    EXPECT_LT(o.step_recovery_s, 10.0);
    EXPECT_LT(o.max_error_ms, 1.0);
    EXPECT_NEAR(o.fit.drift_ppm(), s.drift_ppm, 2.0);  // drift kept across the re-anchor
    EXPECT_NEAR(o.fit.offset_s(), o.true_offset_s, 1e-3);
  }
}

TEST(ClockEstimator, RecoversFromSubSecondHostClockStep) {
  // Below step_threshold_s: caught by the newest buckets all agreeing on a new level.
  for (const bool round_trips : {true, false}) {
    for (const double step_s : {0.3, -0.05}) {
      Scenario s;
      s.duration_s = 1800.0;
      s.host_step_at_s = 900.0;
      s.host_step_s = step_s;
      s.round_trips = round_trips;
      s.seed = round_trips ? 53 : 54;
      ClockEstimator estimator;
      const Outcome o = simulate(s, estimator);
      std::printf("[ host step %+.2f s, %s ] recovered after %.3f s, then max |error| %.3f ms\n",
                  step_s, round_trips ? "both" : "arrivals only", o.step_recovery_s,
                  o.max_error_ms);
      // Bound: the step's bucket, level_shift_buckets (3) buckets, one more when round trips
      // and arrivals are detected one bucket apart: 5 buckets of 4 s.
      EXPECT_LT(o.step_recovery_s, 20.5) << step_s;
      EXPECT_LT(o.max_error_ms, 1.0) << step_s;
      EXPECT_GE(o.reanchors, 1U);
      EXPECT_NEAR(o.fit.drift_ppm(), s.drift_ppm, 2.0);
    }
  }
}

TEST(ClockEstimator, LinkLatencyIncreaseDoesNotMoveRoundTripMapping) {
  // The data link becomes 20 ms slower for good (e.g. a BLE connection-interval change); the
  // round trips are unaffected, so the mapping must not move and the drift must stay right.
  Scenario s;
  s.duration_s = 3600.0;
  s.latency_change_at_s = 1200.0;
  s.latency_change_s = 0.02;
  s.seed = 55;
  ClockEstimator estimator;
  const Outcome o = simulate(s, estimator);
  print("data link +20 ms", s, o);
  EXPECT_LT(o.max_error_ms, 1.0);
  EXPECT_NEAR(o.fit.drift_ppm(), s.drift_ppm, 2.0);
}

TEST(ClockEstimator, LinkStallIsNotMistakenForClockStep) {
  Scenario s;
  s.duration_s = 1200.0;
  s.stall_at_s = 600.0;
  s.stall_s = 12.0;  // both streams deliver nothing for 12 s, then a burst
  s.round_trips = false;
  s.seed = 61;
  ClockEstimator estimator;
  const Outcome o = simulate(s, estimator);
  print("12 s link stall", s, o);
  EXPECT_EQ(o.reanchors, 0U);
  EXPECT_LT(o.max_error_ms, 1.0);
}

TEST(ClockEstimator, FitReportsOffsetDriftPointsAndResidual) {
  Scenario s;
  s.drift_ppm = -37.0;
  s.duration_s = 3600.0;
  s.seed = 71;
  ClockEstimator estimator;
  const Outcome o = simulate(s, estimator);
  const proto::ClockFit fit = estimator.fit();
  EXPECT_NEAR(fit.offset_s(), o.true_offset_s, 1e-3);
  EXPECT_NEAR(fit.drift_ppm(), -37.0, 2.0);
  // 30 min window of 4 s buckets: ~450 arrival minima and ~450 round trips, a few rejected.
  EXPECT_GT(fit.points(), 800U);
  EXPECT_LE(fit.points(), 900U);
  EXPECT_GT(fit.residual_ms(), 0.0);
  EXPECT_LT(fit.residual_ms(), 1.0);
}

TEST(ClockEstimator, FirstPointGivesOffsetOnlyEstimate) {
  ClockEstimator estimator;
  EXPECT_FALSE(estimator.has_estimate());
  estimator.add_arrival(5'000'000, kHostStartNs);
  ASSERT_TRUE(estimator.has_estimate());
  EXPECT_EQ(estimator.to_host_ns(5'000'000), kHostStartNs);
  EXPECT_EQ(estimator.to_host_ns(6'000'000), kHostStartNs + kNsPerS);
  const proto::ClockFit fit = estimator.fit();
  EXPECT_EQ(fit.points(), 1U);
  EXPECT_DOUBLE_EQ(fit.drift_ppm(), 0.0);
  EXPECT_NEAR(fit.offset_s(), static_cast<double>(kHostStartNs) * 1e-9 - 5.0, 1e-6);
}

TEST(ClockEstimator, ResetForgetsPreviousSession) {
  Scenario first;
  first.duration_s = 300.0;
  first.seed = 81;
  ClockEstimator estimator;
  simulate(first, estimator);
  ASSERT_TRUE(estimator.has_estimate());

  estimator.reset();
  EXPECT_FALSE(estimator.has_estimate());
  EXPECT_THROW((void)estimator.to_host_ns(1'000'000), std::logic_error);
  EXPECT_EQ(estimator.fit().points(), 0U);
  EXPECT_EQ(estimator.fit().drift_ppm(), 0.0);

  // A new session: the device clock restarted near 0, a different drift. Nothing of the old
  // session may leak in (it would be 300 s and 100 ppm off).
  Scenario second;
  second.duration_s = 120.0;
  second.drift_ppm = -250.0;
  second.device_start_us = 0;
  second.seed = 82;
  const Outcome o = simulate(second, estimator);
  EXPECT_LT(o.max_error_early_ms, 20.0);
  EXPECT_LT(o.max_error_ms, 1.0);
  EXPECT_NEAR(o.fit.drift_ppm(), -250.0, 5.0);
  EXPECT_EQ(o.reanchors, 0U);
}

TEST(ClockEstimator, InconsistentRoundTripsAreRejected) {
  ClockEstimator estimator;
  // Pong before ping; device answer before its receipt; RTT shorter than the device hold time;
  // RTT longer than the step threshold.
  estimator.add_round_trip(kHostStartNs, 1000, 2000, kHostStartNs - 1);
  estimator.add_round_trip(kHostStartNs, 2000, 1000, kHostStartNs + 5'000'000);
  estimator.add_round_trip(kHostStartNs, 1000, 11'000, kHostStartNs + 5'000'000);
  estimator.add_round_trip(kHostStartNs, 1000, 2000, kHostStartNs + 2 * kNsPerS);
  EXPECT_FALSE(estimator.has_estimate());
  EXPECT_EQ(estimator.rejected_points(), 4U);

  estimator.add_round_trip(kHostStartNs, 1000, 1500, kHostStartNs + 2'500'000);
  ASSERT_TRUE(estimator.has_estimate());
  // Midpoint: device 1250 us <-> host start + 1.25 ms.
  EXPECT_EQ(estimator.to_host_ns(1250), kHostStartNs + 1'250'000);
}

TEST(ClockEstimator, ArbitraryInputsNeverBreakIt) {
  // Garbage device or host times (a corrupted block, a stepped clock, a rebooted device without
  // reset()) are ignored or treated as steps; queries either answer or throw out_of_range.
  std::mt19937_64 engine(101);
  ClockEstimator estimator;
  std::uint64_t device_us = 1'000'000;
  std::int64_t host_ns = kHostStartNs;
  for (int i = 0; i < 20'000; ++i) {
    const std::uint64_t r = engine();
    switch (r % 8) {
      case 0:
        device_us = engine();  // anything at all
        break;
      case 1:
        host_ns = static_cast<std::int64_t>(engine());
        break;
      case 2:
        estimator.add_round_trip(host_ns, device_us, device_us + (engine() % 5000),
                                 host_ns + static_cast<std::int64_t>(engine() % 20'000'000));
        break;
      case 3:
        estimator.add_round_trip(static_cast<std::int64_t>(engine()), engine(), engine(),
                                 static_cast<std::int64_t>(engine()));
        break;
      default:  // mostly plausible arrivals
        device_us += 20'000;
        host_ns += 20'000'000 + static_cast<std::int64_t>(engine() % 3'000'000);
        estimator.add_arrival(device_us, host_ns);
        break;
    }
    const proto::ClockFit fit = estimator.fit();
    EXPECT_TRUE(std::isfinite(fit.offset_s()) && std::isfinite(fit.drift_ppm()) &&
                std::isfinite(fit.residual_ms()));
    if (estimator.has_estimate()) {
      try {
        (void)estimator.to_host_ns(engine() % 2 == 0 ? device_us : engine());
      } catch (const std::out_of_range&) {
      }
    }
  }
  EXPECT_GT(estimator.rejected_points(), 0U);
}

TEST(ClockEstimator, SameInputsGiveSameResults) {
  Scenario s;
  s.duration_s = 300.0;
  s.seed = 91;
  ClockEstimator a;
  ClockEstimator b;
  const Outcome oa = simulate(s, a);
  const Outcome ob = simulate(s, b);
  EXPECT_EQ(oa.fit.SerializeAsString(), ob.fit.SerializeAsString());
  EXPECT_EQ(a.to_host_ns(400'000'000), b.to_host_ns(400'000'000));
}

TEST(ClockEstimator, RejectsInvalidConfig) {
  ClockEstimatorConfig config;
  config.bucket_s = 0.0;
  EXPECT_THROW(ClockEstimator{config}, std::invalid_argument);
  config = ClockEstimatorConfig{};
  config.window_s = 4.0;
  EXPECT_THROW(ClockEstimator{config}, std::invalid_argument);
}

}  // namespace
}  // namespace spasmwatch::ingest
