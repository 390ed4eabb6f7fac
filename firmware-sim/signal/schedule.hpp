// The session plan behind the signals, drawn once from the seed when a SignalModel is built:
// activity segments (voluntary context with posture, resting tone, artefact level and heart
// rate) and involuntary muscle bursts with their ground truth. Also the scenario table and the
// muscle-burst envelope shared by the EMG generator and the truth's peak amplitudes.
// Internal to the signal model (namespace detail); immutable after construction.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <string_view>
#include <vector>

#include "rng.hpp"
#include "signal_model.hpp"

namespace spasmwatch::sim::detail {

struct Vec3 {
  double x = 0, y = 0, z = 0;
  friend Vec3 operator+(Vec3 a, Vec3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
  friend Vec3 operator-(Vec3 a, Vec3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
  friend Vec3 operator*(double k, Vec3 a) { return {k * a.x, k * a.y, k * a.z}; }
  [[nodiscard]] double dot(Vec3 b) const { return x * b.x + y * b.y + z * b.z; }
  [[nodiscard]] Vec3 cross(Vec3 b) const { return {y * b.z - z * b.y, z * b.x - x * b.z, x * b.y - y * b.x}; }
  [[nodiscard]] double norm() const { return std::sqrt(dot(*this)); }
  [[nodiscard]] Vec3 normalized() const {
    const double n = norm();
    return n > 0 ? (1.0 / n) * *this : Vec3{0, 0, 1};
  }
};

inline Vec3 random_unit_vector(Rng& rng) {
  for (;;) {
    const Vec3 v{rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)};
    const double n = v.norm();
    if (n > 0.1 && n <= 1) return (1.0 / n) * v;
  }
}

// Independent sub-streams of the session seed, one per part of the model.
namespace SeedStream {
enum : std::uint64_t { plan = 1, events, emg_session, emg_noise, ecg, artifact, acc_session, acc_noise };
}

enum class ActivityKind : std::uint8_t {
  rest,
  sleep,
  standing,
  walking,
  typing,
  chewing,
  turning_over,
  moving,
  shifting
};
std::string_view to_string(ActivityKind kind);

enum class Posture : std::uint8_t { upright, sitting, supine, prone, left_side, right_side };

inline bool is_trunk(proto::BodySite site) {
  return site == proto::NECK || site == proto::SHOULDER || site == proto::UPPER_BACK ||
         site == proto::LOWER_BACK;
}
inline bool is_leg(proto::BodySite site) {
  return site == proto::THIGH || site == proto::CALF;
}

struct Segment {
  double start_s = 0;
  double end_s = 0;
  ActivityKind kind = ActivityKind::rest;
  Posture posture_from = Posture::sitting;  // differs from posture_to only when turning over
  Posture posture_to = Posture::sitting;
  std::uint64_t seed = 0;  // voluntary actions inside the segment
  double tonic_uv = 1;     // background muscle tone at the site, RMS
  double artifact_uv = 0;  // electrode-motion noise during the segment, RMS
  double heart_rate_bpm = 65;
};

// One muscle activation: RMS amplitude envelope over [start_s, end_s). Used for involuntary
// events and, built on the fly, for voluntary bursts.
struct MuscleBurst {
  double start_s = 0;
  double end_s = 0;
  double amplitude_uv = 0;  // plateau RMS on the first channel
  double onset_s = 0.03;    // rise time (smoothstep)
  double decay_s = 0.1;     // fall time before end_s
  double mod_depth = 0;     // slow amplitude fluctuation (cramps, tonic bruxism)
  double mod_rate_hz = 0;
  double mod_phase = 0;
  double rhythm_hz = 0;  // > 0: rhythmic bursts (clonus), each a sin^2 over `duty` of a cycle
  double duty = 0.4;
  std::uint64_t variation_seed = 0;  // cycle-to-cycle amplitude variation of rhythmic bursts
  // Coupling to the accelerometer and the electrodes.
  double jerk_g = 0;  // limb jerk just after onset
  Vec3 jerk_dir;
  double tremor_g = 0;     // rhythmic movement at rhythm_hz (clonus)
  double artifact_uv = 0;  // electrode-motion kick at onset
};

inline double smoothstep(double x) {
  x = std::clamp(x, 0.0, 1.0);
  return x * x * (3 - 2 * x);
}

inline double burst_envelope(const MuscleBurst& b, double t) {
  if (t < b.start_s || t >= b.end_s) return 0;
  const double u = t - b.start_s;
  const double remaining = b.end_s - t;
  double a = b.amplitude_uv;
  if (u < b.onset_s) a *= smoothstep(u / b.onset_s);
  if (remaining < b.decay_s) a *= smoothstep(remaining / b.decay_s);
  if (b.mod_depth > 0) {
    const double w = 2 * std::numbers::pi * b.mod_rate_hz * u + b.mod_phase;
    a *= 1 + b.mod_depth * (0.6 * std::sin(w) + 0.4 * std::sin(2.37 * w + 1.3));
  }
  if (b.rhythm_hz > 0) {
    const double cycles = u * b.rhythm_hz;
    const double k = std::floor(cycles);
    const double p = cycles - k;
    if (p >= b.duty) return 0;
    const double s = std::sin(std::numbers::pi * p / b.duty);
    a *= s * s * (0.75 + 0.5 * hash01(b.variation_seed, static_cast<std::uint64_t>(k)));
  }
  return a;
}

// How a scenario's day or night unfolds.
enum class Routine : std::uint8_t { sitting, quiet, sleep, walking, typing, office, housework };

constexpr std::size_t kEventTypes = 6;

struct ScenarioSpec {
  std::string_view name;
  std::string_view description;
  Routine routine;
  bool chewing;                         // meals / gum in the activity plan
  double events_per_min;                // mean rate of involuntary events
  std::array<double, kEventTypes> mix;  // relative weight per EventType
  double min_peak_uv = 0;               // > 0: override every event's amplitude range
  double max_peak_uv = 0;
  double artifact_scale = 1;
};

std::span<const ScenarioSpec> scenario_table();
const ScenarioSpec* find_scenario(std::string_view name);
bool event_possible_at(EventType type, proto::BodySite site);

struct Schedule {
  std::vector<Segment> segments;  // contiguous, cover [0, duration)
  std::vector<ActivitySegment> activities;
  std::vector<TruthEvent> truth;
  std::vector<MuscleBurst> involuntary;  // sorted by start; a jaw_phasic episode has several
};

Schedule build_schedule(const SignalConfig& config, const ScenarioSpec& spec);

}  // namespace spasmwatch::sim::detail
