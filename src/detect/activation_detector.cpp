#include "detect/activation_detector.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace spasmwatch::detect {

namespace {
constexpr double kLookbackS = 0.3;
constexpr std::size_t kMaxTraceTicks = 200 * 120;  // 2 minutes at 5 ms ticks; longer events keep
                                                   // their first 2 minutes for shape features
}  // namespace

ActivationDetector::ActivationDetector(const DetectorConfig& config, proto::BodySite site, int channels,
                                       Emit emit)
    : config_(config), site_(site), channels_(channels), emit_(std::move(emit)) {
  if (channels < 1 || channels > kMaxChannels) {
    throw std::invalid_argument("detector: channels " + std::to_string(channels) + " is invalid; expected 1..8");
  }
  if (!(config_.tick_s > 0)) throw std::invalid_argument("detector: tick_s must be > 0");
  off_hold_s_ = site == proto::JAW ? config_.jaw_off_hold_s : config_.off_hold_s;
  window_ticks_ = std::max(1, static_cast<int>(std::lround(config_.envelope_window_s / config_.tick_s)));
  window_.assign(static_cast<std::size_t>(window_ticks_ * channels_), 0.0f);
  slow_alpha_ = 1 - std::exp(-config_.tick_s / 10.0);  // ~10 s movement average
  pre_alpha_ = 1 - std::exp(-config_.tick_s / 2.0);    // ~2 s movement average
  // The baseline moves slowly: updating it every kBaselineEvery ticks costs a quarter of the
  // logarithms and changes nothing that matters.
  down_alpha_ = 1 - std::exp(-static_cast<double>(kBaselineEvery) * config_.tick_s / config_.baseline_down_tau_s);
  up_alpha_ = 1 - std::exp(-static_cast<double>(kBaselineEvery) * config_.tick_s / config_.baseline_up_tau_s);
  recent_ratio_.assign(static_cast<std::size_t>(std::ceil(kLookbackS / config_.tick_s)) + 1, 0.0f);
  trace_.reserve(kMaxTraceTicks);
  fast_trace_.reserve(kMaxTraceTicks);
  env_trace_.reserve(kMaxTraceTicks);
  detrended_.reserve(kMaxTraceTicks);
  fast_trace_.reserve(kMaxTraceTicks);
}

void ActivationDetector::on_short_gap() { gap_pending_ = true; }

void ActivationDetector::on_gap() {
  if (state_ == State::active) end_activation();
  gap_pending_ = true;
  std::fill(window_.begin(), window_.end(), 0.0f);
  window_sum_.fill(0);
  window_fill_ = 0;
  window_pos_ = 0;
  fast_ring_.fill(0);
  fast_sum_.fill(0);
}

void ActivationDetector::finish() {
  if (state_ == State::active) end_activation();
}

void ActivationDetector::on_tick(std::uint64_t tick, std::span<const float> ms, const AccState& acc) {
  const double dt = config_.tick_s;
  last_tick_ = tick;

  // ---- envelopes ----
  float* slot = window_.data() + static_cast<std::ptrdiff_t>(window_pos_ * channels_);
  for (int c = 0; c < channels_; ++c) {
    const float v = std::max(0.0f, ms[static_cast<std::size_t>(c)]);
    window_sum_[static_cast<std::size_t>(c)] += static_cast<double>(v) - static_cast<double>(slot[c]);
    slot[c] = v;
  }
  window_pos_ = (window_pos_ + 1) % window_ticks_;
  window_fill_ = std::min(window_fill_ + 1, window_ticks_);
  if ((tick & 0xFFF) == 0) {  // recompute sums now and then: no drift from float rounding
    for (int c = 0; c < channels_; ++c) {
      double s = 0;
      for (int k = 0; k < window_ticks_; ++k) s += window_[static_cast<std::size_t>(k * channels_ + c)];
      window_sum_[static_cast<std::size_t>(c)] = s;
    }
  }
  float best_ratio = 0;
  float best_excess = -1e9f;
  int best_channel = 0;
  for (int c = 0; c < channels_; ++c) {
    const auto ci = static_cast<std::size_t>(c);
    const float env = static_cast<float>(std::sqrt(std::max(0.0, window_sum_[ci]) / window_fill_));
    const float v = std::max(0.0f, ms[ci]);
    envelope_[ci] = env;
    // 20 ms RMS: short enough to time an onset, long enough not to flicker.
    fast_sum_[ci] += static_cast<double>(v) - fast_ring_[static_cast<std::size_t>(fast_pos_) * kMaxChannels + ci];
    fast_ring_[static_cast<std::size_t>(fast_pos_) * kMaxChannels + ci] = v;
    fast_envelope_[ci] = static_cast<float>(std::sqrt(std::max(0.0, fast_sum_[ci]) / kFastTicks));
    if (!baseline_started_) baseline_[ci] = std::max(env, 0.5f);
    const float ratio = env / std::max(baseline_[ci], 0.1f);
    const float excess = env - baseline_[ci];
    if (ratio > best_ratio) {
      best_ratio = ratio;
      best_excess = excess;
      best_channel = c;
    }
  }
  fast_pos_ = (fast_pos_ + 1) % kFastTicks;
  if (window_fill_ >= window_ticks_) baseline_started_ = true;

  // After a gap the filters ring from the jump in the signal: let them settle before judging.
  if (gap_pending_) {
    gap_pending_ = false;
    settle_until_tick_ = tick + static_cast<std::uint64_t>(std::ceil(config_.gap_settle_s / dt));
  }
  if (tick < settle_until_tick_) {
    recent_ratio_[recent_pos_] = 0.0f;
    recent_pos_ = (recent_pos_ + 1) % recent_ratio_.size();
    return;
  }

  // ---- accelerometer context ----
  if (acc.valid) {
    if (!acc_started_) {  // start the averages at the first reading, not at zero
      acc_started_ = true;
      movement_slow_ = movement_pre_ = acc.movement_g;
    }
    movement_slow_ += slow_alpha_ * (acc.movement_g - movement_slow_);
    movement_pre_ += pre_alpha_ * (acc.movement_g - movement_pre_);
    if (acc.posture == proto::LYING && movement_slow_ < 0.02) {
      still_lying_s_ += dt;
    } else if (acc.posture != proto::LYING) {
      still_lying_s_ = 0;
    }
    if (state_ == State::active && acc.posture != posture_at_onset_ && acc.posture != proto::POSTURE_UNSPECIFIED &&
        posture_at_onset_ != proto::POSTURE_UNSPECIFIED) {
      posture_changed_ = true;
    }
    posture_ = acc.posture;
  }

  // ---- activation state machine ----
  const bool on = best_excess >= config_.on_excess_uv && best_ratio >= config_.on_ratio;
  const bool quiet = best_excess < config_.off_excess_uv || best_ratio < config_.off_ratio;
  recent_ratio_[recent_pos_] = quiet ? 0.0f : best_ratio;
  recent_pos_ = (recent_pos_ + 1) % recent_ratio_.size();

  if (state_ == State::active && on) {
    // A burst far stronger than anything so far in a run of light activity (typing, fidgeting)
    // is its own event: close the light run just before it.
    const auto lc = static_cast<std::size_t>(lead_channel_);
    const double age_s = static_cast<double>(tick - onset_tick_) * dt;
    if (age_s >= config_.split_min_age_s && fast_envelope_[lc] > config_.split_factor * peak_uv_) {
      last_above_tick_ = std::min(last_above_tick_, tick - 1);
      end_activation();
      lead_channel_ = best_channel;
      start_activation(tick, tick);
    }
  }
  if (state_ == State::idle) {
    if (on && baseline_started_) {
      lead_channel_ = best_channel;
      start_activation(tick, 0);
    }
  }
  if (state_ == State::active) {
    const auto lc = static_cast<std::size_t>(lead_channel_);
    const double env_uv = envelope_[lc];
    peak_uv_ = std::max(peak_uv_, env_uv);
    if (!quiet) last_above_tick_ = tick;
    // Strong: at least a fraction of the event's own peak. A shift of resting tone (posture,
    // typing) must not keep a finished spasm going.
    if (!quiet && env_uv >= config_.off_peak_fraction * peak_uv_) last_strong_tick_ = tick;
    sum_uv_ += env_uv;
    ++sum_ticks_;
    for (int c = 0; c < channels_; ++c) {
      const auto ci = static_cast<std::size_t>(c);
      if (envelope_[ci] / std::max(baseline_[ci], 0.1f) >= config_.on_ratio &&
          envelope_[ci] - baseline_[ci] >= config_.on_excess_uv) {
        channel_mask_ |= 1u << c;
      }
    }
    if (acc.valid) {
      acc_peak_g_ = std::max(acc_peak_g_, static_cast<double>(acc.movement_g));
      acc_sum_g_ += acc.movement_g;
      ++acc_ticks_;
    }
    if (trace_.size() < kMaxTraceTicks) {
      trace_.push_back(std::sqrt(std::max(0.0f, ms[lc])));
      fast_trace_.push_back(fast_envelope_[lc]);
      env_trace_.push_back(envelope_[lc]);
    }
    if (!provisional_sent_ && static_cast<double>(tick - onset_tick_ + 1) * dt >= config_.min_active_s * 2) {
      provisional_sent_ = true;
      emit_event(proto::PROVISIONAL, proto::EVENT_TYPE_UNSPECIFIED, 0, 0, false);
      emit_(event_);
    }
    if (static_cast<double>(tick - last_above_tick_) * dt >= off_hold_s_) {
      end_activation();
    } else if (static_cast<double>(tick - last_strong_tick_) * dt >= config_.off_peak_hold_s + (site_ == proto::JAW ? off_hold_s_ : 0)) {
      last_above_tick_ = last_strong_tick_;
      end_activation();
    }
  }

  // ---- baseline: follows the resting floor, frozen during and just after activity ----
  // A long activation that is mostly quiet (light activity at a raised tone: typing, walking at
  // the neck) is not one contraction: let the baseline learn that floor, which ends it, so a
  // spasm on top stands out.
  const bool sparse_long = state_ == State::active &&
                           static_cast<double>(tick - onset_tick_) * dt >= config_.sparse_after_s && sum_ticks_ > 0 &&
                           sum_uv_ / static_cast<double>(sum_ticks_) < config_.sparse_mean_fraction * peak_uv_;
  const bool learn = (state_ == State::idle && tick >= freeze_until_tick_) || sparse_long;
  if (learn && tick % kBaselineEvery == 0) {
    for (int c = 0; c < channels_; ++c) {
      const auto ci = static_cast<std::size_t>(c);
      const float env = std::max(envelope_[ci], 0.05f);
      const double a = env < baseline_[ci] ? down_alpha_ : up_alpha_;
      baseline_[ci] = static_cast<float>(std::exp(std::log(baseline_[ci]) + a * (std::log(env) - std::log(baseline_[ci]))));
    }
  }
}

void ActivationDetector::start_activation(std::uint64_t tick, std::uint64_t earliest) {
  state_ = State::active;
  // Onset: back to where the level first left the baseline, at most kLookbackS earlier.
  std::uint64_t onset = tick;
  const std::size_t n = recent_ratio_.size();
  for (std::size_t back = 1; back < n && back <= tick && tick - back >= earliest; ++back) {
    const std::size_t idx = (recent_pos_ + n - 1 - back) % n;
    if (recent_ratio_[idx] <= 0.0f) break;
    onset = tick - back;
  }
  onset_tick_ = onset;
  last_above_tick_ = tick;
  last_strong_tick_ = tick;
  const auto lc = static_cast<std::size_t>(lead_channel_);
  baseline_at_onset_uv_ = baseline_[lc];
  peak_uv_ = 0;
  sum_uv_ = 0;
  sum_ticks_ = 0;
  acc_peak_g_ = 0;
  acc_sum_g_ = 0;
  acc_ticks_ = 0;
  movement_pre_at_onset_ = movement_pre_;
  posture_at_onset_ = posture_;
  posture_changed_ = false;
  channel_mask_ = 0;
  trace_.clear();
  fast_trace_.clear();
  env_trace_.clear();
  provisional_sent_ = false;
  ++event_counter_;
}

double ActivationDetector::rise_time_s() const {
  // Time for the fast envelope to climb from 20% to 80% of its early peak (first 400 ms).
  const std::size_t early = std::min(fast_trace_.size(), static_cast<std::size_t>(0.4 / config_.tick_s) + 1);
  if (early < 2) return 0;
  const float peak = *std::max_element(fast_trace_.begin(), fast_trace_.begin() + static_cast<std::ptrdiff_t>(early));
  const float base = static_cast<float>(baseline_at_onset_uv_);
  if (peak <= base) return 0;
  const float lo = base + 0.2f * (peak - base);
  const float hi = base + 0.8f * (peak - base);
  std::size_t i_lo = 0;
  while (i_lo < early && fast_trace_[i_lo] < lo) ++i_lo;
  std::size_t i_hi = i_lo;
  while (i_hi < early && fast_trace_[i_hi] < hi) ++i_hi;
  return static_cast<double>(i_hi - i_lo) * config_.tick_s;
}

double ActivationDetector::rhythm_hz(double* correlation) const {
  // Bursts repeating at 3-8 Hz: autocorrelation of the lead channel's per-tick amplitude after
  // removing its slow course (a 0.4 s moving average), which would otherwise correlate at every
  // lag; the peak must be a local maximum inside 1/8 .. 1/3 s.
  *correlation = 0;
  const std::size_t n = trace_.size();
  const double dt = config_.tick_s;
  const auto min_lag = std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(1.0 / config_.clonus_max_hz / dt)));
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
  // Bursts: runs where the fast envelope stays above half way between baseline and peak,
  // bridging dips shorter than 100 ms.
  if (fast_trace_.empty()) return 0;
  const float peak = *std::max_element(fast_trace_.begin(), fast_trace_.end());
  const float level = static_cast<float>(baseline_at_onset_uv_) + 0.25f * (peak - static_cast<float>(baseline_at_onset_uv_));
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

bool ActivationDetector::rhythmic_history(const std::array<Past, 16>& prior, std::size_t count, double onset_s,
                                          double duration_s) {
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
  // Fraction of the event the 50 ms envelope stays above a quarter of the way from baseline to
  // its peak: ~1 for a sustained contraction, low for separate bursts run together.
  if (env_trace_.empty()) return 0;
  const float peak = *std::max_element(env_trace_.begin(), env_trace_.end());
  const float base = static_cast<float>(baseline_at_onset_uv_);
  const float level = base + 0.25f * (peak - base);
  std::size_t above = 0;
  for (const float v : env_trace_) above += v >= level ? 1 : 0;
  return static_cast<double>(above) / static_cast<double>(env_trace_.size());
}

proto::ActivityContext ActivationDetector::context() const {
  if (movement_slow_ > config_.active_movement_g) return proto::ACTIVE;
  if (still_lying_s_ >= config_.asleep_after_s) return proto::ASLEEP;
  return proto::AT_REST;
}

void ActivationDetector::emit_event(proto::EventState state, proto::EventType type, double confidence,
                                    double rhythm_hz, bool final_figures) {
  auto& e = event_;
  e.Clear();
  e.set_site(site_);
  e.set_state(state);
  e.set_type(type);
  e.set_confidence(confidence);
  e.set_rhythm_hz(rhythm_hz);
  e.set_device_start_s(static_cast<double>(onset_tick_) * config_.tick_s);
  e.set_baseline_uv(baseline_at_onset_uv_);
  e.set_context(context());
  e.set_posture(posture_at_onset_);
  e.set_channel_mask(channel_mask_);
  if (final_figures) {
    const double end_s = static_cast<double>(last_above_tick_ + 1) * config_.tick_s;
    e.set_device_end_s(end_s);
    e.set_duration_s(end_s - e.device_start_s());
    e.set_peak_uv(peak_uv_);
    e.set_mean_uv(sum_ticks_ > 0 ? sum_uv_ / static_cast<double>(sum_ticks_) : 0);
    e.set_snr(peak_uv_ / std::max(baseline_at_onset_uv_, 0.1));
    e.set_acc_peak_g(acc_peak_g_);
  }
}

void ActivationDetector::end_activation() {
  state_ = State::idle;
  freeze_until_tick_ = last_tick_ + static_cast<std::uint64_t>(config_.baseline_hold_s / config_.tick_s);
  const double onset_s = static_cast<double>(onset_tick_) * config_.tick_s;
  const double duration_s = static_cast<double>(last_above_tick_ + 1 - onset_tick_) * config_.tick_s;
  std::array<Past, 16> prior{};
  const std::size_t prior_count = prior_activations(onset_s, prior);
  const bool rhythmic = rhythmic_history(prior, prior_count, onset_s, duration_s);
  const bool in_gait = steady_series(prior, prior_count);
  history_[history_pos_] = {onset_s, duration_s};
  history_pos_ = (history_pos_ + 1) % history_.size();

  if (duration_s < config_.min_active_s) {
    if (provisional_sent_) {
      emit_event(proto::RETRACTED, proto::EVENT_TYPE_UNSPECIFIED, 0, 0, false);
      emit_(event_);
    }
    return;
  }

  // ---- class ----
  double correlation = 0;
  const double rhythm = rhythm_hz(&correlation);
  proto::EventType type;
  if (site_ == proto::JAW && duration_s >= 0.25) {
    type = longest_burst_s() > config_.jaw_tonic_min_s ? proto::JAW_TONIC : proto::JAW_PHASIC;
  } else if (duration_s >= config_.clonus_min_s && correlation >= config_.clonus_min_correlation &&
             peak_uv_ / std::max(baseline_at_onset_uv_, 0.1) >= config_.clonus_min_snr) {
    type = proto::CLONUS;
  } else if (duration_s < config_.twitch_max_s) {
    type = proto::TWITCH;
  } else if (duration_s < config_.cramp_min_s) {
    type = proto::SPASM;
  } else {
    type = proto::CRAMP;
  }

  // ---- involuntary or voluntary: a logistic score ----
  const double snr = peak_uv_ / std::max(baseline_at_onset_uv_, 0.1);
  const double rise = rise_time_s();
  const double fill = fill_ratio();
  const bool shaped = type == proto::CLONUS || type == proto::JAW_PHASIC;  // bursty by nature
  // Movement that starts with the burst (beyond what was already going on) marks a voluntary
  // movement; a long sustained contraction is a spasm even mid-walk, and then neither the
  // movement (the walk goes on) nor the onset shape (steps blur it) say anything.
  const double acc_mean = acc_ticks_ > 0 ? acc_sum_g_ / static_cast<double>(acc_ticks_) : 0;
  const double movement_excess = acc_mean - movement_pre_at_onset_;
  const bool sustained = duration_s >= 0.6 && fill >= config_.min_fill;
  // Mid-walk (a steady series of step bursts before it) the walk explains the movement.
  const bool moving_before = in_gait && movement_pre_at_onset_ > config_.active_movement_g;
  double score = 0.5;
  score += std::clamp(std::log(snr / 4.0), -1.5, 1.5);
  // Clonus shakes the limb (the accelerometer sees the tremor) and its onset is a train of
  // bursts: its rhythm is the evidence, not onset shape or movement.
  const bool clonus = type == proto::CLONUS;
  if ((sustained && moving_before) || clonus) {
    // onset shape unreliable here
  } else if (rise < 0.01) {
    // No measurable rise: the onset was buried in other activity; no evidence either way.
  } else if (rise <= config_.sharp_rise_s) {
    score += 1.0;
  } else if (rise >= config_.slow_rise_s) {
    score -= 1.5;
  } else {
    score += 1.0 - 2.5 * (rise - config_.sharp_rise_s) / (config_.slow_rise_s - config_.sharp_rise_s);
  }
  if ((sustained && moving_before) || clonus) {
    // the walk goes on during the spasm; clonus moves the limb itself
  } else if (movement_excess > 0.1) {
    score -= 4.0;
  } else if (movement_excess > 0.04 || acc_peak_g_ - movement_pre_at_onset_ > 0.2) {
    // sustained movement, or a brief strong one (a spasm jolts the limb by ~0.1 g at most)
    score -= 3.5;
  }
  if (posture_changed_) score -= 2.5;
  const auto ctx = context();
  if (ctx == proto::ACTIVE && !sustained) score -= 1.5;
  // While moving, a short burst is most likely part of the movement (a step, a keystroke).
  if (ctx == proto::ACTIVE && duration_s < config_.twitch_max_s) score -= 1.5;
  if (ctx == proto::ASLEEP) score += 0.5;
  // A still body and a muscle that fires anyway: the typical spasm at rest.
  if (ctx != proto::ACTIVE && movement_pre_at_onset_ < 0.03 && movement_excess < 0.02) score += 0.5;
  if (rhythmic) score -= 3.0;
  if (!shaped && duration_s >= 0.5 && fill < config_.min_fill) score -= fill < 0.4 ? 4.0 : 2.5;
  if (type == proto::CLONUS) score += 1.5;  // rhythmic 3-8 Hz bursts are not a voluntary pattern
  const double confidence = 1.0 / (1.0 + std::exp(-score));

  const bool report = confidence >= config_.min_confidence;
  if (!report && !provisional_sent_ && !config_.report_rejected) return;
  emit_event(report ? proto::FINAL : proto::RETRACTED, type, confidence, type == proto::CLONUS ? rhythm : 0, true);
  event_.set_rise_s(rise);
  event_.set_fill(fill);
  event_.set_voluntary_pattern(rhythmic);
  emit_(event_);
}

}  // namespace spasmwatch::detect
