// Internal: the inner loops shared by SosFilter, EmgEnvelopeKernel and RmsEnvelope. Not API.
//
// Layout, chosen for speed with 1-8 channels: samples are interleaved (time-major), so the
// channels of one time point are the inner, contiguous dimension. One time point of C <= 8
// channels is held as W = 1, 2, 4 or 8 double lanes (C rounded up to a power of two), in
// registers of the ISA's native width NL (GCC vector extensions): 8 channels are one AVX-512
// register, two AVX2 or four SSE2 registers. (One 8-lane vector type for all ISAs is not an
// option: GCC keeps vectors wider than the ISA in memory, which made AVX2 3x slower than SSE2.)
// A chunk of up to kChunkPoints time points is widened into a double buffer, then the sections
// run over it in groups of up to 4 whose states live in registers for the whole chunk; inside a
// group each time point goes through all its sections, so the recursions of different sections
// overlap in the out-of-order core. (Measured, 8 channels, 5 sections, AVX-512: 580 M samples/s
// with states in memory per time point, 800 M with register groups.) Channel counts above 8 use
// a plain loop over channels (auto-vectorised).
//
// Arithmetic: transposed direct form II in double. Float state was measured against SciPy and
// is not good enough: 3e-5 of the signal RMS for a 20 Hz Butterworth edge at 2 kHz, 1e-2 for the
// 0.4 Hz gravity low-pass (rounding of states near a pole at z = 1); double state stays near
// 1e-7. Data stay float (or int32) outside the kernel.
//
// ISA dispatch: each hot entry point is instantiated three times, in functions compiled with
// target("arch=x86-64-v4") (AVX-512), target("arch=x86-64-v3") (AVX2 + FMA) and the baseline
// (SSE2), and active_isa() picks one per call (a predictable branch per block). The choice is
// made once from the CPU; a given machine therefore always runs the same instructions, so
// results do not depend on how input is cut into blocks. Results of different ISA levels differ
// by rounding only (FMA or not).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "dsp/sos_filter.hpp"

namespace spasmwatch::dsp::detail {

constexpr std::size_t kChunkPoints = 64;

// Lanes used for `channels` (state stride per section and s1/s2).
constexpr int lanes_for(int channels) {
  if (channels <= 2) return channels;
  if (channels <= 4) return 4;
  if (channels <= 8) return 8;
  return channels;
}

// Vector types of W lanes. (An alias template with a dependent vector_size is silently a
// scalar in GCC, hence explicit specialisations; one lane is a plain scalar.)
template <int W>
struct Lanes;
template <>
struct Lanes<1> {
  using D = double;
  using I = std::int32_t;
  using F = float;
};
template <>
struct Lanes<2> {
  typedef double D __attribute__((vector_size(16)));
  typedef std::int32_t I __attribute__((vector_size(8)));
  typedef float F __attribute__((vector_size(8)));
};
template <>
struct Lanes<4> {
  typedef double D __attribute__((vector_size(32)));
  typedef std::int32_t I __attribute__((vector_size(16)));
  typedef float F __attribute__((vector_size(16)));
};
template <>
struct Lanes<8> {
  typedef double D __attribute__((vector_size(64)));
  typedef std::int32_t I __attribute__((vector_size(32)));
  typedef float F __attribute__((vector_size(32)));
};
template <int W>
using VecD = typename Lanes<W>::D;
template <int W>
using VecI = typename Lanes<W>::I;
template <int W>
using VecF = typename Lanes<W>::F;

template <int NL>
[[gnu::always_inline]] inline VecD<NL> load_lanes(const double* p) {
  VecD<NL> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <int NL>
[[gnu::always_inline]] inline void store_lanes(double* p, VecD<NL> v) {
  std::memcpy(p, &v, sizeof v);
}

// One time point: W lanes as W / NL native vectors.
template <int W, int NL>
struct Point {
  static constexpr int kPacks = W / NL;
  VecD<NL> v[kPacks];
};

// The native vector width (doubles) to use for W lanes on an ISA with `native` lanes.
template <int W, int native>
inline constexpr int kNativeLanes = W < native ? W : native;

template <int W, int NL>
[[gnu::always_inline]] inline Point<W, NL> load_point_state(const double* p) {
  Point<W, NL> x;
  for (int q = 0; q < Point<W, NL>::kPacks; ++q) x.v[q] = load_lanes<NL>(p + q * NL);
  return x;
}

template <int W, int NL>
[[gnu::always_inline]] inline void store_point_state(double* p, const Point<W, NL>& x) {
  for (int q = 0; q < Point<W, NL>::kPacks; ++q) store_lanes<NL>(p + q * NL, x.v[q]);
}

// Sections [0, NS) over n time points of buf, states kept in registers.
// state: per section s1[W] then s2[W].
template <int W, int NL, int NS>
[[gnu::always_inline]] inline void run_group(const KernelSos* __restrict sos, double* __restrict state,
                                             Point<W, NL>* __restrict buf, std::size_t n) {
  constexpr int P = Point<W, NL>::kPacks;
  VecD<NL> s1[NS][P];
  VecD<NL> s2[NS][P];
  for (int s = 0; s < NS; ++s) {
    for (int q = 0; q < P; ++q) {
      s1[s][q] = load_lanes<NL>(state + 2 * W * s + q * NL);
      s2[s][q] = load_lanes<NL>(state + 2 * W * s + W + q * NL);
    }
  }
  for (std::size_t p = 0; p < n; ++p) {
    Point<W, NL> x = buf[p];
    for (int s = 0; s < NS; ++s) {
      const KernelSos k = sos[s];
      for (int q = 0; q < P; ++q) {
        const VecD<NL> in = x.v[q];
        const VecD<NL> out = k.b0 * in + s1[s][q];
        s1[s][q] = s2[s][q] + k.b1 * in + k.na1 * out;
        s2[s][q] = k.b2 * in + k.na2 * out;
        x.v[q] = out;
      }
    }
    buf[p] = x;
  }
  for (int s = 0; s < NS; ++s) {
    for (int q = 0; q < P; ++q) {
      store_lanes<NL>(state + 2 * W * s + q * NL, s1[s][q]);
      store_lanes<NL>(state + 2 * W * s + W + q * NL, s2[s][q]);
    }
  }
}

// All sections over n time points of buf, in groups of up to 4 (balanced: 5 -> 3 + 2). The
// grouping depends only on the number of sections, so every chunk runs the same code.
template <int W, int NL>
[[gnu::always_inline]] inline void cascade_chunk(const KernelSos* sos, int sections, double* state,
                                                 Point<W, NL>* buf, std::size_t n) {
  const int groups = (sections + 3) / 4;
  int done = 0;
  for (int g = 0; g < groups; ++g) {
    const int ns = (sections - done) / (groups - g);
    const KernelSos* gs = sos + done;
    double* st = state + 2 * W * done;
    switch (ns) {
      case 1:
        run_group<W, NL, 1>(gs, st, buf, n);
        break;
      case 2:
        run_group<W, NL, 2>(gs, st, buf, n);
        break;
      case 3:
        run_group<W, NL, 3>(gs, st, buf, n);
        break;
      default:
        run_group<W, NL, 4>(gs, st, buf, n);
        break;
    }
    done += ns;
  }
}

// C channels of int32 or float at p, widened to W double lanes (the padding lanes are zero).
template <int C, int W, int NL, typename T>
[[gnu::always_inline]] inline Point<W, NL> load_point(const T* p) {
  Point<W, NL> x;
  T lanes[W] = {};
  std::memcpy(lanes, p, C * sizeof(T));
  for (int q = 0; q < Point<W, NL>::kPacks; ++q) {
    if constexpr (NL == 1) {
      x.v[q] = static_cast<double>(lanes[q]);
    } else {
      using Narrow = std::conditional_t<std::is_integral_v<T>, VecI<NL>, VecF<NL>>;
      Narrow v;
      std::memcpy(&v, lanes + q * NL, sizeof v);
      x.v[q] = __builtin_convertvector(v, VecD<NL>);
    }
  }
  return x;
}

// The first C lanes of x, narrowed to float, to p.
template <int C, int W, int NL>
[[gnu::always_inline]] inline void store_point(float* p, const Point<W, NL>& x) {
  float lanes[W];
  for (int q = 0; q < Point<W, NL>::kPacks; ++q) {
    if constexpr (NL == 1) {
      lanes[q] = static_cast<float>(x.v[q]);
    } else {
      const VecF<NL> f = __builtin_convertvector(x.v[q], VecF<NL>);
      std::memcpy(lanes + q * NL, &f, sizeof f);
    }
  }
  std::memcpy(p, lanes, C * sizeof(float));
}

// The same cascade for a run-time channel count (more than 8 channels), vectorised over channels.
// state: per section s1[channels] then s2[channels].
[[gnu::always_inline]] inline void cascade_point_n(const KernelSos* __restrict sos, int sections,
                                                   int channels, double* __restrict state,
                                                   double* __restrict x) {
  for (int s = 0; s < sections; ++s) {
    const KernelSos k = sos[s];
    double* __restrict s1 = state + std::ptrdiff_t{2} * channels * s;
    double* __restrict s2 = s1 + channels;
    for (int c = 0; c < channels; ++c) {
      const double in = x[c];
      const double out = k.b0 * in + s1[c];
      s1[c] = s2[c] + k.b1 * in + k.na1 * out;
      s2[c] = k.b2 * in + k.na2 * out;
      x[c] = out;
    }
  }
}

// Runs Kernel::run<native lanes>(args...) in a function compiled for the active ISA level.
template <typename Kernel, typename... Args>
[[gnu::target("arch=x86-64-v4")]] auto run_on_v4(Args... args) {
  return Kernel::template run<8>(args...);
}
template <typename Kernel, typename... Args>
[[gnu::target("arch=x86-64-v3")]] auto run_on_v3(Args... args) {
  return Kernel::template run<4>(args...);
}
template <typename Kernel, typename... Args>
auto run_on_baseline(Args... args) {
  return Kernel::template run<2>(args...);
}
template <typename Kernel, typename... Args>
auto dispatch(Args... args) {
  switch (active_isa()) {
    case Isa::x86_64_v4:
      return run_on_v4<Kernel>(args...);
    case Isa::x86_64_v3:
      return run_on_v3<Kernel>(args...);
    case Isa::baseline:
      break;
  }
  return run_on_baseline<Kernel>(args...);
}

}  // namespace spasmwatch::dsp::detail
