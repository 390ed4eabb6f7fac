// The hot EMG kernel: raw int32 counts in, one mean square per channel per tick out.
//
//   counts --x scale_uv--> mains notches + band-pass (one SOS cascade) --square--> mean over the
//   tick (tick_samples time points, e.g. 10 ms) --> float µV² per channel per completed tick
//
// Everything is fused: counts are widened to double in chunks of 64 time points (on the stack),
// run through the cascade (double, vectorised across channels, see sos_kernel.hpp) and squared
// into the tick sums; there is no float round trip and no per-sample branch. Ticks count time
// points from construction (or the phase set by align_tick), never block boundaries, so any
// cutting of the stream into blocks gives identical ticks.
//
// Cost (tools/bench/dsp_bench, one core, 8 channels x 2000 Hz, blocks of 40 time points,
// AVX-512 path): ~850 M samples/s with 1 notch + 4 band-pass sections, ~1000 M with the band-pass
// alone, ~380 M with notches at all 9 harmonics to 450 Hz (each section costs about 5
// multiply-adds per sample). No allocation once the output vector has grown to its working size
// (callers clear() and reuse it).
//
// Thread rules: an instance is single-threaded (it carries the filter and tick state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dsp/filter_design.hpp"
#include "dsp/sos_filter.hpp"

namespace spasmwatch::dsp {

// The usual EMG cascade, for callers that do not compose their own.
struct EmgFilterSpec {
  double rate_hz = 2000;
  double mains_hz = 50;          // 0: no notch
  bool mains_harmonics = false;  // also notch 2x, 3x, ... up to the band's upper edge
  double notch_quality = 30;
  double band_low_hz = 20;  // both edges pass through adapt_band()
  double band_high_hz = 450;
  int band_order = 4;  // SciPy's N: N sections
};

// Notch(es) first, then the Butterworth band-pass. Throws std::invalid_argument as the designs do.
[[nodiscard]] std::vector<Sos> design_emg_filter(const EmgFilterSpec& spec);

class EmgEnvelopeKernel {
 public:
  // sections: the whole cascade (e.g. design_emg_filter()); scale_uv: µV per count;
  // tick_samples: time points per tick (>= 1). Throws std::invalid_argument on bad values.
  EmgEnvelopeKernel(const std::vector<Sos>& sections, int channels, double scale_uv, int tick_samples);

  // Consumes whole time points of interleaved counts and appends channels() floats (mean square
  // in µV², channel order) per completed tick to mean_square_out. Returns the number of ticks
  // appended. Throws std::invalid_argument if the length is not a multiple of channels().
  std::size_t process(std::span<const std::int32_t> interleaved, std::vector<float>& mean_square_out);

  // Zero filter state and start a fresh tick.
  void reset();
  // Drop the partial tick and declare that `samples_into_tick` time points of the next tick have
  // already passed (after a gap in the stream); filter state is kept.
  void align_tick(int samples_into_tick);

  [[nodiscard]] int channels() const { return channels_; }
  [[nodiscard]] int tick_samples() const { return tick_samples_; }
  [[nodiscard]] int samples_into_tick() const { return in_tick_; }

 private:
  std::vector<detail::KernelSos> kernel_;
  int channels_;
  double scale_uv_;
  int tick_samples_;
  int in_tick_ = 0;
  std::vector<double> state_;    // [section][s1, s2][channel]
  std::vector<double> sum_sq_;   // per channel, current tick
  std::vector<double> scratch_;  // one time point, for channel counts above 8
};

}  // namespace spasmwatch::dsp
