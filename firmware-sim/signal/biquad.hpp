// Second-order IIR sections designed at run time for any sample rate (RBJ audio-EQ cookbook,
// bilinear transform with pre-warping), used to shape white noise into EMG-like, band-limited
// and low-frequency signals. Header-only value types; no shared state.
#pragma once

#include <algorithm>
#include <cmath>
#include <numbers>
#include <span>

namespace spasmwatch::sim::detail {

template <typename T>
struct Biquad {
  T b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;  // a0 normalised to 1

  template <typename U>
  [[nodiscard]] Biquad<U> as() const {
    return {static_cast<U>(b0), static_cast<U>(b1), static_cast<U>(b2), static_cast<U>(a1),
            static_cast<U>(a2)};
  }
};

// Transposed direct form II state.
template <typename T>
struct BiquadState {
  T s1 = 0, s2 = 0;
  T step(const Biquad<T>& c, T x) {
    const T y = c.b0 * x + s1;
    s1 = c.b1 * x - c.a1 * y + s2;
    s2 = c.b2 * x - c.a2 * y;
    return y;
  }
};

// One filter applied to up to 8 channels, state laid out per channel so the channel loop
// vectorises.
template <int Lanes>
struct BiquadBank {
  alignas(32) float s1[Lanes] = {};
  alignas(32) float s2[Lanes] = {};

  template <int C>
  void step(const Biquad<float>& c, float* x) {
    static_assert(C <= Lanes);
    for (int i = 0; i < C; ++i) {
      const float y = c.b0 * x[i] + s1[i];
      s1[i] = c.b1 * x[i] - c.a1 * y + s2[i];
      s2[i] = c.b2 * x[i] - c.a2 * y;
      x[i] = y;
    }
  }
};

enum class FilterKind { lowpass, highpass };

inline Biquad<double> design_biquad(FilterKind kind, double corner_hz, double q, double rate_hz) {
  // Keep the corner inside (0, Nyquist) whatever the rate, so every rate gets a valid filter.
  const double fc = std::clamp(corner_hz, 1e-3 * rate_hz, 0.49 * rate_hz);
  const double w0 = 2 * std::numbers::pi * fc / rate_hz;
  const double cw = std::cos(w0);
  const double alpha = std::sin(w0) / (2 * q);
  const double a0 = 1 + alpha;
  Biquad<double> c;
  if (kind == FilterKind::lowpass) {
    c.b0 = (1 - cw) / 2 / a0;
    c.b1 = (1 - cw) / a0;
    c.b2 = c.b0;
  } else {
    c.b0 = (1 + cw) / 2 / a0;
    c.b1 = -(1 + cw) / a0;
    c.b2 = c.b0;
  }
  c.a1 = -2 * cw / a0;
  c.a2 = (1 - alpha) / a0;
  return c;
}

struct ImpulseStats {
  double energy = 0;  // sum of h[n]^2: output variance for unit-variance white input
  double peak = 0;    // max |h[n]|: output peak for a unit impulse
};

// Impulse response statistics of a cascade, measured over `samples` points (long enough for
// the slowest pole to decay).
inline ImpulseStats impulse_stats(std::span<const Biquad<double>> cascade, int samples) {
  ImpulseStats stats;
  BiquadState<double> state[8];
  for (int n = 0; n < samples; ++n) {
    double x = n == 0 ? 1.0 : 0.0;
    for (std::size_t i = 0; i < cascade.size() && i < 8; ++i) x = state[i].step(cascade[i], x);
    stats.energy += x * x;
    stats.peak = std::max(stats.peak, std::abs(x));
  }
  return stats;
}

}  // namespace spasmwatch::sim::detail
