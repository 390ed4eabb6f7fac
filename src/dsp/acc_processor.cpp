#include "dsp/acc_processor.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace spasmwatch::dsp {

namespace {

double checked_rate(double rate_hz) {
  if (!(rate_hz >= 10) || !std::isfinite(rate_hz)) {
    throw std::invalid_argument("AccProcessor: rate_hz = " + std::to_string(rate_hz) + " must be >= 10");
  }
  return rate_hz;
}

}  // namespace

AccProcessor::AccProcessor(double rate_hz, int tick_samples)
    : rate_hz_(checked_rate(rate_hz)),
      tick_samples_(tick_samples),
      tremor_band_(adapt_band(kTremorLowHz, kTremorHighHz, rate_hz)),
      sway_band_(adapt_band(kSwayLowHz, kSwayHighHz, rate_hz)),
      gravity_(butter_lowpass(2, kGravityCutoffHz, rate_hz), 3),
      tremor_(butter_bandpass(2, tremor_band_.low_hz, tremor_band_.high_hz, rate_hz), 3),
      sway_(butter_bandpass(2, sway_band_.low_hz, sway_band_.high_hz, rate_hz), 3) {
  if (tick_samples < 1) {
    throw std::invalid_argument("AccProcessor: tick_samples = " + std::to_string(tick_samples) +
                                " must be >= 1");
  }
}

Posture AccProcessor::posture_of(const std::array<float, 3>& g) {
  const double norm = std::sqrt(static_cast<double>(g[0]) * g[0] + static_cast<double>(g[1]) * g[1] +
                                static_cast<double>(g[2]) * g[2]);
  if (norm < 0.3) return Posture::unknown;
  return std::abs(g[2]) / norm > 0.7 ? Posture::upright : Posture::lying;
}

std::size_t AccProcessor::process(std::span<const float> xyz, std::vector<AccTick>& out) {
  if (xyz.size() % 3 != 0) {
    throw std::invalid_argument("AccProcessor::process: block of " + std::to_string(xyz.size()) +
                                " samples is not a multiple of 3 (x, y, z)");
  }
  if (xyz.empty()) return 0;
  if (!started_) {
    gravity_.settle(xyz.first(3));  // gravity starts at the first reading: no start-up transient
    started_ = true;
  }
  gravity_buf_.assign(xyz.begin(), xyz.end());
  gravity_.process(gravity_buf_);
  dynamic_buf_.resize(xyz.size());
  for (std::size_t i = 0; i < xyz.size(); ++i) dynamic_buf_[i] = xyz[i] - gravity_buf_[i];
  band_buf_.assign(dynamic_buf_.begin(), dynamic_buf_.end());
  tremor_.process(band_buf_);
  sway_buf_.assign(dynamic_buf_.begin(), dynamic_buf_.end());
  sway_.process(sway_buf_);

  std::size_t ticks = 0;
  for (std::size_t i = 0; i < xyz.size(); i += 3) {
    double move2 = 0;
    double jerk2 = 0;
    double band2 = 0;
    double sway2 = 0;
    for (std::size_t a = 0; a < 3; ++a) {
      const double d = dynamic_buf_[i + a];
      const double j = (d - prev_dynamic_[a]) * rate_hz_;
      prev_dynamic_[a] = d;
      move2 += d * d;
      jerk2 += j * j;
      band2 += static_cast<double>(band_buf_[i + a]) * band_buf_[i + a];
      sway2 += static_cast<double>(sway_buf_[i + a]) * sway_buf_[i + a];
    }
    sum_movement_ += move2;
    sum_jerk_ += jerk2;
    sum_tremor_ += band2;
    sum_sway_ += sway2;
    if (++in_tick_ == tick_samples_) {
      AccTick t;
      t.movement_g = static_cast<float>(std::sqrt(sum_movement_ / tick_samples_));
      t.jerk_g_per_s = static_cast<float>(std::sqrt(sum_jerk_ / tick_samples_));
      t.tremor_g2 = static_cast<float>(sum_tremor_ / tick_samples_);
      t.sway_g2 = static_cast<float>(sum_sway_ / tick_samples_);
      t.gravity_g = {gravity_buf_[i], gravity_buf_[i + 1], gravity_buf_[i + 2]};
      t.posture = posture_of(t.gravity_g);
      out.push_back(t);
      ++ticks;
      in_tick_ = 0;
      sum_movement_ = sum_jerk_ = sum_tremor_ = sum_sway_ = 0;
    }
  }
  return ticks;
}

void AccProcessor::reset() {
  gravity_.reset();
  tremor_.reset();
  sway_.reset();
  started_ = false;
  prev_dynamic_ = {};
  in_tick_ = 0;
  sum_movement_ = sum_jerk_ = sum_tremor_ = sum_sway_ = 0;
}

}  // namespace spasmwatch::dsp
