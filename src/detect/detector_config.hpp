// Detector settings. Every threshold is here, with its default and why; spasmwatchd and
// spasmwatch take overrides from TOML ([detector] table) or flags.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "detect/evidence.hpp"

namespace spasmwatch::detect {

struct DetectorConfig {
  // ---- signal chain ----
  double tick_s = 0.005;          // feature resolution: onset sharpness needs < 10 ms
  double band_low_hz = 20;        // surface-EMG band (SENIAM / ISEK recommendations)
  double band_high_hz = 450;      // clamped below Nyquist for low rates (dsp::adapt_band)
  double trunk_band_low_hz = 80;  // neck, shoulder, back: QRS energy sits below ~60 Hz, so a
                                  // higher edge keeps heartbeats out of the envelope
  int band_order = 4;             // Butterworth order (SciPy's N)
  double mains_hz = 0;            // 0: detect 50/60 Hz from the signal; else use this
  double notch_quality = 30;
  double mains_harmonics = 3;       // notch mains at 1x..3x (fundamental and two harmonics)
  double envelope_window_s = 0.05;  // RMS window over ticks

  // ---- activation (AASM/WASM leg-movement rules as the model) ----
  double on_excess_uv = 6;             // onset: envelope this far above resting baseline ...
  double on_ratio = 2.5;               // ... and this many times the baseline
  double off_excess_uv = 2;            // end: below baseline + 2 µV (AASM) ...
  double off_ratio = 1.5;              // ... or below 1.5 x baseline,
  double off_hold_s = 0.5;             // ... for 0.5 s (AASM)
  double off_peak_fraction = 0.2;      // or below 20% of the event's peak envelope ...
  double off_peak_hold_s = 0.5;        // ... for 0.5 s
  double split_factor = 3;             // a burst this many times the run's recent peak ...
  double split_memory_s = 2;           // ... (which forgets with this time constant, so a strong
                                       // burst long ago in a run does not mask a spasm now) ...
  double split_min_age_s = 0.3;        // ... in a run at least this old starts a new event
  double trim_lead_fraction = 0.5;     // at the end, a lead-in of activity below this fraction of
  double trim_lead_s = 0.4;            // the peak lasting this long is cut off: the event starts
                                       // where the strong contraction rises out of it (0: never).
                                       // 0.5: keystrokes reach 0.35-0.5 of a twitch's peak in the
                                       // fast envelope, so 0.35 left twitches buried in typing
                                       // runs (dev typing recall 0.70 -> 0.82)
  double tail_s = 1.0;                 // an activation starting this soon after the previous one
                                       // ended, weaker than off_peak_fraction of its peak, is
                                       // that contraction fading out (cramps end over 0.5-2 s)
  double jaw_off_hold_s = 1.2;         // jaw: bursts of one bruxism episode are < 1 s apart
  double min_active_s = 0.04;          // shorter excursions are noise
  double gap_settle_s = 0.25;          // after lost samples the filters ring; ignore this long
  double baseline_down_tau_s = 1.0;    // baseline follows a falling floor quickly ...
  double baseline_up_tau_s = 20.0;     // ... and a rising one slowly; frozen while active
  double baseline_hold_s = 1.0;        // keep frozen this long after an activation ends
  double sparse_after_s = 5.0;         // an activation this old whose mean envelope is below ...
  double sparse_mean_fraction = 0.25;  // ... this fraction of its peak lets the baseline follow
  double tone_min_s = 20;              // an activation this long whose mean envelope stays below
  double tone_max_ratio = 3.5;         // this many times the baseline is a raised resting tone
                                       // (cramps are strong: tens of times the resting level); the
                                       // baseline learns it and it is not reported

  // ---- classes ----
  double twitch_max_s = 0.5;
  double cramp_min_s = 10;
  double jaw_tonic_min_s = 2;
  double clonus_min_hz = 3;
  double clonus_max_hz = 8;
  double clonus_min_correlation = 0.3;  // envelope autocorrelation peak at the burst period
  double clonus_min_s = 1.0;
  double clonus_min_snr = 12;  // clonus beats are strong; light rhythmic work (typing) is not
  // Clonus is the stretch reflex of a limb (ankle, knee, wrist): at the neck, shoulders and back
  // a 3-8 Hz train is classed by its length and judged like any burst, unless this is 1.
  double trunk_clonus = 0;

  // ---- involuntary vs voluntary ----
  double min_confidence = 0.6;        // events below this are not reported
  bool report_rejected = false;       // emit rejected activations as RETRACTED (tuning, eval --list)
  double min_fill = 0.6;              // a sustained event keeps the muscle near its level; lower
                                      // fill means separate voluntary bursts run together
  double sharp_rise_s = 0.025;        // spasm onsets rise within ~10-35 ms (+ the 20 ms envelope) ...
  double slow_rise_s = 0.055;         // ... voluntary contractions take 40-150 ms
  double active_movement_g = 0.08;    // movement RMS (gravity removed) meaning "active"
  double asleep_after_s = 120;        // lying and still this long: asleep
  double gait_min_g = 0.05;           // walking: movement (4 s mean) at least this ...
  double gait_min_correlation = 0.5;  // ... repeating at a step or stride period (0.35-1.2 s)
  double gait_outlast_min_s = 1;      // walking: a contraction as strong as the step bursts,
  double gait_outlast_factor = 3;     // lasting this long and this many step-burst lengths with
  double gait_outlast_fill = 0.5;     // this fill, is sustained (a step burst merged into it)
  double onset_jolt_g = 0.0075;       // movement rising more than this x sqrt(SNR) in the first
                                      // 0.5 s of an activation (over its mean in the 0.5 s
                                      // before) is the body moving, not a spasm's jolt
  double task_burst_rate_hz = 0.5;    // bursts starting this often (10 s average) ...
  double task_duty = 0.3;             // ... or the muscle active this fraction of the time
                                      // mean a voluntary task (typing, steps, chores) ...
  double task_snr_factor = 2.5;       // ... whose typical burst an event must exceed this many
                                      // times, ...
  double outlast_min_s = 2;           // ... or outlast: sustained (fill >= outlast_fill) for at
  double outlast_factor = 4;          // least this long and this many times the task's typical
  double outlast_fill = 0.8;          // burst length, ...
  double outlast_min_level = 1;       // ... and at least this many times as strong as its typical
                                      // burst (a weaker held level is keystrokes run together)
  double task_burst_max_s = 2;        // longer bursts are sustained contractions (perhaps the
                                      // spasm itself), not the task's: they do not set its level

  // How the evidence of an activation is weighed (evidence.hpp): fitted weights, each settable by
  // name as w_<evidence name> (e.g. w_onset_jolt=-4).
  EvidenceVector weights = kFittedWeights;
};

// Sets one field by its name (as spelled above), e.g. ("on_ratio", 3.0), for the [detector] table
// of the configuration and --detector NAME=VALUE flags. Throws std::invalid_argument naming an
// unknown key or a value out of its sensible range.
void set_detector_option(DetectorConfig& config, std::string_view key, double value);
// "NAME=VALUE" form.
void set_detector_option(DetectorConfig& config, std::string_view assignment);
[[nodiscard]] std::vector<std::string> detector_option_names();

}  // namespace spasmwatch::detect
