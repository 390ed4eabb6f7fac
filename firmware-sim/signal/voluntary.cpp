// Voluntary actions per activity kind. Amplitudes are plateau RMS (µV) at the configured site;
// voluntary bursts rise more slowly (40-150 ms) than spasms (10-35 ms), as in real recordings.
#include "voluntary.hpp"

#include <algorithm>
#include <numbers>

namespace spasmwatch::sim::detail {

VoluntaryPlanner::VoluntaryPlanner(std::span<const Segment> segments, proto::BodySite site, proto::Side side,
                                   double artifact_scale)
    : segments_(segments), site_(site), side_(side), artifact_scale_(artifact_scale) {
  advance();
}

void VoluntaryPlanner::advance() {
  while (segment_ < segments_.size()) {
    const Segment& s = segments_[segment_];
    if (!entered_) {
      enter(s);
      entered_ = true;
    }
    VoluntaryAction action;
    if (has_actions_ && draw(s, action)) {
      next_ = action;
      return;
    }
    ++segment_;
    entered_ = false;
  }
  next_ = VoluntaryAction{};
}

void VoluntaryPlanner::enter(const Segment& s) {
  rng_ = Rng(s.seed);
  level_ = rng_.uniform(0.8, 1.2);
  count_ = 0;
  switch (s.kind) {
    case ActivityKind::walking:
      has_actions_ = true;
      interval_s_ = 1 / rng_.uniform(1.75, 2.05);  // cadence, steps per second
      t_ = s.start_s + rng_.uniform(0.2, 0.6);
      foot_ = rng_.uniform_int(0, 1);
      break;
    case ActivityKind::typing:
      has_actions_ = site_ == proto::FOREARM;  // elsewhere typing is only tone (segment)
      t_ = s.start_s + rng_.uniform(0.5, 2);
      break;
    case ActivityKind::chewing:
      has_actions_ = site_ == proto::JAW || site_ == proto::NECK;
      interval_s_ = 1 / rng_.uniform(1.2, 1.7);
      t_ = s.start_s + rng_.uniform(0.3, 1);
      chew_side_ = rng_.uniform_int(0, 1);
      next_pause_ = rng_.uniform_int(12, 25);
      break;
    case ActivityKind::turning_over:
      has_actions_ = true;
      t_ = s.start_s + rng_.uniform(0, 0.4);
      break;
    case ActivityKind::moving:
      has_actions_ = true;
      t_ = s.start_s + rng_.uniform(0, 1);
      break;
    case ActivityKind::shifting:
      has_actions_ = true;
      t_ = s.start_s + rng_.uniform(0, 0.3);
      break;
    default:
      has_actions_ = false;
      break;
  }
}

bool VoluntaryPlanner::draw(const Segment& s, VoluntaryAction& action) {
  const bool brief = s.kind == ActivityKind::turning_over || s.kind == ActivityKind::shifting;
  const double last_start = brief ? s.end_s - 0.3 : s.end_s;
  if (t_ >= last_start) return false;
  action.start_s = t_;
  action.emg.start_s = t_;
  switch (s.kind) {
    case ActivityKind::walking:
      walking_step(action);
      break;
    case ActivityKind::typing:
      keystroke(action);
      break;
    case ActivityKind::chewing:
      chew(action);
      break;
    case ActivityKind::turning_over:
      whole_body(action, Movement::turning_over);
      break;
    case ActivityKind::shifting:
      whole_body(action, Movement::shifting);
      break;
    default:
      whole_body(action, Movement::housework);
      break;
  }
  // Movements end with their segment, so the context labels stay true.
  action.emg.end_s = std::min(action.emg.end_s, s.end_s);
  if (action.emg.end_s - action.emg.start_s < 0.02) action.emg.amplitude_uv = 0;
  return true;
}

void VoluntaryPlanner::walking_step(VoluntaryAction& a) {
  const double step_s = interval_s_ * (1 + 0.02 * rng_.gaussian());
  t_ += step_s;
  foot_ ^= 1;
  const bool ipsilateral = side_ == proto::MIDLINE || (side_ == proto::LEFT && foot_ == 0) ||
                           (side_ == proto::RIGHT && foot_ == 1);
  const double var = std::max(0.5, level_ * (1 + 0.12 * rng_.gaussian()));
  auto burst = [&](double offset_s, double length_s, double amplitude_uv, double onset_s) {
    a.emg.start_s = a.start_s + offset_s;
    a.emg.end_s = a.emg.start_s + length_s;
    a.emg.amplitude_uv = amplitude_uv * var;
    a.emg.onset_s = onset_s;
    a.emg.decay_s = 0.1;
  };
  double impact_g = 0.3;
  double artifact_uv = 15;
  switch (site_) {
    case proto::CALF:  // gastrocnemius: mid-to-late stance of its own leg
      if (ipsilateral) burst(0.08, rng_.uniform(0.28, 0.38), 130, 0.06);
      impact_g = ipsilateral ? 0.45 : 0.2;
      artifact_uv = ipsilateral ? 45 : 15;
      break;
    case proto::THIGH:  // quadriceps: loading response around heel strike
      if (ipsilateral) burst(0, rng_.uniform(0.2, 0.3), 90, 0.05);
      impact_g = ipsilateral ? 0.4 : 0.2;
      artifact_uv = ipsilateral ? 40 : 15;
      break;
    case proto::LOWER_BACK:  // erector spinae: every heel strike
      burst(0, rng_.uniform(0.15, 0.25), 30, 0.05);
      break;
    case proto::FOREARM:  // arm swing, once a stride
      if (ipsilateral) burst(0.05, rng_.uniform(0.2, 0.3), 15, 0.06);
      break;
    case proto::JAW:
      impact_g = 0.22;
      artifact_uv = 5;
      break;
    default:  // neck, shoulder, upper back: small postural bursts
      burst(0, rng_.uniform(0.12, 0.2), 10, 0.05);
      impact_g = site_ == proto::NECK ? 0.22 : 0.3;
      break;
  }
  a.artifact_uv = artifact_uv * var * artifact_scale_;
  // Heel-strike impact, the body's vertical bounce over the step (zero mean), braking.
  a.acc[0] = {AccShape::damped, AccAxis::up, {}, 0, 0.3, impact_g * var, 12, 0.05, 0};
  a.acc[1] = {AccShape::cycle, AccAxis::up, {}, 0, step_s, 0.2 * var, 0, 0, 0};
  a.acc[2] = {AccShape::damped, AccAxis::forward, {}, 0, 0.3, 0.5 * impact_g * var, 9, 0.05,
              std::numbers::pi};
}

void VoluntaryPlanner::keystroke(VoluntaryAction& a) {
  t_ += 0.1 + rng_.exponential(0.13);
  if (rng_.chance(0.04)) t_ += rng_.uniform(1, 4);  // reading, thinking
  const double length_s = rng_.uniform(0.05, 0.12);
  a.emg.end_s = a.start_s + length_s;
  a.emg.amplitude_uv = std::max(8.0, 35 * level_ * (1 + 0.25 * rng_.gaussian()));
  a.emg.onset_s = rng_.uniform(0.015, 0.03);
  a.emg.decay_s = 0.03;
  a.acc[0] = {AccShape::damped, AccAxis::up, {}, 0.01, 0.15, rng_.uniform(0.01, 0.04), 18, 0.02, 0};
}

void VoluntaryPlanner::chew(VoluntaryAction& a) {
  const double period_s = interval_s_ * (1 + 0.05 * rng_.gaussian());
  t_ += period_s;
  if (++count_ == next_pause_) {  // swallow
    t_ += rng_.uniform(1, 2.5);
    count_ = 0;
    next_pause_ = rng_.uniform_int(12, 25);
  }
  a.emg.end_s = a.start_s + period_s * rng_.uniform(0.4, 0.55);
  a.emg.onset_s = rng_.uniform(0.04, 0.07);
  a.emg.decay_s = 0.08;
  const double gauss = rng_.gaussian();
  if (site_ == proto::JAW) {
    const bool working_side = side_ == proto::MIDLINE || (side_ == proto::LEFT) == (chew_side_ == 0);
    a.emg.amplitude_uv = 150 * level_ * (working_side ? 1.0 : 0.7) * std::max(0.5, 1 + 0.15 * gauss);
    a.artifact_uv = 8 * artifact_scale_;
    a.acc[0] = {AccShape::cycle, AccAxis::forward, {}, 0, period_s, 0.05 * level_, 0, 0, 0};
  } else {  // neck: a little co-contraction and head movement
    a.emg.amplitude_uv = 5 * level_;
    a.acc[0] = {AccShape::cycle, AccAxis::forward, {}, 0, period_s, 0.008 * level_, 0, 0, 0};
  }
}

void VoluntaryPlanner::whole_body(VoluntaryAction& a, Movement movement) {
  double base_uv = 50;  // plateau RMS for an ordinary movement at this site
  switch (site_) {
    case proto::JAW:
      base_uv = 10;
      break;
    case proto::FOREARM:
    case proto::NECK:
      base_uv = 60;
      break;
    default:
      base_uv = movement == Movement::turning_over ? 110 : 50;
      break;
  }
  switch (movement) {
    case Movement::turning_over:
      t_ += rng_.uniform(0.4, 1.2);
      a.emg.amplitude_uv = base_uv * rng_.uniform(0.5, 1.6) * (site_ == proto::JAW ? 2 : 1);
      a.emg.end_s = a.start_s + rng_.uniform(0.5, 1.5);
      a.emg.onset_s = rng_.uniform(0.08, 0.15);
      a.emg.decay_s = 0.2;
      a.artifact_uv = rng_.uniform(80, 300) * artifact_scale_;
      a.acc[0] = {AccShape::damped,
                  AccAxis::given,
                  random_unit_vector(rng_),
                  0,
                  1.0,
                  rng_.uniform(0.1, 0.5),
                  rng_.uniform(2, 5),
                  0.25,
                  0};
      break;
    case Movement::shifting:
      t_ += rng_.uniform(0.5, 1.5);
      a.emg.amplitude_uv = 0.7 * base_uv * rng_.uniform(0.5, 1.5);
      a.emg.end_s = a.start_s + rng_.uniform(0.4, 1.2);
      a.emg.onset_s = rng_.uniform(0.08, 0.15);
      a.emg.decay_s = 0.2;
      a.artifact_uv = rng_.uniform(20, 80) * artifact_scale_;
      a.acc[0] = {AccShape::damped,
                  AccAxis::given,
                  random_unit_vector(rng_),
                  0,
                  1.2,
                  rng_.uniform(0.05, 0.2),
                  rng_.uniform(1.5, 4),
                  0.3,
                  0};
      break;
    case Movement::housework:
      t_ += 0.3 + rng_.exponential(0.8);
      a.emg.amplitude_uv = base_uv * rng_.log_uniform(0.4, 2.5);
      a.emg.end_s = a.start_s + rng_.uniform(0.2, 1.2);
      a.emg.onset_s = rng_.uniform(0.05, 0.12);
      a.emg.decay_s = rng_.uniform(0.1, 0.3);
      a.artifact_uv = rng_.uniform(30, 200) * artifact_scale_;
      a.acc[0] = {AccShape::damped,
                  AccAxis::given,
                  random_unit_vector(rng_),
                  0,
                  0.8,
                  rng_.uniform(0.08, 0.6),
                  rng_.uniform(2, 6),
                  0.2,
                  0};
      break;
  }
}

}  // namespace spasmwatch::sim::detail
