#include "acc_generator.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace spasmwatch::sim::detail {
namespace {

constexpr double kTwoPi = 2 * std::numbers::pi;
constexpr double kNoiseG = 0.002;
constexpr double kElectromechanicalDelayS = 0.03;

bool lying_on_side(Posture p) {
  return p == Posture::left_side || p == Posture::right_side;
}

// Where "up" points in the device frame for a site and posture, before the mounting tilt.
// Trunk and neck: x to the wearer's right, y to the head, z out of the skin of the back.
// Jaw: x forward, y to the head, z out of the cheek. Limbs: y along the segment towards the
// body, z out of the front (thigh, calf) or the back of the forearm.
Vec3 base_up(proto::BodySite site, proto::Side side, Posture p) {
  const double lateral = side == proto::LEFT ? -1 : 1;
  switch (site) {
    case proto::JAW:
      switch (p) {
        case Posture::upright:
          return {0, 1, 0};
        case Posture::sitting:
          return {0.208, 0.978, 0};
        case Posture::supine:
          return {1, 0, 0};
        case Posture::prone:
          return {-1, 0, 0};
        case Posture::left_side:
          return {0, 0, lateral};
        case Posture::right_side:
          return {0, 0, -lateral};
      }
      break;
    case proto::FOREARM:
      switch (p) {
        case Posture::upright:
          return {-1, 0, 0};  // arm hanging
        case Posture::sitting:
          return {-0.2, 0, 0.98};  // on the desk, palm down
        case Posture::supine:
          return {0, 0, 1};
        case Posture::prone:
          return {0, 0, -1};
        case Posture::left_side:
          return {0.2, 0.7, 0.68};
        case Posture::right_side:
          return {0.2, -0.7, 0.68};
      }
      break;
    case proto::THIGH:
    case proto::CALF: {
      const bool thigh = site == proto::THIGH;
      switch (p) {
        case Posture::upright:
          return {0, 1, 0};
        case Posture::sitting:
          return thigh ? Vec3{0, 0.1, 0.995} : Vec3{0, 0.94, 0.34};
        case Posture::supine:
          return {0, 0, 1};
        case Posture::prone:
          return {0, 0, -1};
        case Posture::left_side:
          return {1, 0, 0};
        case Posture::right_side:
          return {-1, 0, 0};
      }
      break;
    }
    default:  // neck, shoulder, upper and lower back
      switch (p) {
        case Posture::upright:
          return {0, 1, 0};
        case Posture::sitting:
          return {0, 0.978, -0.208};  // leaning back a little
        case Posture::supine:
          return {0, 0, -1};
        case Posture::prone:
          return {0, 0, 1};
        case Posture::left_side:
          return {1, 0, 0};
        case Posture::right_side:
          return {-1, 0, 0};
      }
      break;
  }
  return {0, 1, 0};
}

inline std::int32_t to_counts(double g) {
  const double c = std::clamp(g / SignalModel::kAccScaleG, -32768.0, 32767.0);
  return static_cast<std::int32_t>(c + (c < 0 ? -0.5 : 0.5));
}

}  // namespace

AccGenerator::AccGenerator(const SignalConfig& config, const Schedule& schedule, const ScenarioSpec& spec)
    : schedule_(schedule),
      site_(config.site),
      side_(config.side),
      rate_hz_(config.acc_rate_hz),
      max_freq_hz_(0.4 * config.acc_rate_hz),
      noise_rng_(derive_seed(config.seed, SeedStream::acc_noise)),
      planner_(schedule.segments, config.site, config.side, spec.artifact_scale) {
  Rng rng(derive_seed(config.seed, SeedStream::acc_session));
  // The device sits up to 8 degrees off the nominal axes (Rodrigues rotation).
  const Vec3 axis = random_unit_vector(rng);
  const double angle = rng.uniform(0, 8) * std::numbers::pi / 180;
  const double c = std::cos(angle), s = std::sin(angle), k = 1 - c;
  mounting_ = {
      Vec3{c + k * axis.x * axis.x, k * axis.x * axis.y - s * axis.z, k * axis.x * axis.z + s * axis.y},
      Vec3{k * axis.y * axis.x + s * axis.z, c + k * axis.y * axis.y, k * axis.y * axis.z - s * axis.x},
      Vec3{k * axis.z * axis.x - s * axis.y, k * axis.z * axis.y + s * axis.x, c + k * axis.z * axis.z}};
  bias_g_ = {rng.uniform(-0.01, 0.01), rng.uniform(-0.01, 0.01), rng.uniform(-0.01, 0.01)};
  breath_hz_ = rng.uniform(0.2, 0.3);
  up_alpha_ = 1 - std::exp(-1 / (0.4 * rate_hz_));
  up_ = target_up(schedule.segments.front(), 0);
  active_.reserve(64);
}

Vec3 AccGenerator::posture_up(Posture posture) const {
  const Vec3 v = base_up(site_, side_, posture).normalized();
  return Vec3{mounting_[0].dot(v), mounting_[1].dot(v), mounting_[2].dot(v)};
}

Vec3 AccGenerator::target_up(const Segment& segment, double t) const {
  const Vec3 from = posture_up(segment.posture_from);
  if (segment.posture_from == segment.posture_to) return from;
  const Vec3 to = posture_up(segment.posture_to);
  const double s = smoothstep((t - segment.start_s) / (segment.end_s - segment.start_s));
  if (from.dot(to) < -0.5) {  // rolling over onto the other side passes through a third posture
    const bool sides = lying_on_side(segment.posture_from) && lying_on_side(segment.posture_to);
    const Vec3 via = posture_up(sides ? Posture::supine : Posture::left_side);
    return s < 0.5 ? (from + 2 * s * (via - from)).normalized()
                   : (via + (2 * s - 1) * (to - via)).normalized();
  }
  return (from + s * (to - from)).normalized();
}

Vec3 AccGenerator::forward_of(Vec3 up) const {
  const Vec3 ref = std::abs(up.x) < 0.8 ? Vec3{1, 0, 0} : Vec3{0, 1, 0};
  return up.cross(ref).normalized();
}

void AccGenerator::add_pulse(const AccPulseSpec& spec, double action_start_s) {
  if (spec.shape == AccShape::none || spec.amplitude_g <= 0) return;
  Pulse p{};
  p.start_s = action_start_s + spec.offset_s;
  p.end_s = p.start_s + spec.duration_s;
  p.shape = spec.shape;
  const Vec3 up = up_.normalized();
  p.dir = spec.axis == AccAxis::up ? up : spec.axis == AccAxis::forward ? forward_of(up) : spec.dir;
  p.amplitude_g = spec.amplitude_g;
  p.freq_hz = std::min(spec.freq_hz, max_freq_hz_);
  p.tau_s = spec.tau_s;
  p.phase = spec.phase;
  active_.push_back(p);
}

Vec3 AccGenerator::evaluate(const Pulse& p, double t) {
  const double u = t - p.start_s;
  if (u < 0) return {};
  double a = 0;
  switch (p.shape) {
    case AccShape::damped:
      a = std::exp(-u / p.tau_s) * std::sin(kTwoPi * p.freq_hz * u + p.phase);
      break;
    case AccShape::cycle:
      a = std::sin(kTwoPi * u / (p.end_s - p.start_s) + p.phase);
      break;
    case AccShape::tremor:
      a = smoothstep(u / 0.3) * smoothstep((p.end_s - t) / 0.3) * std::sin(kTwoPi * p.freq_hz * u + p.phase);
      break;
    case AccShape::none:
      break;
  }
  return (p.amplitude_g * a) * p.dir;
}

void AccGenerator::generate(std::span<std::int32_t> out) {
  const auto& segments = schedule_.segments;
  const auto& involuntary = schedule_.involuntary;
  const std::size_t points = out.size() / 3;
  for (std::size_t i = 0; i < points; ++i, ++n_) {
    const double t = static_cast<double>(n_) / rate_hz_;
    while (segment_ + 1 < segments.size() && t >= segments[segment_].end_s) ++segment_;
    const Segment& segment = segments[segment_];
    up_ = up_ + up_alpha_ * (target_up(segment, t) - up_);
    const Vec3 up = up_.normalized();

    while (next_involuntary_ < involuntary.size() && involuntary[next_involuntary_].start_s <= t) {
      const MuscleBurst& b = involuntary[next_involuntary_++];
      if (b.jerk_g > 0) {
        add_pulse({AccShape::damped, AccAxis::given, b.jerk_dir, kElectromechanicalDelayS, 0.5, b.jerk_g, 8,
                   0.06, 0},
                  b.start_s);
      }
      if (b.tremor_g > 0 && b.rhythm_hz > 0) {
        // Movement peaks ~60 ms after the middle of each EMG burst.
        const double phase = std::numbers::pi / 2 - std::numbers::pi * b.duty - kTwoPi * b.rhythm_hz * 0.06;
        add_pulse({AccShape::tremor, AccAxis::given, b.jerk_dir, 0, b.end_s - b.start_s, b.tremor_g,
                   b.rhythm_hz, 0, phase},
                  b.start_s);
      }
    }
    while (planner_.peek().start_s <= t) {
      for (const auto& spec : planner_.peek().acc) add_pulse(spec, planner_.peek().start_s);
      planner_.pop();
    }

    Vec3 acc = up;
    for (std::size_t k = 0; k < active_.size();) {
      if (t >= active_[k].end_s) {
        active_[k] = active_.back();
        active_.pop_back();
      } else {
        acc = acc + evaluate(active_[k], t);
        ++k;
      }
    }
    if (segment.kind == ActivityKind::sleep && is_trunk(site_)) {
      acc = acc + (0.004 * std::sin(kTwoPi * breath_hz_ * t)) * forward_of(up);
    }
    acc = acc + bias_g_ +
          Vec3{kNoiseG * noise_rng_.gaussian(), kNoiseG * noise_rng_.gaussian(),
               kNoiseG * noise_rng_.gaussian()};
    out[3 * i] = to_counts(acc.x);
    out[3 * i + 1] = to_counts(acc.y);
    out[3 * i + 2] = to_counts(acc.z);
  }
}

}  // namespace spasmwatch::sim::detail
