// A cascade of second-order sections run over interleaved multichannel float blocks, in place.
// Used for every IIR filter in the chain (EMG notches + band-pass, gravity low-pass, envelopes).
//
// Blocks are time-major ([t0c0 t0c1 ... t1c0 ...]); a block holds whole time points. State is kept
// per channel and section, so a stream may be cut into blocks of any size with bit-identical
// results. Internally the recursion runs in double (see sos_kernel.hpp for why and how it is
// vectorised); coefficients are designed in double by filter_design.hpp.
//
// Cost: no allocation and no virtual call after construction; ~5 multiply-adds per sample and
// section, vectorised across channels (fastest for 1-8 channels, any count works).
//
// Thread rules: an instance is single-threaded (it carries the filter state); use one per stream.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "dsp/filter_design.hpp"

namespace spasmwatch::dsp {

namespace detail {
// Coefficients of one section as the kernels want them: a1 and a2 negated so every update is a
// multiply-add.
struct KernelSos {
  double b0, b1, b2, na1, na2;
};
}  // namespace detail

class SosFilter {
 public:
  // Throws std::invalid_argument if channels < 1 or a section is not finite. An empty cascade
  // passes samples through.
  SosFilter(std::vector<Sos> sections, int channels);

  // Filters `interleaved` in place. Throws std::invalid_argument if its length is not a multiple
  // of channels().
  void process(std::span<float> interleaved);

  // Zero state (as a newly constructed filter).
  void reset();

  // State as if `value_per_channel` had been the input forever (SciPy's sosfilt_zi scaled by the
  // first sample): no start-up transient when the signal starts far from zero (gravity, DC
  // offsets). Throws if the span size differs from channels() or a section has a pole at z = 1.
  void settle(std::span<const float> value_per_channel);

  [[nodiscard]] int channels() const { return channels_; }
  [[nodiscard]] const std::vector<Sos>& sections() const { return sections_; }

 private:
  std::vector<Sos> sections_;
  std::vector<detail::KernelSos> kernel_;
  int channels_;
  std::vector<double> state_;    // [section][s1, s2][lane] (see sos_kernel.hpp)
  std::vector<double> scratch_;  // one time point, for channel counts above 8
};

// Internal helpers shared with the other kernels (EmgEnvelopeKernel, RmsEnvelope).
namespace detail {
// ISA levels with their own build of the hot loops (see sos_kernel.hpp). active_isa() is the
// best level the CPU supports, unless override_isa() chose a lower one: that is for tests and
// benchmarks (all paths on one machine) and must not race with running filters.
enum class Isa : int { baseline = 0, x86_64_v3 = 1, x86_64_v4 = 2 };
Isa best_isa();
Isa active_isa();
void override_isa(Isa isa);  // throws std::invalid_argument above best_isa()
const char* isa_name(Isa isa);

std::vector<KernelSos> kernel_sections(const std::vector<Sos>& sections);
void settle_state(const std::vector<Sos>& sections, int channels, std::span<const float> value_per_channel,
                  std::span<double> state);
}  // namespace detail

}  // namespace spasmwatch::dsp
