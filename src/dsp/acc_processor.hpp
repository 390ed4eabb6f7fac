// Accelerometer features per tick, from interleaved x, y, z in g (rates 25-400 Hz; any rate
// >= 10 Hz works, band edges adapt to it):
//
//   gravity  = 2nd-order Butterworth low-pass at 0.4 Hz of each axis (settled on the first
//              sample, so there is no start-up transient)
//   dynamic  = raw - gravity
//   movement = RMS over the tick of |dynamic|                         (g)
//   jerk     = RMS over the tick of |d dynamic / dt| (first difference x rate_hz)   (g/s)
//   tremor   = mean over the tick of |bandpass(dynamic)|^2, 2nd-order Butterworth band-pass
//              3-8 Hz per axis, edges through adapt_band()            (g^2)
//              (the band-pass acts on the dynamic VECTOR, not on its rectified magnitude:
//              rectifying a 5 Hz back-and-forth oscillation would move its energy to 10 Hz)
//   sway     = the same over 0.5-3 Hz (g^2): the slow, smooth movement of the body moving
//              itself (shifting in the seat, reaching); a spasm's jolt is brief and sharp, its
//              power mostly above 3 Hz
//   posture  = from the gravity vector at the end of the tick. The device's z axis is taken as
//              the body's long axis: |g_z| / |g| > 0.7 (within ~45 degrees of vertical) is
//              upright (standing or sitting), otherwise lying; |g| < 0.3 g (free fall, a
//              mis-scaled stream) is unknown.
//
// Ticks count samples from construction, never block boundaries: any cutting of the stream gives
// identical ticks.
//
// Thread rules: single-threaded. Internal buffers grow to the largest block seen, then no
// allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dsp/filter_design.hpp"
#include "dsp/sos_filter.hpp"

namespace spasmwatch::dsp {

enum class Posture : std::uint8_t { unknown, upright, lying };

struct AccTick {
  float movement_g = 0;
  float jerk_g_per_s = 0;
  float tremor_g2 = 0;
  float sway_g2 = 0;
  std::array<float, 3> gravity_g{};
  Posture posture = Posture::unknown;
};

class AccProcessor {
 public:
  static constexpr double kGravityCutoffHz = 0.4;
  static constexpr double kTremorLowHz = 3;
  static constexpr double kTremorHighHz = 8;
  static constexpr double kSwayLowHz = 0.5;
  static constexpr double kSwayHighHz = 3;

  // rate_hz >= 10, tick_samples >= 1 (e.g. 0.1 s worth). Throws std::invalid_argument otherwise.
  AccProcessor(double rate_hz, int tick_samples);

  // Consumes whole time points (x, y, z) and appends one AccTick per completed tick. Returns the
  // number appended. Throws std::invalid_argument if the length is not a multiple of 3.
  std::size_t process(std::span<const float> xyz, std::vector<AccTick>& out);
  void reset();

  [[nodiscard]] double rate_hz() const { return rate_hz_; }
  [[nodiscard]] int tick_samples() const { return tick_samples_; }
  [[nodiscard]] Band tremor_band() const { return tremor_band_; }
  [[nodiscard]] Band sway_band() const { return sway_band_; }

  // The posture rule above, for one gravity vector.
  [[nodiscard]] static Posture posture_of(const std::array<float, 3>& gravity_g);

 private:
  double rate_hz_;
  int tick_samples_;
  Band tremor_band_;
  Band sway_band_;
  SosFilter gravity_;
  SosFilter tremor_;
  SosFilter sway_;
  bool started_ = false;
  std::array<double, 3> prev_dynamic_{};
  int in_tick_ = 0;
  double sum_movement_ = 0;
  double sum_jerk_ = 0;
  double sum_tremor_ = 0;
  double sum_sway_ = 0;
  std::vector<float> gravity_buf_;
  std::vector<float> dynamic_buf_;
  std::vector<float> band_buf_;
  std::vector<float> sway_buf_;
};

}  // namespace spasmwatch::dsp
