// Robust resting baseline (noise floor) of one envelope channel sampled at the tick rate: the
// reference that activations are measured against.
//
// Choice: a running low quantile (default the 20th percentile) of the envelope over an
// exponentially weighted window (time constant window_s, default 20 s), kept as a histogram in
// log-amplitude bins (default 24 bins per decade, ~10% wide); the answer is the weighted mean
// (in log amplitude) of the values in the bin where the quantile falls, so a steady floor is
// returned exactly.
// Why this rather than a mean or a min:
//  * a low quantile ignores the bursts that sit on top of the floor (up to 80% of the window
//    may be activity) yet is not the single lowest dip that a running minimum would follow;
//  * it is naturally asymmetric: after the floor steps DOWN, the quantile reaches the new level
//    once new values hold q of the weight (t = window_s * ln(1/(1-q)) = 0.22 window_s, ~4.5 s);
//    after a step UP it needs 1-q of the weight (t = window_s * ln(1/q) = 1.6 window_s, ~32 s),
//    so a sustained contraction that escaped freezing raises the baseline only slowly;
//  * log bins make it scale-free: the same tracker serves µV and µV² envelopes and any gain.
// Update is O(1) (weights grow geometrically instead of decaying every bin; rescaled before they
// overflow); value() walks the histogram, O(bins), and is cached until the next update.
//
// Frozen: update(v, true) (muscle active) changes nothing: the value is not counted and the
// window does not age, so the floor before the activation stays the reference throughout.
// Start: from the first unfrozen value the baseline is the quantile of what has been seen, so it
// is usable at once; ready() turns true after warmup_s of unfrozen updates.
//
// Thread rules: single-threaded; no allocation after construction.
#pragma once

#include <cstdint>
#include <vector>

namespace spasmwatch::dsp {

struct BaselineConfig {
  double tick_rate_hz = 100;  // updates per second
  double quantile = 0.2;      // 0 < quantile < 1
  double window_s = 20;       // forgetting time constant
  double warmup_s = 2;        // unfrozen time before ready()
  double min_value = 1e-3;    // histogram range in the envelope's unit; values outside are
  double max_value = 1e7;     // clamped to the first / last bin
  int bins_per_decade = 24;
};

class BaselineTracker {
 public:
  // Throws std::invalid_argument for a setting out of range (naming it).
  explicit BaselineTracker(const BaselineConfig& config = {});

  void update(double value, bool frozen);
  // The baseline; 0 before the first unfrozen update.
  [[nodiscard]] double value() const;
  [[nodiscard]] bool ready() const { return unfrozen_updates_ >= warmup_updates_; }
  void reset();

 private:
  BaselineConfig config_;
  double log_min_;
  double bin_width_;  // in log10 units
  double growth_;     // weight factor per update
  std::uint64_t warmup_updates_;
  std::vector<double> bins_;      // weight per bin
  std::vector<double> log_sums_;  // weighted sum of log10(value) per bin
  double total_ = 0;
  double weight_ = 1;  // weight of the next value
  std::uint64_t unfrozen_updates_ = 0;
  mutable double cached_ = 0;
  mutable bool dirty_ = false;
};

}  // namespace spasmwatch::dsp
