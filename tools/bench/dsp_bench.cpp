// dsp_bench: throughput of the EMG signal chain on one core (a program that prints figures; not a
// test). Input: 8 channels x 2000 Hz of int32 EMG-like counts (noise, bursts, 50 Hz and its
// harmonics, a DC offset), handed over in blocks of 40 time points as the device sends them.
//
//   dsp_bench [million_samples]     (default 128; each figure is the best of 3 runs)
//
// Figures, in samples per second (1 sample = one channel at one time point):
//   emg kernel  notch + bp4        EmgEnvelopeKernel: 1 notch + 4 band-pass sections, squares,
//                                  10 ms mean-square ticks (the detector's hot path)
//   emg kernel  harmonics <= 450   the same with notches at 50, 100, ..., 450 Hz (13 sections)
//   emg kernel  bp4 only           no notch (4 sections), for the cost of one section
//   sos filter  notch + bp4        SosFilter on float blocks in place
//   rms envelope 100 ms            RmsEnvelope, moving RMS for every sample (float in place)
//   chain float+sos+rms            int32 -> float µV, SosFilter (5 sections), rectify + 100 ms
//                                  RMS per sample: the DESIGN.md section 7 comparison
//   memcpy                         copying the int32 blocks (in cache) and 64 MB buffers
//                                  (through memory), for scale
// followed by the EMG kernel on the lower ISA levels (the binary dispatches at run time to the
// best of x86-64-v4 / v3 / baseline; these lines show what other x86-64 machines would get).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "dsp/emg_envelope.hpp"
#include "dsp/envelopes.hpp"
#include "dsp/filter_design.hpp"
#include "dsp/sos_filter.hpp"

namespace {

using spasmwatch::dsp::design_emg_filter;
using spasmwatch::dsp::EmgEnvelopeKernel;
using spasmwatch::dsp::EmgFilterSpec;
using spasmwatch::dsp::RmsEnvelope;
using spasmwatch::dsp::SosFilter;
using spasmwatch::dsp::detail::best_isa;
using spasmwatch::dsp::detail::Isa;
using spasmwatch::dsp::detail::isa_name;
using spasmwatch::dsp::detail::override_isa;

constexpr int kChannels = 8;
constexpr double kRateHz = 2000;
constexpr std::size_t kBlockPoints = 40;
constexpr std::size_t kBlockSamples = kBlockPoints * kChannels;
constexpr double kScaleUv = 0.0447;  // µV per count (a 24-bit front end at gain 12)

// 10 s of EMG-like counts, reused round-robin (fits in L2, as live blocks would be).
std::vector<std::int32_t> make_counts() {
  const auto points = static_cast<std::size_t>(10 * kRateHz);
  std::vector<std::int32_t> out(points * kChannels);
  std::mt19937 rng(42);
  std::normal_distribution<double> gauss(0.0, 1.0);
  for (std::size_t i = 0; i < points; ++i) {
    const double t = static_cast<double>(i) / kRateHz;
    const bool burst = static_cast<int>(t * 1.3) % 3 == 0;
    for (int c = 0; c < kChannels; ++c) {
      double uv = 3 * gauss(rng) * (burst ? 20 : 1) + 40 * std::sin(2 * 3.14159265358979 * 50 * t + c) +
                  8 * std::sin(2 * 3.14159265358979 * 150 * t) + 500;
      out[i * kChannels + static_cast<std::size_t>(c)] = static_cast<std::int32_t>(uv / kScaleUv);
    }
  }
  return out;
}

// Runs `body(block_index)` over enough 40-point blocks for `total` samples; best of 3.
double samples_per_s(std::size_t total, const std::function<void(std::size_t)>& body) {
  const std::size_t blocks = total / kBlockSamples;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t b = 0; b < blocks; ++b) body(b);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(blocks * kBlockSamples) / s);
  }
  return best;
}

void print(const char* name, double rate, double checksum) {
  std::printf("%-64s %8.1f M samples/s   (checksum %.6g)\n", name, rate / 1e6, checksum);
}

}  // namespace

int main(int argc, char** argv) {
  const double millions = argc > 1 ? std::atof(argv[1]) : 128.0;
  if (!(millions > 0)) {
    std::fprintf(stderr, "usage: dsp_bench [million_samples > 0]\n");
    return 2;
  }
  const auto total = static_cast<std::size_t>(millions * 1e6);
  const auto counts = make_counts();
  const std::size_t blocks_in_data = counts.size() / kBlockSamples;
  const auto block = [&](std::size_t b) {
    return std::span<const std::int32_t>(counts).subspan((b % blocks_in_data) * kBlockSamples, kBlockSamples);
  };

  std::printf("dsp_bench: %d channels x %.0f Hz int32, blocks of %zu time points, %.0f M samples per run\n",
              kChannels, kRateHz, kBlockPoints, static_cast<double>(total) / 1e6);
  std::printf("kernel ISA: %s (best this CPU supports)\n", isa_name(best_isa()));

  struct KernelCase {
    const char* name;
    bool notch;
    bool harmonics;
  };
  const auto run_kernel = [&](const KernelCase& kc, const char* suffix) {
    EmgFilterSpec spec;
    spec.mains_hz = kc.notch ? 50 : 0;
    spec.mains_harmonics = kc.harmonics;
    const auto sections = design_emg_filter(spec);
    EmgEnvelopeKernel kernel(sections, kChannels, kScaleUv, 20);
    std::vector<float> ticks;
    ticks.reserve(64);
    double checksum = 0;
    const double rate = samples_per_s(total, [&](std::size_t b) {
      ticks.clear();
      kernel.process(block(b), ticks);
      if (!ticks.empty()) checksum += ticks[0];
    });
    char name[96];
    std::snprintf(name, sizeof name, "%s (%zu sect.)%s", kc.name, sections.size(), suffix);
    print(name, rate, checksum);
  };
  const KernelCase main_case{"emg kernel  notch + bp4", true, false};
  const KernelCase harmonics_case{"emg kernel  harmonics <= 450 Hz", true, true};
  for (const KernelCase& kc : {main_case, harmonics_case, KernelCase{"emg kernel  bp4 only", false, false}}) {
    run_kernel(kc, "");
  }

  std::vector<float> work(kBlockSamples);
  {
    SosFilter filter(design_emg_filter({}), kChannels);
    double checksum = 0;
    const double rate = samples_per_s(total, [&](std::size_t b) {
      const auto in = block(b);
      for (std::size_t i = 0; i < kBlockSamples; ++i)
        work[i] = static_cast<float>(in[i]) * static_cast<float>(kScaleUv);
      filter.process(work);
      checksum += work[0];
    });
    print("sos filter  notch + bp4 (+int->f)", rate, checksum);
  }
  {
    RmsEnvelope rms(kChannels, 200);
    std::vector<float> source(counts.size());
    for (std::size_t i = 0; i < counts.size(); ++i) source[i] = static_cast<float>(counts[i] % 4096) * 0.05f;
    double checksum = 0;
    const double rate = samples_per_s(total, [&](std::size_t b) {
      std::memcpy(work.data(), source.data() + (b % blocks_in_data) * kBlockSamples,
                  kBlockSamples * sizeof(float));
      rms.process(work);
      checksum += work[0];
    });
    print("rms envelope 100 ms (per sample)", rate, checksum);
  }
  {
    SosFilter filter(design_emg_filter({}), kChannels);
    RmsEnvelope rms(kChannels, 200);
    double checksum = 0;
    const double rate = samples_per_s(total, [&](std::size_t b) {
      const auto in = block(b);
      for (std::size_t i = 0; i < kBlockSamples; ++i)
        work[i] = static_cast<float>(in[i]) * static_cast<float>(kScaleUv);
      filter.process(work);
      rms.process(work);  // squares: rectification is implied
      checksum += work[0];
    });
    print("chain float+sos+rms 100 ms", rate, checksum);
  }
  {
    std::vector<std::int32_t> dst(kBlockSamples);
    double checksum = 0;
    const double rate = samples_per_s(total, [&](std::size_t b) {
      std::memcpy(dst.data(), block(b).data(), kBlockSamples * sizeof(std::int32_t));
      checksum += dst[b % kBlockSamples];
    });
    print("memcpy (40-point int32 blocks, in cache)", rate, checksum);
  }
  {
    // Through memory: 64 MB buffers, far larger than the caches.
    constexpr std::size_t kBig = std::size_t{16} << 20;  // int32 samples
    std::vector<std::int32_t> src(kBig, 7), dst(kBig);
    double checksum = 0;
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      std::size_t done = 0;
      for (; done < total; done += kBig) {
        std::memcpy(dst.data(), src.data(), kBig * sizeof(std::int32_t));
        checksum += dst[done % kBig];
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::max(best, static_cast<double>(done) / s);
    }
    print("memcpy (64 MB buffers, through memory)", best, checksum);
  }

  // The same kernel on the lower ISA levels (what other x86-64 machines would run).
  for (int level = static_cast<int>(best_isa()) - 1; level >= 0; --level) {
    const auto isa = static_cast<Isa>(level);
    override_isa(isa);
    const std::string suffix = std::string(" ") + isa_name(isa);
    run_kernel(main_case, suffix.c_str());
    run_kernel(harmonics_case, suffix.c_str());
  }
  override_isa(best_isa());
  return 0;
}
