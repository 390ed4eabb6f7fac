#include "dsp/baseline_tracker.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace spasmwatch::dsp {

namespace {

constexpr double kRescaleAbove = 1e150;

void require(bool ok, const char* name, double value, const char* expected) {
  if (ok) return;
  std::ostringstream os;
  os << "BaselineTracker: " << name << " = " << value << " " << expected;
  throw std::invalid_argument(os.str());
}

}  // namespace

BaselineTracker::BaselineTracker(const BaselineConfig& config) : config_(config) {
  require(config.tick_rate_hz > 0 && std::isfinite(config.tick_rate_hz), "tick_rate_hz", config.tick_rate_hz,
          "must be > 0");
  require(config.quantile > 0 && config.quantile < 1, "quantile", config.quantile, "must be in (0, 1)");
  require(config.window_s > 0 && std::isfinite(config.window_s), "window_s", config.window_s, "must be > 0");
  require(config.warmup_s >= 0, "warmup_s", config.warmup_s, "must be >= 0");
  require(config.min_value > 0, "min_value", config.min_value, "must be > 0");
  require(config.max_value > config.min_value && std::isfinite(config.max_value), "max_value",
          config.max_value, "must be finite and > min_value");
  require(config.bins_per_decade >= 1 && config.bins_per_decade <= 1000, "bins_per_decade",
          config.bins_per_decade, "must be 1..1000");
  log_min_ = std::log10(config.min_value);
  bin_width_ = 1.0 / config.bins_per_decade;
  const double decades = std::log10(config.max_value) - log_min_;
  bins_.assign(static_cast<std::size_t>(std::ceil(decades * config.bins_per_decade)), 0.0);
  log_sums_.assign(bins_.size(), 0.0);
  growth_ = std::exp(1.0 / (config.window_s * config.tick_rate_hz));
  warmup_updates_ = static_cast<std::uint64_t>(std::ceil(config.warmup_s * config.tick_rate_hz));
}

void BaselineTracker::update(double value, bool frozen) {
  if (frozen || std::isnan(value)) return;
  const double log_value = std::log10(std::clamp(value, config_.min_value, config_.max_value));
  const double pos = (log_value - log_min_) / bin_width_;
  const auto bin = static_cast<std::size_t>(std::clamp(pos, 0.0, static_cast<double>(bins_.size() - 1)));
  bins_[bin] += weight_;
  log_sums_[bin] += weight_ * log_value;
  total_ += weight_;
  weight_ *= growth_;
  if (weight_ > kRescaleAbove) {
    // Older values weigh weight/growth^age; rescaling everything keeps the ratios.
    for (double& b : bins_) b /= kRescaleAbove;
    for (double& b : log_sums_) b /= kRescaleAbove;
    total_ /= kRescaleAbove;
    weight_ /= kRescaleAbove;
  }
  ++unfrozen_updates_;
  dirty_ = true;
}

double BaselineTracker::value() const {
  if (!dirty_) return cached_;
  dirty_ = false;
  const double target = config_.quantile * total_;
  double cum = 0;
  for (std::size_t i = 0; i < bins_.size(); ++i) {
    if (bins_[i] <= 0) continue;
    if (cum + bins_[i] >= target) {
      // The weighted mean (in log amplitude) of the values in the bin: exact for a steady floor.
      cached_ = std::pow(10.0, log_sums_[i] / bins_[i]);
      return cached_;
    }
    cum += bins_[i];
  }
  cached_ = config_.max_value;
  return cached_;
}

void BaselineTracker::reset() {
  std::fill(bins_.begin(), bins_.end(), 0.0);
  std::fill(log_sums_.begin(), log_sums_.end(), 0.0);
  total_ = 0;
  weight_ = 1;
  unfrozen_updates_ = 0;
  cached_ = 0;
  dirty_ = false;
}

}  // namespace spasmwatch::dsp
