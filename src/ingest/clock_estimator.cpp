#include "ingest/clock_estimator.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace spasmwatch::ingest {
namespace {

// Input limits that keep every integer expression below int64 limits: device times up to ~31
// years of uptime, host times within +-126 years of the epoch.
constexpr std::uint64_t kMaxDeviceTimeUs = 1'000'000'000'000'000;
constexpr std::int64_t kMaxAbsHostNs = 4'000'000'000'000'000'000;

// Round-trip error bound floor: a midpoint is never trusted to better than this.
constexpr double kMinRoundTripSigmaS = 20e-6;
// Arrival-minimum scatter floor (the weight of arrivals for the shared slope).
constexpr double kMinArrivalSigmaS = 5e-6;
// Arrival minima further than max(kArrivalRejectScale * scatter, kArrivalRejectFloorS) from the
// first fit are dropped (a bucket that only saw delayed arrivals).
constexpr double kArrivalRejectScale = 6.0;
constexpr double kArrivalRejectFloorS = 200e-6;
// A round trip is inconsistent with the fit when its residual exceeds RTT/2 plus this margin.
constexpr double kRoundTripRejectMarginS = 500e-6;
// Drift kept across a re-anchor or a data gap longer than the window: how much a crystal may
// change rate meanwhile (temperature), added to the uncertainty of the last fit's slope.
constexpr double kDriftWanderSigma = 2e-6;
// Normal-distribution consistency factor of the median absolute deviation.
constexpr double kMadToSigma = 1.4826;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Signed device-time difference (two's complement wrap is the intended result).
std::int64_t device_delta_us(std::uint64_t device_us, std::uint64_t ref_us) {
  return static_cast<std::int64_t>(device_us - ref_us);
}

void check_config(const ClockEstimatorConfig& c) {
  auto fail = [](const std::string& what) {
    throw std::invalid_argument("ClockEstimatorConfig: " + what);
  };
  if (!(c.bucket_s >= 0.01 && c.bucket_s <= 600.0))
    fail("bucket_s must be in [0.01, 600] s, got " + std::to_string(c.bucket_s));
  if (!(c.window_s >= 2.0 * c.bucket_s && c.window_s / c.bucket_s <= 1e6))
    fail("window_s must hold 2 to 1e6 buckets, got " + std::to_string(c.window_s));
  if (!(c.max_drift_ppm > 0.0 && c.max_drift_ppm <= 1e5))
    fail("max_drift_ppm must be in (0, 1e5], got " + std::to_string(c.max_drift_ppm));
  if (!(c.step_threshold_s > 0.0))
    fail("step_threshold_s must be > 0, got " + std::to_string(c.step_threshold_s));
  if (!(c.step_consistency_s > 0.0 && c.step_consistency_s < c.step_threshold_s))
    fail("step_consistency_s must be in (0, step_threshold_s), got " +
         std::to_string(c.step_consistency_s));
  if (!(c.step_confirm_s >= 0.0))
    fail("step_confirm_s must be >= 0, got " + std::to_string(c.step_confirm_s));
  if (c.step_confirm_points == 0) fail("step_confirm_points must be >= 1");
  if (c.min_round_trips_for_offset == 0) fail("min_round_trips_for_offset must be >= 1");
  if (c.level_shift_buckets < 2 || c.level_shift_buckets * c.bucket_s * 2.0 > c.window_s)
    fail("level_shift_buckets must be >= 2 and span at most half the window, got " +
         std::to_string(c.level_shift_buckets));
}

}  // namespace

ClockEstimator::ClockEstimator() : ClockEstimator(ClockEstimatorConfig{}) {}

ClockEstimator::ClockEstimator(const ClockEstimatorConfig& config) : config_(config) {
  check_config(config_);
  bucket_us_ = std::llround(config_.bucket_s * 1e6);
  window_buckets_ = std::max<std::int64_t>(2, std::llround(config_.window_s / config_.bucket_s));
  ring_.resize(static_cast<std::size_t>(window_buckets_ + 1));
  scratch_points_.reserve(2 * ring_.size());
  scratch_abs_.reserve(ring_.size());
  step_.buckets.resize(
      static_cast<std::size_t>(std::ceil(config_.step_confirm_s / config_.bucket_s)) + 2);
  reset();
}

void ClockEstimator::reset() {
  anchored_ = false;
  ref_device_us_ = 0;
  ref_host_ns_ = 0;
  for (Bucket& b : ring_) b = Bucket{};
  newest_index_ = kNoIndex;
  latest_x_s_ = 0.0;
  prior_slope_ = 0.0;
  const double prior_sigma = config_.max_drift_ppm * 1e-6;
  prior_weight_ = 1.0 / (prior_sigma * prior_sigma);
  arrival_sigma_s_ = 1e-3;
  arrival_limit_s_ = kArrivalRejectFloorS;
  slope_variance_ = prior_sigma * prior_sigma;
  have_fit_ = false;
  line_ = Line{};
  fit_points_ = 0;
  fit_residual_s_ = 0.0;
  step_.active = false;
  reanchors_ = 0;
  rejected_ = 0;
}

void ClockEstimator::add_arrival(std::uint64_t device_time_us, std::int64_t host_time_ns) {
  if (device_time_us > kMaxDeviceTimeUs || host_time_ns > kMaxAbsHostNs ||
      host_time_ns < -kMaxAbsHostNs) {
    ++rejected_;
    return;
  }
  if (!anchored_) {
    anchored_ = true;
    ref_device_us_ = device_time_us;
    ref_host_ns_ = host_time_ns;
  }
  const std::int64_t dx_us = device_delta_us(device_time_us, ref_device_us_);
  Point p;
  p.x_s = static_cast<double>(dx_us) * 1e-6;
  p.y_s = static_cast<double>((host_time_ns - ref_host_ns_) - dx_us * 1000) * 1e-9;
  add_point(Kind::arrival, p);
}

void ClockEstimator::add_round_trip(std::int64_t host_send_ns, std::uint64_t device_receive_us,
                                    std::uint64_t device_send_us, std::int64_t host_receive_ns) {
  if (device_receive_us > kMaxDeviceTimeUs || device_send_us > kMaxDeviceTimeUs ||
      host_send_ns > kMaxAbsHostNs || host_send_ns < -kMaxAbsHostNs ||
      host_receive_ns > kMaxAbsHostNs || host_receive_ns < -kMaxAbsHostNs ||
      device_send_us < device_receive_us || host_receive_ns < host_send_ns) {
    ++rejected_;
    return;
  }
  // The device hold time is measured on the device clock; allow for its rate error when checking
  // that the round trip is not negative.
  const auto hold_us = static_cast<std::int64_t>(device_send_us - device_receive_us);
  std::int64_t rtt_ns = (host_receive_ns - host_send_ns) - hold_us * 1000;
  const auto hold_tolerance_ns = static_cast<std::int64_t>(static_cast<double>(hold_us) * 1000.0 *
                                                           config_.max_drift_ppm * 2e-6);
  if (rtt_ns < -hold_tolerance_ns - 1000 ||
      static_cast<double>(rtt_ns) * 1e-9 > config_.step_threshold_s) {
    ++rejected_;  // inconsistent, or too slow to say anything within the step threshold
    return;
  }
  rtt_ns = std::max<std::int64_t>(rtt_ns, 0);

  if (!anchored_) {
    anchored_ = true;
    ref_device_us_ = device_receive_us;
    ref_host_ns_ = host_send_ns;
  }
  const std::int64_t dx2_us = device_delta_us(device_receive_us, ref_device_us_);
  const std::int64_t dx3_us = device_delta_us(device_send_us, ref_device_us_);
  // Midpoint: device time (d2 + d3) / 2 maps to host time (h1 + h4) / 2, within RTT/2. Halve
  // each term first so the sum stays in range.
  const std::int64_t y2_ns = (host_send_ns - ref_host_ns_) - dx2_us * 1000;
  const std::int64_t y3_ns = (host_receive_ns - ref_host_ns_) - dx3_us * 1000;
  Point p;
  p.x_s = (static_cast<double>(dx2_us) + static_cast<double>(dx3_us)) * 0.5e-6;
  p.y_s = (static_cast<double>(y2_ns) + static_cast<double>(y3_ns)) * 0.5e-9;
  p.sigma_s = std::max(static_cast<double>(rtt_ns) * 0.5e-9, kMinRoundTripSigmaS);
  add_point(Kind::round_trip, p);
}

void ClockEstimator::add_point(Kind kind, const Point& point) {
  if (have_fit_) {
    const double residual_s = point.y_s - line_.at(point.x_s);
    if (std::fabs(residual_s) > config_.step_threshold_s) {
      on_far_point(kind, point, residual_s);
      return;
    }
    step_.active = false;  // a normal point: whatever the far points were, it was not a step
  }
  insert_into_bucket(kind, point);
}

std::int64_t ClockEstimator::index_of(const Point& point) const {
  return floor_div(std::llround(point.x_s * 1e6), bucket_us_);
}

void ClockEstimator::offer(Bucket& bucket, Kind kind, const Point& point) const {
  if (kind == Kind::arrival) {
    // Earliest relative to the current slope, so drift within the bucket does not bias the pick.
    const double slope = line_.slope;
    if (!bucket.arrival ||
        point.y_s - slope * point.x_s < bucket.arrival->y_s - slope * bucket.arrival->x_s) {
      bucket.arrival = point;
    }
  } else if (!bucket.round_trip || point.sigma_s < bucket.round_trip->sigma_s) {
    bucket.round_trip = point;
  }
}

void ClockEstimator::insert_into_bucket(Kind kind, const Point& point) {
  const std::int64_t index = index_of(point);
  bool advanced = false;
  if (newest_index_ == kNoIndex) {
    newest_index_ = index;
    latest_x_s_ = point.x_s;
  } else if (index > newest_index_) {
    newest_index_ = index;
    advanced = true;
  } else if (index < newest_index_ - window_buckets_) {
    ++rejected_;  // older than the window
    return;
  }
  latest_x_s_ = std::max(latest_x_s_, point.x_s);

  const auto slots = static_cast<std::int64_t>(ring_.size());
  Bucket& bucket = ring_[static_cast<std::size_t>(((index % slots) + slots) % slots)];
  if (bucket.index != index) bucket = Bucket{index, std::nullopt, std::nullopt};
  offer(bucket, kind, point);

  if (advanced) {
    refit();
  } else if (!have_fit_) {
    fallback_line();
  }
}

void ClockEstimator::on_far_point(Kind kind, const Point& point, double residual_s) {
  StepCandidate& c = step_;
  if (!c.active || point.x_s - c.last_x_s > config_.step_confirm_s ||
      residual_s < c.ref_residual_s - config_.step_consistency_s) {
    // First far point, a stale candidate, or one clearly earlier than the candidate: the
    // candidate was a stall (its points were late), start again from this one.
    c.active = true;
    c.ref_residual_s = residual_s;
    c.first_x_s = point.x_s;
    c.last_x_s = point.x_s;
    c.points = 0;
    c.first_index = index_of(point);
    for (Bucket& b : c.buckets) b = Bucket{};
  } else if (residual_s > c.ref_residual_s + config_.step_threshold_s) {
    ++rejected_;  // far even for the candidate: a delayed arrival of a stall, ignored
    return;
  }
  // Consistent with the candidate (arrivals may be late by a delay spike).
  ++c.points;
  c.last_x_s = std::max(c.last_x_s, point.x_s);
  const std::int64_t slot = index_of(point) - c.first_index;
  if (slot >= 0 && slot < static_cast<std::int64_t>(c.buckets.size())) {
    Bucket& b = c.buckets[static_cast<std::size_t>(slot)];
    b.index = c.first_index + slot;
    offer(b, kind, point);
  }
  if (c.points >= config_.step_confirm_points &&
      c.last_x_s - c.first_x_s >= config_.step_confirm_s) {
    reanchor();
  }
}

void ClockEstimator::reanchor() {
  step_.active = false;
  keep_drift_prior();
  for (Bucket& b : ring_) b = Bucket{};
  newest_index_ = kNoIndex;
  have_fit_ = false;
  ++reanchors_;
  // The candidate's buckets become the window, oldest first (closing buckets refits as usual).
  for (const Bucket& b : step_.buckets) {
    if (b.arrival) insert_into_bucket(Kind::arrival, *b.arrival);
    if (b.round_trip) insert_into_bucket(Kind::round_trip, *b.round_trip);
  }
}

void ClockEstimator::refit() {
  fit_window();
  if (!have_fit_) return;
  const LevelShift shift = find_level_shift();
  if (shift == LevelShift::none) return;
  // Re-anchor below the step threshold: forget what the newest buckets contradict, keep drift.
  const std::int64_t first_kept = newest_index_ - config_.level_shift_buckets;
  for (Bucket& b : ring_) {
    if (b.index == kNoIndex || b.index >= first_kept) continue;
    if (shift == LevelShift::arrivals) {
      b.arrival.reset();
    } else {
      b = Bucket{};
    }
  }
  keep_drift_prior();
  ++reanchors_;
  fit_window();
}

void ClockEstimator::keep_drift_prior() {
  // The drift belongs to the device crystal, not to UTC or the link: keep it, as sure as the last
  // fit measured it, plus what a crystal may wander meanwhile.
  prior_slope_ = line_.slope;
  prior_weight_ = 1.0 / (slope_variance_ + kDriftWanderSigma * kDriftWanderSigma);
}

void ClockEstimator::fit_window() {
  scratch_points_.clear();
  const std::int64_t oldest = newest_index_ - window_buckets_;
  for (const Bucket& b : ring_) {
    if (b.index == kNoIndex || b.index < oldest || b.index >= newest_index_) continue;
    if (b.arrival) scratch_points_.push_back(FitPoint{*b.arrival, Kind::arrival, b.index});
    if (b.round_trip) {
      scratch_points_.push_back(FitPoint{*b.round_trip, Kind::round_trip, b.index});
    }
  }
  if (scratch_points_.empty()) {
    // A gap longer than the window: keep the drift, restart from the open bucket.
    if (have_fit_) keep_drift_prior();
    have_fit_ = false;
    fallback_line();
    return;
  }

  // Pass 1: all points, arrival weight from the previous fit.
  solve(arrival_sigma_s_);

  // Robust scatter of the arrival minima, then reject what the first fit cannot explain.
  scratch_abs_.clear();
  for (const FitPoint& fp : scratch_points_) {
    if (fp.kind == Kind::arrival) scratch_abs_.push_back(std::fabs(fp.residual_s));
  }
  double arrival_scatter_s = arrival_sigma_s_;
  if (scratch_abs_.size() >= 3) {
    auto mid = scratch_abs_.begin() + static_cast<std::ptrdiff_t>(scratch_abs_.size() / 2);
    std::nth_element(scratch_abs_.begin(), mid, scratch_abs_.end());
    arrival_scatter_s = std::max(kMadToSigma * *mid, kMinArrivalSigmaS);
  }
  arrival_limit_s_ = std::max(kArrivalRejectScale * arrival_scatter_s, kArrivalRejectFloorS);
  std::uint64_t inliers[2] = {0, 0};
  for (FitPoint& fp : scratch_points_) {
    fp.inlier = std::fabs(fp.residual_s) <= reject_limit(fp);
    if (fp.inlier) ++inliers[static_cast<int>(fp.kind)];
  }
  // Never reject a whole kind: that would be a level shift, which find_level_shift() handles.
  for (FitPoint& fp : scratch_points_) {
    if (inliers[static_cast<int>(fp.kind)] == 0) fp.inlier = true;
  }

  // Pass 2: inliers only, arrival weight from their measured scatter.
  arrival_sigma_s_ = arrival_scatter_s;
  solve(arrival_sigma_s_);
  have_fit_ = true;
}

double ClockEstimator::reject_limit(const FitPoint& fp) const {
  // A round-trip midpoint is within RTT/2 of the truth, so more than that (plus room for the
  // fit's own error) is a contradiction, not noise.
  return fp.kind == Kind::arrival ? arrival_limit_s_ : fp.point.sigma_s + kRoundTripRejectMarginS;
}

ClockEstimator::LevelShift ClockEstimator::find_level_shift() const {
  // The newest level_shift_buckets closed buckets all off the fit, on the same side, and agreeing
  // with each other: the clock regime changed by less than step_threshold_s.
  struct Evidence {
    std::int64_t buckets = 0;
    std::int64_t above = 0;
    std::int64_t below = 0;
    double min_residual_s = 0.0;
    double max_residual_s = 0.0;
    double max_limit_s = 0.0;
    bool older = false;  // there is something older to forget
  };
  Evidence kinds[2];
  const std::int64_t first = newest_index_ - config_.level_shift_buckets;
  for (const FitPoint& fp : scratch_points_) {
    Evidence& e = kinds[static_cast<int>(fp.kind)];
    if (fp.bucket_index < first) {
      e.older = true;
      continue;
    }
    const double limit_s = reject_limit(fp);
    if (e.buckets == 0) e.min_residual_s = e.max_residual_s = fp.residual_s;
    ++e.buckets;
    e.above += fp.residual_s > limit_s ? 1 : 0;
    e.below += fp.residual_s < -limit_s ? 1 : 0;
    e.min_residual_s = std::min(e.min_residual_s, fp.residual_s);
    e.max_residual_s = std::max(e.max_residual_s, fp.residual_s);
    e.max_limit_s = std::max(e.max_limit_s, limit_s);
  }
  const auto shifted = [&](const Evidence& e, double agree_s) {
    const auto k = static_cast<std::int64_t>(config_.level_shift_buckets);
    return e.older && e.buckets == k && (e.above == k || e.below == k) &&
           e.max_residual_s - e.min_residual_s <= agree_s;
  };
  const Evidence& rt = kinds[static_cast<int>(Kind::round_trip)];
  const Evidence& ar = kinds[static_cast<int>(Kind::arrival)];
  // Round-trip midpoints do not move with link latency, only with the clocks: a host step.
  if (shifted(rt, 2.0 * rt.max_limit_s)) return LevelShift::all;
  if (!shifted(ar, ar.max_limit_s)) return LevelShift::none;
  // Arrivals moved but round trips in the same buckets did not: the link latency changed.
  // Without round trips the two cannot be told apart; follow the arrivals (the mapping is
  // "earliest arrival minus minimum latency" then).
  return rt.buckets > 0 ? LevelShift::arrivals : LevelShift::all;
}

// Fits the inliers of scratch_points_, sets line_, fit_points_, fit_residual_s_ and each point's
// residual.
void ClockEstimator::solve(double arrival_sigma_s) {
  struct Sums {
    double w = 0.0;
    double wx = 0.0;
    double wy = 0.0;
    std::uint64_t n = 0;
  };
  Sums sums[2];
  const double arrival_weight = 1.0 / (arrival_sigma_s * arrival_sigma_s);
  for (FitPoint& fp : scratch_points_) {
    fp.weight =
        fp.kind == Kind::arrival ? arrival_weight : 1.0 / (fp.point.sigma_s * fp.point.sigma_s);
    if (!fp.inlier) continue;
    Sums& s = sums[static_cast<int>(fp.kind)];
    s.w += fp.weight;
    s.wx += fp.weight * fp.point.x_s;
    s.wy += fp.weight * fp.point.y_s;
    ++s.n;
  }
  double centre_x[2] = {0.0, 0.0};
  double centre_y[2] = {0.0, 0.0};
  for (int k = 0; k < 2; ++k) {
    if (sums[k].n == 0) continue;
    centre_x[k] = sums[k].wx / sums[k].w;
    centre_y[k] = sums[k].wy / sums[k].w;
  }
  // Second pass on centred values: no cancellation between large sums.
  double sxx = 0.0;
  double sxy = 0.0;
  for (const FitPoint& fp : scratch_points_) {
    if (!fp.inlier) continue;
    const int k = static_cast<int>(fp.kind);
    const double dx = fp.point.x_s - centre_x[k];
    sxx += fp.weight * dx * dx;
    sxy += fp.weight * dx * (fp.point.y_s - centre_y[k]);
  }
  const double slope = (sxy + prior_weight_ * prior_slope_) / (sxx + prior_weight_);
  slope_variance_ = 1.0 / (sxx + prior_weight_);

  double sum_wr2 = 0.0;
  double sum_w = 0.0;
  for (FitPoint& fp : scratch_points_) {
    const int k = static_cast<int>(fp.kind);
    const int ref_k = sums[k].n > 0 ? k : 1 - k;  // a kind with no inlier: use the other's line
    fp.residual_s = fp.point.y_s - (centre_y[ref_k] + slope * (fp.point.x_s - centre_x[ref_k]));
    if (!fp.inlier) continue;
    sum_wr2 += fp.weight * fp.residual_s * fp.residual_s;
    sum_w += fp.weight;
  }

  // The mapping: round trips fix the absolute offset once there are enough of them; otherwise
  // the arrival minima (late by the link's minimum latency) do.
  const int rt = static_cast<int>(Kind::round_trip);
  const int ar = static_cast<int>(Kind::arrival);
  int use = ar;
  if (sums[rt].n >= config_.min_round_trips_for_offset || sums[ar].n == 0) use = rt;
  line_ = Line{centre_x[use], centre_y[use], slope};
  fit_points_ = sums[ar].n + sums[rt].n;
  fit_residual_s_ = sum_w > 0.0 ? std::sqrt(sum_wr2 / sum_w) : 0.0;
}

void ClockEstimator::fallback_line() {
  const auto slots = static_cast<std::int64_t>(ring_.size());
  const Bucket& open = ring_[static_cast<std::size_t>(((newest_index_ % slots) + slots) % slots)];
  const Point& p = open.arrival ? *open.arrival : *open.round_trip;
  line_ = Line{p.x_s, p.y_s, prior_slope_};
  fit_points_ = 1;
  fit_residual_s_ = 0.0;
}

bool ClockEstimator::has_estimate() const { return newest_index_ != kNoIndex; }

std::int64_t ClockEstimator::to_host_ns(std::uint64_t device_time_us) const {
  if (!has_estimate()) {
    throw std::logic_error(
        "ClockEstimator::to_host_ns: no synchronisation point yet (check has_estimate())");
  }
  if (device_time_us > kMaxDeviceTimeUs) {
    throw std::out_of_range("ClockEstimator::to_host_ns: device time " +
                            std::to_string(device_time_us) + " us is beyond ~31 years");
  }
  const std::int64_t dx_us = device_delta_us(device_time_us, ref_device_us_);
  const double y_s = line_.at(static_cast<double>(dx_us) * 1e-6);
  std::int64_t host_ns = 0;
  if (!(std::fabs(y_s) < 4e9) ||
      __builtin_add_overflow(ref_host_ns_, dx_us * 1000 + std::llround(y_s * 1e9), &host_ns)) {
    throw std::out_of_range("ClockEstimator::to_host_ns: host time of device time " +
                            std::to_string(device_time_us) + " us is out of range");
  }
  return host_ns;
}

proto::ClockFit ClockEstimator::fit() const {
  proto::ClockFit out;
  if (!has_estimate()) return out;
  const double base_s =
      static_cast<double>(ref_host_ns_ - static_cast<std::int64_t>(ref_device_us_) * 1000) * 1e-9;
  out.set_offset_s(base_s + line_.at(latest_x_s_));
  // offset slope b = d(host - device)/d(device); device rate relative to host = 1 / (1 + b).
  out.set_drift_ppm((1.0 / (1.0 + line_.slope) - 1.0) * 1e6);
  out.set_points(fit_points_);
  out.set_residual_ms(fit_residual_s_ * 1e3);
  return out;
}

}  // namespace spasmwatch::ingest
