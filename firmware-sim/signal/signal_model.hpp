// The pure signal model of the simulated wearable: surface EMG and a 3-axis accelerometer for
// one body site and scenario, with ground-truth labels, reproducible from a seed. No I/O (except
// writing the truth CSV to a stream), no clocks: time is the sample index divided by the rate.
//
// How it works
// - The constructor draws the whole session plan from the seed: a timeline of voluntary
//   activities (rest, sleep, walking, typing, chewing, turning over, shifting in the seat, ...)
//   with posture, resting tone and artefact level, and the involuntary events (twitch, spasm,
//   cramp, clonus, bruxism), kept 2 s clear of movements that would make them ambiguous
//   (chewing, turning over, shifting) and at least 3 s apart; they may fall during walking or
//   typing. That plan is `truth()` and `activities()`. Event durations follow the clinical
//   classes: twitch < 0.5 s, spasm 0.5-10 s, cramp >= 10 s, clonus 2-10 s of 3-8 Hz bursts,
//   jaw_phasic a train of 3-6 bursts of 0.25-2 s (one episode), jaw_tonic > 2 s.
// - EMG (emg_generator): per channel, electrode/amplifier noise band-limited to 10-450 Hz, plus
//   muscle activity = amplitude envelope (RMS, µV) times noise shaped to a surface-EMG spectrum
//   (peak ~80 Hz), correlated across the channels of the site with different gains; voluntary
//   bursts (steps, keystrokes, chewing, turning over, shifting) come from the same activity plan
//   as the accelerometer's movements, and rise more slowly (40-150 ms) than spasms (10-35 ms). Added to it:
//   mains hum (50/60 Hz and harmonics, slowly varying), ECG bleed on trunk sites (QRS-like, 55-80 bpm with
//   heart-rate variability) and electrode motion artefacts (< 20 Hz) during movement.
// - Accelerometer (acc_generator): gravity for the posture (smooth turns), steps, taps, chewing,
//   jerks at spasm onsets, tremor during clonus, sensor noise and bias.
// - peak_uv in the truth is the peak of the event's RMS envelope on the first EMG channel.
//
// Generation is sequential: each generate call continues where the previous one stopped, and the
// samples do not depend on how generation is split into calls. Past duration_s the signals go on
// with no further activities or events. A SignalModel is not thread-safe; use one per thread.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "device.pb.h"

namespace spasmwatch::sim {

enum class EventType : std::uint8_t { twitch, spasm, cramp, clonus, jaw_phasic, jaw_tonic };
[[nodiscard]] std::string_view to_string(EventType type);

// An involuntary muscle event. jaw_phasic spans a whole train of phasic bursts (an episode);
// clonus spans the whole run of rhythmic bursts.
struct TruthEvent {
  double start_s;
  double end_s;
  EventType type;
  proto::BodySite site;
  proto::Side side;
  double peak_uv;
};

// Voluntary context: "rest", "sleep", "standing", "walking", "typing", "chewing",
// "turning_over", "moving" (housework), "shifting" (adjusting one's seat). Consecutive segments cover [0,
// duration_s) without gaps.
struct ActivitySegment {
  double start_s;
  double end_s;
  std::string kind;
};

struct SignalConfig {
  std::string scenario = "rest";
  proto::BodySite site = proto::NECK;
  proto::Side side = proto::LEFT;
  std::uint64_t seed = 1;
  int emg_channels = 2;       // 1..8
  double emg_rate_hz = 1000;  // 500, 1000 or 2000
  double acc_rate_hz = 100;   // 25..400
  double mains_hz = 50;       // 50, 60, or 0 for none
  double duration_s = 600;    // > 0
};

namespace detail {
struct Schedule;
class EmgGenerator;
class AccGenerator;
}  // namespace detail

class SignalModel {
 public:
  // Throws std::invalid_argument naming the bad field and value.
  explicit SignalModel(const SignalConfig& config);
  ~SignalModel();
  SignalModel(SignalModel&&) noexcept;
  SignalModel& operator=(SignalModel&&) noexcept;
  SignalModel(const SignalModel&) = delete;
  SignalModel& operator=(const SignalModel&) = delete;

  static constexpr double kEmgScaleUv = 0.25;         // µV per count; 16-bit counts
  static constexpr double kAccScaleG = 1.0 / 4096.0;  // g per count (±8 g in 16 bit)

  // Fill with the next time points, interleaved (t0: ch0 ch1 ..., t1: ...), in raw counts
  // clamped to the int16 range. out.size() must be a multiple of emg_channels (resp. 3, order
  // x, y, z), else std::invalid_argument. No allocation.
  void generate_emg(std::span<std::int32_t> out_interleaved);
  void generate_acc(std::span<std::int32_t> out_interleaved);

  // Time points generated so far.
  [[nodiscard]] std::uint64_t emg_time_points() const;
  [[nodiscard]] std::uint64_t acc_time_points() const;

  // Involuntary events inside [0, duration), sorted by start.
  [[nodiscard]] const std::vector<TruthEvent>& truth() const;
  [[nodiscard]] const std::vector<ActivitySegment>& activities() const;
  [[nodiscard]] const SignalConfig& config() const;

 private:
  SignalConfig config_;
  std::unique_ptr<detail::Schedule> schedule_;
  std::unique_ptr<detail::EmgGenerator> emg_;
  std::unique_ptr<detail::AccGenerator> acc_;
};

// Scenario names, for --list-scenarios.
[[nodiscard]] std::span<const std::string_view> scenario_names();
// One line; empty if the name is unknown.
[[nodiscard]] std::string_view scenario_description(std::string_view name);
// Event types a scenario produces at a site (jaw events only at the jaw, cramps not there).
[[nodiscard]] std::vector<EventType> scenario_event_types(std::string_view name, proto::BodySite site);

// Header start_s,end_s,type,site,side,peak_uv; times in seconds since session start with 3
// decimals, site/side lower case as in the protocol enums ("upper_back", "midline").
void write_truth_csv(std::ostream& out, const SignalModel& model);

}  // namespace spasmwatch::sim
