// ActivationDetector: measures of the current activation and of the recent past that
// end_activation scores (onset sharpness, rhythm, longest burst, fill, prior activations and the
// series they form). Read-only over the detector's traces; the rules that use them are in
// activation_detector.cpp, their rationale in DETECTOR.md.
#include <algorithm>
#include <cmath>

#include "detect/activation_detector.hpp"

namespace spasmwatch::detect {

double ActivationDetector::onset_rise_s() const {
  // 20-80% rise of the lead channel's fast envelope at the onset, against a robust level: the
  // median of the first 0.3 s after the onset (the envelope's noise peaks would make a maximum
  // late and random). Crossings are interpolated between ticks.
  const std::size_t n = onset_trace_.size();
  if (n < onset_index_ + 3) return 0;
  const std::size_t span =
      std::min(n - onset_index_, static_cast<std::size_t>(std::lround(0.3 / config_.tick_s)));
  std::array<float, 128> buf{};
  const std::size_t m = std::min<std::size_t>(span, buf.size());
  std::copy_n(onset_trace_.begin() + static_cast<std::ptrdiff_t>(onset_index_), m, buf.begin());
  std::nth_element(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(m / 2),
                   buf.begin() + static_cast<std::ptrdiff_t>(m));
  const float level = buf[m / 2];
  float base = onset_trace_[0];
  for (std::size_t i = 0; i < onset_index_; ++i) base = std::min(base, onset_trace_[i]);
  // Rising out of rest: from the resting level; out of other activity (a trimmed lead-in): from
  // that activity's level.
  if (!trimmed_) base = std::min(base, static_cast<float>(baseline_at_onset_uv_));
  if (level <= base * 1.5f) return 0;
  const float lo = base + 0.2f * (level - base);
  const float hi = base + 0.8f * (level - base);
  std::size_t i_hi = 0;
  while (i_hi < n && onset_trace_[i_hi] < hi) ++i_hi;
  if (i_hi == n || i_hi == 0) return 0;
  std::size_t i_lo = i_hi;
  while (i_lo > 0 && onset_trace_[i_lo - 1] >= lo) --i_lo;
  if (i_lo == 0) return 0;
  // Fractional crossing positions.
  auto cross = [&](std::size_t i, float v) {
    const float a = onset_trace_[i - 1], b = onset_trace_[i];
    return static_cast<double>(i - 1) + (b > a ? std::clamp((v - a) / (b - a), 0.0f, 1.0f) : 1.0f);
  };
  return (cross(i_hi, hi) - cross(i_lo, lo)) * config_.tick_s;
}

double ActivationDetector::rhythm_hz(double* correlation) const {
  // Bursts repeating at 3-8 Hz: autocorrelation of the lead channel's per-tick amplitude after
  // removing its slow course (a 0.4 s moving average), which would otherwise correlate at every
  // lag; the peak must be a local maximum inside 1/8 .. 1/3 s.
  *correlation = 0;
  const std::size_t n = trace_.size();
  const double dt = config_.tick_s;
  const auto min_lag =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(1.0 / config_.clonus_max_hz / dt)));
  const auto max_lag = static_cast<std::size_t>(std::ceil(1.0 / config_.clonus_min_hz / dt));
  if (n < 3 * max_lag) return 0;
  const auto half = static_cast<std::size_t>(0.2 / dt);
  detrended_.resize(n);
  double running = 0;
  std::size_t lo = 0, hi = 0;  // window [lo, hi)
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t want_lo = i > half ? i - half : 0;
    const std::size_t want_hi = std::min(n, i + half + 1);
    while (hi < want_hi) running += trace_[hi++];
    while (lo < want_lo) running -= trace_[lo++];
    detrended_[i] = static_cast<float>(trace_[i] - running / static_cast<double>(hi - lo));
  }
  double var = 0;
  for (const float v : detrended_) var += static_cast<double>(v) * v;
  if (var <= 0) return 0;
  std::vector<double>& r = autocorr_;
  r.assign(max_lag + 2, 0.0);
  for (std::size_t lag = min_lag - 1; lag <= max_lag + 1 && lag < n; ++lag) {
    double acc = 0;
    for (std::size_t i = lag; i < n; ++i) acc += static_cast<double>(detrended_[i]) * detrended_[i - lag];
    r[lag] = acc / var * static_cast<double>(n) / static_cast<double>(n - lag);
  }
  double best = 0;
  std::size_t best_lag = 0;
  for (std::size_t lag = min_lag; lag <= max_lag; ++lag) {
    if (r[lag] > best && r[lag] >= r[lag - 1] && r[lag] >= r[lag + 1]) {
      best = r[lag];
      best_lag = lag;
    }
  }
  *correlation = best;
  return best_lag > 0 ? 1.0 / (static_cast<double>(best_lag) * dt) : 0;
}

double ActivationDetector::longest_burst_s() const {
  // Bursts: runs where the fast envelope stays above a quarter of the way from baseline to peak,
  // bridging dips shorter than 100 ms.
  if (fast_trace_.empty()) return 0;
  const float peak = *std::max_element(fast_trace_.begin(), fast_trace_.end());
  const float level =
      static_cast<float>(baseline_at_onset_uv_) + 0.25f * (peak - static_cast<float>(baseline_at_onset_uv_));
  const auto bridge = static_cast<std::size_t>(0.1 / config_.tick_s);
  std::size_t longest = 0, run_start = 0, gap = 0;
  bool in_run = false;
  for (std::size_t i = 0; i < fast_trace_.size(); ++i) {
    if (fast_trace_[i] >= level) {
      if (!in_run) {
        in_run = true;
        run_start = i;
      }
      gap = 0;
      longest = std::max(longest, i - run_start + 1);
    } else if (in_run && ++gap > bridge) {
      in_run = false;
    }
  }
  return static_cast<double>(longest) * config_.tick_s;
}

std::size_t ActivationDetector::prior_activations(double onset_s, std::array<Past, 16>& out) const {
  // Activations (rejected or not) that began in the 8 s before this onset, oldest first.
  std::size_t count = 0;
  for (const auto& p : history_) {
    if (p.onset_s > onset_s - 8.0 && p.onset_s < onset_s - 0.05) out[count++] = p;
  }
  std::sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(count),
            [](const Past& a, const Past& b) { return a.onset_s < b.onset_s; });
  return count;
}

bool ActivationDetector::steady_series(const std::array<Past, 16>& prior, std::size_t count) {
  // A regular series before: >= 3 onsets at a stride-like period.
  if (count < 3) return false;
  double mean = 0, sq = 0;
  for (std::size_t i = 1; i < count; ++i) {
    const double d = prior[i].onset_s - prior[i - 1].onset_s;
    mean += d;
    sq += d * d;
  }
  const double k = static_cast<double>(count - 1);
  mean /= k;
  const double sd = std::sqrt(std::max(0.0, sq / k - mean * mean));
  // Gait: one burst per stride (0.7-1.5 s), very regular; housework and fidgeting are not.
  return mean > 0.7 && mean < 1.5 && sd / mean < 0.15;
}

bool ActivationDetector::rhythmic_history(const std::array<Past, 16>& prior, std::size_t count,
                                          double onset_s, double duration_s) {
  // Voluntary patterns in the activations before this one:
  //  - a steady series (steps, chewing): >= 3 onsets in the last 8 s at a regular period P, and
  //    this onset falls on the predicted beat (within a quarter period) with a similar length;
  //  - dense short activity (typing, fidgeting): >= 4 activations in the last 6 s and this one
  //    short as well.
  const auto recent6 = static_cast<std::size_t>(
      std::count_if(prior.begin(), prior.begin() + static_cast<std::ptrdiff_t>(count),
                    [onset_s](const Past& p) { return p.onset_s > onset_s - 6.0; }));
  if (recent6 >= 4 && duration_s < 1.0) return true;
  if (count < 3) return false;
  std::array<double, 16> intervals{};
  std::array<double, 16> durations{};
  for (std::size_t i = 1; i < count; ++i) intervals[i - 1] = prior[i].onset_s - prior[i - 1].onset_s;
  for (std::size_t i = 0; i < count; ++i) durations[i] = prior[i].duration_s;
  const std::size_t ni = count - 1;
  std::nth_element(intervals.begin(), intervals.begin() + static_cast<std::ptrdiff_t>(ni / 2),
                   intervals.begin() + static_cast<std::ptrdiff_t>(ni));
  const double period = intervals[ni / 2];
  std::nth_element(durations.begin(), durations.begin() + static_cast<std::ptrdiff_t>(count / 2),
                   durations.begin() + static_cast<std::ptrdiff_t>(count));
  const double typical = durations[count / 2];
  if (period < 0.25 || period > 2.5) return false;
  const double since = onset_s - prior[count - 1].onset_s;
  const double beats = std::round(since / period);
  if (beats < 1 || beats > 2) return false;
  const bool on_beat = std::abs(since - beats * period) <= 0.25 * period;
  return on_beat && duration_s <= 2.0 * typical + 0.1;
}

double ActivationDetector::fill_ratio() const {
  // Fraction of the event the 20 ms envelope stays above a quarter of the way from baseline to
  // the 50 ms envelope's peak, over the span from the first to the last tick above that level:
  // ~1 for a sustained contraction (its rise and fading tail are not gaps in it), low for
  // separate bursts run together (the 20 ms envelope sees the gaps between keystrokes or steps
  // that the 50 ms one smooths over).
  if (env_trace_.empty()) return 0;
  const float peak = *std::max_element(env_trace_.begin(), env_trace_.end());
  const float base = static_cast<float>(baseline_at_onset_uv_);
  const float level = base + 0.25f * (peak - base);
  std::size_t above = 0, first = fast_trace_.size(), last = 0;
  for (std::size_t i = 0; i < fast_trace_.size(); ++i) {
    if (fast_trace_[i] < level) continue;
    ++above;
    first = std::min(first, i);
    last = i;
  }
  if (above == 0) return 0;
  return static_cast<double>(above) / static_cast<double>(last - first + 1);
}

}  // namespace spasmwatch::detect
