// Activation detector: the pure core of spasm detection for one device. Ticks in (per-channel
// mean square of the band-passed EMG over `tick_s`, plus the accelerometer context at the same
// device time), events out. No I/O, no clock: times are tick indices (device time).
//
// State machine:  idle --(envelope clearly above baseline)--> active
//                 active --(near baseline for off_hold_s)--> idle, event finalised
// On entering `active` a PROVISIONAL event is emitted when the onset looks involuntary; at the
// end a FINAL event (or RETRACTED, for a provisional one that turned out voluntary).
// Onset is refined backwards to where the envelope first left the baseline (lookback 0.3 s).
//
// Involuntary vs voluntary (the hard part): each activation is scored on signal-to-baseline
// ratio, onset sharpness (spasms rise in 10-35 ms, voluntary contractions in 40-150 ms),
// movement during the event and in the seconds before (walking, turning over), a jolt at the
// onset larger than a contraction of that strength can cause (the body moving), rhythm of the
// preceding activations (steps, chewing), the task context (bursts of typing, steps or chores:
// an event must stand out of them), gait seen by the accelerometer, and context (asleep / at
// rest / active); confidence is a logistic of that score. A strong contraction rising out of a
// weak run of activity starts at its own onset (the lead-in is cut off at the end, retracting
// the provisional event sent for it); a weak tail right after a strong contraction and a long
// raised resting tone are not events. Classes: twitch < 0.5 s, spasm 0.5-10 s, cramp >= 10 s,
// clonus (envelope rhythm 3-8 Hz, stronger than any ongoing task), jaw phasic/tonic (AASM
// bruxism: bursts 0.25-2 s / > 2 s).
//
// Thread rules: one instance per device, one thread. No allocation per tick (buffers reserved).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "detect/detector_config.hpp"
#include "detect/evidence.hpp"
#include "events.pb.h"

namespace spasmwatch::detect {

struct AccState {
  bool valid = false;
  float movement_g = 0;  // RMS of acceleration with gravity removed, over the tick
  float jerk_g_s = 0;
  float tremor = 0;  // 3-8 Hz band power of the movement (g^2), newest accelerometer sample
  float sway = 0;    // 0.5-3 Hz band power of the movement (g^2), likewise
  proto::Posture posture = proto::POSTURE_UNSPECIFIED;
};

class ActivationDetector {
 public:
  static constexpr int kMaxChannels = 8;
  static constexpr std::uint64_t kBaselineEvery = 4;
  using Emit = std::function<void(const proto::Event&)>;

  // `emit` receives events with type, state, device times (seconds from tick 0), amplitudes,
  // confidence, context, channels and site filled; the caller adds ids and host times.
  ActivationDetector(const DetectorConfig& config, proto::BodySite site, int channels, Emit emit);

  // Tick `tick` (consecutive unless on_gap() came between) with the mean square in µV² per channel.
  void on_tick(std::uint64_t tick, std::span<const float> mean_square_uv2, const AccState& acc);
  // A gap in the data: any activation ends at the last tick seen; the envelope restarts.
  void on_gap();
  // A gap shorter than the end-of-activation hold: an activation goes on; the ticks right after
  // it (filters ringing from the jump) are not judged.
  void on_short_gap();
  // End of data: finalise an open activation.
  void finish();

  [[nodiscard]] double tick_s() const { return config_.tick_s; }
  [[nodiscard]] bool active() const { return state_ == State::active; }
  // The accelerometer shows gait (movement repeating at a step or stride period).
  [[nodiscard]] bool walking() const { return walking_; }
  // The evidence of the activation judged last (valid inside `emit` for its FINAL or RETRACTED
  // event with figures): for fitting the weights (eval --evidence).
  [[nodiscard]] const EvidenceVector& evidence() const { return evidence_; }
  [[nodiscard]] float baseline_uv(int channel) const { return baseline_[static_cast<std::size_t>(channel)]; }

 private:
  enum class State : std::uint8_t { idle, active };

  void start_activation(std::uint64_t tick, std::uint64_t earliest_onset);
  // level_after_uv: the lead channel's envelope when the activation ended by falling quiet or
  // below a fraction of its peak (0 at a gap, at the end of data, or when a stronger burst split
  // it off): a level still well above the resting one is a shift of tone, not a contraction.
  void end_activation(float level_after_uv = 0);
  // What end_activation() has decided of the finished activation before weighing it.
  struct Judgement {
    proto::EventType type = proto::EVENT_TYPE_UNSPECIFIED;
    double duration_s = 0;
    double snr = 0;
    bool task = false;          // a voluntary task was going on at the onset
    bool above_task = false;    // ... and this stands out of its bursts
    bool within_task = false;   // ... or does not
    bool rhythmic = false;      // on the beat of a steady series before it
    bool in_gait = false;       // a steady series of activations before it
    bool tail = false;          // the fading tail of the previous contraction
    double level_after_uv = 0;  // see end_activation()
    double rise_s = 0;          // out: the onset rise measured
    double fill = 0;            // out: the fill measured
  };
  // A voluntary task was going on at the onset: bursts starting often, or the muscle busy much
  // of the time (keystrokes, steps, chores).
  [[nodiscard]] bool task_at_onset() const {
    return burst_rate_at_onset_ >= config_.task_burst_rate_hz || duty_at_onset_ >= config_.task_duty;
  }
  // Fills evidence_ (activation_evidence.cpp).
  void gather_evidence(Judgement& j);
  void trim_weak_activity();  // trim_weak_lead() and trim_weak_trail(), then the figures again
  bool trim_weak_lead();
  bool trim_weak_trail();
  void emit_event(proto::EventState state, proto::EventType type, double confidence, double rhythm_hz,
                  bool final_figures);
  [[nodiscard]] double rhythm_hz(double* correlation) const;
  [[nodiscard]] double longest_burst_s() const;
  [[nodiscard]] double onset_rise_s() const;

  [[nodiscard]] double fill_ratio() const;

  [[nodiscard]] proto::ActivityContext context() const;
  // Clonus is classed at limb sites (and at the trunk only with trunk_clonus).
  [[nodiscard]] bool clonus_site() const;

  DetectorConfig config_;
  proto::BodySite site_;
  int channels_;
  Emit emit_;
  double off_hold_s_;

  // Envelope: RMS over a window of ticks, per channel.
  int window_ticks_;
  std::vector<float> window_;  // window_ticks_ x channels ring
  int window_pos_ = 0;
  int window_fill_ = 0;
  std::array<float, kMaxChannels> envelope_{};
  std::array<float, kMaxChannels> fast_envelope_{};  // 2-tick RMS, for onset sharpness
  static constexpr int kFastTicks = 4;
  std::array<float, static_cast<std::size_t>(kFastTicks) * kMaxChannels> fast_ring_{};
  int fast_pos_ = 0;
  std::array<float, kMaxChannels> baseline_{};
  bool baseline_started_ = false;
  float down_alpha_, up_alpha_;
  double slow_alpha_ = 0, pre_alpha_ = 0;
  std::uint64_t freeze_until_tick_ = 0;
  bool gap_pending_ = false;
  std::uint64_t settle_until_tick_ = 0;

  // Per-tick history of every channel's fast envelope and of movement, long enough to look back
  // from the detection tick past the refined onset (onset features need the level before it).
  std::size_t history_ticks_ = 0;
  std::uint64_t history_mask_ = 0;
  std::vector<float> fast_history_;      // history_ticks_ x kMaxChannels
  std::vector<float> movement_history_;  // history_ticks_
  std::vector<float> onset_trace_;       // lead fast envelope from before the onset to 0.4 s after
  std::size_t onset_index_ = 0;          // the onset's position in onset_trace_
  std::size_t onset_trace_ticks_ = 0;    // onset_trace_ stops growing at this size
  double acc_before_onset_g_ = 0;        // mean movement in the 0.5 s before the onset
  double acc_onset_peak_g_ = 0;          // peak movement in the first 0.5 s of the activation
  // The task context: bursts at the tick level (on -> quiet, no hold), in an activation or not,
  // averaged over ~10 s: how often the muscle fires, how busy it is, how strong and long its
  // bursts are (typing, steps, chores). Captured at each onset.
  double burst_alpha_ = 0;
  bool burst_on_ = false;
  std::uint64_t burst_start_tick_ = 0;
  float burst_peak_ = 0;       // peak ratio of the burst in progress
  double burst_rate_ = 0;      // burst starts per second
  double duty_ = 0;            // fraction of ticks not quiet
  double burst_level_ = 0;     // running average of burst peaks (x baseline)
  double burst_length_s_ = 0;  // running average of burst durations
  double burst_rate_at_onset_ = 0;
  double duty_at_onset_ = 0;
  double burst_level_at_onset_ = 0;
  double burst_length_at_onset_s_ = 0;

  // Gait from the accelerometer: movement in 50 ms bins over the last 4 s; walking when it
  // repeats at a step or stride period (autocorrelation at 0.35-1.2 s), checked every 0.25 s.
  void update_gait(float movement_g);
  int gait_bin_ticks_ = 1;
  int gait_bin_fill_ = 0;
  double gait_bin_sum_ = 0;
  std::vector<float> gait_bins_;  // ring
  std::vector<float> gait_scratch_;
  std::size_t gait_pos_ = 0;
  std::size_t gait_count_ = 0;
  int gait_bins_since_check_ = 0;
  bool walking_ = false;
  bool walking_at_onset_ = false;

  // Recent per-tick activity level (max ratio over channels), for the onset lookback.
  std::vector<float> recent_ratio_;
  std::size_t recent_pos_ = 0;
  std::uint64_t last_tick_ = 0;

  // Accelerometer context.
  bool acc_started_ = false;
  double movement_slow_ = 0;  // ~10 s average
  double movement_pre_ = 0;   // ~2 s average
  double still_lying_s_ = 0;
  proto::Posture posture_ = proto::POSTURE_UNSPECIFIED;

  // The activation in progress.
  State state_ = State::idle;
  std::uint64_t onset_tick_ = 0;
  std::uint64_t last_above_tick_ = 0;
  std::uint64_t last_strong_tick_ = 0;
  int lead_channel_ = 0;
  double peak_uv_ = 0;
  double recent_peak_uv_ = 0;  // peak envelope, forgetting with split_memory_s: what a new burst is
                               // compared with for a split
  double split_decay_ = 0;
  double sum_uv_ = 0;
  std::uint64_t sum_ticks_ = 0;
  double baseline_at_onset_uv_ = 0;
  double acc_peak_g_ = 0;
  double acc_sum_g_ = 0;
  std::uint64_t acc_ticks_ = 0;
  double tremor_sum_g2_ = 0;    // 3-8 Hz band power of the movement, summed over the activation
  double sway_sum_g2_ = 0;      // 0.5-3 Hz band power, likewise (the body moving itself)
  double movement_sum_g2_ = 0;  // movement power, summed likewise (clonus shakes the limb at its
                                // own 3-8 Hz rhythm; keystrokes and steps jolt it at other rates)
  double movement_pre_at_onset_ = 0;
  proto::Posture posture_at_onset_ = proto::POSTURE_UNSPECIFIED;
  bool posture_changed_ = false;
  std::uint32_t channel_mask_ = 0;
  std::vector<float> trace_;              // lead-channel envelope ratio per tick during the activation
  std::vector<float> fast_trace_;         // lead-channel fast envelope (µV) per tick
  std::vector<float> env_trace_;          // lead-channel 50 ms envelope (µV) per tick
  std::vector<float> acc_trace_;          // movement (g) per tick
  std::uint64_t trace_tick_ = 0;          // tick of the traces' first element
  bool trimmed_ = false;                  // the onset moved past a weak lead-in (trim_weak_lead)
  bool trimmed_trail_ = false;            // the end moved before a weak trail (trim_weak_trail)
  mutable std::vector<float> detrended_;  // scratch for rhythm_hz()
  mutable std::vector<double> autocorr_;
  bool provisional_sent_ = false;
  std::uint64_t event_counter_ = 0;

  // The activation before this one: a weak burst right after a strong one is its fading tail.
  double previous_end_s_ = -1e9;
  double previous_peak_uv_ = 0;

  // Recent activations (onset, duration), voluntary or not, for rhythm of the pattern.
  struct Past {
    double onset_s = -1e9;
    double duration_s = 0;
  };
  std::array<Past, 16> history_{};
  std::size_t prior_activations(double onset_s, std::array<Past, 16>& out) const;
  static bool steady_series(const std::array<Past, 16>& prior, std::size_t count);
  static bool rhythmic_history(const std::array<Past, 16>& prior, std::size_t count, double onset_s,
                               double duration_s);
  std::size_t history_pos_ = 0;

  EvidenceVector evidence_{};
  proto::Event event_;
};

}  // namespace spasmwatch::detect
