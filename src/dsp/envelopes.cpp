#include "dsp/envelopes.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "dsp/sos_kernel.hpp"

namespace spasmwatch::dsp {

namespace {

void check_block(const char* what, std::size_t size, int channels) {
  if (size % static_cast<std::size_t>(channels) != 0) {
    throw std::invalid_argument(std::string(what) + ": block of " + std::to_string(size) +
                                " samples is not a multiple of " + std::to_string(channels) + " channels");
  }
}

int checked_channels(const char* what, int channels) {
  if (channels < 1) {
    throw std::invalid_argument(std::string(what) + ": channels = " + std::to_string(channels) +
                                " must be >= 1");
  }
  return channels;
}

struct RmsRun {
  std::size_t window;
  std::size_t stride;  // doubles per time point in ring and sum (channels, padded to the lanes)
  double* ring;
  double* sum;
  std::size_t& pos;
  std::size_t& filled;
};

template <int C, int native>
[[gnu::always_inline]] inline void rms_fixed(const RmsRun& r, float* data, std::size_t points) {
  constexpr int W = detail::lanes_for(C);
  constexpr int NL = detail::kNativeLanes<W, native>;
  constexpr int P = detail::Point<W, NL>::kPacks;
  using V = detail::VecD<NL>;
  detail::Point<W, NL> sum = detail::load_point_state<W, NL>(r.sum);
  for (std::size_t p = 0; p < points; ++p) {
    float* d = data + p * C;
    double* slot = r.ring + r.pos * W;
    if (r.filled < r.window) ++r.filled;
    const double inv = 1.0 / static_cast<double>(r.filled);
    const detail::Point<W, NL> x = detail::load_point<C, W, NL>(d);
    detail::Point<W, NL> mean;
    for (int q = 0; q < P; ++q) {
      const V sq = x.v[q] * x.v[q];
      sum.v[q] += sq - detail::load_lanes<NL>(slot + q * NL);
      detail::store_lanes<NL>(slot + q * NL, sq);
      const V m = sum.v[q] * inv;
      mean.v[q] = m > 0 ? m : V{};  // rounding may leave a tiny negative sum
    }
    float out[W];
    detail::store_point<W, W, NL>(out, mean);
    for (int c = 0; c < C; ++c) d[c] = std::sqrt(out[c]);
    if (++r.pos == r.window) {
      // Exact sums of the squares in the ring, once per window: rounding never accumulates.
      r.pos = 0;
      sum = {};
      for (std::size_t t = 0; t < r.window; ++t) {
        for (int q = 0; q < P; ++q) sum.v[q] += detail::load_lanes<NL>(r.ring + t * W + q * NL);
      }
    }
  }
  detail::store_point_state<W, NL>(r.sum, sum);
}

void rms_dynamic(const RmsRun& r, float* data, std::size_t points) {
  const std::size_t n = r.stride;
  for (std::size_t p = 0; p < points; ++p) {
    float* d = data + p * n;
    double* slot = r.ring + r.pos * n;
    if (r.filled < r.window) ++r.filled;
    const double inv = 1.0 / static_cast<double>(r.filled);
    for (std::size_t c = 0; c < n; ++c) {
      const double sq = static_cast<double>(d[c]) * d[c];
      r.sum[c] += sq - slot[c];
      slot[c] = sq;
      d[c] = std::sqrt(static_cast<float>(std::max(0.0, r.sum[c] * inv)));
    }
    if (++r.pos == r.window) {
      r.pos = 0;
      for (std::size_t c = 0; c < n; ++c) r.sum[c] = 0;
      for (std::size_t t = 0; t < r.window; ++t) {
        for (std::size_t c = 0; c < n; ++c) r.sum[c] += r.ring[t * n + c];
      }
    }
  }
}

struct RmsKernel {
  template <int native>
  [[gnu::always_inline]] static inline void run(const RmsRun* r, float* data, std::size_t points,
                                                int channels) {
    switch (channels) {
      case 1:
        return rms_fixed<1, native>(*r, data, points);
      case 2:
        return rms_fixed<2, native>(*r, data, points);
      case 3:
        return rms_fixed<3, native>(*r, data, points);
      case 4:
        return rms_fixed<4, native>(*r, data, points);
      case 5:
        return rms_fixed<5, native>(*r, data, points);
      case 6:
        return rms_fixed<6, native>(*r, data, points);
      case 7:
        return rms_fixed<7, native>(*r, data, points);
      case 8:
        return rms_fixed<8, native>(*r, data, points);
      default:
        return rms_dynamic(*r, data, points);
    }
  }
};

}  // namespace

RmsEnvelope::RmsEnvelope(int channels, int window_samples)
    : channels_(checked_channels("RmsEnvelope", channels)), window_(window_samples) {
  if (window_samples < 1) {
    throw std::invalid_argument("RmsEnvelope: window_samples = " + std::to_string(window_samples) +
                                " must be >= 1");
  }
  const auto stride = static_cast<std::size_t>(detail::lanes_for(channels_));
  ring_.assign(static_cast<std::size_t>(window_) * stride, 0.0);
  sum_.assign(stride, 0.0);
}

void RmsEnvelope::process(std::span<float> interleaved) {
  check_block("RmsEnvelope::process", interleaved.size(), channels_);
  const RmsRun run{static_cast<std::size_t>(window_), sum_.size(), ring_.data(), sum_.data(), pos_, filled_};
  detail::dispatch<RmsKernel>(&run, interleaved.data(),
                              interleaved.size() / static_cast<std::size_t>(channels_), channels_);
}

void RmsEnvelope::reset() {
  std::fill(ring_.begin(), ring_.end(), 0.0);
  std::fill(sum_.begin(), sum_.end(), 0.0);
  pos_ = 0;
  filled_ = 0;
}

LowpassEnvelope::LowpassEnvelope(int channels, double cutoff_hz, double rate_hz, int order)
    : filter_(butter_lowpass(order, cutoff_hz, rate_hz), checked_channels("LowpassEnvelope", channels)) {}

void LowpassEnvelope::process(std::span<float> interleaved) {
  check_block("LowpassEnvelope::process", interleaved.size(), filter_.channels());
  for (float& x : interleaved) x = std::abs(x);
  filter_.process(interleaved);
}

TeagerKaiserEnergy::TeagerKaiserEnergy(int channels)
    : channels_(checked_channels("TeagerKaiserEnergy", channels)),
      prev1_(static_cast<std::size_t>(channels), 0.0),
      prev2_(static_cast<std::size_t>(channels), 0.0) {}

void TeagerKaiserEnergy::process(std::span<const float> in, std::span<float> out) {
  check_block("TeagerKaiserEnergy::process", in.size(), channels_);
  if (out.size() != in.size()) {
    throw std::invalid_argument("TeagerKaiserEnergy::process: output of " + std::to_string(out.size()) +
                                " samples for an input of " + std::to_string(in.size()));
  }
  const auto n = static_cast<std::size_t>(channels_);
  for (std::size_t i = 0; i < in.size(); i += n) {
    for (std::size_t c = 0; c < n; ++c) {
      const double x = in[i + c];  // read before writing: in and out may alias
      out[i + c] = static_cast<float>(prev1_[c] * prev1_[c] - prev2_[c] * x);
      prev2_[c] = prev1_[c];
      prev1_[c] = x;
    }
  }
}

void TeagerKaiserEnergy::reset() {
  std::fill(prev1_.begin(), prev1_.end(), 0.0);
  std::fill(prev2_.begin(), prev2_.end(), 0.0);
}

}  // namespace spasmwatch::dsp
