// Device clock -> host clock mapping (offset and drift), estimated online from the times sample
// blocks arrive and, when the link supports it, from time-sync round trips (ping/pong).
//
// Model. The device clock runs at a constant rate relative to host UTC over the fit window, so
// offset(d) = host - device is a straight line in device time d. Raw times are never rewritten:
// callers keep the device times and ask to_host_ns() for the mapping.
//
// Method, and why:
//  * Minimum-delay filter (as NTP clock filters and LSL-style post-processing do). Transport delay
//    only ever makes an arrival later, and on USB/BLE/serial links it is bursty (0.1-5 ms typical,
//    spikes of 50-500 ms). Averaging arrivals would follow the delay; instead the device-time axis
//    is cut into buckets of a few seconds and each bucket keeps only its earliest arrival relative
//    to the current slope (~200 arrivals per bucket, so the kept one is almost delay-free), and its
//    round trip with the lowest RTT (a midpoint is within RTT/2 of the truth).
//  * Weighted least squares through the bucket points over a sliding window (30 min by default):
//    long enough to average the residual jitter to microseconds and to measure drift to a fraction
//    of a ppm, short enough to follow slow crystal-temperature changes. Arrivals and round trips
//    share one slope but get separate intercepts, because arrival minima are still late by the
//    link's minimum latency (a constant bias that only symmetric round trips can see), while they
//    fix the slope far better than noisy round trips. The mapping uses the round-trip intercept
//    once enough round trips are in the window, else the arrival intercept. Round trips are
//    weighted by 1/(RTT/2)^2, arrivals by the robust scatter of their minima; points far from a
//    first fit are dropped (a bucket that saw only delayed arrivals) and the fit is redone.
//  * A prior on the slope (0 +- max_drift_ppm after reset) regularises the first seconds: with a
//    single bucket the mapping is offset-only from the minimum delay seen; as the span grows the
//    data take over. The first bucket is usable at once, so the estimate is good to a few ms after
//    the first second.
//  * Everything is in double with centred coordinates: times are taken relative to a reference
//    point (integer ns / us), so the 1.7e18 ns of UTC never meets a double.
//  * Host clock steps (NTP stepping UTC) and other discontinuities: a point more than
//    step_threshold_s (1 s) from the fit is neither averaged in nor silently kept. Such "far"
//    points form a step candidate (collected into its own buckets by the same minimum-delay
//    filter); if they keep agreeing with each other (none earlier by more than
//    step_consistency_s; later ones are delayed arrivals) for step_confirm_s of device time with
//    no normal point in between, the estimator re-anchors: the window is replaced by the
//    candidate's buckets and the drift is kept as a tight prior (it is a property of the device
//    crystal, not of UTC). Recovery therefore takes about step_confirm_s (8 s). A link stall
//    followed by a burst produces far points that get earlier and earlier, so they never agree
//    and are never mistaken for a step. After a re-anchor, device times before the step map to
//    the new UTC regime too (a single mapping cannot be right on both sides of a step).
//  * Smaller level shifts (an ntpd step of 0.128-1 s, a link whose latency changes for good):
//    when the newest level_shift_buckets closed buckets all sit off the fit on the same side and
//    agree with each other, the older points they contradict are dropped (drift kept), instead of
//    waiting until the new level is the majority of the window (which would also tilt the slope).
//    Round-trip midpoints move only with the clocks, arrival minima also with link latency: if
//    the round trips moved it is a clock step (everything older is dropped); if only the
//    arrivals moved while round trips did not, it is latency (older arrivals are dropped, the
//    mapping does not move). Without round trips the two cannot be told apart and the arrivals
//    are followed. Recovery takes 3-5 buckets (12-20 s).
//
// States: empty (no point; has_estimate() false) -> first bucket (offset-only from its minimum,
// slope from the prior) -> fitted (line through the closed buckets of the window, refitted when a
// bucket closes). A confirmed step candidate replaces the window with its own buckets (fitted at
// once, drift kept); a level shift drops the older points. reset() returns to empty.
//
// Costs: memory is fixed (window_s / bucket_s buckets). add_* is O(1) except when a bucket closes
// (every bucket_s), when the window is refitted in O(buckets): amortised O(1) per arrival.
// to_host_ns() is a few flops on a cached line. Fully deterministic (no clocks, no randomness).
//
// Limits: device times up to 1e15 us (~31 years of uptime), host times within 4e18 ns of the
// epoch; other inputs are counted in rejected_points() and ignored.
// A new device session (device clock restarted) needs reset(); until then its points look like a
// discontinuity and are handled as a step.
//
// Thread rules: not thread-safe; one estimator per device, used from one thread (or strand).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "stats.pb.h"

namespace spasmwatch::ingest {

struct ClockEstimatorConfig {
  double bucket_s = 4.0;            // minimum-delay filter bucket length (device time)
  double window_s = 1800.0;         // sliding least-squares window (device time)
  double max_drift_ppm = 500.0;     // prior on |drift| after reset (1 sigma)
  double step_threshold_s = 1.0;    // a point this far from the fit is a step candidate
  double step_consistency_s = 0.1;  // a step candidate's points agree this well (earliest side)
  double step_confirm_s = 8.0;      // ... for this long in device time before a re-anchor
  std::uint32_t step_confirm_points = 3;
  std::uint32_t min_round_trips_for_offset = 5;  // round trips needed to trust their intercept
  std::uint32_t level_shift_buckets = 3;  // newest buckets that must agree on a sub-step shift
};

class ClockEstimator {
 public:
  ClockEstimator();
  // Throws std::invalid_argument naming the field when `config` is out of range.
  explicit ClockEstimator(const ClockEstimatorConfig& config);

  // A sample block finished at device time `device_time_us` (time of its last sample, when the
  // device could send it) and arrived at host UTC time `host_time_ns`. Transport delay only ever
  // makes the arrival later, never earlier.
  void add_arrival(std::uint64_t device_time_us, std::int64_t host_time_ns);

  // A time-sync round trip: ping sent at host time `host_send_ns`, received by the device at
  // `device_receive_us`, answered at `device_send_us`, the pong arrived at `host_receive_ns`.
  // Inconsistent round trips (negative RTT or device time running backwards) and round trips
  // slower than step_threshold_s are counted in rejected_points() and otherwise ignored.
  void add_round_trip(std::int64_t host_send_ns, std::uint64_t device_receive_us,
                      std::uint64_t device_send_us, std::int64_t host_receive_ns);

  // Forget everything (a new device session restarts the device clock).
  void reset();

  // True once any point has been accepted since construction or reset().
  [[nodiscard]] bool has_estimate() const;
  // Host UTC time (ns) of device time `device_time_us`; O(1), a few flops (called per event).
  // Throws std::logic_error when !has_estimate(), std::out_of_range beyond the input limits.
  [[nodiscard]] std::int64_t to_host_ns(std::uint64_t device_time_us) const;
  // offset_s: host UTC minus device time at the latest device time seen; drift_ppm: device clock
  // rate minus host rate, positive when the device clock runs fast; points: bucket points in the
  // current fit; residual_ms: weighted RMS residual of those points. All zero without an estimate.
  [[nodiscard]] proto::ClockFit fit() const;

  // Diagnostics (since construction or reset()): re-anchors after clock steps and level shifts;
  // points ignored (invalid, older than the window, or far points that fit no step candidate).
  [[nodiscard]] std::uint64_t reanchor_count() const { return reanchors_; }
  [[nodiscard]] std::uint64_t rejected_points() const { return rejected_; }

 private:
  static constexpr std::int64_t kNoIndex = std::numeric_limits<std::int64_t>::min();

  enum class Kind : std::uint8_t { arrival, round_trip };

  // One synchronisation point in reference coordinates: x = device time since ref_device_us_ (s),
  // y = host - device offset relative to the reference (s); sigma_s = RTT/2 (round trips only).
  struct Point {
    double x_s = 0.0;
    double y_s = 0.0;
    double sigma_s = 0.0;
  };

  struct Bucket {
    std::int64_t index = kNoIndex;    // which device-time bucket this slot holds
    std::optional<Point> arrival;     // earliest arrival relative to the slope
    std::optional<Point> round_trip;  // lowest-RTT round trip
  };

  // Offset line y = y_c + slope * (x - x_c), in reference coordinates.
  struct Line {
    double x_c_s = 0.0;
    double y_c_s = 0.0;
    double slope = 0.0;
    [[nodiscard]] double at(double x_s) const { return y_c_s + slope * (x_s - x_c_s); }
  };

  // Far points that may be a new clock regime. Its buckets (same minimum-delay filter as the
  // window) become the window on a re-anchor, so the first fit after a step is a real one.
  struct StepCandidate {
    bool active = false;
    double ref_residual_s = 0.0;  // residual of the point that started it
    double first_x_s = 0.0;
    double last_x_s = 0.0;  // latest consistent point
    std::uint32_t points = 0;
    std::int64_t first_index = 0;  // bucket index of buckets[0]
    std::vector<Bucket> buckets;   // fixed size: step_confirm_s / bucket_s + 2
  };

  // A fit point during refit().
  struct FitPoint {
    Point point;
    Kind kind = Kind::arrival;
    std::int64_t bucket_index = 0;
    double weight = 0.0;
    double residual_s = 0.0;
    bool inlier = true;
  };

  void add_point(Kind kind, const Point& point);
  void insert_into_bucket(Kind kind, const Point& point);
  void on_far_point(Kind kind, const Point& point, double residual_s);
  void offer(Bucket& bucket, Kind kind, const Point& point) const;
  [[nodiscard]] std::int64_t index_of(const Point& point) const;
  enum class LevelShift : std::uint8_t { none, arrivals, all };

  void reanchor();
  void refit();
  void fit_window();
  void keep_drift_prior();
  [[nodiscard]] double reject_limit(const FitPoint& fp) const;
  [[nodiscard]] LevelShift find_level_shift() const;
  void solve(double arrival_sigma_s);
  void fallback_line();

  ClockEstimatorConfig config_;
  std::int64_t bucket_us_ = 0;
  std::int64_t window_buckets_ = 0;

  // Reference point: all coordinates are relative to it (centred, no 1e18 in a double).
  bool anchored_ = false;
  std::uint64_t ref_device_us_ = 0;
  std::int64_t ref_host_ns_ = 0;

  std::vector<Bucket> ring_;  // window_buckets_ + 1 slots (the window plus the open bucket)
  std::int64_t newest_index_ = kNoIndex;
  double latest_x_s_ = 0.0;

  // Slope prior: value and weight 1/sigma^2 (dimensionless slope).
  double prior_slope_ = 0.0;
  double prior_weight_ = 0.0;
  double arrival_sigma_s_ = 1e-3;  // robust scatter of arrival minima, from the last fit
  double arrival_limit_s_ = 0.0;   // arrival minima further from the fit are outliers
  double slope_variance_ = 0.0;    // of the last fit's slope (weights taken as 1/variance)

  bool have_fit_ = false;  // line_ comes from closed buckets (else from the open bucket)
  Line line_;
  std::uint64_t fit_points_ = 0;
  double fit_residual_s_ = 0.0;

  StepCandidate step_;
  std::uint64_t reanchors_ = 0;
  std::uint64_t rejected_ = 0;

  std::vector<FitPoint> scratch_points_;
  std::vector<double> scratch_abs_;
};

}  // namespace spasmwatch::ingest
