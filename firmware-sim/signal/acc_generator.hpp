// Accelerometer synthesis (x, y, z in the device frame, g). The reading is the specific force:
// +1 g along "up" at rest. Up comes from the posture of the current activity segment for this
// site's mounting (y along the body segment, z out of the skin), with a small random mounting
// tilt, turned smoothly when the wearer turns over in bed or stands up. Added to it: pulses from
// voluntary actions (steps, taps, chewing, whole-body movements), jerks just after the onset of
// involuntary bursts (electromechanical delay ~30 ms), tremor at the clonus rate, breathing
// movement of the trunk in sleep, sensor bias and ~2 mg white noise.
// Sequential like the EMG generator; no allocation after construction.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "rng.hpp"
#include "schedule.hpp"
#include "voluntary.hpp"

namespace spasmwatch::sim::detail {

class AccGenerator {
 public:
  AccGenerator(const SignalConfig& config, const Schedule& schedule, const ScenarioSpec& spec);

  // out.size() is a multiple of 3 (checked by the caller).
  void generate(std::span<std::int32_t> out);
  [[nodiscard]] std::uint64_t time_points() const { return n_; }

 private:
  struct Pulse {
    double start_s;
    double end_s;
    AccShape shape;
    Vec3 dir;
    double amplitude_g;
    double freq_hz;
    double tau_s;
    double phase;
  };

  Vec3 posture_up(Posture posture) const;
  Vec3 target_up(const Segment& segment, double t) const;
  Vec3 forward_of(Vec3 up) const;
  void add_pulse(const AccPulseSpec& spec, double action_start_s);
  static Vec3 evaluate(const Pulse& pulse, double t);

  const Schedule& schedule_;
  proto::BodySite site_;
  proto::Side side_;
  double rate_hz_;
  double max_freq_hz_;  // oscillations stay below the sensor's anti-alias corner

  Rng noise_rng_;
  std::array<Vec3, 3> mounting_;  // rows of a small rotation: body-segment frame -> device
  Vec3 bias_g_;
  double breath_hz_ = 0.25;

  std::size_t segment_ = 0;
  std::size_t next_involuntary_ = 0;
  VoluntaryPlanner planner_;
  std::vector<Pulse> active_;
  Vec3 up_;  // smoothed gravity direction
  double up_alpha_ = 0;
  std::uint64_t n_ = 0;
};

}  // namespace spasmwatch::sim::detail
