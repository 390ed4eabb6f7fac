#include "dsp/emg_envelope.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "dsp/sos_kernel.hpp"

namespace spasmwatch::dsp {

std::vector<Sos> design_emg_filter(const EmgFilterSpec& spec) {
  const Band band = adapt_band(spec.band_low_hz, spec.band_high_hz, spec.rate_hz);
  std::vector<Sos> sections;
  if (spec.mains_hz > 0) {
    const double max_hz = spec.mains_harmonics ? band.high_hz : spec.mains_hz;
    sections = mains_notches(spec.mains_hz, spec.rate_hz, max_hz, spec.notch_quality);
  }
  const auto bp = butter_bandpass(spec.band_order, band.low_hz, band.high_hz, spec.rate_hz);
  sections.insert(sections.end(), bp.begin(), bp.end());
  return sections;
}

namespace {

using detail::KernelSos;

struct EmgRun {
  const KernelSos* sos;
  int sections;
  int channels;
  double scale;
  int tick_samples;
  double* state;
  double* sum_sq;
  double* scratch;
};

template <int C, int native>
[[gnu::always_inline]] inline std::size_t run_fixed(const EmgRun& r, int& in_tick, const std::int32_t* data,
                                                    std::size_t points, float* out) {
  constexpr int W = detail::lanes_for(C);
  constexpr int NL = detail::kNativeLanes<W, native>;
  constexpr int P = detail::Point<W, NL>::kPacks;
  detail::Point<W, NL> buf[detail::kChunkPoints];
  detail::Point<W, NL> sum = detail::load_point_state<W, NL>(r.sum_sq);
  std::size_t ticks = 0;
  for (std::size_t start = 0; start < points; start += detail::kChunkPoints) {
    const std::size_t n = std::min(detail::kChunkPoints, points - start);
    const std::int32_t* d = data + start * C;
    for (std::size_t p = 0; p < n; ++p) {
      buf[p] = detail::load_point<C, W, NL>(d + p * C);
      for (int q = 0; q < P; ++q) buf[p].v[q] *= r.scale;
    }
    detail::cascade_chunk<W, NL>(r.sos, r.sections, r.state, buf, n);
    std::size_t p = 0;
    while (p < n) {
      // Accumulate up to the next tick boundary without a per-sample branch.
      const std::size_t end = p + std::min(n - p, static_cast<std::size_t>(r.tick_samples - in_tick));
      in_tick += static_cast<int>(end - p);
      for (; p < end; ++p) {
        for (int q = 0; q < P; ++q) sum.v[q] += buf[p].v[q] * buf[p].v[q];
      }
      if (in_tick == r.tick_samples) {
        for (int q = 0; q < P; ++q) sum.v[q] /= static_cast<double>(r.tick_samples);
        detail::store_point<C, W, NL>(out + ticks * C, sum);
        sum = {};
        ++ticks;
        in_tick = 0;
      }
    }
  }
  detail::store_point_state<W, NL>(r.sum_sq, sum);
  return ticks;
}

std::size_t run_dynamic(const EmgRun& r, int& in_tick, const std::int32_t* data, std::size_t points,
                        float* out) {
  const auto n = static_cast<std::size_t>(r.channels);
  std::size_t ticks = 0;
  for (std::size_t p = 0; p < points; ++p) {
    const std::int32_t* d = data + p * n;
    for (std::size_t c = 0; c < n; ++c) r.scratch[c] = static_cast<double>(d[c]) * r.scale;
    detail::cascade_point_n(r.sos, r.sections, r.channels, r.state, r.scratch);
    for (std::size_t c = 0; c < n; ++c) r.sum_sq[c] += r.scratch[c] * r.scratch[c];
    if (++in_tick == r.tick_samples) {
      for (std::size_t c = 0; c < n; ++c) {
        out[ticks * n + c] = static_cast<float>(r.sum_sq[c] / r.tick_samples);
        r.sum_sq[c] = 0;
      }
      ++ticks;
      in_tick = 0;
    }
  }
  return ticks;
}

struct EmgKernel {
  template <int native>
  [[gnu::always_inline]] static inline std::size_t run(const EmgRun* r, int* in_tick,
                                                       const std::int32_t* data, std::size_t points,
                                                       float* out) {
    switch (r->channels) {
      case 1:
        return run_fixed<1, native>(*r, *in_tick, data, points, out);
      case 2:
        return run_fixed<2, native>(*r, *in_tick, data, points, out);
      case 3:
        return run_fixed<3, native>(*r, *in_tick, data, points, out);
      case 4:
        return run_fixed<4, native>(*r, *in_tick, data, points, out);
      case 5:
        return run_fixed<5, native>(*r, *in_tick, data, points, out);
      case 6:
        return run_fixed<6, native>(*r, *in_tick, data, points, out);
      case 7:
        return run_fixed<7, native>(*r, *in_tick, data, points, out);
      case 8:
        return run_fixed<8, native>(*r, *in_tick, data, points, out);
      default:
        return run_dynamic(*r, *in_tick, data, points, out);
    }
  }
};

}  // namespace

EmgEnvelopeKernel::EmgEnvelopeKernel(const std::vector<Sos>& sections, int channels, double scale_uv,
                                     int tick_samples)
    : kernel_(detail::kernel_sections(sections)),
      channels_(channels),
      scale_uv_(scale_uv),
      tick_samples_(tick_samples) {
  if (channels < 1) {
    throw std::invalid_argument("EmgEnvelopeKernel: channels = " + std::to_string(channels) +
                                " must be >= 1");
  }
  if (tick_samples < 1) {
    throw std::invalid_argument("EmgEnvelopeKernel: tick_samples = " + std::to_string(tick_samples) +
                                " must be >= 1");
  }
  if (!std::isfinite(scale_uv) || scale_uv == 0) {
    throw std::invalid_argument("EmgEnvelopeKernel: scale_uv = " + std::to_string(scale_uv) +
                                " must be finite and non-zero");
  }
  const auto n = static_cast<std::size_t>(channels);
  const auto lanes = static_cast<std::size_t>(detail::lanes_for(channels));
  state_.assign(2 * kernel_.size() * lanes, 0.0);
  sum_sq_.assign(lanes, 0.0);
  scratch_.assign(n, 0.0);
}

std::size_t EmgEnvelopeKernel::process(std::span<const std::int32_t> interleaved,
                                       std::vector<float>& mean_square_out) {
  const auto n = static_cast<std::size_t>(channels_);
  if (interleaved.size() % n != 0) {
    throw std::invalid_argument("EmgEnvelopeKernel::process: block of " + std::to_string(interleaved.size()) +
                                " samples is not a multiple of " + std::to_string(channels_) + " channels");
  }
  const std::size_t points = interleaved.size() / n;
  const std::size_t max_ticks =
      (static_cast<std::size_t>(in_tick_) + points) / static_cast<std::size_t>(tick_samples_);
  const std::size_t old_size = mean_square_out.size();
  mean_square_out.resize(old_size + max_ticks * n);
  if (points == 0) return 0;
  const EmgRun run{kernel_.data(), static_cast<int>(kernel_.size()),
                   channels_,      scale_uv_,
                   tick_samples_,  state_.data(),
                   sum_sq_.data(), scratch_.data()};
  return detail::dispatch<EmgKernel>(&run, &in_tick_, interleaved.data(), points,
                                     mean_square_out.data() + old_size);
}

void EmgEnvelopeKernel::reset() {
  std::fill(state_.begin(), state_.end(), 0.0);
  std::fill(sum_sq_.begin(), sum_sq_.end(), 0.0);
  in_tick_ = 0;
}

void EmgEnvelopeKernel::align_tick(int samples_into_tick) {
  if (samples_into_tick < 0 || samples_into_tick >= tick_samples_) {
    throw std::invalid_argument(
        "EmgEnvelopeKernel::align_tick: samples_into_tick = " + std::to_string(samples_into_tick) +
        " must be 0.." + std::to_string(tick_samples_ - 1));
  }
  std::fill(sum_sq_.begin(), sum_sq_.end(), 0.0);
  in_tick_ = samples_into_tick;
}

}  // namespace spasmwatch::dsp
