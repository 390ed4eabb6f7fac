// Surface-EMG synthesis for one site, sample by sample from the session plan.
//
// Per time point, shared by all channels: muscle RMS envelope (resting tone + active voluntary
// and involuntary bursts), ECG bleed (trunk sites), mains hum, electrode-motion artefact.
// Per channel: amplifier noise (white, band-limited 10-450 Hz) and muscle noise shaped to a
// surface-EMG spectrum (2nd-order high-pass ~50 Hz then low-pass ~130 Hz: peak near 80 Hz,
// most power in 20-450 Hz), mixing a component common to the site's channels with an
// independent one, times the envelope and a per-channel gain.
//
// Work is done in blocks of kBlock time points: first the shared series, then a kernel
// specialised for the channel count. Generation state carries across calls, so results do not
// depend on how calls are split. No allocation after construction (the active-burst list is
// reserved; it only grows if a session overlaps more bursts than ever planned for).
#pragma once

#include <array>
#include <complex>
#include <cstdint>
#include <span>
#include <vector>

#include "biquad.hpp"
#include "rng.hpp"
#include "schedule.hpp"
#include "voluntary.hpp"

namespace spasmwatch::sim::detail {

class EmgGenerator {
 public:
  EmgGenerator(const SignalConfig& config, const Schedule& schedule, const ScenarioSpec& spec);

  // out.size() is a multiple of the channel count (checked by the caller).
  void generate(std::span<std::int32_t> out);
  [[nodiscard]] std::uint64_t time_points() const { return n_; }

 private:
  static constexpr int kMaxChannels = 8;
  static constexpr std::size_t kBlock = 256;

  void compute_shared(std::size_t points);
  float next_ecg(double t);
  float next_mains(std::uint64_t n);
  template <int C>
  void render(std::int32_t* out, std::size_t points);

  const Schedule& schedule_;
  int channels_;
  double rate_hz_;
  bool ecg_on_;
  bool mains_on_;

  // Per-sample noise.
  NoiseBlock noise_;
  std::vector<float> noise_block_;  // kBlock * (2 * channels + 1)
  Biquad<float> floor_hp_, floor_lp_, muscle_hp_, muscle_lp_;
  BiquadBank<kMaxChannels> floor_hp_s_, floor_lp_s_, muscle_hp_s_, muscle_lp_s_;
  std::array<float, kMaxChannels> floor_scale_{};  // white input -> floor RMS in µV
  std::array<float, kMaxChannels> muscle_gain_{};  // envelope -> this channel
  std::array<float, kMaxChannels> ecg_gain_{}, mains_gain_{}, artifact_gain_{};
  float common_weight_ = 0, own_weight_ = 0;  // muscle source mix, unit variance out

  // Envelope: activity segments, involuntary bursts, voluntary actions.
  std::size_t segment_ = 0;
  std::size_t next_involuntary_ = 0;
  VoluntaryPlanner planner_;
  std::vector<MuscleBurst> active_;
  double tonic_uv_ = 0;
  double tonic_alpha_ = 0;

  // ECG bleed.
  Rng ecg_rng_;
  std::vector<float> ecg_template_;  // normalised beat, R peak at ecg_pre_ samples
  std::size_t ecg_pre_ = 0;
  std::size_t beat_pos_ = 0;  // == template size: no beat in progress
  double ecg_amplitude_uv_ = 0, beat_amplitude_uv_ = 0;
  double next_r_s_ = 0, heart_rate_bpm_ = 65;
  double resp_hz_ = 0.25, resp_phase_ = 0;

  // Mains hum: fundamental phasor, harmonics from its powers, slow amplitude modulation.
  std::complex<double> mains_z_{1, 0}, mains_rot_{1, 0}, mod_z_{1, 0}, mod_rot_{1, 0};
  std::array<std::complex<double>, 3> mains_coef_{};  // harmonic k+1: amplitude and phase

  // Electrode-motion artefact: low-passed noise plus kicks at movements.
  Rng artifact_rng_;
  Biquad<double> artifact_lp_;
  BiquadState<double> artifact_s_;
  double artifact_norm_ = 0, kick_norm_ = 0, artifact_level_uv_ = 0, artifact_alpha_ = 0;

  std::uint64_t n_ = 0;  // next time point
  std::array<float, kBlock> envelope_{}, ecg_{}, mains_{}, artifact_{};
};

}  // namespace spasmwatch::sim::detail
