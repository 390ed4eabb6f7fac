#include "dsp/sos_filter.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "dsp/sos_kernel.hpp"

namespace spasmwatch::dsp {

namespace detail {

std::vector<KernelSos> kernel_sections(const std::vector<Sos>& sections) {
  std::vector<KernelSos> out;
  out.reserve(sections.size());
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const Sos& s = sections[i];
    for (const double v : {s.b0, s.b1, s.b2, s.a1, s.a2}) {
      if (!std::isfinite(v)) {
        throw std::invalid_argument("SosFilter: section " + std::to_string(i) +
                                    " has a coefficient that is not finite");
      }
    }
    out.push_back({s.b0, s.b1, s.b2, -s.a1, -s.a2});
  }
  return out;
}

void settle_state(const std::vector<Sos>& sections, int channels, std::span<const float> value_per_channel,
                  std::span<double> state) {
  if (value_per_channel.size() != static_cast<std::size_t>(channels)) {
    throw std::invalid_argument("SosFilter::settle: got " + std::to_string(value_per_channel.size()) +
                                " values, expected one per channel (" + std::to_string(channels) + ")");
  }
  const auto n = static_cast<std::size_t>(channels);
  const auto stride = static_cast<std::size_t>(lanes_for(channels));
  if (state.size() != 2 * sections.size() * stride) throw std::logic_error("settle_state: state size");
  for (std::size_t c = 0; c < n; ++c) {
    double x = value_per_channel[c];
    for (std::size_t s = 0; s < sections.size(); ++s) {
      const Sos& k = sections[s];
      const double den = 1 + k.a1 + k.a2;
      if (den == 0)
        throw std::invalid_argument("SosFilter::settle: section " + std::to_string(s) +
                                    " has a pole at z = 1");
      const double y = (k.b0 + k.b1 + k.b2) / den * x;  // DC gain times input
      const double s2 = k.b2 * x - k.a2 * y;
      const double s1 = k.b1 * x - k.a1 * y + s2;
      state[(2 * s) * stride + c] = s1;
      state[(2 * s + 1) * stride + c] = s2;
      x = y;
    }
  }
}

Isa best_isa() {
  static const Isa best = [] {
    __builtin_cpu_init();
#if defined(__clang__)
    // Clang's builtin knows no ISA levels: test the features the levels add (the rest of v3,
    // F16C, LZCNT and MOVBE, comes with every CPU that has AVX2, FMA and BMI2).
    const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
    const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                    __builtin_cpu_supports("avx512vl");
#else
    const bool v3 = __builtin_cpu_supports("x86-64-v3");
    const bool v4 = __builtin_cpu_supports("x86-64-v4");
#endif
    if (v4) return Isa::x86_64_v4;
    if (v3) return Isa::x86_64_v3;
    return Isa::baseline;
  }();
  return best;
}

namespace {
std::atomic<int> g_isa_override{-1};
}  // namespace

Isa active_isa() {
  const int forced = g_isa_override.load(std::memory_order_relaxed);
  return forced >= 0 ? static_cast<Isa>(forced) : best_isa();
}

void override_isa(Isa isa) {
  if (static_cast<int>(isa) > static_cast<int>(best_isa())) {
    throw std::invalid_argument(std::string("override_isa: ") + isa_name(isa) +
                                " is not supported by this CPU");
  }
  g_isa_override.store(static_cast<int>(isa), std::memory_order_relaxed);
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::x86_64_v4:
      return "x86-64-v4 (AVX-512)";
    case Isa::x86_64_v3:
      return "x86-64-v3 (AVX2+FMA)";
    case Isa::baseline:
      break;
  }
  return "x86-64 (SSE2)";
}

}  // namespace detail

namespace {

using detail::KernelSos;

template <int C, int native>
[[gnu::always_inline]] inline void run_fixed(const KernelSos* sos, int sections, double* state, float* data,
                                             std::size_t points) {
  constexpr int W = detail::lanes_for(C);
  constexpr int NL = detail::kNativeLanes<W, native>;
  detail::Point<W, NL> buf[detail::kChunkPoints];
  for (std::size_t start = 0; start < points; start += detail::kChunkPoints) {
    const std::size_t n = std::min(detail::kChunkPoints, points - start);
    float* d = data + start * C;
    for (std::size_t p = 0; p < n; ++p) buf[p] = detail::load_point<C, W, NL>(d + p * C);
    detail::cascade_chunk<W, NL>(sos, sections, state, buf, n);
    for (std::size_t p = 0; p < n; ++p) detail::store_point<C, W, NL>(d + p * C, buf[p]);
  }
}

struct CascadeKernel {
  template <int native>
  [[gnu::always_inline]] static inline void run(const KernelSos* sos, int sections, int channels,
                                                double* state, double* scratch, float* data,
                                                std::size_t points) {
    switch (channels) {
      case 1:
        return run_fixed<1, native>(sos, sections, state, data, points);
      case 2:
        return run_fixed<2, native>(sos, sections, state, data, points);
      case 3:
        return run_fixed<3, native>(sos, sections, state, data, points);
      case 4:
        return run_fixed<4, native>(sos, sections, state, data, points);
      case 5:
        return run_fixed<5, native>(sos, sections, state, data, points);
      case 6:
        return run_fixed<6, native>(sos, sections, state, data, points);
      case 7:
        return run_fixed<7, native>(sos, sections, state, data, points);
      case 8:
        return run_fixed<8, native>(sos, sections, state, data, points);
      default:
        break;
    }
    const auto n = static_cast<std::size_t>(channels);
    for (std::size_t p = 0; p < points; ++p) {
      float* d = data + p * n;
      for (std::size_t c = 0; c < n; ++c) scratch[c] = d[c];
      detail::cascade_point_n(sos, sections, channels, state, scratch);
      for (std::size_t c = 0; c < n; ++c) d[c] = static_cast<float>(scratch[c]);
    }
  }
};

}  // namespace

SosFilter::SosFilter(std::vector<Sos> sections, int channels)
    : sections_(std::move(sections)), kernel_(detail::kernel_sections(sections_)), channels_(channels) {
  if (channels < 1)
    throw std::invalid_argument("SosFilter: channels = " + std::to_string(channels) + " must be >= 1");
  state_.assign(2 * sections_.size() * static_cast<std::size_t>(detail::lanes_for(channels)), 0.0);
  scratch_.assign(static_cast<std::size_t>(channels), 0.0);
}

void SosFilter::process(std::span<float> interleaved) {
  const auto n = static_cast<std::size_t>(channels_);
  if (interleaved.size() % n != 0) {
    throw std::invalid_argument("SosFilter::process: block of " + std::to_string(interleaved.size()) +
                                " samples is not a multiple of " + std::to_string(channels_) + " channels");
  }
  if (interleaved.empty()) return;
  detail::dispatch<CascadeKernel>(kernel_.data(), static_cast<int>(kernel_.size()), channels_, state_.data(),
                                  scratch_.data(), interleaved.data(), interleaved.size() / n);
}

void SosFilter::reset() {
  std::fill(state_.begin(), state_.end(), 0.0);
}

void SosFilter::settle(std::span<const float> value_per_channel) {
  detail::settle_state(sections_, channels_, value_per_channel, state_);
}

}  // namespace spasmwatch::dsp
