// Detector settings. Every threshold is here, with its default and why; spasmwatchd and
// spasmwatch take overrides from TOML ([detector] table) or flags.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace spasmwatch::detect {

struct DetectorConfig {
  // ---- signal chain ----
  double tick_s = 0.005;              // feature resolution: onset sharpness needs < 10 ms
  double band_low_hz = 20;            // surface-EMG band (SENIAM / ISEK recommendations)
  double band_high_hz = 450;          // clamped below Nyquist for low rates (dsp::adapt_band)
  double trunk_band_low_hz = 80;      // neck, shoulder, back: QRS energy sits below ~60 Hz, so a
                                      // higher edge keeps heartbeats out of the envelope
  int band_order = 4;                 // Butterworth order (SciPy's N)
  double mains_hz = 0;                // 0: detect 50/60 Hz from the signal; else use this
  double notch_quality = 30;
  double mains_harmonics = 3;         // notch mains at 1x..3x (fundamental and two harmonics)
  double envelope_window_s = 0.05;    // RMS window over ticks

  // ---- activation (AASM/WASM leg-movement rules as the model) ----
  double on_excess_uv = 6;            // onset: envelope this far above resting baseline ...
  double on_ratio = 2.5;              // ... and this many times the baseline
  double off_excess_uv = 2;           // end: below baseline + 2 µV (AASM) ...
  double off_ratio = 1.5;             // ... or below 1.5 x baseline,
  double off_hold_s = 0.5;            // ... for 0.5 s (AASM)
  double off_peak_fraction = 0.2;     // or below 20% of the event's peak envelope ...
  double off_peak_hold_s = 0.5;       // ... for 0.5 s
  double split_factor = 3;            // a burst this many times the run's peak so far ...
  double split_min_age_s = 0.3;       // ... in a run at least this old starts a new event
  double jaw_off_hold_s = 1.2;        // jaw: bursts of one bruxism episode are < 1 s apart
  double min_active_s = 0.04;         // shorter excursions are noise
  double gap_settle_s = 0.25;         // after lost samples the filters ring; ignore this long
  double baseline_down_tau_s = 1.0;   // baseline follows a falling floor quickly ...
  double baseline_up_tau_s = 20.0;    // ... and a rising one slowly; frozen while active
  double baseline_hold_s = 1.0;       // keep frozen this long after an activation ends
  double sparse_after_s = 5.0;        // an activation this old whose mean envelope is below ...
  double sparse_mean_fraction = 0.25; // ... this fraction of its peak lets the baseline follow

  // ---- classes ----
  double twitch_max_s = 0.5;
  double cramp_min_s = 10;
  double jaw_tonic_min_s = 2;
  double clonus_min_hz = 3;
  double clonus_max_hz = 8;
  double clonus_min_correlation = 0.3; // envelope autocorrelation peak at the burst period
  double clonus_min_s = 1.0;
  double clonus_min_snr = 12;          // clonus beats are strong; light rhythmic work (typing) is not

  // ---- involuntary vs voluntary ----
  double min_confidence = 0.6;        // events below this are not reported
  bool report_rejected = false;       // emit rejected activations as RETRACTED (tuning, eval --list)
  double min_fill = 0.6;              // a sustained event keeps the muscle near its level; lower
                                      // fill means separate voluntary bursts run together
  double sharp_rise_s = 0.045;        // spasm onsets rise within ~10-35 ms (+ the 20 ms envelope) ...
  double slow_rise_s = 0.1;           // ... voluntary contractions take 40-150 ms
  double active_movement_g = 0.08;    // movement RMS (gravity removed) meaning "active"
  double asleep_after_s = 120;        // lying and still this long: asleep
};

// Sets one field by its name (as spelled above), e.g. ("on_ratio", 3.0), for the [detector] table
// of the configuration and --detector NAME=VALUE flags. Throws std::invalid_argument naming an
// unknown key or a value out of its sensible range.
void set_detector_option(DetectorConfig& config, std::string_view key, double value);
// "NAME=VALUE" form.
void set_detector_option(DetectorConfig& config, std::string_view assignment);
[[nodiscard]] std::vector<std::string> detector_option_names();

}  // namespace spasmwatch::detect
