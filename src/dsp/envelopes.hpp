// Classic per-sample envelopes and the Teager-Kaiser energy operator, for interleaved float
// blocks (µV). The detector's hot path uses EmgEnvelopeKernel (mean square per tick); these are
// the reference envelopes for analysis, plots and features.
//
// All of them stream: state carries across blocks, so any cutting of the stream into blocks gives
// identical output. No allocation after construction.
//
// Thread rules: an instance is single-threaded (it carries state); use one per stream.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "dsp/sos_filter.hpp"

namespace spasmwatch::dsp {

// Moving RMS over the last window_samples time points (including the current one), per channel,
// output for every sample. Before the window has filled, the mean is over the points seen so far.
// Drift: the running sum of squares is kept in double and recomputed exactly from the ring buffer
// every window_samples points, so rounding never accumulates beyond one window.
class RmsEnvelope {
 public:
  // Throws std::invalid_argument unless channels >= 1 and window_samples >= 1.
  RmsEnvelope(int channels, int window_samples);

  // Replaces each sample by the RMS of its channel over the window ending at it.
  // Throws std::invalid_argument if the length is not a multiple of channels.
  void process(std::span<float> interleaved);
  void reset();

  [[nodiscard]] int channels() const { return channels_; }
  [[nodiscard]] int window_samples() const { return window_; }

 private:
  int channels_;
  int window_;
  std::size_t pos_ = 0;       // ring position (time point) of the next sample
  std::size_t filled_ = 0;    // time points in the ring, up to window_
  std::vector<double> ring_;  // squares, [time point][lane] (channels padded to the kernel lanes)
  std::vector<double> sum_;   // per lane
};

// Full-wave rectification followed by a Butterworth low-pass: the smooth "linear envelope" of
// EMG practice. For a sine of amplitude A far above the cut-off it settles at 2A/pi.
class LowpassEnvelope {
 public:
  // order >= 1, 0 < cutoff_hz < rate_hz / 2 (throws std::invalid_argument otherwise).
  LowpassEnvelope(int channels, double cutoff_hz, double rate_hz, int order = 2);

  // In place: x -> lowpass(|x|). Same block rules as SosFilter::process.
  void process(std::span<float> interleaved);
  void reset() { filter_.reset(); }

 private:
  SosFilter filter_;
};

// Teager-Kaiser energy operator, Psi[x](n) = x(n)^2 - x(n-1) x(n+1), per channel.
// Psi needs the next sample, so the output lags the input by one time point: out[n] is Psi at
// input time n - 1. History starts at zero (the first output is 0, the second x(0)^2). Computed
// in double: for slow signals the two terms nearly cancel. For A sin(w n): Psi = A^2 sin^2(w),
// about A^2 w^2 (w in radians per sample).
class TeagerKaiserEnergy {
 public:
  explicit TeagerKaiserEnergy(int channels);

  // in and out have the same length, a multiple of channels; they may be the same span.
  void process(std::span<const float> in, std::span<float> out);
  void reset();

 private:
  int channels_;
  std::vector<double> prev1_;  // x(n-1)
  std::vector<double> prev2_;  // x(n-2)
};

}  // namespace spasmwatch::dsp
