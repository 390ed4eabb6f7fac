// Draws the session plan: activity segments from the scenario's routine, then involuntary events
// placed between them. Everything comes from sub-streams of the seed, so adding a draw in one
// part does not reshuffle the others.
#include "schedule.hpp"

#include <algorithm>
#include <cmath>

namespace spasmwatch::sim::detail {
namespace {

constexpr double kFirstEventAfterS = 8;  // let a detector's baseline settle
constexpr double kMinEventGapS = 3;      // rest between involuntary events
constexpr double kClearOfActivityS = 2;  // events keep this far from ambiguous movements
constexpr double kEndMarginS = 0.5;

Posture default_posture(ActivityKind kind) {
  switch (kind) {
    case ActivityKind::standing:
    case ActivityKind::walking:
    case ActivityKind::moving:
      return Posture::upright;
    case ActivityKind::sleep:
    case ActivityKind::turning_over:
      return Posture::supine;
    default:
      return Posture::sitting;
  }
}

Posture random_lying(Rng& rng, Posture other) {
  for (;;) {
    const double r = rng.uniform();
    const Posture p = r < 0.4    ? Posture::supine
                      : r < 0.65 ? Posture::left_side
                      : r < 0.9  ? Posture::right_side
                                 : Posture::prone;
    if (p != other) return p;
  }
}

double tonic_uv(ActivityKind kind, proto::BodySite site) {
  const bool leg = is_leg(site);
  const bool neck_shoulder = site == proto::NECK || site == proto::SHOULDER || site == proto::UPPER_BACK;
  switch (kind) {
    case ActivityKind::rest:
      return site == proto::JAW ? 1.5 : 1.2;
    case ActivityKind::sleep:
      return 0.3;
    case ActivityKind::standing:
      return leg ? 4.5 : site == proto::LOWER_BACK ? 3.5 : 1.5;
    case ActivityKind::walking:
      return leg ? 3.5 : site == proto::LOWER_BACK ? 3 : site == proto::JAW ? 1.2 : 2;
    case ActivityKind::typing:
      return neck_shoulder ? 6.5 : site == proto::FOREARM ? 7 : site == proto::LOWER_BACK ? 2.5 : 1.2;
    case ActivityKind::chewing:
      return site == proto::JAW ? 3 : site == proto::NECK ? 2 : 1.2;
    case ActivityKind::turning_over:
      return site == proto::JAW ? 5 : 15;
    case ActivityKind::moving:
      return site == proto::JAW ? 2 : 7;
    case ActivityKind::shifting:
      return site == proto::JAW ? 2 : 6;
  }
  return 1;
}

double artifact_uv(ActivityKind kind) {
  switch (kind) {
    case ActivityKind::walking:
      return 6;
    case ActivityKind::moving:
      return 35;
    case ActivityKind::shifting:
      return 20;
    case ActivityKind::turning_over:
      return 120;
    case ActivityKind::standing:
      return 1;
    default:
      return 0;
  }
}

double heart_rate_offset_bpm(ActivityKind kind) {
  switch (kind) {
    case ActivityKind::sleep:
      return -7;
    case ActivityKind::walking:
      return 9;
    case ActivityKind::moving:
      return 7;
    case ActivityKind::turning_over:
      return 4;
    case ActivityKind::standing:
      return 3;
    case ActivityKind::typing:
    case ActivityKind::chewing:
    case ActivityKind::shifting:
      return 2;
    default:
      return 0;
  }
}

std::vector<Segment> plan_segments(const SignalConfig& config, const ScenarioSpec& spec, Rng& rng) {
  const double duration = config.duration_s;
  std::vector<Segment> segs;
  double t = 0;
  auto add = [&](ActivityKind kind, double length_s, Posture from, Posture to) {
    if (t >= duration) return;
    Segment s;
    s.start_s = t;
    s.end_s = std::min(duration, t + length_s);
    s.kind = kind;
    s.posture_from = from;
    s.posture_to = to;
    segs.push_back(s);
    t = s.end_s;
  };
  auto add_simple = [&](ActivityKind kind, double length_s) {
    add(kind, length_s, default_posture(kind), default_posture(kind));
  };
  using K = ActivityKind;
  while (t < duration) {
    switch (spec.routine) {
      case Routine::quiet:
        add_simple(K::rest, duration);
        break;
      case Routine::sitting:  // sitting still, now and then adjusting the seat or eating
        add_simple(K::rest, 60 + rng.exponential(240));
        add_simple(K::shifting, rng.uniform(1.5, 3.5));
        if (spec.chewing && rng.chance(0.3)) add_simple(K::chewing, rng.uniform(30, 120));
        break;
      case Routine::sleep: {
        const Posture lying = segs.empty() ? random_lying(rng, Posture::upright) : segs.back().posture_to;
        add(K::sleep, 180 + rng.exponential(720), lying, lying);
        add(K::turning_over, rng.uniform(2, 5), lying, random_lying(rng, lying));
        break;
      }
      case Routine::walking:
        add_simple(K::walking, rng.uniform(60, 300));
        add_simple(K::standing, rng.uniform(10, 45));
        break;
      case Routine::typing:
        add_simple(K::typing, rng.uniform(60, 400));
        if (rng.chance(0.5)) add_simple(K::shifting, rng.uniform(1.5, 3.5));
        if (spec.chewing && rng.chance(0.2)) {
          add_simple(K::chewing, rng.uniform(30, 90));
        } else {
          add_simple(K::rest, rng.uniform(5, 40));
        }
        break;
      case Routine::office:
        add_simple(K::typing, rng.uniform(120, 600));
        add_simple(K::shifting, rng.uniform(1.5, 3.5));
        add_simple(K::rest, rng.uniform(10, 60));
        add_simple(K::walking, rng.uniform(30, 180));
        add_simple(K::standing, rng.uniform(5, 20));
        if (spec.chewing && rng.chance(0.3)) add_simple(K::chewing, rng.uniform(30, 90));
        break;
      case Routine::housework: {
        const double r = rng.uniform();
        if (r < 0.5) {
          add_simple(K::moving, rng.uniform(20, 120));
        } else if (r < 0.8) {
          add_simple(K::walking, rng.uniform(20, 90));
        } else {
          add_simple(K::standing, rng.uniform(10, 40));
        }
        break;
      }
    }
  }
  const double base_hr = rng.uniform(60, 74);
  for (std::size_t i = 0; i < segs.size(); ++i) {
    auto& s = segs[i];
    s.seed = rng.next();
    s.tonic_uv = tonic_uv(s.kind, config.site) * rng.uniform(0.8, 1.25);
    s.artifact_uv = artifact_uv(s.kind) * spec.artifact_scale * rng.uniform(0.7, 1.4);
    s.heart_rate_bpm = std::clamp(base_hr + heart_rate_offset_bpm(s.kind), 55.0, 84.0);
  }
  return segs;
}

double quantize_ms(double t) {
  return std::round(t * 1000) / 1000;
}

struct DrawnEvent {
  TruthEvent truth;
  std::vector<MuscleBurst> bursts;
};

DrawnEvent draw_event(EventType type, double start_s, Rng& rng, const ScenarioSpec& spec,
                      const SignalConfig& config) {
  // Plateau RMS ranges (µV), from surface-EMG literature orders of magnitude.
  static constexpr std::array<std::array<double, 2>, kEventTypes> kAmplitude{
      {{40, 200}, {50, 500}, {150, 500}, {80, 350}, {60, 250}, {50, 200}}};
  auto range = kAmplitude[static_cast<std::size_t>(type)];
  if (spec.min_peak_uv > 0) range = {spec.min_peak_uv, spec.max_peak_uv};
  const double amplitude = rng.log_uniform(range[0], range[1]);
  const double strength = std::sqrt(amplitude / 200);  // movement grows with the contraction

  MuscleBurst b;
  b.start_s = quantize_ms(start_s);
  b.amplitude_uv = amplitude;
  b.variation_seed = rng.next();
  b.jerk_dir = random_unit_vector(rng);
  b.mod_phase = rng.uniform(0, 2 * std::numbers::pi);
  double length_s = 1;
  DrawnEvent ev;
  switch (type) {
    case EventType::twitch:
      length_s = rng.uniform(0.06, 0.4);
      b.onset_s = rng.uniform(0.005, 0.012);
      b.decay_s = std::min(0.4 * length_s, rng.uniform(0.02, 0.06));
      b.jerk_g = 0.03 * strength;
      b.artifact_uv = amplitude * rng.uniform(0.04, 0.12);
      break;
    case EventType::spasm:
      length_s = rng.log_uniform(0.6, 8);
      b.onset_s = rng.uniform(0.01, 0.035);  // sharp: faster than a voluntary contraction
      b.decay_s = rng.uniform(0.08, 0.3);
      b.mod_depth = rng.uniform(0.05, 0.2);
      b.mod_rate_hz = rng.uniform(1, 3);
      b.jerk_g = 0.08 * strength;
      b.artifact_uv = amplitude * rng.uniform(0.04, 0.12);
      break;
    case EventType::cramp:
      length_s = rng.log_uniform(12, 75);
      b.onset_s = rng.uniform(0.05, 0.15);
      b.decay_s = rng.uniform(0.5, 2);
      b.mod_depth = rng.uniform(0.25, 0.45);
      b.mod_rate_hz = rng.uniform(0.2, 1.2);
      b.jerk_g = 0.1 * strength;
      b.artifact_uv = amplitude * rng.uniform(0.04, 0.12);
      break;
    case EventType::clonus:
      length_s = rng.uniform(2, 10);
      b.rhythm_hz = rng.uniform(3.5, 7.5);
      b.duty = rng.uniform(0.3, 0.45);
      b.onset_s = 0.01;
      b.decay_s = 0.15;
      b.tremor_g = std::clamp(rng.uniform(0.04, 0.2) * strength, 0.01, 0.3);
      break;
    case EventType::jaw_tonic:
      length_s = rng.uniform(2.5, 12);
      b.onset_s = rng.uniform(0.05, 0.15);
      b.decay_s = rng.uniform(0.2, 0.5);
      b.mod_depth = rng.uniform(0.1, 0.2);
      b.mod_rate_hz = rng.uniform(0.3, 1);
      b.jerk_g = 0.005;
      break;
    case EventType::jaw_phasic: {
      // A train of 3-6 phasic bursts of 0.25-2 s (AASM bruxism scoring): one episode.
      const int bursts = rng.uniform_int(3, 6);
      double t = b.start_s;
      for (int i = 0; i < bursts; ++i) {
        MuscleBurst p = b;
        p.start_s = quantize_ms(t);
        p.end_s = quantize_ms(t + rng.uniform(0.3, 1.6));
        p.amplitude_uv = amplitude * rng.uniform(0.7, 1.0);
        p.onset_s = rng.uniform(0.02, 0.05);
        p.decay_s = rng.uniform(0.05, 0.12);
        p.jerk_g = 0.006;
        p.jerk_dir = random_unit_vector(rng);
        ev.bursts.push_back(p);
        t = p.end_s + rng.uniform(0.25, 0.9);
      }
      break;
    }
  }
  if (ev.bursts.empty()) {
    b.end_s = quantize_ms(b.start_s + length_s);
    ev.bursts.push_back(b);
  }
  double peak = 0;
  for (const auto& burst : ev.bursts) {
    // Fine enough for the fastest feature: a clonus burst (>= 40 ms) or a 7 Hz fluctuation.
    const double step = burst.rhythm_hz > 0 ? 0.002 : 0.005;
    for (double t = burst.start_s; t < burst.end_s; t += step) {
      peak = std::max(peak, burst_envelope(burst, t));
    }
  }
  ev.truth = {ev.bursts.front().start_s, ev.bursts.back().end_s, type, config.site, config.side, peak};
  return ev;
}

// The first segment overlapping [from, to) whose movements would make an event there ambiguous
// (chewing, turning over, shifting in the seat), or null.
const Segment* first_clash(const std::vector<Segment>& segs, double from, double to) {
  auto it =
      std::partition_point(segs.begin(), segs.end(), [from](const Segment& s) { return s.end_s <= from; });
  for (; it != segs.end() && it->start_s < to; ++it) {
    if (it->kind == ActivityKind::chewing || it->kind == ActivityKind::turning_over ||
        it->kind == ActivityKind::shifting) {
      return &*it;
    }
  }
  return nullptr;
}

void place_events(const SignalConfig& config, const ScenarioSpec& spec, Rng& rng, Schedule& out) {
  if (spec.events_per_min <= 0) return;
  std::array<double, kEventTypes> weights{};
  double total = 0;
  for (std::size_t i = 0; i < kEventTypes; ++i) {
    weights[i] = event_possible_at(static_cast<EventType>(i), config.site) ? spec.mix[i] : 0;
    total += weights[i];
  }
  if (total <= 0) return;
  const double mean_gap_s = 60 / spec.events_per_min;
  double t = kFirstEventAfterS + rng.exponential(mean_gap_s / 2);
  while (t < config.duration_s) {
    double pick = rng.uniform() * total;
    std::size_t type = kEventTypes;
    for (std::size_t i = 0; i < kEventTypes; ++i) {
      if (weights[i] <= 0) continue;
      type = i;  // the last possible type absorbs rounding at the top of the range
      if (pick < weights[i]) break;
      pick -= weights[i];
    }
    DrawnEvent ev = draw_event(static_cast<EventType>(type), t, rng, spec, config);
    if (ev.truth.end_s > config.duration_s - kEndMarginS) break;
    if (const Segment* clash = first_clash(out.segments, ev.truth.start_s - kClearOfActivityS,
                                           ev.truth.end_s + kClearOfActivityS)) {
      t = clash->end_s + kClearOfActivityS + rng.uniform(0, 3);
      continue;
    }
    out.truth.push_back(ev.truth);
    out.involuntary.insert(out.involuntary.end(), ev.bursts.begin(), ev.bursts.end());
    t = ev.truth.end_s + kMinEventGapS + rng.exponential(mean_gap_s);
  }
}

}  // namespace

Schedule build_schedule(const SignalConfig& config, const ScenarioSpec& spec) {
  Schedule schedule;
  Rng plan_rng(derive_seed(config.seed, SeedStream::plan));
  schedule.segments = plan_segments(config, spec, plan_rng);
  Rng event_rng(derive_seed(config.seed, SeedStream::events));
  place_events(config, spec, event_rng, schedule);
  schedule.activities.reserve(schedule.segments.size());
  for (const auto& s : schedule.segments) {
    schedule.activities.push_back({s.start_s, s.end_s, std::string(to_string(s.kind))});
  }
  return schedule;
}

}  // namespace spasmwatch::sim::detail
