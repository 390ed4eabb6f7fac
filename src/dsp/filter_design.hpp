// IIR filter design at run time, for any sample rate: Butterworth low/high/band-pass and the
// mains notch, as second-order sections (SOS) designed in double.
//
// The designs follow SciPy step by step so that the coefficients match `scipy.signal` to
// rounding (checked against generated references in testdata/, see tools/gen_filter_refs.py):
//   butter_*  = scipy.signal.butter(order, ..., btype=..., fs=rate_hz, output='sos')
//               (analog prototype -> frequency transform -> bilinear -> zpk2sos 'nearest'),
//               so `order` has SciPy's meaning: a band-pass of order N has 2N poles, N sections;
//               a low/high-pass of order N has ceil(N/2) sections. The overall gain sits in the
//               first section; the sections with poles nearest the unit circle come last.
//   iir_notch = scipy.signal.iirnotch(freq_hz, quality, fs=rate_hz) (-3 dB width freq/quality).
//
// Errors: every invalid argument throws std::invalid_argument naming the value and the range
// expected. Thread rules: pure functions, safe from any thread.
#pragma once

#include <vector>

namespace spasmwatch::dsp {

// One biquad section, a0 = 1:  H(z) = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2).
struct Sos {
  double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;
};

// Butterworth designs. order 1..12; cut-offs strictly between 0 and Nyquist (rate_hz / 2).
[[nodiscard]] std::vector<Sos> butter_lowpass(int order, double cutoff_hz, double rate_hz);
[[nodiscard]] std::vector<Sos> butter_highpass(int order, double cutoff_hz, double rate_hz);
[[nodiscard]] std::vector<Sos> butter_bandpass(int order, double low_hz, double high_hz, double rate_hz);

// Second-order notch at freq_hz (0 < freq_hz < Nyquist), quality > 0.
[[nodiscard]] Sos iir_notch(double freq_hz, double quality, double rate_hz);

// Notches at the mains frequency and its harmonics: every k * mains_hz (k = 1, 2, ...) with
// k * mains_hz <= max_hz and k * mains_hz < 0.95 * Nyquist (a notch closer to Nyquist would be
// wider than the gap it sits in). Each notch has the same quality, so higher harmonics get
// proportionally wider notches, as mains harmonics also wander proportionally. Empty when even the
// fundamental is out of range.
[[nodiscard]] std::vector<Sos> mains_notches(double mains_hz, double rate_hz, double max_hz, double quality);

struct Band {
  double low_hz = 0;
  double high_hz = 0;
};

// The band a stream at rate_hz can actually carry. Rule:
//   high = min(high_hz, 0.9 * Nyquist)      (Butterworth edges closer to Nyquist warp badly and
//                                            leave no transition band)
//   low  = min(low_hz, high / 2)            (keep at least an octave of pass band)
// e.g. 20-450 Hz at 2000 Hz stays 20-450; at 200 Hz it becomes 20-90; 3-8 Hz at 25 Hz stays.
// Throws unless rate_hz > 0 and 0 < low_hz < high_hz.
[[nodiscard]] Band adapt_band(double low_hz, double high_hz, double rate_hz);

}  // namespace spasmwatch::dsp
