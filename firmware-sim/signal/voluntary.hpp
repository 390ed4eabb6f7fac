// Voluntary movements inside the activity segments (steps, keystrokes, chewing cycles, turning
// over, housework), produced lazily in time order so that a week-long session costs no memory.
// Each action says what the EMG at the configured site, the electrodes and the accelerometer
// see of it. The EMG and accelerometer generators each own a planner built from the same
// segments: each segment's actions come from that segment's own seed, so both see the same
// actions. Not thread-safe.
#pragma once

#include <array>
#include <limits>
#include <span>

#include "schedule.hpp"

namespace spasmwatch::sim::detail {

enum class AccShape : std::uint8_t {
  none,
  damped,  // impulse response: e^(-u/tau) sin(2 pi f u + phase)
  cycle,   // one full sine over the duration (zero mean): gait bounce, jaw opening
  tremor,  // sin(2 pi f u + phase) with 0.3 s ramps (clonus)
};
enum class AccAxis : std::uint8_t { up, forward, given };  // up/forward: from current posture

struct AccPulseSpec {
  AccShape shape = AccShape::none;
  AccAxis axis = AccAxis::up;
  Vec3 dir;             // AccAxis::given, device frame, unit
  double offset_s = 0;  // after the action's start
  double duration_s = 0;
  double amplitude_g = 0;
  double freq_hz = 0;
  double tau_s = 0.05;
  double phase = 0;
};

struct VoluntaryAction {
  double start_s = std::numeric_limits<double>::infinity();  // infinity: no more actions
  MuscleBurst emg;         // absolute times; amplitude 0 when the site shows nothing
  double artifact_uv = 0;  // electrode-motion kick at start_s
  std::array<AccPulseSpec, 3> acc;
};

class VoluntaryPlanner {
 public:
  VoluntaryPlanner(std::span<const Segment> segments, proto::BodySite site, proto::Side side,
                   double artifact_scale);
  [[nodiscard]] const VoluntaryAction& peek() const { return next_; }
  void pop() { advance(); }

 private:
  void advance();
  void enter(const Segment& segment);
  bool draw(const Segment& segment, VoluntaryAction& action);
  void walking_step(VoluntaryAction& action);
  void keystroke(VoluntaryAction& action);
  void chew(VoluntaryAction& action);
  enum class Movement : std::uint8_t { turning_over, shifting, housework };
  void whole_body(VoluntaryAction& action, Movement movement);

  std::span<const Segment> segments_;
  proto::BodySite site_;
  proto::Side side_;
  double artifact_scale_;

  std::size_t segment_ = 0;
  bool entered_ = false;
  bool has_actions_ = false;
  Rng rng_;
  double t_ = 0;           // next action start
  double interval_s_ = 0;  // step / chew period
  double level_ = 1;       // per-segment strength
  int foot_ = 0;           // walking: 0 left, 1 right
  int count_ = 0;
  int next_pause_ = 0;
  int chew_side_ = 0;
  VoluntaryAction next_;
};

}  // namespace spasmwatch::sim::detail
